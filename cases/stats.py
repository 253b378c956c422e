"""Read-side aggregations of the observatory and of the exports.

Everything starts from ``cases.selectors.case_list`` (an EPCI partner sees its EPCI, a
committee member the LEADER dossiers…), so visibility is never re-implemented here.
Each table is computed by one SQL query (GROUP BY with ``annotate``/``aggregate``),
whatever the number of dossiers; medians and percentiles use PostgreSQL's
``percentile_cont`` (on another database, the same figures are computed in Python from the
rows of that one query, for the SQLite demo).

The filters apply to dossiers: EPCI of the dossier, theme, scheme (a dossier that asks
that scheme; amounts are then those of that scheme only) and year (the year of the
receipt date, or of the creation for a dossier not yet filed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django_fsm_log.models import StateLog

from schemes.models import Scheme

from .models import REQUEST_GRANTED, Case, CaseState, FundingRequest, Payment
from .stats_exports import GrantRow, PlanRow, committed_grants, financing_plan_rows
from .stats_scope import (
    MONEY,
    OBSERVATORY_ROLES,
    ZERO,
    Column,
    FilterOptions,
    Filters,
    R,
    Table,
    filter_options,
    filtered_cases,
    observatory_allowed,
    visible_cases,
    year_expr,
)

__all__ = [
    "COUNT_COLUMNS",
    "NO_EPCI",
    "NO_THEME",
    "OBSERVATORY_ROLES",
    "TABLES",
    "Column",
    "FilterOptions",
    "Filters",
    "GrantRow",
    "PercentileCont",
    "PlanRow",
    "R",
    "Table",
    "by_epci",
    "by_scheme",
    "by_state",
    "by_theme",
    "by_year",
    "committed_grants",
    "filter_options",
    "filtered_cases",
    "financing_plan_rows",
    "observatory_allowed",
    "observatory_table",
    "observatory_tables",
    "payment_delays",
    "percentile",
    "summary",
    "time_in_states",
    "visible_cases",
]

NO_THEME = "Sans thème"
NO_EPCI = "Hors EPCI du territoire"

# ---------------------------------------------------------------- tables

COUNT_COLUMNS = [
    Column("cases", "Dossiers", "int"),
    Column("filed", "Dossiers déposés", "int"),
    Column("supported", "Dossiers aidés", "int"),
    Column("requested", "Montant demandé (€)", "money"),
    Column("granted", "Montant accordé (€)", "money"),
    Column("paid", "Montant versé (€)", "money"),
]


def _amounts(filters: Filters, prefix: str = "funding_requests__") -> dict:
    """Aggregates of a dossier queryset over its funding requests (one join)."""
    on_scheme = Q(**{f"{prefix}scheme__code": filters.scheme}) if filters.scheme else Q()
    granted = on_scheme & Q(**{f"{prefix}state__in": REQUEST_GRANTED})
    return {
        "cases": Count("pk", distinct=True),
        "filed": Count("pk", distinct=True, filter=Q(receipt_date__isnull=False)),
        "supported": Count("pk", distinct=True, filter=granted),
        "requested": Coalesce(
            Sum(f"{prefix}amount_requested", filter=on_scheme), Value(ZERO), output_field=MONEY
        ),
        "granted": Coalesce(
            Sum(f"{prefix}amount_granted", filter=granted), Value(ZERO), output_field=MONEY
        ),
        "paid": Coalesce(
            Sum(f"{prefix}amount_paid", filter=on_scheme), Value(ZERO), output_field=MONEY
        ),
    }


def summary(*, user, filters: Filters) -> Table:
    row = filtered_cases(user=user, filters=filters).aggregate(**_amounts(filters))
    row["label"] = "Ensemble"
    return Table(
        "synthese",
        "Synthèse",
        [Column("label", "Périmètre"), *COUNT_COLUMNS],
        [row],
    )


def _grouped(qs, key: str, filters: Filters) -> list[dict]:
    return list(qs.values(key).annotate(**_amounts(filters)).order_by(key))


def by_epci(*, user, filters: Filters) -> Table:
    qs = filtered_cases(user=user, filters=filters)
    rows = list(
        qs.values("epci__siren", "epci__name").annotate(**_amounts(filters)).order_by("epci__name")
    )
    for row in rows:
        row["label"] = row.pop("epci__name") or NO_EPCI
        row["siren"] = row.pop("epci__siren") or ""
    return Table("epci", "Par EPCI", [Column("label", "EPCI"), *COUNT_COLUMNS], rows)


def by_theme(*, user, filters: Filters) -> Table:
    """One row per theme of the controlled list (``theme_ref``): the variants once typed
    were merged into it (migration cases 0020)."""
    rows = _grouped(filtered_cases(user=user, filters=filters), "theme_ref__label", filters)
    for row in rows:
        row["label"] = row.pop("theme_ref__label") or NO_THEME
    rows.sort(key=lambda r: (r["label"] == NO_THEME, r["label"]))
    return Table("themes", "Par thème", [Column("label", "Thème"), *COUNT_COLUMNS], rows)


def by_year(*, user, filters: Filters) -> Table:
    qs = filtered_cases(user=user, filters=filters).annotate(year_=year_expr())
    rows = _grouped(qs, "year_", filters)
    for row in rows:
        row["label"] = str(row.pop("year_"))
    return Table(
        "annees",
        "Par année de dépôt",
        [Column("label", "Année"), *COUNT_COLUMNS],
        rows,
        note="Année de la date de réception du dossier (de sa création s'il n'est pas déposé).",
    )


def by_state(*, user, filters: Filters) -> Table:
    counts = dict(
        filtered_cases(user=user, filters=filters)
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
        .order_by()
    )
    rows = [
        {"state": value, "label": label, "cases": counts[value]}
        for value, label in CaseState.choices
        if counts.get(value)
    ]
    return Table(
        "etats",
        "Dossiers par étape",
        [Column("label", "Étape"), Column("cases", "Dossiers", "int")],
        rows,
    )


def by_scheme(*, user, filters: Filters) -> Table:
    frs = FundingRequest.objects.filter(
        case__in=filtered_cases(user=user, filters=filters).values("pk")
    )
    if filters.scheme:
        frs = frs.filter(scheme__code=filters.scheme)
    granted = Q(state__in=REQUEST_GRANTED)
    rows = list(
        frs.values("scheme__code", "scheme__name", "scheme__envelope")
        .annotate(
            requests=Count("pk"),
            granted_count=Count("pk", filter=granted),
            requested=Coalesce(Sum("amount_requested"), Value(ZERO), output_field=MONEY),
            granted=Coalesce(
                Sum("amount_granted", filter=granted), Value(ZERO), output_field=MONEY
            ),
            paid=Coalesce(Sum("amount_paid"), Value(ZERO), output_field=MONEY),
        )
        .order_by("scheme__code")
    )
    for row in rows:
        row["code"] = row.pop("scheme__code")
        row["label"] = row["code"]
        row["name"] = row.pop("scheme__name")
        envelope = row.pop("scheme__envelope")
        row["envelope"] = envelope
        row["envelope_rate"] = (
            (row["granted"] / envelope).quantize(Decimal("0.0001")) if envelope else None
        )
    return Table(
        "dispositifs",
        "Par dispositif",
        [
            Column("code", "Dispositif"),
            Column("name", "Intitulé"),
            Column("requests", "Demandes", "int"),
            Column("granted_count", "Demandes accordées", "int"),
            Column("requested", "Montant demandé (€)", "money"),
            Column("granted", "Montant accordé (€)", "money"),
            Column("paid", "Montant versé (€)", "money"),
            Column("envelope", "Enveloppe (€)", "money"),
            Column("envelope_rate", "Part de l'enveloppe accordée", "rate"),
        ],
        rows,
        note="L'enveloppe est un paramètre du dispositif ; la part porte sur les dossiers "
        "retenus par les filtres.",
    )


# ---------------------------------------------------------------- percentiles


class PercentileCont(Aggregate):
    """PostgreSQL ``percentile_cont(f) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile(values: list, fraction: float):
    """Linear interpolation between closest ranks, as ``percentile_cont``."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * fraction
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def _sql_percentiles() -> bool:
    return connection.vendor == "postgresql"


def _grouped_stats(qs, group: str, value: str, output_field, fractions: dict[str, float]):
    """{group value: {"n", "avg", <fraction names>…}} in one query."""
    if _sql_percentiles():
        extra = {
            name: PercentileCont(value, fraction=frac, output_field=output_field)
            for name, frac in fractions.items()
        }
        rows = qs.values(group).annotate(n=Count("pk"), avg=Avg(value), **extra).order_by()
        return {r[group]: r for r in rows}
    buckets = defaultdict(list)
    for key, v in qs.values_list(group, value):
        if v is not None:
            buckets[key].append(v)
    out = {}
    for key, values in buckets.items():
        total = values[0] * 0
        for v in values:
            total += v
        row = {group: key, "n": len(values), "avg": total / len(values)}
        for name, frac in fractions.items():
            row[name] = percentile(values, frac)
        out[key] = row
    return out


def _days(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        value = value.total_seconds() / 86400
    return Decimal(str(value)).quantize(Decimal("0.1"))


# ---------------------------------------------------------------- time spent in each step


def time_in_states(*, user, filters: Filters) -> Table:
    """Days between entering and leaving each state of the dossier, from the django-fsm-log
    history: a passage ends with a logged transition out of the state; it began with the
    previous logged transition of that dossier (or its creation for the first state).
    Passages not yet ended are not counted."""
    case_type = ContentType.objects.get_for_model(Case)
    previous = (
        StateLog.objects.filter(content_type=case_type, object_id=OuterRef("object_id"))
        .filter(
            Q(timestamp__lt=OuterRef("timestamp"))
            | Q(timestamp=OuterRef("timestamp"), pk__lt=OuterRef("pk"))
        )
        .order_by("-timestamp", "-pk")
        .values("timestamp")[:1]
    )
    created = Case.objects.filter(pk=OuterRef("object_id")).values("created_at")[:1]
    logs = (
        StateLog.objects.filter(
            content_type=case_type,
            object_id__in=filtered_cases(user=user, filters=filters).values("pk"),
        )
        .exclude(source_state=None)
        .exclude(source_state=F("state"))
        .annotate(entered=Coalesce(Subquery(previous), Subquery(created)))
        .annotate(duration=ExpressionWrapper(F("timestamp") - F("entered"), DurationField()))
    )
    stats = _grouped_stats(logs, "source_state", "duration", DurationField(), {"median": 0.5})
    rows = []
    for value, label in CaseState.choices:
        s = stats.get(value)
        if not s:
            continue
        rows.append(
            {
                "state": value,
                "label": label,
                "passages": s["n"],
                "avg_days": _days(s["avg"]),
                "median_days": _days(s["median"]),
            }
        )
    return Table(
        "etapes",
        "Temps passé dans chaque étape",
        [
            Column("label", "Étape"),
            Column("passages", "Passages terminés", "int"),
            Column("avg_days", "Durée moyenne (jours)", "days"),
            Column("median_days", "Durée médiane (jours)", "days"),
        ],
        rows,
        note="D'après l'historique des transitions : de l'entrée dans l'étape à la sortie. "
        "Les dossiers encore dans une étape ne comptent pas pour celle-ci.",
    )


# ---------------------------------------------------------------- payment delays


def payment_delays(*, user, filters: Filters) -> Table:
    """Per scheme: number of payments, median, 90th percentile and mean of the delay from
    the claim to the payment (``Payment.delay_days``), against the scheme's expected delay
    (its parameter)."""
    payments = Payment.objects.filter(
        claim__funding_request__case__in=filtered_cases(user=user, filters=filters).values("pk")
    )
    schemes = Scheme.objects.order_by("code")
    if filters.scheme:
        payments = payments.filter(scheme__code=filters.scheme)
        schemes = schemes.filter(code=filters.scheme)
    stats = _grouped_stats(
        payments, "scheme_id", "delay_days", FloatField(), {"median": 0.5, "p90": 0.9}
    )
    rows = []
    for scheme in schemes.only("pk", "code", "name", "expected_payment_delay_days"):
        s = stats.get(scheme.pk, {})
        median = _days(s.get("median"))
        expected = scheme.expected_payment_delay_days
        rows.append(
            {
                "code": scheme.code,
                "label": scheme.code,
                "name": scheme.name,
                "payments": s.get("n", 0),
                "median_days": median,
                "p90_days": _days(s.get("p90")),
                "avg_days": _days(s.get("avg")),
                "expected_days": expected,
                "gap_days": (median - expected) if median is not None else None,
            }
        )
    return Table(
        "delais-paiement",
        "Délais de paiement par dispositif",
        [
            Column("code", "Dispositif"),
            Column("name", "Intitulé"),
            Column("payments", "Paiements", "int"),
            Column("median_days", "Délai médian (jours)", "days"),
            Column("p90_days", "9e décile (jours)", "days"),
            Column("avg_days", "Délai moyen (jours)", "days"),
            Column("expected_days", "Délai attendu, paramètre (jours)", "int"),
            Column("gap_days", "Écart médiane − attendu (jours)", "days"),
        ],
        rows,
        note="Délai entre la demande de paiement et le versement. Le délai attendu est le "
        "paramètre du dispositif.",
    )


TABLES = {
    "synthese": summary,
    "etats": by_state,
    "epci": by_epci,
    "themes": by_theme,
    "dispositifs": by_scheme,
    "annees": by_year,
    "etapes": time_in_states,
    "delais-paiement": payment_delays,
}


def observatory_table(*, user, filters: Filters, slug: str) -> Table:
    return TABLES[slug](user=user, filters=filters)


def observatory_tables(*, user, filters: Filters) -> dict[str, Table]:
    return {slug: fn(user=user, filters=filters) for slug, fn in TABLES.items()}
