"""The demo's envelopes (issue 14): for the current year and the one before, each active
scheme's envelope on the territory is the figure its parameters carry (``Scheme.envelope``),
so that the funders' page, the API and the public page show the credits' progress.
Idempotent: an envelope already there stays."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schemes.models import ActionSheet, Call, Envelope, Scheme, Territory

#: The demo's calls for projects: (scheme, title, opens in days, lasts days, budget, criteria).
CALLS = (
    (
        "LEADER",
        "Appel à projets LEADER « Tiers-lieux et services de proximité »",
        -30,
        75,
        "250000.00",
        "Projets portés sur le territoire du GAL ; grille de sélection : ancrage local, "
        "coopération, public touché, viabilité (note minimale 12/20). Dépôt complet avant la "
        "clôture ; classement par le comité de programmation suivant la clôture.",
    ),
    (
        "REGION_OCC",
        "Appel à projets « Revitalisation des centres-bourgs »",
        20,
        60,
        "400000.00",
        "Communes de moins de 3 500 habitants ; opérations d'au moins 50 000 € HT ; "
        "classement selon l'effet sur le centre-bourg et la sobriété foncière.",
    ),
)


def envelopes_create(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    made = 0
    for territory in Territory.objects.all():
        for scheme in Scheme.objects.filter(active=True, envelope__isnull=False):
            for year in (today.year - 1, today.year):
                _e, created = Envelope.objects.get_or_create(
                    scheme=scheme,
                    territory=territory,
                    year=year,
                    action_sheet=None,
                    defaults={"amount": scheme.envelope},
                )
                made += created
    return made + action_sheets_create()


#: The demo GAL's action sheets and their maquette amounts (LEADER programme health).
ACTION_SHEETS = (
    ("FA1", "Services de proximité et tiers-lieux", "400000.00"),
    ("FA2", "Tourisme durable et patrimoine", "350000.00"),
    ("FA3", "Économie de proximité et circuits courts", "300000.00"),
    ("FA4", "Coopération entre territoires", "100000.00"),
)


def action_sheets_create() -> int:
    """The LEADER scheme's action sheets on each territory, with their maquette amount, and
    the territory's LEADER requests not yet on a sheet spread over the first three (so that
    the observatory's programme health shows something). Idempotent: by code."""
    scheme = Scheme.objects.filter(code="LEADER").first()
    if scheme is None:
        return 0
    from cases.models import FundingRequest

    made = 0
    for territory in Territory.objects.all():
        sheets = []
        for code, title, target in ACTION_SHEETS:
            sheet, created = ActionSheet.objects.get_or_create(
                scheme=scheme,
                territory=territory,
                code=code,
                defaults={"title": title, "target_amount": target},
            )
            made += created
            sheets.append(sheet)
        loose = FundingRequest.objects.filter(
            scheme=scheme, case__territory=territory, action_sheet__isnull=True
        ).order_by("id")
        for k, pk in enumerate(loose.values_list("pk", flat=True)):
            FundingRequest.objects.filter(pk=pk).update(action_sheet=sheets[k % 3])
    return made


def calls_create(today: dt.date | None = None) -> int:
    """One open LEADER call and one coming Région call per territory (idempotent: by title)."""
    today = today or timezone.localdate()
    made = 0
    for territory in Territory.objects.all():
        for code, title, opens, lasts, budget, criteria in CALLS:
            scheme = Scheme.objects.filter(code=code, active=True).first()
            if scheme is None:
                continue
            opens_on = today + dt.timedelta(days=opens)
            _c, created = Call.objects.get_or_create(
                territory=territory,
                title=title,
                defaults={
                    "scheme": scheme,
                    "description": criteria,
                    "opens_on": opens_on,
                    "closes_on": opens_on + dt.timedelta(days=lasts),
                    "envelope": budget,
                    "selection": Call.Selection.RANKING,
                },
            )
            made += created
    return made
