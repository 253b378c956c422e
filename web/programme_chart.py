"""The observatory's section on the LEADER programme's health (issue 14): per action sheet
of the user's territory, its target (maquette), what is programmed and paid, and the money
at risk of being lost (``cases.programme_health``), as an SVG bar chart (``web.svg``: a
title, a description stating the rates, every value written) followed by the same figures
in a table. Aggregates of the territory only, no dossier named: every observer may read it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from cases.programme_health import SheetHealth, lead_months, programme_health, warning_months
from cases.rules import euros, percent
from schemes.models import Territory

from . import svg

SERIES = (
    ("Maquette", "target"),
    ("Programmé", "programmed"),
    ("Payé", "paid"),
    ("En danger", "at_risk"),
)
COLUMNS = (
    "Fiche-action",
    "Maquette",
    "Programmé",
    "Taux de programmation",
    "Engagé",
    "Payé",
    "Taux de paiement",
    "Payable trop tard",
    "Non programmé à temps",
    "Total en danger",
)


def _rate(value) -> str:
    return "—" if value is None else percent(value)


def _label(h: SheetHealth) -> str:
    return f"{h.sheet.code} — {h.sheet.title}"


def _desc(rows: list[SheetHealth]) -> str:
    lines = [
        f"{_label(h)} : programmé à {_rate(h.programming_rate)}, payé à "
        f"{_rate(h.payment_rate)} de la maquette, {euros(h.at_risk)} en danger"
        for h in rows
    ]
    return (
        f"Diagramme en barres horizontales, {len(rows)} fiche(s)-action(s), quatre barres "
        "par fiche : maquette, programmé, payé, en danger. "
        + " ; ".join(lines)
        + ". Les valeurs exactes figurent dans le tableau qui suit."
    )


def _row(h: SheetHealth) -> list[dict]:
    target = euros(h.target) + (" (enveloppes)" if h.target_from_envelopes else "")
    cells = [
        target,
        euros(h.programmed),
        _rate(h.programming_rate),
        euros(h.committed),
        euros(h.paid),
        _rate(h.payment_rate),
        euros(h.late_amount),
        euros(h.unprogrammed_at_risk),
        euros(h.at_risk),
    ]
    return [{"text": _label(h), "num": False}] + [{"text": c, "num": True} for c in cells]


def programme_section(user) -> dict | None:
    """The section's context, or None when the user's territory has no action sheet."""
    territory_id = user.territory_id or Territory.sole_id()
    if territory_id is None:
        return None
    today = timezone.localdate()
    rows = programme_health(territory_id, today=today)
    if not rows:
        return None
    ends = sorted({h.programme_end for h in rows if h.programme_end})
    chart = svg.bar_chart(
        uid="graphique-programme",
        title="Programme LEADER : maquette, programmé, payé et montant en danger par fiche-action",
        desc=_desc(rows),
        labels=[_label(h) for h in rows],
        series=[(name, [getattr(h, key) for h in rows]) for name, key in SERIES],
        fmt=svg.short_euros,
    )
    return {
        "title": "Santé du programme LEADER",
        "chart": chart,
        "columns": [{"label": c, "num": i > 0} for i, c in enumerate(COLUMNS)],
        "rows": [_row(h) for h in rows],
        "ends": [e.strftime("%d/%m/%Y") for e in ends],
        "lead_months": lead_months(),
        "warning_months": warning_months(),
        "at_risk": euros(sum((h.at_risk for h in rows), Decimal(0))),
    }
