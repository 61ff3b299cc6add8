"""Reading a client's own file: its columns mapped to a kind's template fields, its formats guessed.

A mapping is plain data (so that the page, the API, the command and the task share it):
``{"columns": {file header: field or "" to ignore}, "defaults": {field: text}, "format": FileFormat dict}``.
File headers are compared normalised (``norm_header``: ``Invoice Date`` -> ``invoice_date``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .engine import Importer, Rejected, read_table
from .spec import ErrorList, FileFormat, norm_header

SAMPLES = 5
PREVIEW_ROWS = 2000  # enough to guess formats from; a 1M-row file is not read whole to show its columns
# Words clients' exports use for the template fields (normalised headers).
SYNONYMS = {
    "customer_external_id": ["customer_id", "customer", "customer_no", "customer_number", "debtor_id", "client_id",
                             "account", "account_id", "buyer_id", "external_id"],
    "customer_name": ["name", "legal_name", "customer_name", "company", "debtor_name", "client_name"],
    "legal_name": ["name", "customer_name", "company"],
    "external_id": ["customer_id", "id", "customer_no"],
    "country": ["country_code", "country_iso", "countrycode", "nation"],
    "number": ["invoice_number", "invoice_id", "invoice_no", "document_number", "doc_no", "invoice"],
    "invoice_number": ["invoice_id", "invoice_no", "number", "document_number", "invoice"],
    "issue_date": ["invoice_date", "document_date", "date", "posting_date"],
    "due_date": ["due", "due_on", "payment_due_date", "maturity_date"],
    "amount": ["invoice_amount", "amount", "total", "gross_amount", "value"],
    "settled_on": ["settled_date", "paid_date", "payment_date", "cleared_date", "clearing_date", "settled"],
    "disputed": ["dispute", "disputed", "in_dispute", "dispute_flag", "is_disputed"],
    "currency": ["currency_code", "ccy", "cur"],
}


def guess_encoding(path: Path) -> str:
    """UTF-8 when the first 64 KB decode as UTF-8; else GB18030 (Chinese Excel) when they decode as that
    and hold CJK; else Windows-1252."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut at the end of the sample
            return "utf-8"
    try:
        text = head.decode("gb18030")
        if re.search(r"[\u4e00-\u9fff]", text):
            return "gb18030"
    except UnicodeDecodeError:
        pass
    return "cp1252"


_DMY = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})")


def guess_format(frame: pd.DataFrame) -> FileFormat:
    """The date and number format most cells of the file are written in."""
    values = pd.Series(frame.drop(columns=["_row"], errors="ignore").to_numpy().ravel()).astype(str)
    values = values[values != ""].head(5000)
    date_format = "%Y-%m-%d"
    dmy = values.str.fullmatch(_DMY.pattern)
    if dmy.any():
        parts = values[dmy].str.extract(_DMY.pattern)
        first, second, sep = parts[0].astype(int), parts[2].astype(int), parts[1].iloc[0]
        month_first = (second > 12).any() and not (first > 12).any()
        date_format = (f"%m{sep}%d{sep}%Y" if month_first else f"%d{sep}%m{sep}%Y")
    elif values.str.fullmatch(r"\d{4}/\d{2}/\d{2}").any():
        date_format = "%Y/%m/%d"
    decimal, thousands = ".", ""
    numbers = values[values.str.fullmatch(r"-?[\d.,' ]*\d")]
    if len(numbers):
        comma = (numbers.str.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?") | numbers.str.fullmatch(r"-?\d+,\d{1,2}")).sum()
        dot = (numbers.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?") | numbers.str.fullmatch(r"-?\d+\.\d{1,2}")).sum()
        if comma > dot:  # the way most cells are written
            decimal = ","
            thousands = "." if numbers.str.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?").any() else ""
        elif numbers.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?").any():
            thousands = ","
    if date_format not in _KNOWN_DATES:
        date_format = "%d/%m/%Y"
    return FileFormat(date_format=date_format, decimal=decimal, thousands=thousands)


_KNOWN_DATES = {"%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d"}


@dataclass
class Preview:
    headers: list[str]
    samples: dict[str, list[str]]
    rows: int  # of the preview: PREVIEW_ROWS at most
    encoding: str
    file_format: FileFormat

    @property
    def rows_label(self) -> str:
        return f"{self.rows:,}+" if self.rows >= PREVIEW_ROWS else f"{self.rows:,}"


def preview(path: Path, file_name: str, encoding: str | None = None) -> Preview:
    """The file's columns with their first non-empty values, and the guessed encoding and formats (from the
    first ``PREVIEW_ROWS`` rows)."""
    enc = encoding or guess_encoding(path)
    frame = read_table(path, file_name, enc, limit=PREVIEW_ROWS)
    headers = [c for c in frame.columns if c != "_row"]
    samples = {h: [v for v in frame[h].tolist() if v][:SAMPLES] for h in headers}
    return Preview(headers, samples, len(frame), enc, guess_format(frame))


def suggest(headers: list[str], importer: type[Importer], saved: dict[str, Any] | None = None) -> dict[str, str]:
    """A field (or "" = ignore) for each header: the saved mapping first, then the field of that name,
    then the usual synonyms. A field is suggested for one header at most."""
    fields = importer.column_names()
    saved_cols = (saved or {}).get("columns", {})
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if header in saved_cols and (saved_cols[header] in fields or saved_cols[header] == ""):
            out[header] = saved_cols[header]
            taken.add(out[header])
    for header in headers:
        if header not in out and header in fields and header not in taken:
            out[header] = header
            taken.add(header)
    for header in headers:
        if header in out:
            continue
        match = next((f for f in fields if f not in taken and header in SYNONYMS.get(f, [])), "")
        out[header] = match
        if match:
            taken.add(match)
    return out


def apply_mapping(frame: pd.DataFrame, importer: type[Importer], mapping: dict[str, Any],
                  errors: ErrorList) -> tuple[pd.DataFrame, list[str]]:
    """The file's table re-labelled with template fields (ignored columns dropped, defaults filled);
    returns it and the headers that were ignored. Errors: a field fed by two columns, a required field
    neither mapped nor defaulted, a mapping to a field the kind does not have."""
    fields = set(importer.column_names())
    columns = {norm_header(k): v for k, v in (mapping.get("columns") or {}).items()}
    defaults = {k: str(v) for k, v in (mapping.get("defaults") or {}).items() if str(v).strip() != ""}
    present = [c for c in frame.columns if c != "_row"]
    target: dict[str, str] = {}
    ignored: list[str] = []
    for header in present:
        field = columns.get(header, header if header in fields else "")
        if field and field not in fields:
            errors.add(1, header, field, f"is mapped to '{field}', which is not a field of this kind; "
                                         f"fields: {', '.join(importer.column_names())}")
            continue
        if not field:
            ignored.append(header)
            continue
        if field in target.values():
            other = next(h for h, f in target.items() if f == field)
            errors.add(1, header, field, f"is mapped to '{field}', which column '{other}' already feeds")
            continue
        target[header] = field
    for field in defaults:
        if field not in fields:
            errors.add(1, field, defaults[field], "a default is given for a field this kind does not have")
    out = pd.DataFrame({"_row": frame["_row"]}, index=frame.index)
    for header, field in target.items():
        out[field] = frame[header]
    for field, value in defaults.items():
        if field not in fields:
            continue
        if field in out.columns:
            out[field] = out[field].where(out[field] != "", value)
        else:
            out[field] = value
    for column in importer.columns:
        if column.required and column.name not in out.columns:
            errors.add(1, column.name, "", "required field is neither mapped to a column nor given a default")
    return out, ignored


def read_mapped(path: Path, file_name: str, importer: type[Importer], mapping: dict[str, Any],
                encoding: str) -> tuple[pd.DataFrame, list[str]]:
    """Read and map a file; raises Rejected with every mapping error at once."""
    errors = ErrorList()
    frame = read_table(path, file_name, encoding)
    mapped, ignored = apply_mapping(frame, importer, mapping, errors)
    if errors:
        raise Rejected(errors)
    return mapped, ignored
