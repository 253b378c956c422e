"""One formatter per thing shown: the charts' amounts (``web.svg.short_euros``, for the
observatory's charts and the programme's health), the ODS content type
(``web.spreadsheets.ODS``, for every ODS download)."""

from __future__ import annotations

from decimal import Decimal

from web import maquette, observatory, programme_chart, spreadsheets, svg


def test_short_euros_rounds_to_whole_euros_with_thin_spaces():
    assert svg.short_euros(Decimal("1234567.49")) == "1\u202f234\u202f567 €"
    assert svg.short_euros(Decimal("999.5")) == "1\u202f000 €"
    assert svg.short_euros(0) == "0 €"


def test_the_charts_share_one_amount_formatter():
    assert not hasattr(programme_chart, "_short")
    assert not hasattr(observatory, "short_euros")
    amounts = [fmt for _, fmt, _ in observatory.CHARTS.values() if fmt is svg.short_euros]
    assert len(amounts) == 4  # EPCI, themes, schemes, years


def test_one_ods_content_type():
    assert maquette.ODS is spreadsheets.ODS
    assert spreadsheets.ODS == "application/vnd.oasis.opendocument.spreadsheet"
