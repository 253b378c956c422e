"""The one way the project writes spreadsheet files: every CSV goes through ``csv_bytes`` (or ``csv_stream``),
every XLSX row through ``xlsx_append``, every ODS through ``ods_bytes`` / ``ods_sheets``
(each XLSX export has its ODS twin: the RGI favours open formats).

Texts come from people (a dossier's title, an organisation's name, a theme): a spreadsheet
must show them, never run them. In a CSV, a cell that starts a formula (« = », « + »,
« - », « @ », a tab or a carriage return, also after leading spaces) is prefixed with an
apostrophe, except a genuine number (« -12.50 », « -10,0 », « 12,50 % »), which stays a
number. In an XLSX, a text is always written as a text cell (openpyxl otherwise stores a
string starting with « = » as a formula), without the control characters XLSX forbids.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?: ?%)?")


def safe_text(value) -> str:
    """A CSV cell that a spreadsheet reads as a value, never as a formula."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, (int, float, Decimal)) or NUMBER.fullmatch(text):
        return text
    if text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START):
        return "'" + text
    return text


def csv_bytes(header: Iterable, rows: Iterable[Iterable], *, delimiter: str, bom: bool) -> bytes:
    """UTF-8 CSV (with a BOM for French Excel when ``bom``), CRLF line ends, every cell
    through ``safe_text``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_text(v) for v in header])
    writer.writerows([safe_text(v) for v in row] for row in rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def csv_stream(header: Iterable, rows: Iterable[Iterable], *, delimiter: str) -> Iterator[bytes]:
    """The same CSV as ``csv_bytes`` (no BOM), line by line: for a file as long as its
    data, served by a ``StreamingHttpResponse`` in constant memory."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in itertools.chain([header], rows):
        writer.writerow([safe_text(v) for v in row])
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()


def xlsx_append(ws, values: Iterable) -> None:
    """Append a row to an openpyxl worksheet; its texts stay texts (a text that starts
    with « = » is given as a text cell). Constant time per cell: ``ws.max_row`` would scan
    every cell of the sheet at each row (quadratic: minutes for 10,000 rows)."""
    values = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
    ws.append(
        [_text_cell(ws, v) if isinstance(v, str) and v.startswith("=") else v for v in values]
    )


def _text_cell(ws, value: str) -> Cell:
    cell = Cell(ws, value=value)
    cell.data_type = "s"
    return cell


ODS = "application/vnd.oasis.opendocument.spreadsheet"


def ods_bytes(header_rows: Iterable[Iterable], rows: Iterable[Iterable], *, sheet: str) -> bytes:
    """An OpenDocument spreadsheet (ODS, through odfpy) of one sheet: the header rows
    (repeated on each printed page), then the rows. A text is a text cell, a number a float
    cell with its ``office:value``, a date a date cell, never a formula; a header cell
    ``(text, span)`` spans ``span`` columns (a column group's title)."""
    return ods_sheets([(sheet, header_rows, rows)])


def _ods_cell(value, cell_classes):
    TableCell, P, add_text = cell_classes
    if value is None or value == "":
        return TableCell()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        cell = TableCell(valuetype="float", value=str(value))
        cell.addElement(P(text=str(value)))
        return cell
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
        cell.addElement(P(text=value.strftime("%d/%m/%Y")))
        return cell
    cell = TableCell(valuetype="string")
    p = P()
    add_text(p, ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    cell.addElement(p)
    return cell


def ods_sheets(sheets: Iterable[tuple[str, Iterable[Iterable], Iterable[Iterable]]]) -> bytes:
    """The ODS twin of an XLSX workbook: one ``(name, header_rows, rows)`` per sheet, the
    cells as ``ods_bytes`` writes them (the one ODS writer of the project)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableHeaderRows, TableRow
    from odf.teletype import addTextToElement
    from odf.text import P

    classes = (TableCell, P, addTextToElement)

    def row_of(values) -> TableRow:
        tr = TableRow()
        for value in values:
            span = 1
            if isinstance(value, tuple):
                value, span = value
            cell = _ods_cell(value, classes)
            if span > 1:
                cell.setAttribute("numbercolumnsspanned", str(span))
            tr.addElement(cell)
            for _ in range(span - 1):
                tr.addElement(CoveredTableCell())
        return tr

    doc = OpenDocumentSpreadsheet()
    for sheet, header_rows, rows in sheets:
        table = Table(name=ILLEGAL_CHARACTERS_RE.sub("", sheet)[:31] or "Feuille 1")
        headers = TableHeaderRows()
        for values in header_rows:
            headers.addElement(row_of(values))
        table.addElement(headers)
        for values in rows:
            table.addElement(row_of(values))
        doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()
