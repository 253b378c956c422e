"""« Maquette financière » (issue 14, point 2): the programming table of the territory's
live dossiers — one row per operation, one column group per funder, the totals against the
year's envelopes —, filtered by year, funder and EPCI, and its exports in XLSX and ODS in
the same layout. For the territory's staff (an EPCI partner: its EPCI); anyone else 404."""

from __future__ import annotations

import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cases import maquette
from cases.maquette import Filters

from .spreadsheets import ODS, ods_bytes, xlsx_append

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 100
OPERATION_HEADERS = ["Référence", "Opération", "Porteur", "EPCI", "Année"]
FUNDER_HEADERS = ["Dispositif et état", "Demandé (€)", "Accordé (€)"]


class FiltersForm(forms.Form):
    annee = forms.ChoiceField(
        label="Année de programmation",
        required=False,
        help_text="Année de la décision, sinon de la décision attendue.",
    )
    financeur = forms.ChoiceField(label="Financeur", required=False)
    epci = forms.ChoiceField(label="EPCI", required=False)

    def __init__(self, *args, user, current_year: int, **kwargs):
        super().__init__(*args, **kwargs)
        years = maquette.year_choices(user=user, current=current_year)
        self.fields["annee"].choices = [("", "Toutes")] + [(str(y), str(y)) for y in years]
        self.fields["financeur"].choices = [("", "Tous")] + maquette.funder_choices()
        self.epcis = maquette.epci_choices(user=user)
        self.fields["epci"].choices = [("", "Tous")] + [(str(pk), n) for pk, n in self.epcis]
        for f in self.fields.values():
            f.error_messages["invalid_choice"] = (
                f"{f.label} : la valeur « %(value)s » n'existe pas ; choisissez-en une de la liste."
            )

    def filters(self) -> Filters:
        """The valid filters only: an invalid one is reported and ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        year = data.get("annee") or ""
        epci = data.get("epci") or ""
        return Filters(
            year=int(year) if year else None,
            funder=data.get("financeur") or "",
            epci=int(epci) if epci else None,
        )


def _parse(request):
    user = request.user
    if not maquette.may_read(user):
        raise Http404
    current = timezone.localdate().year
    params = {k: request.GET.get(k, "") for k in ("annee", "financeur", "epci")}
    if "annee" not in request.GET:
        params["annee"] = str(current)  # the year being programmed, by default
    form = FiltersForm(params, user=user, current_year=current)
    return form, form.filters()


def _describe(form, filters: Filters) -> str:
    parts = [f"année {filters.year}" if filters.year else "toutes années"]
    if filters.funder:
        parts.append(dict(form.fields["financeur"].choices).get(filters.funder, filters.funder))
    if filters.epci is not None:
        parts.append(dict(form.epcis).get(filters.epci, ""))
    return ", ".join(p for p in parts if p)


@login_required
@require_GET
def maquette_page(request):
    form, filters = _parse(request)
    user = request.user
    funders = maquette.funder_columns(user=user, filters=filters)
    count, page, operations = _page(request, user, filters)
    rows = [(op, list(zip(funders, op.cells_in(funders), strict=True))) for op in operations]
    query = request.GET.copy()
    query.pop("page", None)
    if "annee" not in query:
        query["annee"] = str(filters.year or "")
    context = {
        "nav": "maquette",
        "form": form,
        "filters": filters,
        "funders": funders,
        "rows": rows,
        "count": count,
        "page": page,
        "scope": _describe(form, filters),
        "query": query.urlencode(),
        "operation_span": len(OPERATION_HEADERS),
    }
    return render(request, "web/maquette/maquette.html", context)


def _page(request, user, filters: Filters):
    """The asked page of operations and their number, read together (one statement for
    both); a page past the end (no row to carry the count) is read again as the last."""
    number = request.GET.get("page")
    asked = int(number) if number and number.isascii() and number.isdigit() else 1
    asked = min(max(asked, 1), 10**9)  # past the end anyway, and an OFFSET PostgreSQL takes
    count, operations = maquette.operations_counted(
        user=user, filters=filters, offset=(asked - 1) * PER_PAGE, limit=PER_PAGE
    )
    if count is None:
        count = maquette.operation_count(user=user, filters=filters)
    page = Paginator(range(count), PER_PAGE).get_page(number)
    if page.number != asked and count:
        operations = maquette.operations_page(
            user=user, filters=filters, offset=page.start_index() - 1, limit=PER_PAGE
        )
    return count, page, operations


# ---------------------------------------------------------------- exports


def _table(user, form, filters: Filters):
    """The title, the two header rows and the rows of the export (one row per operation,
    a column group per funder), then the totals and the envelopes."""
    funders = maquette.funder_columns(user=user, filters=filters)
    title = f"Maquette financière — {_describe(form, filters)}"
    group = [(f.name, len(FUNDER_HEADERS)) for f in funders]
    headers = [
        [""] * len(OPERATION_HEADERS) + group,
        OPERATION_HEADERS + FUNDER_HEADERS * len(funders),
    ]

    def rows():
        for op in maquette.operations_stream(user=user, filters=filters):
            values = [
                op.reference,
                op.title,
                op.organisation,
                op.epci,
                ", ".join(str(y) for y in op.years),
            ]
            for cell in op.cells_in(funders):
                if cell is None:
                    values += [None, None, None]
                else:
                    values += [cell.state, cell.requested, cell.granted]
            yield values
        pad = [""] * (len(OPERATION_HEADERS) - 2)
        yield ["", "Total des opérations", *pad] + [
            v for f in funders for v in (f"{f.count} demande(s)", f.requested, f.granted)
        ]
        for label, attr in (
            ("Enveloppes", "envelope"),
            ("Programmé (tout le territoire)", "programmed"),
            ("Reste à programmer", "remaining"),
        ):
            yield ["", label, *pad] + [v for f in funders for v in ("", getattr(f, attr), None)]

    return title, headers, rows()


def _filename(filters: Filters, ext: str) -> str:
    year = filters.year or "toutes-annees"
    return f"maquette-{year}-{timezone.localdate():%Y-%m-%d}.{ext}"


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def maquette_xlsx(request):
    form, filters = _parse(request)
    title, headers, rows = _table(request.user, form, filters)
    wb = Workbook()
    ws = wb.active
    ws.title = "Maquette"
    xlsx_append(ws, [title])
    ws.cell(row=1, column=1).font = Font(bold=True)
    first, second = headers
    xlsx_append(
        ws,
        [x for v in first for x in ([v[0]] + [None] * (v[1] - 1) if isinstance(v, tuple) else [v])],
    )
    column = len(OPERATION_HEADERS) + 1
    for _group in first[len(OPERATION_HEADERS) :]:
        ws.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + 2)
        ws.cell(row=2, column=column).font = Font(bold=True)
        column += 3
    xlsx_append(ws, second)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "C4"
    for values in rows:
        xlsx_append(ws, values)
    for index, cell in enumerate(ws[3], 1):
        if cell.value and "€" in str(cell.value):
            for (c,) in ws.iter_rows(min_row=4, min_col=index, max_col=index):
                c.number_format = "#,##0.00"
        ws.column_dimensions[get_column_letter(index)].width = 14 if index != 2 else 40
    out = io.BytesIO()
    wb.save(out)
    return _attachment(out.getvalue(), _filename(filters, "xlsx"), XLSX)


@login_required
@require_GET
def maquette_ods(request):
    form, filters = _parse(request)
    title, headers, rows = _table(request.user, form, filters)
    content = ods_bytes([[title], *headers], rows, sheet="Maquette")
    return _attachment(content, _filename(filters, "ods"), ODS)
