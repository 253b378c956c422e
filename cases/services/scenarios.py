"""The writes of the programming scenarios (issue 14, point 3): create one, save what it
does with requests, apply it. Nothing here changes a request's state: applying sends the
scenario's decisions through the bulk transition service (``cases.services.bulk``) — the
path of the API's bulk route and of each single transition, so audit, deadlines, hooks
and events are never skipped — and records, item by item, what happened.

The scenario row is the aggregate root: saving items and applying run under its lock,
so two agents saving at once, or two clicks on « Appliquer », never apply an item twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError

from .. import rules, scenarios
from ..models import ItemOutcome, Scenario, ScenarioChoice, ScenarioItem
from .bulk import requests_bulk_transition
from .common import clean_text

#: At most this many requests in one save (the page sends one page of 50; a whole
#: programme of 500 changes is one save, in a constant number of statements).
MAX_ROWS = 500
YEARS = (2000, 2100)


def _drafter(actor) -> None:
    if not scenarios.may_draft(actor):
        raise DomainError(
            "Seuls les agents du territoire préparent les scénarios de programmation.",
            code="forbidden",
        )


def scenario_create(*, actor, title, year, note="") -> Scenario:
    _drafter(actor)
    if actor.territory_id is None:
        raise DomainError(
            "Votre compte n'est rattaché à aucun territoire : impossible de créer un scénario.",
            errors={"title": ["Aucun territoire."]},
        )
    title = clean_text(title, field="title", label="intitulé", max_length=200, required=True)
    note = clean_text(note, field="note", label="note", max_length=5000)
    try:
        year = int(str(year).strip()[:6])
    except ValueError:
        year = None
    if year is None or not YEARS[0] <= year <= YEARS[1]:
        raise DomainError(
            f"Indiquez l'année de programmation (entre {YEARS[0]} et {YEARS[1]}).",
            errors={"year": ["Année invalide."]},
        )
    return Scenario.objects.create(
        territory_id=actor.territory_id, year=year, title=title, note=note, created_by=actor
    )


def _row_error(errors: dict, pk: int, message: str) -> None:
    errors.setdefault(str(pk), []).append(message)


class _Candidate(NamedTuple):
    """What a save needs of a request it may draft: read as one plain row (no model)."""

    pk: int
    state: str
    amount_requested: Decimal
    name: str  # the dossier's reference, or its title
    scheme: str


def _candidates(scenario: Scenario, actor, ids: list[int]) -> dict[int, _Candidate]:
    rows = (
        scenarios.candidates(scenario, user=actor)
        .filter(pk__in=ids)
        .order_by()
        .values_list(
            "pk", "state", "amount_requested", "case__reference", "case__title", "scheme__code"
        )
    )
    return {r[0]: _Candidate(r[0], r[1], r[2], r[3] or r[4], r[5]) for r in rows}


def _parse_row(row: dict, fr: _Candidate, errors: dict):
    """``(choice, amount, motivation)`` of one row of the page, or None after an error."""
    choice = str(row.get("choice") or "")
    if choice and choice not in ScenarioChoice.values:
        _row_error(errors, fr.pk, "Choix inconnu : à financer, à reporter ou à refuser.")
        return None
    amount = None
    if choice == ScenarioChoice.FUND:
        try:
            amount = inputs.parse_money(
                row.get("amount"),
                field="amount",
                label="montant retenu",
                french=True,
                required=False,
            )
        except DomainError as exc:
            _row_error(errors, fr.pk, f"{fr.name} : {exc.message}")
            return None
        amount = amount if amount is not None else fr.amount_requested
        if amount > fr.amount_requested:
            _row_error(
                errors,
                fr.pk,
                f"{fr.name} ({fr.scheme}) : le montant retenu "
                f"({rules.euros(amount)}) dépasse le montant demandé "
                f"({rules.euros(fr.amount_requested)}).",
            )
            return None
    motivation = str(row.get("motivation") or "")[:5000].strip()
    if choice == ScenarioChoice.REFUSE and not motivation:
        _row_error(
            errors,
            fr.pk,
            f"{fr.name} ({fr.scheme}) : indiquez la motivation "
            "du refus (elle sera notifiée au porteur).",
        )
        return None
    return choice, amount, motivation


def scenario_items_save(*, actor, scenario: Scenario, rows: list[dict]) -> int:
    """Save what the scenario does with each request of ``rows`` (``{"request": id,
    "choice": "fund" | "postpone" | "refuse" | "", "amount", "motivation"}``; an empty
    choice takes the request out). All or nothing: a row in error saves none, and the
    error names the row. Returns the number of rows saved. Five statements at most
    whatever the number of rows (``MAX_ROWS`` at most)."""
    _drafter(actor)
    if len(rows) > MAX_ROWS:
        raise DomainError(
            f"Trop de lignes : {MAX_ROWS} au plus par enregistrement.",
            errors={"rows": [f"Trop de lignes : {MAX_ROWS} au plus par enregistrement."]},
        )
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
        if scenario.applied_at:
            raise DomainError(
                "Ce scénario a été appliqué : il ne se modifie plus. Créez-en un autre.",
                code="conflict",
            )
        wanted = {inputs.read_id(r.get("request")): r for r in rows}
        wanted.pop(None, None)
        known = _candidates(scenario, actor, list(wanted))
        existing = dict(  # request → the item's outcome (applied items are kept)
            ScenarioItem.objects.filter(
                scenario=scenario, funding_request_id__in=list(wanted)
            ).values_list("funding_request_id", "outcome")
        )
        errors: dict[str, list[str]] = {}
        parsed = {}
        for pk, row in wanted.items():
            if existing.get(pk):
                continue  # applied already: kept as it is
            if pk not in known:
                if row.get("choice"):
                    _row_error(errors, pk, f"Demande {pk} : elle n'est plus à décider cette année.")
                elif pk in existing:
                    parsed[pk] = ("", None, "")  # taken out of the scenario
                continue
            result = _parse_row(row, known[pk], errors)
            if result is not None:
                parsed[pk] = result
        if errors:
            messages = [m for ms in errors.values() for m in ms]
            raise DomainError(" ".join(messages[:5]), errors=errors)
        return _write_items(scenario, parsed, known, existing)


FIELDS = ("choice", "amount", "motivation", "seen_state", "seen_amount")


def _write_items(scenario, parsed: dict, known: dict, existing: dict) -> int:
    """The rows' items written in two statements whatever their number: those taken out
    deleted, the others inserted or updated in place (one ``INSERT … ON CONFLICT``).
    Returns the number of items written (a row without choice nor item writes none)."""
    gone, kept = [], []
    for pk, (choice, amount, motivation) in parsed.items():
        if not choice:
            if pk in existing:
                gone.append(pk)
            continue
        fr = known[pk]
        values = dict(
            zip(FIELDS, (choice, amount, motivation, fr.state, fr.amount_requested), strict=True)
        )
        kept.append(ScenarioItem(scenario=scenario, funding_request_id=pk, **values))
    if gone:
        ScenarioItem.objects.filter(scenario=scenario, funding_request_id__in=gone).delete()
    if kept:
        ScenarioItem.objects.bulk_create(
            kept,
            update_conflicts=True,
            unique_fields=["scenario", "funding_request"],
            update_fields=list(FIELDS),
        )
    return len(gone) + len(kept)


# ---------------------------------------------------------------- applying


POSTPONED = "Reportée à une année suivante : aucune décision n'est prise cette année."


def _bulk_rows(item: ScenarioItem, title: str, day: dt.date) -> tuple[str, dict]:
    comment = f"Scénario de programmation « {title} »"
    row = {"id": item.funding_request_id, "comment": comment, "date": day.isoformat()}
    if item.choice == ScenarioChoice.FUND:
        amount = item.amount if item.amount is not None else item.seen_amount
        return "grant", row | {"amount_granted": str(Decimal(amount))}
    return "refuse", row | {"motivation": item.motivation}


def scenario_apply(*, actor, scenario: Scenario, today: dt.date | None = None) -> dict:
    """Apply the scenario's items the actor may decide (a funder's instructor: its funder's
    requests). Each item is applied or refused on its own: a stale item (its request
    changed since) is refused with the reason, the others go through the bulk transition
    service; a postponed one records that no decision is taken. A role that may decide
    none of them is refused as a whole and leaves the items to decide. Returns the counts
    ``{"applied", "refused", "postponed", "message"}``."""
    today = today or timezone.localdate()
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
        items = list(scenarios.items_of(scenario, user=actor).filter(outcome=""))
        batches: dict[str, list] = {"grant": [], "refuse": []}
        by_request = {}
        for item in items:
            by_request[item.funding_request_id] = item
            reason = scenarios.stale_reason(item, item.funding_request)
            if reason:
                item.outcome, item.result = ItemOutcome.REFUSED, reason
            elif item.choice == ScenarioChoice.POSTPONE:
                item.outcome, item.result = ItemOutcome.POSTPONED, POSTPONED
            else:
                name, row = _bulk_rows(item, scenario.title, today)
                batches[name].append(row)
        message = ""
        for name, rows in batches.items():
            if not rows:
                continue
            try:
                report = requests_bulk_transition(actor=actor, name=name, body={"items": rows})
            except DomainError as exc:  # the role as a whole: the items stay to decide
                message = exc.message
                continue
            for pk in report.applied:
                by_request[pk].outcome = ItemOutcome.APPLIED
                by_request[pk].result = "Décision enregistrée."
            for refusal in report.refused:
                item = by_request[refusal["id"]]
                item.outcome, item.result = ItemOutcome.REFUSED, refusal["detail"]
        ScenarioItem.objects.bulk_update(items, ["outcome", "result"])
        if not ScenarioItem.objects.filter(scenario=scenario, outcome="").exists():
            scenario.applied_at, scenario.applied_by = timezone.now(), actor
            scenario.save(update_fields=["applied_at", "applied_by"])
    done = [i for i in items if i.outcome]
    return {
        name: sum(1 for i in done if i.outcome == outcome)
        for name, outcome in (
            ("applied", ItemOutcome.APPLIED),
            ("refused", ItemOutcome.REFUSED),
            ("postponed", ItemOutcome.POSTPONED),
        )
    } | {"message": message}
