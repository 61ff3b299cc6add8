"""Set-based writes: COPY on PostgreSQL, executemany on SQLite; staging tables and upserts.

Measured on this machine kind (CONVENTIONS.md): writing 100k rows takes ~0.5 s by COPY, ~1.2 s by
executemany and minutes by save() per row, so imports and the demo generator write through here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import pandas as pd
from django.db import connection

# Rows per COPY chunk: 100,000 rows of an invoice frame are ~8 MB of CSV text.
COPY_CHUNK_ROWS = 100_000
# Rows per executemany batch on SQLite.
SQLITE_BATCH_ROWS = 20_000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _csv_chunks(frame: pd.DataFrame) -> Iterable[str]:
    for start in range(0, len(frame), COPY_CHUNK_ROWS):
        buf = io.StringIO()
        frame.iloc[start : start + COPY_CHUNK_ROWS].to_csv(buf, index=False, header=False, na_rep="")
        yield buf.getvalue()


def prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and times as text in the form each database stores, nullable integers kept integral."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            utc = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            out[col] = (utc + "+00:00" if is_postgres() else utc).where(series.notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").where(series.notna(), None)
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.map({True: "true", False: "false"}) if is_postgres() else series.astype(int)
    return out


def _python_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows of plain Python values (None for missing) that sqlite3 can bind, built column-wise."""
    columns = []
    for col in frame.columns:
        series = frame[col]
        values = series.astype(object).where(series.notna(), None).tolist()
        columns.append(values)
    return list(zip(*columns, strict=True))


def copy_frame(table: str, frame: pd.DataFrame, *, not_null_text: Sequence[str] = ()) -> int:
    """Insert every row of ``frame`` into ``table`` (columns named as the frame's).

    ``not_null_text``: text columns where an empty value means '' rather than NULL.
    """
    if frame.empty:
        return 0
    frame = prepare_frame(frame)
    columns = ", ".join(qn(c) for c in frame.columns)
    with connection.cursor() as cursor:
        if is_postgres():
            options = "FORMAT csv"
            if not_null_text:
                options += ", FORCE_NOT_NULL (" + ", ".join(qn(c) for c in not_null_text) + ")"
            with cursor.cursor.copy(f"COPY {qn(table)} ({columns}) FROM STDIN WITH ({options})") as copy:
                for chunk in _csv_chunks(frame):
                    copy.write(chunk)
        else:
            marks = ", ".join(["?"] * len(frame.columns))
            sql = f"INSERT INTO {qn(table)} ({columns}) VALUES ({marks})"  # noqa: S608 - identifiers quoted
            raw = cursor.cursor
            for c in not_null_text:
                frame[c] = frame[c].fillna("")
            rows = _python_rows(frame)
            for start in range(0, len(rows), SQLITE_BATCH_ROWS):
                raw.executemany(sql, rows[start : start + SQLITE_BATCH_ROWS])
    return len(frame)


def create_stage(name: str, columns: dict[str, str]) -> None:
    """A temporary table for one import; dropped at commit (PostgreSQL) or by ``drop_stage``."""
    cols = ", ".join(f"{qn(c)} {t}" for c, t in columns.items())
    suffix = " ON COMMIT DROP" if is_postgres() else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(name)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {qn(name)} ({cols}){suffix}")


def drop_stage(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(name)}")


def distinct_clause(table: str, columns: Sequence[str], other: str = "EXCLUDED") -> str:
    """SQL true where any column of ``table`` differs from ``other`` (NULL-aware)."""
    if is_postgres():
        left = ", ".join(f"{qn(table)}.{qn(c)}" for c in columns)
        right = ", ".join(f"{other}.{qn(c)}" for c in columns)
        return f"ROW({left}) IS DISTINCT FROM ROW({right})"
    return " OR ".join(f"{qn(table)}.{qn(c)} IS NOT {other}.{qn(c)}" for c in columns)


def upsert_from_stage(
    *, table: str, stage: str, columns: Sequence[str], keys: Sequence[str], update: Sequence[str],
    touch: Sequence[str] = (),
) -> tuple[int, int, int]:
    """Insert stage rows into ``table``; rows whose key exists get ``update`` columns rewritten when
    they differ (and then ``touch`` columns, e.g. ``updated_at``, too). Returns (created, updated,
    unchanged). Counts come from one join before the write, so they are exact on both databases."""
    join = " AND ".join(f"s.{qn(k)} = t.{qn(k)}" for k in keys)
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {qn(stage)}")  # noqa: S608
        staged = cursor.fetchone()[0]
        changed_sql = distinct_clause("t", update, other="s") if update else "false"
        cursor.execute(
            f"SELECT count(*), coalesce(sum(CASE WHEN {changed_sql} THEN 1 ELSE 0 END), 0) "  # noqa: S608
            f"FROM {qn(stage)} s JOIN {qn(table)} t ON {join}"
        )
        existing, changed = cursor.fetchone()
        conflict = ", ".join(qn(k) for k in keys)
        if update:
            sets = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in [*update, *touch])
            on_conflict = f"ON CONFLICT ({conflict}) DO UPDATE SET {sets} WHERE {distinct_clause(table, update)}"
        else:
            on_conflict = f"ON CONFLICT ({conflict}) DO NOTHING"
        where = "" if is_postgres() else " WHERE true"  # SQLite's parser needs it before ON CONFLICT
        cursor.execute(
            f"INSERT INTO {qn(table)} ({cols}) SELECT {cols} FROM {qn(stage)}{where} {on_conflict}"  # noqa: S608
        )
    return staged - existing, int(changed), existing - int(changed)


def advisory_lock(key: str) -> None:
    """Serialise writers of one kind of data for one organization (PostgreSQL transaction lock).
    SQLite serialises all writers anyway."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
