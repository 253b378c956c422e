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

from engine import inputs
from engine.errors import DomainError
from schemes.models import Funder

from .. import conference, rules
from ..committee import session_territory_id
from ..models import (
    ConferenceItem,
    ConferencePosition,
    ConferenceSession,
    FundingRequest,
    PositionStance,
)
from ..models.funding import DEAD_REQUESTS
from ..permissions import require
from .common import clean_text
from .plan import plan_summary

#: The dossiers one session may discuss.
AGENDA_MAX = 60
TITLE_MAX = 200
NOTES_MAX = 20000
COMMENT_MAX = 2000
#: The years a session may be dated in, around today.
YEARS_AROUND = 5


def _date(value) -> dt.date:
    """A session's date (``engine.inputs``), within ``YEARS_AROUND`` years of today."""
    day = inputs.parse_date(value, field="date", label="date de la séance", required=True)
    today = timezone.localdate()
    if abs(day.year - today.year) > YEARS_AROUND:
        raise DomainError(
            f"Date : choisissez une date entre {today.year - YEARS_AROUND} et "
            f"{today.year + YEARS_AROUND}.",
            errors={"date": ["Date trop éloignée."]},
        )
    return day


def _session_fields(date, title: str, place: str, notes: str) -> dict:
    """The session's own fields, read from the input (French messages)."""
    return {
        "date": _date(date),
        "title": clean_text(
            title, field="title", label="l'intitulé", max_length=TITLE_MAX, required=True
        ),
        "place": clean_text(place, field="place", label="le lieu", max_length=TITLE_MAX),
        "notes": clean_text(
            notes, field="notes", label="le relevé des échanges", max_length=NOTES_MAX
        ),
    }


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
        territory_id=session_territory_id(actor),
        created_by=actor,
        **_session_fields(date, title, place, notes),
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
    fields = _session_fields(date, title, place, notes)
    funders = _funders(funder_ids)
    with transaction.atomic():
        session = _locked(actor, session, "conference_manage")
        for name, value in fields.items():
            setattr(session, name, value)
        session.save(update_fields=list(fields))
        session.funders.set(funders)
    return session


def agenda_add(*, actor, session: ConferenceSession, case_id: int) -> ConferenceItem:
    """Put one of the session's candidates (``conference.agenda_candidates``: a live dossier
    of its territory with an undecided request) on its agenda."""
    with transaction.atomic():
        session = _locked(actor, session, "conference_manage")
        items = list(session.items.values_list("case_id", "order"))
        if any(c == case_id for c, _ in items):
            raise DomainError("Ce dossier est déjà à l'ordre du jour.", code="conflict")
        case = conference.agenda_candidates(session=session).filter(pk=case_id).first()
        if case is None:
            raise DomainError(
                "Ce dossier n'est pas un dossier en cours du territoire avec une demande "
                "à examiner : il ne peut pas être inscrit à l'ordre du jour.",
                errors={"case": ["dossier introuvable"]},
            )
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
    amount = inputs.parse_money(amount, field="amount", label="montant envisagé")
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
    comment = clean_text(comment, field="comment", label="le commentaire", max_length=COMMENT_MAX)
    with transaction.atomic():
        session = _locked(actor, session, "conference_position")
        fr = (
            FundingRequest.objects.select_related("scheme__funder", "case__organisation")
            .filter(pk=funding_request_id, case__in=session.items.values("case_id"))
            .exclude(state__in=DEAD_REQUESTS)
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
