"""The public open-data files of ``/transparence/`` (no login): the SCDL « subventions »
file of a territory (schema scdl/subventions, the same rows as the observatory's export,
the funder's SIRET read from ``Funder.siret``), streamed; and the block of the page that
names, per scheme, what is open now."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import open_data, scdl
from cases import public_selectors as ps

from .exports import ETALAB_COLUMNS, etalab_row
from .spreadsheets import csv_stream


def _with_scheme(url: str, scheme_code: str = "") -> str:
    return f"{url}?dispositif={scheme_code}" if scheme_code else url


def open_data_block(territory, schemes) -> dict:
    """The « Données ouvertes » block: the whole file, and per scheme what it publishes
    (the files' addresses reversed once, not per scheme)."""
    csv_url = reverse("web:public-subsidies-territory", args=[territory.slug])
    deliberations = reverse("web:public-deliberations-territory", args=[territory.slug])
    rows = []
    for item in open_data.open_data_by_scheme(territory=territory, schemes=schemes):
        files = []
        if item.conventions:
            files.append(
                {
                    "label": f"Subventions au format SCDL (CSV) : {item.conventions} "
                    f"convention{'s' if item.conventions > 1 else ''} signée"
                    f"{'s' if item.conventions > 1 else ''}",
                    "url": _with_scheme(csv_url, item.scheme.code),
                }
            )
        if item.projects:
            files.append(
                {
                    "label": f"Projets soutenus : {item.projects} aide"
                    f"{'s' if item.projects > 1 else ''} accordée"
                    f"{'s' if item.projects > 1 else ''}",
                    "url": f"?dispositif={item.scheme.code}#projets",
                }
            )
        if item.minutes:
            files.append(
                {
                    "label": "Décisions du comité au format SCDL « délibérations » (CSV)",
                    "url": _with_scheme(deliberations, item.scheme.code),
                }
            )
            files.append(
                {
                    "label": f"Procès-verbaux du comité : {item.minutes} séance"
                    f"{'s' if item.minutes > 1 else ''} close{'s' if item.minutes > 1 else ''}",
                    "url": "#comite",
                }
            )
        rows.append({"scheme": item.scheme, "files": files})
    return {"csv_url": csv_url, "deliberations_url": deliberations, "rows": rows}


@require_GET
def subsidies_csv(request, slug: str | None = None):
    """``/transparence/subventions.csv`` (the first territory) or ``/t/<slug>/…``;
    ``?dispositif=CODE`` keeps one scheme. Unknown territory or scheme: the 404 page."""
    territory, code, error = _scope(request, slug)
    if error:
        return error
    rows = (
        etalab_row(r)
        for r in open_data.published_grants(territory=territory, scheme_code=code or None)
    )
    response = StreamingHttpResponse(
        csv_stream(ETALAB_COLUMNS, rows, delimiter=","), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    name = f"subventions-{territory.slug}{'-' + code.lower() if code else ''}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _scope(request, slug):
    """The territory and the scheme code of an open-data file, or the 404 response."""
    from .public import _not_found

    wanted = slug or request.GET.get("territoire")
    code = request.GET.get("dispositif", "")[:20]
    if "\x00" in (wanted or "") + code:  # PostgreSQL refuses a NUL in a text
        return None, "", _not_found(request, "Paramètre invalide.")
    territory = ps.public_territory(wanted)
    if territory is None:
        return None, "", _not_found(request, "Aucun territoire ne porte ce nom.")
    if code and not ps.public_schemes().filter(code=code).exists():
        return None, "", _not_found(request, "Aucun dispositif ne porte ce code.")
    return territory, code, None


@require_GET
def deliberations_csv(request, slug: str | None = None):
    """``/transparence/deliberations.csv`` or ``/t/<slug>/…``: the committee's decisions
    as the SCDL « délibérations » file, each row linking to its session's public minutes;
    ``?dispositif=CODE`` keeps one scheme. Unknown territory or scheme: the 404 page."""
    territory, code, error = _scope(request, slug)
    if error:
        return error

    # The minutes' address reversed once, its session's number put in per row.
    head, tail = request.build_absolute_uri(reverse("web:public-minutes", args=[0])).rsplit(
        "/0/", 1
    )

    def minutes_url(pk: int) -> str:
        return f"{head}/{pk}/{tail}"

    rows = scdl.deliberation_rows(
        territory=territory, minutes_url=minutes_url, scheme_code=code or None
    )
    response = StreamingHttpResponse(
        csv_stream(scdl.DELIBERATION_COLUMNS, rows, delimiter=","),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    name = f"deliberations-{territory.slug}{'-' + code.lower() if code else ''}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
