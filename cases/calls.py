"""Calls for projects (appels à projets, issue 14 point 5): their window rule, the one
place that says whether a dossier may be deposited for its call; the open and coming
calls (the API, the intake wizard and the public page read them from here); an agent's
creation of a call; the ranked list that is a call's committee agenda."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError
from schemes.models import Call, Scheme, Territory

from .models import Case, FundingRequest, RequestState, User
from .rules import euros

R = User.Role
#: Who may publish a call (besides a superuser).
CALL_AUTHORS = (R.AGENT, R.ADMIN)
#: Who may read a call's committee agenda (the dossiers awaiting selection are not public).
AGENDA_READERS = (R.AGENT, R.DIRECTOR, R.COMMITTEE_MEMBER, R.ADMIN)
#: A call's state (``call_state``) as every list of calls names it.
STATE_LABELS = {"open": "Ouvert", "coming": "À venir", "closed": "Clos"}


def may_create_call(user) -> bool:
    return user.is_superuser or user.effective_role in CALL_AUTHORS


def may_read_agenda(user) -> bool:
    return user.is_superuser or user.effective_role in AGENDA_READERS


def reads_every_territory(user) -> bool:
    """An administrator reads the calls of every territory; anyone else those of their own."""
    return user.is_superuser or user.effective_role == R.ADMIN


# ---------------------------------------------------------------- the window rule


def call_window_problem(call: Call | None, day: dt.date, *, today: dt.date | None = None):
    """Why a dossier naming ``call`` may not be deposited with the receipt date ``day``
    (French), or None. The receipt date must fall inside the call's window, and the deposit
    itself must not be made after the closing (a receipt date typed in the past does not
    reopen a closed call)."""
    if call is None:
        return None
    today = today or timezone.localdate()
    if day < call.opens_on:
        return (
            f"L'appel à projets « {call.title} » n'ouvre que le {call.opens_on:%d/%m/%Y} : "
            "le dossier ne peut pas être déposé avant."
        )
    if day > call.closes_on or today > call.closes_on:
        return (
            f"L'appel à projets « {call.title} » est clos depuis le "
            f"{call.closes_on:%d/%m/%Y} : le dossier ne peut plus y être déposé."
        )
    return None


def call_window_check(case: Case, day: dt.date) -> None:
    """Raises the refusal of ``call_window_problem`` for the dossier's call."""
    problem = call_window_problem(case.call, day)
    if problem:
        raise DomainError(problem, code="guard", errors={"call": [problem]})


# ---------------------------------------------------------------- reads


def calls_public(*, territory_id: int | None = None, state: str = "", today=None) -> QuerySet:
    """The published calls (``state``: ``open`` today, ``coming`` later, else both and the
    closed ones), soonest closing first."""
    today = today or timezone.localdate()
    qs = Call.objects.filter(active=True).select_related("scheme__funder", "territory")
    if territory_id is not None:
        qs = qs.filter(territory_id=territory_id)
    if state == "open":
        qs = qs.filter(opens_on__lte=today, closes_on__gte=today)
    elif state == "coming":
        qs = qs.filter(opens_on__gt=today)
    elif state == "current":  # open or coming: what the public page and the wizard show
        qs = qs.filter(closes_on__gte=today)
    return qs.order_by("closes_on", "opens_on", "id")


def call_state(call: Call, today=None) -> str:
    today = today or timezone.localdate()
    if today < call.opens_on:
        return "coming"
    return "open" if today <= call.closes_on else "closed"


def calls_offered(case: Case, today=None) -> list[Call]:
    """What the intake wizard offers: the open calls of the dossier's territory, those of
    the schemes in its plan first, and the call it already names (even closed since)."""
    today = today or timezone.localdate()
    chosen = set(case.resources.filter(scheme__isnull=False).values_list("scheme_id", flat=True))
    calls = list(calls_public(territory_id=case.territory_id, state="open", today=today))
    if case.call_id and all(c.pk != case.call_id for c in calls):
        calls.insert(0, case.call)
    return sorted(calls, key=lambda c: c.scheme_id not in chosen)


def call_label(call: Call) -> str:
    """One line for a list: title, scheme, closing date and budget."""
    budget = f" — budget {euros(call.envelope)}" if call.envelope is not None else ""
    return f"{call.title} — {call.scheme.label} — clôture le {call.closes_on:%d/%m/%Y}{budget}"


def call_budget(call: Call, empty: str = "") -> str:
    """A call's budget in euros, ``empty`` when it has none."""
    return euros(call.envelope) if call.envelope is not None else empty


def call_row(call: Call, today: dt.date, *, no_budget: str = "") -> dict:
    """A call as a list shows it: its state (code and label), budget and selection."""
    state = call_state(call, today)
    return {
        "call": call,
        "state_code": state,
        "open": state == "open",
        "state": STATE_LABELS[state],
        "budget": call_budget(call, no_budget),
        "selection": call.get_selection_display(),
    }


def calls_public_rows(*, territory_id: int, today=None) -> list[dict]:
    """The open and coming calls of a territory as the public page shows them."""
    today = today or timezone.localdate()
    calls = calls_public(territory_id=territory_id, state="current", today=today)[:100]
    return [call_row(c, today) for c in calls]


def territory_calls(user) -> QuerySet:
    """The calls of the user's territory (every territory for an administrator), each
    with the number of its requests awaiting committee (one query)."""
    qs = Call.objects.select_related("scheme__funder")
    if not reads_every_territory(user):
        qs = qs.filter(territory_id=user.territory_id)
    waiting = Q(
        cases__funding_requests__state=RequestState.AWAITING_COMMITTEE,
        cases__funding_requests__scheme_id=F("scheme_id"),
    )
    return qs.annotate(awaiting=Count("cases__funding_requests", filter=waiting)).order_by(
        "-closes_on", "-opens_on", "-id"
    )


def territory_call_rows(user, today=None) -> list[dict]:
    """The agents' list of the territory's calls: open, coming and closed, published or
    not, a budget not set written « — »."""
    today = today or timezone.localdate()
    return [call_row(c, today, no_budget="—") for c in territory_calls(user)[:300]]


def call_resolve(
    value, *, territory_id: int | None, current: Call | None = None, deposited: bool = False
) -> Call | None:
    """The call a dossier names (``None`` or ``""``: none). Unknown, of another
    territory, unpublished or closed: refused in French. The call a dossier already
    names is kept even if it has closed since; once deposited, it no longer changes."""
    pk = None if value is None or value == "" else inputs.read_id(value)
    if deposited and pk != (current.pk if current else None):
        raise DomainError(
            "Le dossier est déposé : son appel à projets ne peut plus changer.",
            errors={"call": ["Dossier déposé."]},
        )
    if value is None or value == "":
        return None
    call = Call.objects.filter(pk=pk, active=True).first() if pk else None
    if call is None or (territory_id is not None and call.territory_id != territory_id):
        raise DomainError(
            "Appel à projets inconnu sur ce territoire.",
            errors={"call": ["Appel à projets inconnu."]},
        )
    if current is not None and current.pk == call.pk:
        return call
    if call_state(call) == "closed":
        raise DomainError(
            f"L'appel à projets « {call.title} » est clos depuis le {call.closes_on:%d/%m/%Y}.",
            errors={"call": ["Appel à projets clos."]},
        )
    return call


def call_ranking(call: Call) -> list[FundingRequest]:
    """The committee agenda of a call: its requests awaiting committee (of the call's
    scheme), best pre-score first, unscored last, then by receipt."""
    return list(
        FundingRequest.objects.filter(
            case__call=call, scheme_id=call.scheme_id, state=RequestState.AWAITING_COMMITTEE
        )
        .select_related("case", "case__organisation")
        .order_by(F("pre_score").desc(nulls_last=True), "case__receipt_date", "pk")
    )


def call_agenda(*, user, call_id: int) -> tuple[Call, list[FundingRequest]]:
    """A call and its ranked list, for the staff and committee of its territory."""
    if not may_read_agenda(user):
        raise DomainError(
            "L'ordre du jour d'un appel est réservé aux agents et au comité.", code="forbidden"
        )
    call = Call.objects.filter(pk=call_id).select_related("scheme").first()
    if call is None or not (reads_every_territory(user) or call.territory_id == user.territory_id):
        raise DomainError("Appel à projets introuvable.", code="not_found")
    return call, call_ranking(call)


def call_agenda_figures(call: Call, ranked: list[FundingRequest]) -> dict:
    """What a call's page shows around its ranked list: its state, budget, each request's
    rank and amount, the total asked and whether it passes the budget."""
    total = sum((fr.amount_requested for fr in ranked), Decimal(0))
    return {
        "state": STATE_LABELS[call_state(call)],
        "budget": call_budget(call),
        "rows": [
            {"rank": i, "fr": fr, "amount": euros(fr.amount_requested)}
            for i, fr in enumerate(ranked, start=1)
        ],
        "total": euros(total) if ranked else "",
        "over_budget": call.envelope is not None and total > call.envelope,
    }


# ---------------------------------------------------------------- writes


def call_create(*, actor, data: dict) -> Call:
    """A call published by an agent of the territory (or an administrator)."""
    if not may_create_call(actor):
        raise DomainError(
            "Seuls les agents du PETR publient des appels à projets.", code="forbidden"
        )
    title = inputs.parse_text(
        data.get("title"), field="title", label="l'intitulé", max_length=200, required=True
    )
    description = inputs.parse_text(
        data.get("description"), field="description", label="les critères", max_length=20000
    )
    code = data.get("scheme")
    valid = isinstance(code, str) and 0 < len(code) <= 20 and "\x00" not in code
    scheme = Scheme.objects.filter(code=code, active=True).first() if valid else None
    if scheme is None:
        raise DomainError(
            "Dispositif inconnu (son code, par exemple DETR).",
            errors={"scheme": ["Dispositif inconnu."]},
        )
    opens_on = inputs.parse_date(
        data.get("opens_on"), field="opens_on", label="date d'ouverture", required=True
    )
    closes_on = inputs.parse_date(
        data.get("closes_on"), field="closes_on", label="date de clôture", required=True
    )
    if closes_on < opens_on:
        raise DomainError(
            "La date de clôture ne peut précéder la date d'ouverture.",
            errors={"closes_on": ["Antérieure à l'ouverture."]},
        )
    envelope = inputs.parse_money(
        data.get("envelope"), field="envelope", label="budget de l'appel", required=False
    )
    selection = inputs.parse_choice(
        data.get("selection") or Call.Selection.RANKING,
        field="selection",
        label="le mode de sélection",
        choices=Call.Selection.values,
    )
    return Call.objects.create(
        scheme=scheme,
        territory_id=actor.territory_id or Territory.sole_id(),
        title=title,
        description=description,
        opens_on=opens_on,
        closes_on=closes_on,
        envelope=envelope,
        selection=selection,
    )
