"""Reads of the public open-data files (``/transparence/``): the SCDL « subventions » rows
of a territory, and what each scheme publishes now. No user, no personal data; every read
is one or two queries whatever the volume (the rows are streamed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from schemes.models import Scheme, Territory

from .models import CommitteeSession, FundingRequest, SessionState
from .public_selectors import COMMITTED_STATES, GRANTED_STATES, PUBLIC_CASE_STATES
from .stats_exports import GrantRow, grant_rows


def published_grants(*, territory: Territory, scheme_code: str | None = None):
    """The territory's signed conventions (committed, paying, paid) as ``GrantRow``, oldest
    first, streamed: the rows of the SCDL « subventions » file."""
    frs = FundingRequest.objects.filter(
        case__territory_id=territory.pk,
        state__in=COMMITTED_STATES,
        committed_on__isnull=False,
    )
    if scheme_code:
        frs = frs.filter(scheme__code=scheme_code)
    yield from grant_rows(frs)


@dataclass
class SchemeOpenData:
    """What one scheme publishes now: how many signed conventions (the SCDL file), granted
    projects (the page's list) and public minutes (committee schemes only)."""

    scheme: Scheme
    conventions: int = 0
    projects: int = 0
    minutes: int = 0
    files: list[str] = field(default_factory=list)


def _counts(qs, key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=Count("pk")).order_by()}


def open_data_by_scheme(*, territory: Territory, schemes: list[Scheme]) -> list[SchemeOpenData]:
    """Per scheme (as the page lists them), what is open now, read from the scheme's data
    (``committee``) and the territory's dossiers: three grouped queries."""
    requests = FundingRequest.objects.filter(case__territory_id=territory.pk)
    conventions = _counts(
        requests.filter(state__in=COMMITTED_STATES, committed_on__isnull=False), "scheme_id"
    )
    projects = _counts(
        requests.filter(state__in=GRANTED_STATES, case__state__in=PUBLIC_CASE_STATES),
        "scheme_id",
    )
    minutes = _counts(
        CommitteeSession.objects.filter(
            territory_id=territory.pk, state=SessionState.CLOSED, scheme__committee=True
        ),
        "scheme_id",
    )
    out = []
    for scheme in schemes:
        row = SchemeOpenData(
            scheme=scheme,
            conventions=conventions.get(scheme.pk, 0),
            projects=projects.get(scheme.pk, 0),
            minutes=minutes.get(scheme.pk, 0) if scheme.committee else 0,
        )
        out.append(row)
    return out


__all__ = ["GrantRow", "SchemeOpenData", "open_data_by_scheme", "published_grants"]
