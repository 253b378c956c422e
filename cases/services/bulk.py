"""One transition applied to many funding requests (api.md « Additions », bulk).

Each chunk of items goes through the engine's batch mode (``engine.batch``, ADR 010),
the very path of ``POST /funding-requests/{id}/transitions/{name}/`` for one request:
the same role and object rights, the same input layer, guard (under the lock of the
dossier), audit, deadlines, hooks and outbox event, with the writes of a chunk grouped.
An item is applied or refused on its own, with the status and French detail the single
route answers.

What is shared across the items, without changing what each one guarantees:

- the actor's role is checked once (``transition_role_check``): a role that may never
  apply the transition is refused as a whole (403), before any request is read;
- the requests the actor may see are read in one query (with their dossiers and schemes);
  a request the actor may not see is refused 404 with the single route's message, so
  nothing leaks;
- items are applied in the order of their dossier, then request id, in transactions of
  ``CHUNK`` items whose dossiers the engine locks in one ordered query: two bulk calls
  take the dossiers' locks in the same order (no deadlock), and no lock is held longer
  than one chunk. Should a chunk fail as a whole on a database error, its items are
  applied one by one (``transition_apply``), so only the item concerned is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction

from engine import inputs
from engine.batch import BatchItem, transitions_apply_batch
from engine.errors import DomainError
from engine.transitions import (
    TransitionSpec,
    registration_for,
    transition_apply,
    transition_role_check,
)

from .. import selectors
from ..models import FundingRequest, PaymentClaim

#: At most this many items in one call (api.md).
MAX_ITEMS = 1000
#: Items applied per database transaction.
CHUNK = 100
#: What the single routes answer for a request, a claim the caller may not see.
NOT_FOUND = "Demande de financement introuvable."
CLAIM_NOT_FOUND = "Demande de paiement introuvable."

#: ``refusal(exc)`` → ``(status, detail)`` of an error the API answers, None to raise it.
Refusal = Callable[[Exception], "tuple[int, str] | None"]


@dataclass
class Item:
    pk: int
    comment: str
    data: dict


@dataclass
class BulkReport:
    applied: list[int] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"applied": self.applied, "refused": self.refused}


def _domain_refusal(exc: Exception) -> tuple[int, str] | None:
    if isinstance(exc, DomainError):
        return exc.status, exc.message
    return None


def requests_bulk_transition(
    *, actor, name: str, body, refusal: Refusal | None = None
) -> BulkReport:
    """Apply the transition ``name`` to each item of ``body`` (``{"items": [{"id", …}]}``).

    ``refusal`` maps an error raised by one item to the status and French detail the
    single route would answer (the API passes its exception handler); by default only
    ``DomainError``s are refusals. Raises ``DomainError`` for an unknown transition (404),
    a role that may not apply it (403) or a malformed body (400)."""
    return _bulk_transition(FundingRequest, actor=actor, name=name, body=body, refusal=refusal)


def claims_bulk_transition(*, actor, name: str, body, refusal: Refusal | None = None) -> BulkReport:
    """The same for payment claims (« Payer » many claims, issue 12): each item is
    ``POST /payment-claims/{id}/transitions/{name}/`` with its own amount and rules (the
    grant's ceiling, FEADER after its cofinancers), under its dossier's lock."""
    return _bulk_transition(PaymentClaim, actor=actor, name=name, body=body, refusal=refusal)


#: Per model: the rows the actor may see, the dossier of a row, and what the single route
#: answers for a row the actor may not see.
_TARGETS = {
    FundingRequest: (
        lambda actor: selectors.funding_request_list(user=actor).select_related("scheme__funder"),
        lambda fr: fr.case_id,
        NOT_FOUND,
    ),
    PaymentClaim: (
        lambda actor: selectors.claim_list(user=actor).select_related(
            "funding_request__case", "funding_request__scheme__funder"
        ),
        lambda claim: claim.funding_request.case_id,
        CLAIM_NOT_FOUND,
    ),
}


def _bulk_transition(model, *, actor, name: str, body, refusal: Refusal | None) -> BulkReport:
    spec = transition_role_check(registration_for(model), name, actor)
    items = bulk_items(body, spec)
    readable, case_of, not_found = _TARGETS[model]
    visible = {obj.pk: obj for obj in readable(actor).filter(pk__in=[item.pk for item in items])}
    outcome: dict[int, tuple[int, str] | None] = {
        item.pk: (404, not_found) for item in items if item.pk not in visible
    }
    todo = sorted(
        (item for item in items if item.pk in visible),
        key=lambda item: (case_of(visible[item.pk]), item.pk),
    )
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        outcome.update(_apply_chunk(model, chunk, visible, name, actor, refusal))
    report = BulkReport()
    for item in items:  # the caller's order
        result = outcome[item.pk]
        if result is None:
            report.applied.append(item.pk)
        else:
            report.refused.append({"id": item.pk, "status": result[0], "detail": result[1]})
    return report


def _apply_chunk(
    model, chunk: list[Item], visible, name: str, actor, refusal: Refusal | None
) -> dict:
    """The chunk's items through the engine's batch mode, in one transaction; if the batch
    fails as a whole (a database error: a lock not granted, a deadlock…), its items one by
    one, each in its own transaction, so that only the item concerned is refused."""
    batch = [
        BatchItem(instance=visible[item.pk], comment=item.comment, data=item.data) for item in chunk
    ]
    try:
        with transaction.atomic():
            results = transitions_apply_batch(model=model, name=name, actor=actor, items=batch)
    except (DatabaseError, DomainError):  # the chunk as a whole: a lock, a deadlock…
        return {
            item.pk: _apply_one(_reread(visible[item.pk]), name, actor, item, refusal)
            for item in chunk
        }
    return {
        item.pk: None if exc is None else _answer(exc, refusal)
        for item, exc in zip(chunk, results, strict=True)
    }


def _reread(instance):
    """The row as the database holds it after a rolled-back batch."""
    return type(instance)._default_manager.get(pk=instance.pk)


def _answer(exc: Exception, refusal: Refusal | None) -> tuple[int, str]:
    answer = (refusal or _domain_refusal)(exc)
    if answer is None:
        raise exc
    return answer


def _apply_one(instance, name: str, actor, item: Item, refusal: Refusal | None):
    """None when applied, else the refusal's ``(status, detail)``."""
    try:
        transition_apply(
            instance=instance, name=name, actor=actor, comment=item.comment, data=item.data
        )
    except (DomainError, DatabaseError) as exc:
        return _answer(exc, refusal)
    return None


# ---------------------------------------------------------------- the body


def _invalid(message: str, errors: dict) -> DomainError:
    return DomainError(message, errors=errors)


def bulk_items(body, spec: TransitionSpec) -> list[Item]:
    """The items of a bulk body, bounded: an object with ``items``, a list of at most
    ``MAX_ITEMS`` objects, each with a distinct ``id`` and no key the transition does not
    read. Each item's fields are parsed later by the engine, as one by one."""
    if not isinstance(body, dict):
        raise _invalid(
            "Le corps de la requête doit être un objet JSON.",
            {"non_field_errors": ["Objet JSON attendu."]},
        )
    extra = sorted(str(k)[:40] for k in body if k != "items")
    if extra:
        raise _invalid(
            f"Champ inconnu : « {extra[0]} » (seul « items » est attendu).",
            {extra[0]: ["Champ inconnu."]},
        )
    raw = body.get("items")
    if not isinstance(raw, list) or not raw:
        raise _invalid(
            "Indiquez « items » : la liste des demandes, chacune avec son « id ».",
            {"items": ["Liste non vide attendue."]},
        )
    if len(raw) > MAX_ITEMS:
        raise _invalid(
            f"Trop de demandes : {MAX_ITEMS:,} au plus par envoi ({len(raw):,} reçues).".replace(
                ",", "\u202f"
            ),
            {"items": [f"{MAX_ITEMS} éléments au plus."]},
        )
    allowed = {"id", "comment", *(f.name for f in spec.fields)}
    items, seen = [], set()
    for index, entry in enumerate(raw):
        item = _item(entry, index, allowed, spec)
        if item.pk in seen:
            raise _invalid(
                f"La demande {item.pk} figure deux fois (élément {index + 1}).",
                {"items": {str(index): ["Identifiant en double."]}},
            )
        seen.add(item.pk)
        items.append(item)
    return items


def _item(entry, index: int, allowed: set[str], spec: TransitionSpec) -> Item:
    where = f"élément {index + 1}"
    if not isinstance(entry, dict):
        raise _invalid(
            f"Chaque élément de « items » doit être un objet ({where}).",
            {"items": {str(index): ["Objet attendu."]}},
        )
    unknown = sorted(str(k)[:40] for k in entry if k not in allowed)
    if unknown:
        fields = ", ".join(f"« {n} »" for n in sorted(allowed - {"id", "comment"})) or "aucun"
        raise _invalid(
            f"Champ inconnu « {unknown[0]} » ({where}) : la transition « {spec.label or spec.name} »"
            f" lit {fields}.",
            {"items": {str(index): [f"Champ inconnu : {unknown[0]}."]}},
        )
    try:
        pk = inputs.parse_id(entry.get("id"), field="id", label=f"identifiant ({where})")
    except DomainError as exc:
        raise _invalid(exc.message, {"items": {str(index): ["Identifiant invalide."]}}) from None
    data = {k: v for k, v in entry.items() if k not in ("id", "comment")}
    return Item(pk=pk, comment=entry.get("comment", ""), data=data)


# ---------------------------------------------------------------- one message to many


def cases_bulk_message(*, actor, body) -> BulkReport:
    """One message posted on each dossier of ``body`` (``{"items": [{"id"}], "body": text,
    "internal": bool}``, ADR 010): per dossier, exactly ``message_post`` (its role rules,
    its outbox event); a dossier the actor may not see is refused 404 with the single
    page's message, an item refused by the service is refused alone. A malformed body or
    an empty text is a 400 as a whole, before any dossier is read."""
    from .common import clean_text
    from .documents import message_post

    if not isinstance(body, dict):
        raise _invalid(
            "Le corps de la requête doit être un objet JSON.",
            {"non_field_errors": ["Objet JSON attendu."]},
        )
    extra = sorted(str(k)[:40] for k in body if k not in ("items", "body", "internal"))
    if extra:
        raise _invalid(f"Champ inconnu : « {extra[0]} ».", {extra[0]: ["Champ inconnu."]})
    text = clean_text(
        body.get("body"), field="body", label="le message", max_length=10000, required=True
    )
    internal = body.get("internal", False)
    if not isinstance(internal, bool):
        raise _invalid("« internal » : vrai ou faux.", {"internal": ["Booléen attendu."]})
    items = bulk_items({"items": body.get("items")}, _MESSAGE)
    visible = {
        case.pk: case
        for case in selectors.case_list(user=actor).filter(pk__in=[i.pk for i in items])
    }
    report = BulkReport()
    for item in items:
        case = visible.get(item.pk)
        if case is None:
            report.refused.append({"id": item.pk, "status": 404, "detail": CASE_NOT_FOUND})
            continue
        try:
            with transaction.atomic():
                message_post(actor=actor, case=case, body=text, internal=internal)
        except DomainError as exc:
            report.refused.append({"id": item.pk, "status": exc.status, "detail": exc.message})
            continue
        report.applied.append(item.pk)
    return report


#: What the dossier routes answer for a dossier the caller may not see.
CASE_NOT_FOUND = "Dossier introuvable."
#: The items of a message: an id each, nothing else.
_MESSAGE = TransitionSpec(name="message", roles=frozenset(), label="Message")
