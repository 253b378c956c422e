"""The demo's treasuries (issue 13): the communes with a live operation declare the cash
they hold (40 € per inhabitant: a small commune's usual reserve), and the live dossiers
without works dates get a planned works period, so that « Ma trésorerie » and the
territory's ranking show real troughs. Idempotent: what is already declared stays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from ..models import Case, Organisation
from ..treasury import FORECAST_STATES, add_months

CASH_PER_INHABITANT = Decimal("40")


def treasuries_declare(today: dt.date | None = None) -> int:
    """Returns the number of organisations whose cash was declared now."""
    today = today or timezone.localdate()
    live = Case.objects.filter(state__in=FORECAST_STATES)
    declared = 0
    for org in Organisation.objects.filter(
        pk__in=live.values("organisation_id"),
        kind=Organisation.Kind.COMMUNE,
        cash_at_hand__isnull=True,
        commune__isnull=False,
    ).select_related("commune"):
        Organisation.objects.filter(pk=org.pk).update(
            cash_at_hand=CASH_PER_INHABITANT * (org.commune.population or 0),
            cash_at_hand_on=today,
        )
        declared += 1
    start = add_months(today, 1)
    live.filter(
        works_start_date__isnull=True, planned_works_start__isnull=True, state="decided"
    ).update(planned_works_start=start, planned_works_end=add_months(start, 10) - dt.timedelta(1))
    return declared
