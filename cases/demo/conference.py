"""The demo's funders' conference (issue 14, point 6): on each territory, a session held a
week ago with the funders of three dossiers awaiting decisions on its agenda and their
positions — one funder keeps its amount, one intends less (the plan shows the gap to
cover), one asks for more — so that the session page, its minutes, the dossier page and
the maquette show positions. Through the services, as an agent would. Idempotent: by
title."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from schemes.models import Funder, Territory

from ..conference import agenda_candidates
from ..models import REQUEST_UNDECIDED, ConferenceSession, FundingRequest, PositionStance, User
from ..services import conference as services

TITLE = "Conférence des financeurs — programmation de printemps"
COMMENTS = {
    PositionStance.FUND: "Montant confirmé sous réserve du vote de l'assemblée.",
    PositionStance.MORE: "Attendre le devis actualisé et l'avis de l'architecte des bâtiments de France.",
}


def _stance(k: int, fr: FundingRequest) -> tuple[str, Decimal | None]:
    if k % 3 == 0:
        return PositionStance.FUND, fr.amount_requested
    if k % 3 == 1:  # less than requested: the owner's gap shows
        return PositionStance.FUND, (fr.amount_requested * Decimal("0.75")).quantize(
            Decimal("1"), rounding=ROUND_DOWN
        )
    return PositionStance.MORE, None


def conference_create(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    made = 0
    for territory in Territory.objects.all():
        agent = (
            User.objects.filter(role=User.Role.AGENT, territory=territory).order_by("pk").first()
        )
        if (
            agent is None
            or ConferenceSession.objects.filter(territory=territory, title=TITLE).exists()
        ):
            continue
        session = services.session_create(
            actor=agent,
            date=today - dt.timedelta(days=7),
            title=TITLE,
            place="Siège du PETR, salle du conseil",
            notes="Tour de table des financeurs sur les dossiers prêts à être programmés. "
            "Le Département étudiera un complément si la Région réduit son aide.",
        )
        cases = list(agenda_candidates(session=session)[:3])
        frs = (
            FundingRequest.objects.filter(case__in=cases, state__in=REQUEST_UNDECIDED)
            .select_related("scheme__funder")
            .order_by("case_id", "pk")
        )
        funders = {fr.scheme.funder_id for fr in frs}
        session.funders.set(Funder.objects.filter(pk__in=funders))
        for case in cases:
            services.agenda_add(actor=agent, session=session, case_id=case.pk)
        for k, fr in enumerate(frs):
            stance, amount = _stance(k, fr)
            services.position_record(
                actor=agent,
                session=session,
                funding_request_id=fr.pk,
                stance=stance,
                amount=amount,
                comment=COMMENTS.get(stance, ""),
            )
        made += 1
    return made
