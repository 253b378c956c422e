"""The observatory: counts, amounts, time spent in each step and payment delays, by EPCI,
theme, scheme and year, as SVG charts with the same figures in tables, for agents, the
direction, EPCI partners (their EPCI) and committee members (the LEADER dossiers).

Thin views: the filters are parsed by a form, the figures come from ``cases.stats``
(scoped by ``cases.selectors.case_list``), the charts from ``web.svg``.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from cases import stats
from cases.rules import euros, percent

from . import svg
from .programme_chart import programme_section

# ---------------------------------------------------------------- access and filters


def require_observer(user) -> None:
    if not stats.observatory_allowed(user):
        raise PermissionDenied("L'observatoire est réservé aux agents et aux élus du territoire.")


class FiltersForm(forms.Form):
    epci = forms.ChoiceField(label="EPCI", required=False)
    theme = forms.ChoiceField(label="Thème", required=False)
    scheme = forms.ChoiceField(label="Dispositif", required=False)
    year = forms.ChoiceField(
        label="Année de dépôt",
        required=False,
        help_text="Année de réception du dossier (de création s'il n'est pas encore déposé).",
    )

    def __init__(self, *args, options: stats.FilterOptions, **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", "Tous")]
        self.fields["epci"].choices = every + list(options.epcis)
        self.fields["theme"].choices = every + [(t, t) for t in options.themes]
        self.fields["scheme"].choices = every + [
            (code, f"{code} — {name}") for code, name in options.schemes
        ]
        self.fields["year"].choices = [("", "Toutes")] + [(str(y), str(y)) for y in options.years]
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = (
                f"{field.label} : la valeur « %(value)s » n'existe pas dans votre périmètre ; "
                "choisissez une valeur de la liste."
            )

    def filters(self) -> stats.Filters:
        """The valid filters only: an invalid one is reported and ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        year = data.get("year") or ""
        return stats.Filters(
            epci=data.get("epci") or "",
            theme=data.get("theme") or "",
            scheme=data.get("scheme") or "",
            year=int(year) if year.isdigit() else None,
        )


def parse_filters(request) -> tuple[FiltersForm, stats.Filters]:
    options = stats.filter_options(user=request.user)
    params = {k: request.GET.get(k, "") for k in ("epci", "theme", "scheme", "year")}
    form = FiltersForm(params, options=options)
    return form, form.filters()


# ---------------------------------------------------------------- formatting


def number(value) -> str:
    return f"{int(value):,}".replace(",", "\u202f")


def days(value) -> str:
    return f"{Decimal(value):.1f}".replace(".", ",")


def format_cell(value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == "money":
        return euros(value)
    if kind == "int":
        return number(value)
    if kind == "days":
        return days(value)
    if kind == "rate":
        return percent(value)
    return str(value)


# ---------------------------------------------------------------- charts

AMOUNTS = [
    ("Demandé", "requested"),
    ("Accordé", "granted"),
    ("Versé", "paid"),
]
CHARTS = {
    "etats": ([("Dossiers", "cases")], number, "Nombre de dossiers à chaque étape"),
    "epci": (AMOUNTS, svg.short_euros, "Montants demandés, accordés et versés par EPCI"),
    "themes": (AMOUNTS, svg.short_euros, "Montants demandés, accordés et versés par thème"),
    "dispositifs": (
        AMOUNTS,
        svg.short_euros,
        "Montants demandés, accordés et versés par dispositif",
    ),
    "annees": (
        AMOUNTS,
        svg.short_euros,
        "Montants demandés, accordés et versés par année de dépôt",
    ),
    "etapes": (
        [("Durée médiane", "median_days"), ("Durée moyenne", "avg_days")],
        lambda v: f"{days(v)} j",
        "Temps passé dans chaque étape, en jours",
    ),
    "delais-paiement": (
        [
            ("Délai médian", "median_days"),
            ("9e décile", "p90_days"),
            ("Délai attendu (paramètre)", "expected_days"),
        ],
        lambda v: f"{days(v)} j",
        "Délais de paiement par dispositif, en jours, comparés au délai attendu",
    ),
}


def chart_for(table: stats.Table):
    spec = CHARTS.get(table.slug)
    if spec is None or not table.rows:
        return None
    series_spec, fmt, title = spec
    labels = [row["label"] for row in table.rows]
    series = [(name, [row.get(key) for row in table.rows]) for name, key in series_spec]
    peaks = []
    for name, values in series:
        known = [(v, label) for v, label in zip(values, labels, strict=True) if v is not None]
        if known:
            v, label = max(known, key=lambda p: p[0])
            peaks.append(f"{name} : le plus élevé est {label} ({fmt(v)})")
    desc = (
        f"Diagramme en barres horizontales, {len(labels)} ligne(s). "
        + ("; ".join(peaks) + ". " if peaks else "")
        + "Les valeurs exactes figurent dans le tableau qui suit."
    )
    return svg.bar_chart(
        uid=f"graphique-{table.slug}",
        title=title,
        desc=desc,
        labels=labels,
        series=series,
        fmt=fmt,
    )


def display(table: stats.Table) -> dict:
    return {
        "slug": table.slug,
        "title": table.title,
        "note": table.note,
        "columns": [{"label": c.label, "num": c.kind != "text"} for c in table.columns],
        "rows": [
            [
                {"text": format_cell(v, c.kind), "num": c.kind != "text"}
                for v, c in zip(table.values(row), table.columns, strict=True)
            ]
            for row in table.rows
        ],
    }


# ---------------------------------------------------------------- the page


def export_url(name: str, filters: stats.Filters, **kwargs) -> str:
    url = reverse(f"web:{name}", kwargs=kwargs or None)
    params = filters.as_params()
    return f"{url}?{urlencode(params)}" if params else url


@login_required
def observatory(request):
    require_observer(request.user)
    form, filters = parse_filters(request)
    tables = stats.observatory_tables(user=request.user, filters=filters)
    sections = {}
    for table in tables.values():
        section = display(table)
        section["chart"] = chart_for(table)
        section["csv"] = export_url("observatory-export", filters, slug=table.slug, fmt="csv")
        section["xlsx"] = export_url("observatory-export", filters, slug=table.slug, fmt="xlsx")
        section["ods"] = export_url("observatory-export", filters, slug=table.slug, fmt="ods")
        sections[table.slug] = section
    summary = tables["synthese"].rows[0]
    context = {
        "nav": "observatory",
        "form": form,
        "filters": filters,
        "summary": {
            "cases": number(summary["cases"]),
            "filed": number(summary["filed"]),
            "supported": number(summary["supported"]),
            "requested": euros(summary["requested"]),
            "granted": euros(summary["granted"]),
            "paid": euros(summary["paid"]),
        },
        "sections": [s for slug, s in sections.items() if slug != "synthese"],
        "summary_section": sections["synthese"],
        "plans_url": export_url("export-financing-plans", filters),
        "plans_ods_url": export_url("export-financing-plans-ods", filters),
        "etalab_url": export_url("export-etalab", filters),
        "scope": scope_label(request.user),
        "programme": programme_section(request.user),
    }
    return render(request, "web/observatory/index.html", context)


def scope_label(user) -> str:
    role = user.effective_role
    if role == stats.R.EPCI_PARTNER:
        return "les dossiers de votre EPCI"
    if role == stats.R.COMMITTEE_MEMBER:
        return "les dossiers LEADER soumis au comité"
    return "tous les dossiers du territoire"
