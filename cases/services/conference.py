"""The funders' conference (issue 14), writes: a session, its funders present, its agenda,
the funders' positions. Only the territory's agents and admin prepare a session; a funder's
instructor records positions on its own funder's requests. A position changes no dossier
(an intention, not a decision); the session's row is locked while its agenda or its
positions change (the ceilings that span rows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from engine.errors import DomainError
from schemes.models import Funder, Territory

from .. import conference, rules
from ..models import (
    CASE_TERMINAL,
    REQUEST_UNDECIDED,
    Case,
    ConferenceItem,
    ConferencePosition,
    ConferenceSession,
    FundingRequest,
    PositionStance,
)
from ..permissions import require
from .plan import plan_summary

#: The dossiers one session may discuss.
AGENDA_MAX = 60
TITLE_MAX = 200
NOTES_MAX = 20000
COMMENT_MAX = 2000
#: The years a session may be dated in, around today.
YEARS_AROUND = 5


def _text(value: str, limit: int, label: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise DomainError(f"{label} : caractère non autorisé.", errors={label: ["invalide"]})
    if required and not value:
        raise DomainError(f"{label} : ce champ est obligatoire.")
    if len(value) > limit:
        raise DomainError(f"{label} : {limit} caractères au plus ({len(value)} saisis).")
    return value


def _date(value: dt.date) -> dt.date:
    today = timezone.localdate()
    if not isinstance(value, dt.date) or abs(value.year - today.year) > YEARS_AROUND:
        raise DomainError(
            f"Date : choisissez une date entre {today.year - YEARS_AROUND} et "
            f"{today.year + YEARS_AROUND}."
        )
    return value


def _territory(actor) -> Territory:
    if actor.territory_id:
        return actor.territory
    territory = Territory.objects.order_by("pk").first() if actor.is_superuser else None
    if territory is None:
        raise DomainError("Votre compte n'est rattaché à aucun territoire.", code="forbidden")
    return territory


def _funders(funder_ids) -> list[Funder]:
    ids = {int(i) for i in funder_ids}
    funders = list(Funder.objects.filter(pk__in=ids))
    if len(funders) != len(ids):
        raise DomainError("Financeurs présents : un financeur choisi n'existe pas.")
    return funders


def session_create(
    *, actor, date: dt.date, title: str, place: str = "", notes: str = "", funder_ids=()
) -> ConferenceSession:
    require(actor, "conference_manage")
    session = ConferenceSession(
        territory=_territory(actor),
        date=_date(date),
        title=_text(title, TITLE_MAX, "Intitulé", required=True),
        place=_text(place, TITLE_MAX, "Lieu"),
        notes=_text(notes, NOTES_MAX, "Relevé des échanges"),
        created_by=actor,
    )
    funders = _funders(funder_ids)
    with transaction.atomic():
        session.save()
        session.funders.set(funders)
    return session


def _locked(actor, session: ConferenceSession, action: str) -> ConferenceSession:
    """The session re-read under a lock, if the actor may still see it."""
    require(actor, action)
    locked = (
        conference.session_list(user=actor).select_for_update(of=("self",)).filter(pk=session.pk)
    ).first()
    if locked is None:
        raise DomainError("Séance de la conférence des financeurs introuvable.", code="not_found")
    return locked


def session_update(
    *, actor, session: ConferenceSession, date, title, place="", notes="", funder_ids=()
) -> ConferenceSession:
    date, title = _date(date), _text(title, TITLE_MAX, "Intitulé", required=True)
    place, notes = _text(place, TITLE_MAX, "Lieu"), _text(notes, NOTES_MAX, "Relevé des échanges")
    funders = _funders(funder_ids)
    with transaction.atomic():
        session = _locked(actor, session, "conference_manage")
        session.date, session.title, session.place, session.notes = date, title, place, notes
        session.save(update_fields=["date", "title", "place", "notes"])
        session.funders.set(funders)
    return session


def agenda_add(*, actor, session: ConferenceSession, case_id: int) -> ConferenceItem:
    """Put a dossier of the session's territory with an undecided request on its agenda."""
    with transaction.atomic():
        session = _locked(actor, session, "conference_manage")
        case = (
            Case.objects.filter(pk=case_id, territory_id=session.territory_id)
            .exclude(state__in=CASE_TERMINAL)
            .filter(funding_requests__state__in=REQUEST_UNDECIDED)
            .first()
        )
        if case is None:
            raise DomainError(
                "Ce dossier n'est pas un dossier en cours du territoire avec une demande "
                "à examiner : il ne peut pas être inscrit à l'ordre du jour.",
                errors={"case": ["dossier introuvable"]},
            )
        items = list(session.items.values_list("case_id", "order"))
        if any(c == case.pk for c, _ in items):
            raise DomainError("Ce dossier est déjà à l'ordre du jour.", code="conflict")
        if len(items) >= AGENDA_MAX:
            raise DomainError(
                f"L'ordre du jour compte déjà {AGENDA_MAX} dossiers, le maximum d'une séance.",
                code="conflict",
            )
        order = max((o for _, o in items), default=0) + 1
        return ConferenceItem.objects.create(session=session, case=case, order=order)


def agenda_remove(*, actor, session: ConferenceSession, item_id: int) -> None:
    """Take a dossier off the agenda, unless a position was recorded on it (the minutes
    keep every position)."""
    with transaction.atomic():
        session = _locked(actor, session, "conference_manage")
        item = session.items.filter(pk=item_id).first()
        if item is None:
            raise DomainError("Ce dossier n'est pas à l'ordre du jour.", code="not_found")
        if session.positions.filter(funding_request__case_id=item.case_id).exists():
            raise DomainError(
                "Des positions sont enregistrées sur ce dossier : il reste à l'ordre du jour "
                "(le relevé de la séance les garde toutes).",
                code="conflict",
            )
        item.delete()


def _amount(stance: str, amount: Decimal | None, fr: FundingRequest) -> Decimal | None:
    if stance == PositionStance.DECLINE:
        if amount:
            raise DomainError(
                "Montant envisagé : laissez-le vide quand le financeur ne financera pas.",
                errors={"amount": ["vide attendu"]},
            )
        return None
    if amount is None:
        if stance == PositionStance.FUND:
            raise DomainError(
                "Montant envisagé : indiquez le montant que le financeur envisage.",
                errors={"amount": ["obligatoire"]},
            )
        return None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            "Montant envisagé : un montant positif en euros, au centime près.",
            errors={"amount": ["invalide"]},
        )
    eligible = plan_summary(fr.case).total_eligible
    if amount > eligible:
        raise DomainError(
            f"Montant envisagé : il dépasse la dépense éligible du dossier "
            f"({rules.euros(eligible)}).",
            errors={"amount": ["trop élevé"]},
        )
    return amount


def position_record(
    *,
    actor,
    session: ConferenceSession,
    funding_request_id: int,
    stance: str,
    amount: Decimal | None = None,
    comment: str = "",
) -> ConferencePosition:
    """Record (or replace) the position of a request's funder at ``session``."""
    if stance not in PositionStance.values:
        raise DomainError(
            "Position : choisissez « Financera », « Ne financera pas » ou « Demande des "
            "compléments ».",
            errors={"stance": ["invalide"]},
        )
    comment = _text(comment, COMMENT_MAX, "Commentaire")
    with transaction.atomic():
        session = _locked(actor, session, "conference_position")
        fr = (
            FundingRequest.objects.select_related("scheme__funder", "case__organisation")
            .filter(pk=funding_request_id, case__in=session.items.values("case_id"))
            .exclude(state__in=conference.DEAD_REQUESTS)
            .first()
        )
        if fr is None:
            raise DomainError(
                "Cette demande n'est pas en cours sur un dossier de l'ordre du jour.",
                code="not_found",
            )
        if not conference.may_position(actor, fr):
            raise DomainError(
                "Vous ne pouvez enregistrer que la position de votre financeur.",
                code="forbidden",
            )
        position, _ = ConferencePosition.objects.update_or_create(
            session=session,
            funding_request=fr,
            defaults={
                "stance": stance,
                "amount": _amount(stance, amount, fr),
                "comment": comment,
                "recorded_by": actor,
                "recorded_at": timezone.now(),
            },
        )
    return position
