"""Downloads of the observatory: each table in CSV (UTF-8 with BOM, « ; », for French
Excel), XLSX and its ODS twin; the dossiers' financing plans (« maquette financière ») in
XLSX and ODS; the
committed grants in the Etalab format of the essential data of subsidy agreements
(schema ``scdl/subventions`` 2.1.1) in CSV.

Same access and scope as the observatory (``cases.stats``); files are attachments; nothing
personal is written beyond what a format requires (no user names, no e-mails).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cases import stats

from .observatory import parse_filters, require_observer
from .spreadsheets import ODS, csv_bytes, ods_sheets, safe_text, xlsx_append

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CENT = Decimal("0.01")
XLSX_FORMATS = {"money": "#,##0.00", "int": "0", "days": "0.0", "rate": "0.00%"}

# Etalab, « données essentielles des conventions de subvention » (décret 2017-779, arrêté
# du 17 novembre 2017), schema scdl/subventions 2.1.1, columns in the schema's order.
ETALAB_COLUMNS = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
]


# ---------------------------------------------------------------- helpers


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _checked_filters(request):
    """The filters, or a 400 response naming the bad ones (never a silent guess)."""
    form, filters = parse_filters(request)
    if form.errors:
        messages = [str(e) for errors in form.errors.values() for e in errors]
        return None, HttpResponseBadRequest(
            "Filtre invalide : " + " ".join(messages), content_type="text/plain; charset=utf-8"
        )
    return filters, None


def _stamp() -> str:
    return f"{timezone.localdate():%Y-%m-%d}"


def csv_value(value, kind: str) -> str:
    """French Excel reads « 12500,50 » as a number. (A text that would start a formula is
    neutralised by the one CSV writer, ``spreadsheets.csv_bytes``.)"""
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value).quantize(CENT):f}".replace(".", ",")
    if kind == "days":
        return f"{Decimal(value):f}".replace(".", ",")
    if kind == "rate":
        return f"{Decimal(value) * 100:.2f}".replace(".", ",") + " %"
    return str(value)


def xlsx_value(value, kind: str):
    if value is None:
        return None
    if kind == "money":
        return float(Decimal(value).quantize(CENT))
    if kind in ("days", "rate"):
        return float(value)
    if kind == "int":
        return int(value)
    return str(value)


def _sheet(ws, headers: list[str], rows, formats: list[str | None]) -> None:
    xlsx_append(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in rows:
        xlsx_append(ws, row)
    for index, (header, number_format) in enumerate(zip(headers, formats, strict=True), 1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = min(max(len(header) + 2, 12), 48)
        if number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format


def _filter_rows(filters: stats.Filters, title: str) -> list[list[str]]:
    """The « Filtres » sheet of an export (XLSX and ODS alike)."""
    rows = [["Export", title], ["Généré le", timezone.localtime().strftime("%d/%m/%Y %H:%M")]]
    labels = {"epci": "EPCI (SIREN)", "theme": "Thème", "scheme": "Dispositif", "year": "Année"}
    params = filters.as_params()
    rows += [[label, params.get(key, "Tous")] for key, label in labels.items()]
    return rows


def _filters_sheet(wb, filters: stats.Filters, title: str) -> None:
    ws = wb.create_sheet("Filtres")
    for row in _filter_rows(filters, title):
        xlsx_append(ws, row)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 40


def _xlsx_bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- observatory tables


def table_csv(table: stats.Table) -> bytes:
    return csv_bytes(
        [c.label for c in table.columns],
        (
            [csv_value(v, c.kind) for v, c in zip(table.values(row), table.columns, strict=True)]
            for row in table.rows
        ),
        delimiter=";",
        bom=True,
    )


def table_xlsx(table: stats.Table, filters: stats.Filters) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = table.title[:31]
    _sheet(
        ws,
        [c.label for c in table.columns],
        (
            [xlsx_value(v, c.kind) for v, c in zip(table.values(row), table.columns, strict=True)]
            for row in table.rows
        ),
        [XLSX_FORMATS.get(c.kind) for c in table.columns],
    )
    _filters_sheet(wb, filters, table.title)
    return _xlsx_bytes(wb)


def table_ods(table: stats.Table, filters: stats.Filters) -> bytes:
    """The ODS twin of ``table_xlsx``: the same cells, the same « Filtres » sheet."""
    rows = (
        [xlsx_value(v, c.kind) for v, c in zip(table.values(row), table.columns, strict=True)]
        for row in table.rows
    )
    return ods_sheets(
        [
            (table.title, [[c.label for c in table.columns]], rows),
            ("Filtres", [], _filter_rows(filters, table.title)),
        ]
    )


@login_required
def observatory_export(request, slug: str, fmt: str):
    require_observer(request.user)
    if slug not in stats.TABLES or fmt not in ("csv", "xlsx", "ods"):
        raise Http404("Export inconnu.")
    filters, error = _checked_filters(request)
    if error:
        return error
    table = stats.observatory_table(user=request.user, filters=filters, slug=slug)
    name = f"observatoire-{slug}-{_stamp()}.{fmt}"
    if fmt == "csv":
        return _attachment(table_csv(table), name, "text/csv; charset=utf-8")
    if fmt == "ods":
        return _attachment(table_ods(table, filters), name, ODS)
    return _attachment(table_xlsx(table, filters), name, XLSX)


# ---------------------------------------------------------------- financing plans

PLAN_TITLE = "Maquette financière (dossier × ligne de ressource)"
PLAN_COLUMNS = [
    ("Référence", None),
    ("Intitulé", None),
    ("Maître d'ouvrage", None),
    ("Type de maître d'ouvrage", None),
    ("SIREN", None),
    ("EPCI", None),
    ("Thème", None),
    ("Étape", None),
    ("Date de réception", "dd/mm/yyyy"),
    ("Dépenses totales (€)", XLSX_FORMATS["money"]),
    ("Dépenses éligibles (€)", XLSX_FORMATS["money"]),
    ("Ressource", None),
    ("Dispositif", None),
    ("Financeur", None),
    ("Libellé", None),
    ("Montant (€)", XLSX_FORMATS["money"]),
    ("Taux (part des dépenses éligibles)", XLSX_FORMATS["rate"]),
    ("Demande : état", None),
    ("Montant accordé (€)", XLSX_FORMATS["money"]),
    ("Montant versé (€)", XLSX_FORMATS["money"]),
    ("Autofinancement du dossier (€)", XLSX_FORMATS["money"]),
    ("Aides publiques du dossier (€)", XLSX_FORMATS["money"]),
    ("Taux d'aides publiques du dossier", XLSX_FORMATS["rate"]),
]


def _money(value):
    return None if value is None else float(value)


def plan_row(row: stats.PlanRow) -> list:
    case, line, fr, plan = row.case, row.line, row.request, row.summary
    org = case.organisation
    scheme = line.scheme if line is not None else None
    return [
        case.reference or str(case.pk),
        case.title,
        org.name,
        org.get_kind_display(),
        org.siren or "",
        case.epci.name if case.epci_id else "",
        case.theme,
        case.get_state_display(),
        case.receipt_date,
        _money(row.total_expenses),
        _money(plan.total_eligible),
        line.get_kind_display() if line is not None else "",
        scheme.code if scheme else "",
        scheme.funder.name if scheme else "",
        line.label if line is not None else "",
        _money(line.amount) if line is not None else None,
        _money(row.rate),
        fr.get_state_display() if fr else "",
        _money(fr.amount_granted) if fr else None,
        _money(fr.amount_paid) if fr else None,
        _money(plan.own_funds),
        _money(plan.public_aid),
        _money(plan.public_aid_rate),
    ]


@login_required
def financing_plans_export(request):
    require_observer(request.user)
    filters, error = _checked_filters(request)
    if error:
        return error
    rows = stats.financing_plan_rows(user=request.user, filters=filters)
    wb = Workbook()
    ws = wb.active
    ws.title = "Maquette financière"
    _sheet(
        ws,
        [label for label, _ in PLAN_COLUMNS],
        (plan_row(r) for r in rows),
        [fmt for _, fmt in PLAN_COLUMNS],
    )
    _filters_sheet(wb, filters, PLAN_TITLE)
    return _attachment(_xlsx_bytes(wb), f"maquette-financiere-{_stamp()}.xlsx", XLSX)


@login_required
def financing_plans_ods(request):
    """The ODS twin of ``financing_plans_export``: the same rows, the same filters sheet."""
    require_observer(request.user)
    filters, error = _checked_filters(request)
    if error:
        return error
    rows = (plan_row(r) for r in stats.financing_plan_rows(user=request.user, filters=filters))
    content = ods_sheets(
        [
            ("Maquette financière", [[label for label, _ in PLAN_COLUMNS]], rows),
            ("Filtres", [], _filter_rows(filters, PLAN_TITLE)),
        ]
    )
    return _attachment(content, f"maquette-financiere-{_stamp()}.ods", ODS)


# ---------------------------------------------------------------- Etalab


def _payment_period(row: stats.GrantRow) -> str:
    fr = row.request
    start = row.first_paid or fr.committed_on
    if fr.state == "paid" and row.last_paid:
        end = row.last_paid
    else:
        end = max(d for d in (row.last_paid, row.period_end, start) if d is not None)
    if end == start and row.payments <= 1:
        return start.isoformat()
    return f"{start.isoformat()}/{end.isoformat()}"


def etalab_row(row: stats.GrantRow) -> list[str]:
    fr = row.request
    case, scheme = fr.case, fr.scheme
    single = fr.state == "paid" and row.payments == 1
    return [
        scheme.funder.name,
        scheme.funder.siret,  # blank when not known: nothing invented
        fr.committed_on.isoformat(),
        f"{case.reference}-{scheme.code}" if case.reference else "",
        case.organisation.name,
        case.organisation.siren or "",
        "",
        safe_text(case.title)[:255],  # the schema's 255, the neutralising quote included
        f"{fr.amount_granted:.2f}",
        "aide en numéraire",
        "unique" if single else "échelonné",
        _payment_period(row),
        "",
        "oui" if scheme.is_feader else "non",
        "1.00",
        scheme.code,  # dispositifAide (SCDL 2.1.1): the scheme's code
    ]


def etalab_csv(rows: list[stats.GrantRow]) -> bytes:
    return csv_bytes(ETALAB_COLUMNS, (etalab_row(r) for r in rows), delimiter=",", bom=False)


@login_required
def etalab_export(request):
    require_observer(request.user)
    filters, error = _checked_filters(request)
    if error:
        return error
    rows = stats.committed_grants(user=request.user, filters=filters)
    return _attachment(
        etalab_csv(rows), f"subventions-etalab-{_stamp()}.csv", "text/csv; charset=utf-8"
    )
