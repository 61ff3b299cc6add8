"""Column specifications and vectorised parsing of an import file's text cells.

Every cell is read as text; each column's parser turns a whole column into typed values at once and
reports every bad cell as a located error: row (as a spreadsheet shows it, the header being row 1),
column, the value received, and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_platform.bounds import DATE_MAX, DATE_MIN, MONEY_MAX
from credit_platform.money import currency_codes

MAX_ERRORS_KEPT = 1000
# Kept per (column, reason): one bad column of 7,000 rows must not hide the errors of the other columns.
MAX_ERRORS_PER_GROUP = 20
SAMPLE_ROWS_PER_GROUP = 5


@dataclass(frozen=True)
class FileFormat:
    """How one file writes dates and numbers (chosen per file; the default is ISO dates and '.' decimals).

    ``date_format`` is a strftime pattern (``%d/%m/%Y``); ``decimal`` is ``.`` or ``,``; ``thousands`` is the
    grouping character removed before parsing (``""``, ``,``, ``.``, `` ``, ``'``)."""

    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    thousands: str = ""

    @property
    def date_label(self) -> str:
        return self.date_format.replace("%Y", "yyyy").replace("%m", "mm").replace("%d", "dd")

    @property
    def is_default(self) -> bool:
        return self == FileFormat()

    def as_dict(self) -> dict[str, str]:
        return {"date_format": self.date_format, "decimal": self.decimal, "thousands": self.thousands}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FileFormat:
        data = data or {}
        fmt = cls(date_format=data.get("date_format") or "%Y-%m-%d", decimal=data.get("decimal") or ".",
                  thousands=data.get("thousands", "") or "")
        if fmt.date_format not in DATE_FORMATS:
            raise ValueError(f"date format '{fmt.date_format}' is not one of: {', '.join(DATE_FORMATS)}")
        if fmt.decimal not in DECIMAL_MARKS:
            raise ValueError(f"decimal mark '{fmt.decimal}' is not one of: {' '.join(DECIMAL_MARKS)}")
        if fmt.thousands not in THOUSANDS_MARKS:
            raise ValueError(f"thousands separator '{fmt.thousands}' is not one of: none , . space '")
        if fmt.thousands == fmt.decimal:
            raise ValueError("the thousands separator and the decimal mark must differ")
        return fmt


DATE_FORMATS = {
    "%Y-%m-%d": "yyyy-mm-dd", "%d/%m/%Y": "dd/mm/yyyy", "%m/%d/%Y": "mm/dd/yyyy", "%d.%m.%Y": "dd.mm.yyyy",
    "%d-%m-%Y": "dd-mm-yyyy", "%Y/%m/%d": "yyyy/mm/dd", "%Y%m%d": "yyyymmdd",
}
DECIMAL_MARKS = [".", ","]
THOUSANDS_MARKS = ["", ",", ".", " ", "'"]


@dataclass
class ImportError_:
    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        shown = f": '{self.value}'" if self.value != "" else ""
        return f"{where}{shown}: {self.reason}"


def _group_key(column: str, reason: str) -> tuple[str, str]:
    # Numbers inside a reason (a row, a date) do not make another kind of error.
    return column, re.sub(r"\d+", "#", reason)


@dataclass
class ErrorList:
    """Located errors. Every error is counted in its group (column and reason); the first
    ``MAX_ERRORS_PER_GROUP`` of each group are kept, up to ``MAX_ERRORS_KEPT`` in all, so that the errors of
    every column are shown, however many one column has."""

    items: list[ImportError_] = field(default_factory=list)
    total: int = 0
    group_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    group_first: dict[tuple[str, str], ImportError_] = field(default_factory=dict)
    group_rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, row: int, column: str, value: Any, reason: str) -> None:
        self.total += 1
        key = _group_key(column, reason)
        seen = self.group_counts.get(key, 0)
        self.group_counts[key] = seen + 1
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        error = ImportError_(int(row), column, text[:200], reason)
        if seen == 0:
            self.group_first[key] = error
            self.group_rows[key] = []
        if seen < SAMPLE_ROWS_PER_GROUP:
            self.group_rows[key].append(int(row))
        if seen < MAX_ERRORS_PER_GROUP and len(self.items) < MAX_ERRORS_KEPT:
            self.items.append(error)

    def merge(self, other: ErrorList, value_of_row: dict[Any, Any], reword: Callable[[str], str]) -> None:
        """Add ``other``'s errors with the value each row had in the file and a reworded reason; errors it
        counted but did not keep are counted here too."""
        kept: dict[tuple[str, str], int] = {}
        for item in other.items:
            self.add(item.row, item.column, value_of_row.get(item.row, item.value), reword(item.reason))
            key = _group_key(item.column, item.reason)
            kept[key] = kept.get(key, 0) + 1
        for key, count in other.group_counts.items():
            extra = count - kept.get(key, 0)
            if extra > 0:
                first = other.group_first[key]
                new_key = _group_key(first.column, reword(first.reason))
                self.total += extra
                self.group_counts[new_key] = self.group_counts.get(new_key, 0) + extra

    def groups(self) -> list[dict[str, Any]]:
        """One entry per column and reason: the count, the first rows, and the first error as example."""
        out = []
        for key, count in self.group_counts.items():
            first = self.group_first[key]
            out.append({"column": first.column, "reason": first.reason, "count": count,
                        "rows": self.group_rows[key], "example": first.value})
        return sorted(out, key=lambda g: (-g["count"], g["column"]))

    def add_mask(self, frame: pd.DataFrame, mask: pd.Series, column: str, reason: str | Callable[[Any], str],
                 value_column: str | None = None) -> None:
        """Add one error per row where ``mask`` is True; ``frame`` must carry ``_row``."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        hits = frame.loc[mask]
        source = value_column or column
        values = hits[source] if source in hits.columns else pd.Series("", index=hits.index)
        for row, value in zip(hits["_row"].to_numpy(), values.to_numpy(), strict=True):
            self.add(row, column, value, reason(value) if callable(reason) else reason)

    def __bool__(self) -> bool:
        return self.total > 0

    def sorted(self) -> list[ImportError_]:
        return sorted(self.items, key=lambda e: (e.row, e.column))


# Amounts: the bound every entry shares (``credit_platform.bounds.MONEY_MAX``, 15 digits before the point).
# The columns are NUMERIC(18, 2), but SQLite keeps NUMERIC as a double: 9,999,999,999,999,999.99 came back
# as 1E16, which no longer fits 18 digits, and made the customer unreadable.
MONEY_MAX_INTEGER_DIGITS = len(str(int(MONEY_MAX)))
MONEY_RE = rf"-?\d{{1,{MONEY_MAX_INTEGER_DIGITS}}}(?:\.\d{{1,2}})?"
MONEY_SHAPE_RE = r"-?\d+(?:\.\d{1,2})?"
# Rates: NUMERIC(20, 10); 9 digits before the point keep a value that SQLite rounded through a double
# (15 significant digits) inside the column's 20 digits.
DECIMAL_MAX_INTEGER_DIGITS = 9
DECIMAL_RE = rf"-?\d{{1,{DECIMAL_MAX_INTEGER_DIGITS}}}(?:\.\d{{1,10}})?"
INT_RE = r"-?\d{1,9}"
DATE_RE = r"\d{4}-\d{2}-\d{2}"
EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EMAIL_MAX_LENGTH = 254  # RFC 5321 and Django's EmailField
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class Column:
    """One column of an import file.

    kind: text, date, money, decimal, int, currency, choice, bool, email.
    """

    name: str
    kind: str = "text"
    required: bool = False
    max_length: int | None = None
    choices: Collection[str] | None = None
    min_value: float | None = None
    max_value: float | None = None
    default: Any = None
    help: str = ""

    def parse(self, frame: pd.DataFrame, errors: ErrorList, fmt: FileFormat | None = None) -> pd.Series:
        """Typed values for this column; bad cells are reported and become NA."""
        raw = frame[self.name] if self.name in frame.columns else pd.Series("", index=frame.index, dtype=object)
        empty = raw == ""
        if self.required:
            errors.add_mask(frame.assign(**{self.name: raw}), empty, self.name, "is required")
        present = ~empty
        self_fmt = fmt or FileFormat()
        if self.kind == "date" and self_fmt.date_format != "%Y-%m-%d":
            return self._parse_date_as(raw, present, frame, errors, self_fmt)
        if self.kind in ("money", "decimal") and (self_fmt.decimal != "." or self_fmt.thousands):
            return self._parse_localized_number(raw, present, frame, errors, self_fmt)
        parser = getattr(self, f"_parse_{self.kind}")
        values = parser(raw, present, frame, errors)
        if self.default is not None:
            values = values.where(present, self.default)
        return values

    def _bad(self, frame: pd.DataFrame, raw: pd.Series, mask: pd.Series, errors: ErrorList, reason: str) -> None:
        errors.add_mask(frame.assign(**{self.name: raw}), mask, self.name, reason)

    def _parse_text(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        if self.max_length is not None:
            too_long = present & (raw.str.len() > self.max_length)
            self._bad(frame, raw, too_long, errors, f"is longer than {self.max_length} characters")
        return raw.where(present, None)

    def _parse_email(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        too_long = present & (raw.str.len() > EMAIL_MAX_LENGTH)
        self._bad(frame, raw, too_long, errors, f"is longer than {EMAIL_MAX_LENGTH} characters")
        bad = present & ~too_long & ~raw.str.fullmatch(EMAIL_RE)
        self._bad(frame, raw, bad, errors, "is not an e-mail address")
        return raw.where(present & ~too_long, "")

    def _numeric(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList,
                 pattern: str, what: str, too_big: tuple[str, str] | None = None) -> pd.Series:
        """``too_big``: (the shape of a well-formed number, the reason) for values shaped right but larger
        than the column holds, reported as such rather than as malformed."""
        ok = raw.str.fullmatch(pattern)
        bad = present & ~ok
        if too_big is not None:
            oversized = bad & raw.str.fullmatch(too_big[0])
            self._bad(frame, raw, oversized, errors, too_big[1])
            bad &= ~oversized
        self._bad(frame, raw, bad, errors, what)
        valid = present & ok
        numbers = pd.to_numeric(raw.where(valid), errors="coerce")
        if self.min_value is not None:
            low = valid & (numbers < self.min_value)
            self._bad(frame, raw, low, errors, f"must be at least {self.min_value:g}")
            valid &= ~low
        if self.max_value is not None:
            high = valid & (numbers > self.max_value)
            self._bad(frame, raw, high, errors, f"must be at most {self.max_value:g}")
            valid &= ~high
        return raw.where(valid, None)

    def _parse_money(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        # Kept as exact decimal text: the database parses it into NUMERIC, no float in between.
        return self._numeric(
            raw, present, frame, errors, MONEY_RE,
            "is not an amount (digits with '.' for decimals, at most 2 decimals, no thousands separator)",
            too_big=(MONEY_SHAPE_RE, f"is too large: at most {MONEY_MAX_INTEGER_DIGITS} digits before the decimal "
                                     f"point ({MONEY_MAX:,})"),
        )

    def _parse_decimal(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        return self._numeric(raw, present, frame, errors, DECIMAL_RE, "is not a number (use '.' for decimals)",
                             too_big=(r"-?\d+(?:\.\d{1,10})?", f"is too large: at most {DECIMAL_MAX_INTEGER_DIGITS} "
                                                                 "digits before the decimal point"))

    def _parse_int(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        text = self._numeric(raw, present, frame, errors, INT_RE, "is not a whole number",
                             too_big=(r"-?\d+", "is too large: at most 9 digits"))
        return pd.to_numeric(text, errors="coerce").astype("Int64")

    def _parse_date(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        shaped = raw.str.fullmatch(DATE_RE)
        dates = pd.to_datetime(raw.where(present & shaped), format="%Y-%m-%d", errors="coerce")
        bad = present & dates.isna()
        self._bad(frame, raw, bad, errors, "is not a date (YYYY-MM-DD)")
        # The same range as every other entry (credit_platform.bounds).
        low, high = pd.Timestamp(DATE_MIN), pd.Timestamp(DATE_MAX)
        out_of_range = present & dates.notna() & ((dates < low) | (dates > high))
        self._bad(frame, raw, out_of_range, errors, f"is outside {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}")
        return dates.where(~out_of_range)

    def _parse_date_as(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList,
                       fmt: FileFormat) -> pd.Series:
        """Dates written as the file's ``date_format`` (e.g. dd/mm/yyyy); errors name that format."""
        dates = pd.to_datetime(raw.where(present), format=fmt.date_format, errors="coerce")
        bad = present & dates.isna()
        self._bad(frame, raw, bad, errors, f"is not a date ({fmt.date_label})")
        low, high = pd.Timestamp(DATE_MIN), pd.Timestamp(DATE_MAX)
        out_of_range = present & dates.notna() & ((dates < low) | (dates > high))
        self._bad(frame, raw, out_of_range, errors, f"is outside {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}")
        values = dates.where(~out_of_range)
        if self.default is not None:
            values = values.where(present, self.default)
        return values

    def _parse_localized_number(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList,
                                fmt: FileFormat) -> pd.Series:
        """Numbers with the file's decimal mark and thousands separator: rewritten to '.'-decimals first, so
        that the column's own rules (digits, bounds) apply unchanged; errors show the cell as it was."""
        text = raw
        if fmt.thousands:
            thousands, decimal = re.escape(fmt.thousands), re.escape(fmt.decimal)
            grouped = raw.str.fullmatch(rf"-?\d{{1,3}}(?:{thousands}\d{{3}})+(?:{decimal}\d+)?")
            text = text.where(~grouped.fillna(False), text.str.replace(fmt.thousands, "", regex=False))
        if fmt.decimal != ".":
            # a '.' left over is neither this file's decimal mark nor its thousands separator: malformed
            stray = text.str.contains(".", regex=False).fillna(False)
            text = text.str.replace(fmt.decimal, ".", regex=False).where(~stray, "?" + text)
        scratch = ErrorList()
        parser = getattr(self, f"_parse_{self.kind}")
        values = parser(text, present, frame.assign(**{self.name: text}), scratch)
        if scratch:
            sep = {"": "no", " ": "space"}.get(fmt.thousands, f"'{fmt.thousands}'")
            shape = (f"is not a number with '{fmt.decimal}' for decimals and {sep} thousands separator"
                     + (" (at most 2 decimals)" if self.kind == "money" else ""))
            errors.merge(scratch, dict(zip(frame["_row"].to_numpy(), raw.to_numpy(), strict=True)),
                         lambda reason: shape if reason.startswith(("is not an amount", "is not a number")) else reason)
        if self.default is not None:
            values = values.where(present, self.default)
        return values

    def _parse_currency(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        upper = raw.str.upper()
        bad = present & ~upper.isin(currency_codes())
        self._bad(frame, raw, bad, errors, "is not an ISO 4217 currency code (e.g. EUR)")
        return upper.where(present & ~bad, None)

    def _parse_choice(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        allowed = sorted(self.choices or ())
        lower = raw.str.lower().str.replace(" ", "_", regex=False)
        bad = present & ~lower.isin(allowed)
        self._bad(frame, raw, bad, errors, f"is not one of: {', '.join(allowed)}")
        return lower.where(present & ~bad, None)

    def _parse_bool(self, raw: pd.Series, present: pd.Series, frame: pd.DataFrame, errors: ErrorList) -> pd.Series:
        lower = raw.str.lower()
        bad = present & ~lower.isin(TRUE_WORDS | FALSE_WORDS)
        self._bad(frame, raw, bad, errors, "is not yes/no (true/false, 1/0)")
        return lower.isin(TRUE_WORDS).where(present & ~bad, None)


def check_duplicates(frame: pd.DataFrame, key: list[str], errors: ErrorList, column: str) -> None:
    """Two rows of one file with the same natural key: both reported, naming the other row."""
    keyed = frame.dropna(subset=key)
    dup = keyed.duplicated(subset=key, keep=False)
    if not dup.any():
        return
    firsts = keyed.loc[dup].groupby(key, sort=False)["_row"].transform("min")
    for (row, value, first) in zip(
        keyed.loc[dup, "_row"].to_numpy(), keyed.loc[dup, column].to_numpy(), firsts.to_numpy(), strict=True
    ):
        if row != first:
            errors.add(row, column, value, f"appears twice in this file (first on row {first})")


def norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")
