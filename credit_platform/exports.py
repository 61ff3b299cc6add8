"""Every list page exports what it shows (its filters applied) as CSV or XLSX.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is prefixed with an
apostrophe, so that a spreadsheet opening the file shows the text instead of running it as a formula
(OWASP "CSV injection"). Numbers stay numbers: only text cells are neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    """The value to write: text that a spreadsheet would evaluate gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_format(request: Any) -> str | None:
    """``csv`` or ``xlsx`` when the query string asks for an export, else None (the page)."""
    wanted = request.GET.get("format", "")
    return wanted if wanted in ("csv", "xlsx") else None


def export_response(fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    if fmt == "xlsx":
        return xlsx_response(filename, headers, rows)
    return csv_response(filename, headers, rows)


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_text(safe_cell(v)) for v in row])
    # UTF-8 with a byte-order mark: Excel then reads Chinese names correctly
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
    return response


def _csv_text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=filename[:31])
    sheet.append([safe_cell(h) for h in headers])
    for row in rows:
        sheet.append([_xlsx_value(safe_cell(v)) for v in row])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.xlsx")
    return response


def _xlsx_value(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value
