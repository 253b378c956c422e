"""The demo's programming scenarios (issue 14, point 3): on each territory, two drafts of
the current year side by side — « variante A » funds the year's undecided requests at the
amounts asked, « variante B » trims them by a fifth and postpones every third one — so
that the scenario pages, the comparison and the figures show something. Through the
services, as an agent would; nothing is applied. Idempotent: by title."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from schemes.models import Territory

from ..models import Scenario, User
from ..scenarios import candidates
from ..services import scenarios as services

TITLES = ("Programmation {year} — variante A", "Programmation {year} — variante B")
AT_MOST = 24


def _rows(requests, variant: int) -> list[dict]:
    rows = []
    for k, fr in enumerate(requests):
        if variant == 0:
            rows.append({"request": fr.pk, "choice": "fund", "amount": ""})
        elif k % 3 == 2:
            rows.append({"request": fr.pk, "choice": "postpone"})
        else:
            amount = (fr.amount_requested * Decimal("0.8")).quantize(Decimal("1"), ROUND_DOWN)
            rows.append({"request": fr.pk, "choice": "fund", "amount": f"{amount}"})
    return rows


def scenarios_create() -> int:
    year = timezone.localdate().year
    made = 0
    for territory in Territory.objects.all():
        agent = (
            User.objects.filter(role=User.Role.AGENT, territory=territory).order_by("pk").first()
        )
        if agent is None:
            continue
        for variant, title in enumerate(TITLES):
            title = title.format(year=year)
            if Scenario.objects.filter(territory=territory, title=title).exists():
                continue
            scenario = services.scenario_create(actor=agent, title=title, year=year)
            requests = list(candidates(scenario, user=agent)[:AT_MOST])
            if requests:
                services.scenario_items_save(
                    actor=agent, scenario=scenario, rows=_rows(requests, variant)
                )
            made += 1
    return made
