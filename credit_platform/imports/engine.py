"""Running an import: read the file, validate everything, then write everything or nothing.

A file is rejected as a whole when any cell, row or cross-row rule fails; the import log keeps the
located errors. Natural keys make a re-sent file a no-op: rows already present and unchanged are
counted as ``unchanged``, changed ones as ``updated``.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from openpyxl.utils.exceptions import InvalidFileException

from credit_platform.audit import audit_append
from credit_platform.bulk import advisory_lock
from credit_platform.models import ImportLog, Organization

from .spec import Column, ErrorList, FileFormat, norm_header

logger = logging.getLogger(__name__)

# Sent inside a file import's transaction once its rows are written (never for dry runs), with
# ``organization``, ``kind`` and ``customer_ids`` (the customers whose data changed). Receivers defer
# their work with transaction.on_commit; scoring re-scores those customers.
import_written = Signal()
# Sent by a process about to end after its imports (the ``import`` command in embedded mode), so that work
# deferred inside this process (scoring's debounced re-score) runs now instead of never.
imports_ending = Signal()


class Rejected(Exception):
    def __init__(self, errors: ErrorList, message: str = ""):
        super().__init__(message or f"{errors.total} error(s)")
        self.errors = errors
        self.message = message


class _DryRunRollback(Exception):
    pass


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    note: str = ""
    # For a file of several kinds: one {"kind", "created", "updated", "unchanged"} per kind written.
    breakdown: list[dict[str, Any]] | None = None


class Importer:
    """One kind of import. Subclasses declare columns and the natural key, and implement
    ``build`` (resolve references, cross-field rules) and ``write`` (set-based upsert)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    columns: ClassVar[Sequence[Column]]
    key: ClassVar[Sequence[str]]
    description: ClassVar[str] = ""
    # Pages pass importer classes to templates, which would otherwise call them (and show nothing).
    do_not_call_in_templates: ClassVar[bool] = True

    def __init__(self, organization: Organization, user: Any = None):
        self.organization = organization
        self.user = user
        # The columns the file has (set by the engine): an update leaves the others as they are.
        self.present: frozenset[str] = frozenset(self.column_names())

    @classmethod
    def column_names(cls) -> list[str]:
        return [c.name for c in cls.columns]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        raise NotImplementedError

    def write(self, records: pd.DataFrame) -> WriteResult:
        raise NotImplementedError


REGISTRY: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    REGISTRY[cls.kind] = cls
    return cls


def importers() -> dict[str, type[Importer]]:
    # The apps register their kinds on import of their importers module.
    import customers.importers  # noqa: F401
    import receivables.importers  # noqa: F401

    from . import fx  # noqa: F401

    return dict(sorted(REGISTRY.items(), key=lambda kv: _ORDER.index(kv[0]) if kv[0] in _ORDER else 99))


# The order a new tenant loads its data in (each kind refers to the ones before it).
_ORDER = ["fx_rates", "customers", "statements", "signals", "orders", "invoices", "payments", "credit_notes",
          "invoice_export"]


def _detect_separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","


def _excel_cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp) or (hasattr(value, "date") and hasattr(value, "hour")):
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xlsx_errors(path: Path, file_name: str) -> str | None:
    """Why an .xlsx cannot be read safely, judged from its ZIP directory before any XML is parsed:
    not a ZIP at all (e.g. CSV text renamed .xlsx), or one that unpacks beyond the cap."""
    if not zipfile.is_zipfile(path):
        return ("is not an Excel workbook (.xlsx files are ZIP archives; this one is not, perhaps a CSV saved "
                "under an .xlsx name): save it as .xlsx from Excel, or upload it as .csv")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        return f"is not a readable Excel workbook: {exc}"
    cap = settings.IMPORT_XLSX_MAX_UNPACKED_BYTES
    if unpacked > cap:
        return (f"unpacks to {unpacked / 1e6:,.0f} MB of sheet data; the limit for an .xlsx is {cap / 1e6:,.0f} MB "
                f"(IMPORT_XLSX_MAX_UNPACKED_BYTES): split the workbook or save it as .csv")
    return None


def read_table(path: Path, file_name: str, encoding: str = "utf-8", limit: int | None = None) -> pd.DataFrame:
    """Every cell as stripped text, headers normalised, plus ``_row`` (the spreadsheet row number).

    Raises Rejected with a row-1 error when the file cannot be read at all, is not what its name says, or
    is over the caps (``IMPORT_MAX_ROWS`` data rows; ``IMPORT_XLSX_MAX_UNPACKED_BYTES`` for workbooks):
    reading stops one row past the cap, so an oversized file costs no more than a full-sized one.
    """
    errors = ErrorList()
    suffix = Path(file_name).suffix.lower()
    # ``limit``: the first rows only (a preview), without the cap's error.
    max_rows = settings.IMPORT_MAX_ROWS if limit is None else limit
    try:
        if suffix in (".xlsx", ".xlsm"):
            problem = _xlsx_errors(path, file_name)
            if problem:
                errors.add(1, "", file_name, problem)
                raise Rejected(errors)
            frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl", header=0, nrows=max_rows + 1)
            frame = frame.map(_excel_cell_text)
            frame.index = frame.index + 2
        elif suffix in (".csv", ".txt", ".tsv", ""):
            enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
            with open(path, encoding=enc, newline="") as fh:
                first = fh.readline()
            frame = pd.read_csv(
                path, sep=_detect_separator(first), dtype=str, keep_default_na=False, na_filter=False,
                encoding=enc, skip_blank_lines=False, engine="c", nrows=max_rows + 1,
            )
            frame.index = frame.index + 2
        else:
            errors.add(1, "", file_name, f"unsupported file type '{suffix}': upload .csv or .xlsx")
            raise Rejected(errors)
    except UnicodeDecodeError as exc:
        errors.add(1, "", file_name, f"the file is not {encoding} text (byte {exc.start}); save it as UTF-8 CSV")
        raise Rejected(errors) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, KeyError, zipfile.BadZipFile,
            InvalidFileException) as exc:
        errors.add(1, "", file_name, f"the file cannot be read as a table: {exc}")
        raise Rejected(errors) from None
    if limit is not None:
        frame = frame.iloc[:limit]
    elif len(frame) > max_rows:
        errors.add(1, "", file_name, f"has more than {max_rows:,} data rows (IMPORT_MAX_ROWS): split it into "
                                     f"files of at most {max_rows:,} rows")
        raise Rejected(errors)
    frame.columns = [norm_header(c) for c in frame.columns]
    frame = frame.astype(str) if len(frame) else frame.astype(object)
    for col in frame.columns:
        frame[col] = frame[col].str.strip()
    frame["_row"] = frame.index.astype(int)
    # A fully empty line is not data (spreadsheets often end with a few); row numbers stay true.
    data_cols = [c for c in frame.columns if c != "_row"]
    if data_cols:
        frame = frame.loc[(frame[data_cols] != "").any(axis=1)]
    return frame.reset_index(drop=True)


def validate_headers(frame: pd.DataFrame, importer: type[Importer], errors: ErrorList) -> None:
    known = set(importer.column_names())
    present = [c for c in frame.columns if c != "_row"]
    for col in present:
        if col.startswith("unnamed"):
            errors.add(1, col, "", "a column has no header")
        elif col not in known:
            errors.add(1, col, col, f"unknown column; expected some of: {', '.join(importer.column_names())}")
    dupes = {c for c in present if present.count(c) > 1}
    for col in sorted(dupes):
        errors.add(1, col, col, "this column appears more than once")
    for column in importer.columns:
        if column.required and column.name not in present:
            errors.add(1, column.name, "", "required column is missing")


def parse_frame(frame: pd.DataFrame, importer: type[Importer], errors: ErrorList,
                fmt: FileFormat | None = None) -> pd.DataFrame:
    typed = pd.DataFrame({"_row": frame["_row"].to_numpy()}, index=frame.index)
    for column in importer.columns:
        typed[column.name] = column.parse(frame, errors, fmt)
    return typed


def import_frame(*, organization: Organization, kind: str, frame: pd.DataFrame, user: Any = None) -> WriteResult:
    """Validate and write an in-memory table of text cells (the demo generator, integrations).

    Same rules as a file; raises Rejected with located errors (rows numbered as in a file)."""
    cls = importers()[kind]
    errors = ErrorList()
    text = frame.astype(object).where(frame.notna(), "").astype(str)
    text.columns = [norm_header(c) for c in text.columns]
    text["_row"] = range(2, len(text) + 2)
    text = text.reset_index(drop=True)
    validate_headers(text, cls, errors)
    if errors:
        raise Rejected(errors)
    importer = cls(organization, user)
    importer.present = frozenset(c for c in text.columns if c != "_row")
    records = importer.build(parse_frame(text, cls, errors), errors)
    if errors:
        raise Rejected(errors)
    with transaction.atomic():
        advisory_lock(f"import:{organization.pk}:{kind}")
        return importer.write(records)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def loading_history(organization_id: int) -> bool:
    """True while the organization's historical load is open (re-scores, dunning and alerts wait)."""
    return organization_id in loading_organizations([organization_id])


def loading_organizations(organization_ids: Any = None) -> set[int]:
    """Ids of the organizations loading their history (of ``organization_ids`` when given): the nightly
    re-score, the dunning run and alert runs skip them until the load is completed."""
    from .models import HistoricalLoad

    loads = HistoricalLoad.objects.filter(status=HistoricalLoad.Status.OPEN)
    if organization_ids is not None:
        loads = loads.filter(organization_id__in=list(organization_ids))
    return set(loads.values_list("organization_id", flat=True))


def _read(log: ImportLog, cls: type[Importer], path: Path, encoding: str, options: dict[str, Any],
          errors: ErrorList) -> tuple[pd.DataFrame, list[str]]:
    """The file's table labelled with the kind's fields: through the mapping when one is given, else by
    its own headers (which must then all be fields of the kind)."""
    if "columns" in options or "defaults" in options:
        from .mapping import apply_mapping

        return apply_mapping(read_table(path, log.file_name, encoding), cls, options, errors)
    frame = read_table(path, log.file_name, encoding)
    validate_headers(frame, cls, errors)
    return frame, []


def run_import(log: ImportLog, path: Path, *, encoding: str = "utf-8", options: dict[str, Any] | None = None,
               ) -> ImportLog:
    """Validate and write one file for ``log.organization``; the log records the outcome.

    ``options``: ``columns``/``defaults`` (a column mapping, ``mapping.apply_mapping``), ``format`` (the
    file's date and number format, ``FileFormat``), ``historical`` (a load of past data: no re-score now).

    The log's final status and counts are saved in the transaction that writes the rows, so the two
    commit together or not at all: a log can never say "nothing was written" about rows that were, nor
    "imported" about rows that were not. Work queued for after the commit (re-scores, alerts) that fails
    leaves the committed import as it is; the log notes the failure."""
    options = dict(options or {})
    cls = importers().get(log.kind)
    log.status, log.started_at = ImportLog.Status.RUNNING, timezone.now()
    log.file_sha256 = file_sha256(path)
    log.save(update_fields=["status", "started_at", "file_sha256"])
    errors = ErrorList()
    t0 = time.perf_counter()
    ignored: list[str] = []
    result: WriteResult | None = None
    try:
        if cls is None:
            errors.add(1, "", log.kind, f"unknown import kind; choose one of: {', '.join(importers())}")
            raise Rejected(errors)
        try:
            fmt = FileFormat.from_dict(options.get("format"))
        except ValueError as exc:
            errors.add(1, "", log.file_name, str(exc))
            raise Rejected(errors) from None
        importer = cls(log.organization, log.user)
        frame, ignored = _read(log, cls, path, encoding, options, errors)
        log.rows = len(frame)
        if errors:
            raise Rejected(errors)
        importer.present = frozenset(c for c in frame.columns if c != "_row")
        if frame.empty:
            errors.add(2, "", "", "the file has a header but no data rows")
            raise Rejected(errors)
        typed = parse_frame(frame, cls, errors, fmt)
        records = importer.build(typed, errors)
        if errors:
            raise Rejected(errors)
        historical = bool(options.get("historical")) or loading_history(log.organization_id)
        if options.get("historical") and not log.dry_run:
            from .services import historical_load_start

            historical_load_start(organization=log.organization, actor=log.user)
        with transaction.atomic():
            advisory_lock(f"import:{log.organization_id}:{log.kind}")
            result = importer.write(records)
            log.created, log.updated, log.unchanged = result.created, result.updated, result.unchanged
            if log.dry_run:
                raise _DryRunRollback
            ids = records["customer_id"].dropna().astype(int).unique().tolist() if "customer_id" in records else []
            if not historical:
                import_written.send(sender=cls, organization=log.organization, kind=log.kind, customer_ids=ids)
            audit_append(
                organization=log.organization, actor=log.user, action="import.completed", obj=log,
                after={"kind": log.kind, "file": log.file_name, "sha256": log.file_sha256, "rows": log.rows,
                       "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                       "historical": historical},
            )
            log.status, log.message = ImportLog.Status.SUCCEEDED, result.note
            if historical:
                log.message = (f"{log.message} Historical load: re-scores wait until the load is completed.").strip()
            log.finished_at = timezone.now()
            log.save()
            _save_detail(log, {**options, "encoding": encoding}, errors, result, ignored)
    except _DryRunRollback:
        log.status = ImportLog.Status.SUCCEEDED
        log.message = f"Dry run: the file is valid; nothing was written. {result.note if result else ''}".strip()
    except Rejected as exc:
        log.created = log.updated = log.unchanged = 0
        log.status = ImportLog.Status.REJECTED
        log.error_count = exc.errors.total
        log.errors = [e.as_dict() for e in exc.errors.sorted()]
        log.message = exc.message or f"Rejected: {exc.errors.total} error(s); nothing was written."
        errors = exc.errors
    except Exception as exc:
        committed = ImportLog.objects.filter(pk=log.pk, status=ImportLog.Status.SUCCEEDED).first()
        if committed is not None:
            # The rows and the log committed; what failed ran after the commit.
            logger.exception("import %s: a follow-up of the committed import failed", log.pk)
            committed.message = (f"{committed.message} A follow-up after the import (e.g. re-scoring) failed: "
                                 f"{type(exc).__name__}: {exc}").strip()
            committed.save(update_fields=["message"])
            return committed
        logger.exception("import %s failed", log.pk)
        log.created = log.updated = log.unchanged = 0
        log.status = ImportLog.Status.FAILED
        log.message = f"Internal error, nothing was written: {type(exc).__name__}: {exc}"
        log.finished_at = timezone.now()
        log.save()
        raise
    if log.status != ImportLog.Status.SUCCEEDED or log.dry_run:
        log.finished_at = timezone.now()
        log.save()
        _save_detail(log, {**options, "encoding": encoding}, errors, result if log.dry_run else None, ignored)
    logger.info("import %s %s: %s in %.2fs", log.pk, log.kind, log.status, time.perf_counter() - t0)
    return log


def _save_detail(log: ImportLog, options: dict[str, Any], errors: ErrorList, result: WriteResult | None,
                 ignored: list[str]) -> None:
    from .models import ImportDetail

    breakdown = (result.breakdown or [{"kind": log.kind, "created": result.created, "updated": result.updated,
                                       "unchanged": result.unchanged}]) if result is not None else []
    ImportDetail.objects.update_or_create(log=log, defaults={
        "options": {k: v for k, v in options.items() if k != "staged"}, "error_groups": errors.groups(),
        "breakdown": breakdown, "ignored_columns": ignored, "staged_id": options.get("staged"),
    })


def import_file(
    *, organization: Organization, kind: str, path: Path, file_name: str | None = None, user: Any = None,
    dry_run: bool = False, encoding: str = "utf-8", options: dict[str, Any] | None = None,
) -> ImportLog:
    """Service entry point used by the command, the upload task and tests."""
    log = ImportLog.objects.create(
        organization=organization, kind=kind, file_name=file_name or Path(path).name,
        stored_path=str(path), user=user if user is not None and user.is_authenticated else None, dry_run=dry_run,
    )
    return run_import(log, Path(path), encoding=encoding, options=options)
