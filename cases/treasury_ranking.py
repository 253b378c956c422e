"""Many porteurs' treasury forecasts at once (issue 13): organisations chunked by their
live dossiers (the memory of a chunk follows its dossiers), and the territory's ranking by
the depth of the p80 trough. The forecast itself is ``cases.treasury``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from .treasury import FORECAST_STATES, ZERO, Forecast, money, treasury_forecasts

# ---------------------------------------------------------------- the territory's ranking


@dataclass(frozen=True)
class RankedOrganisation:
    organisation: object
    population: int | None
    forecast: Forecast
    depth: Decimal  # how far the p80 trough goes below zero (0 when it does not)
    per_inhabitant: Decimal | None  # the depth per inhabitant of a commune

    @property
    def cash_declared(self) -> bool:
        return self.forecast.cash_at_hand is not None


#: A chunk of organisations forecast at once holds at most this many live dossiers (and
#: this many organisations): the memory of a chunk follows its dossiers.
CHUNK_CASES = 2000
CHUNK_ORGANISATIONS = 500


def live_case_counts(organisation_ids=None) -> dict[int, int]:
    """Organisation id → its number of live dossiers (those the forecast reads)."""
    from django.db.models import Count

    from .models import Case

    qs = Case.objects.filter(state__in=FORECAST_STATES)
    if organisation_ids is not None:
        qs = qs.filter(organisation_id__in=organisation_ids)
    rows = qs.values("organisation_id").annotate(n=Count("id")).order_by()
    return {row["organisation_id"]: row["n"] for row in rows}


def chunks_by_cases(
    ids, counts: dict[int, int], *, max_cases=CHUNK_CASES, max_orgs=CHUNK_ORGANISATIONS
):
    """The ids in order, in chunks of at most ``max_orgs`` organisations holding at most
    ``max_cases`` live dossiers together (an organisation with more is a chunk alone)."""
    chunk, held = [], 0
    for pk in ids:
        n = counts.get(pk, 0)
        if chunk and (held + n > max_cases or len(chunk) >= max_orgs):
            yield chunk
            chunk, held = [], 0
        chunk.append(pk)
        held += n
    if chunk:
        yield chunk


def treasury_ranking(organisations, *, today: dt.date | None = None) -> list[RankedOrganisation]:
    """The organisations with a live operation, their forecasts read by chunks, ranked by
    the depth of their p80 trough per inhabitant (communes), then by depth: the deepest
    first; those that never go below zero last."""
    from .models import Case, Organisation

    today = today or timezone.localdate()
    live = organisations.filter(
        pk__in=Case.objects.filter(state__in=FORECAST_STATES).values("organisation_id")
    )
    ids = list(live.order_by("pk").values_list("pk", flat=True))
    counts = live_case_counts(ids)
    rows: list[RankedOrganisation] = []
    for chunk in chunks_by_cases(ids, counts):
        batch = list(Organisation.objects.filter(pk__in=chunk).select_related("commune"))
        forecasts = treasury_forecasts(batch, today=today)
        for organisation in batch:
            forecast = forecasts[organisation.pk]
            forecast.inflows, forecast.outflows = [], []  # the ranking keeps the figures only
            population = (
                organisation.commune.population
                if organisation.kind == Organisation.Kind.COMMUNE and organisation.commune_id
                else None
            )
            low = forecast.trough_p80.balance if forecast.trough_p80 else ZERO
            depth = max(ZERO, -low)
            per = money(depth / population) if population else None
            rows.append(RankedOrganisation(organisation, population, forecast, depth, per))
    rows.sort(
        key=lambda r: (
            -(r.per_inhabitant if r.per_inhabitant is not None else Decimal(-1)),
            -r.depth,
            r.organisation.name,
        )
    )
    return rows
