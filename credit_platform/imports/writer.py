"""The write step shared by every import: match the file's rows to stored ones by natural key,
refuse changes to identity columns (located errors), COPY new rows, update changed ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from credit_platform.audit import AuditEvent
from credit_platform.bulk import Matched, canonical, changed_rows, insert_frame, match_existing, update_frame
from credit_platform.money import money

from .engine import Rejected, WriteResult
from .spec import ErrorList


@dataclass
class Upserted:
    result: WriteResult
    matched: Matched
    changed: pd.Series  # True for existing rows that were updated


def upsert_records(
    *,
    table: str,
    out: pd.DataFrame,
    rows: pd.Series,
    keys: Sequence[str],
    scope: Mapping[str, int],
    update: Mapping[str, str],
    immutable: Mapping[str, str] | None = None,
    conflict: Callable[[pd.Series, pd.Series], str] | None = None,
    conflict_column: str = "",
    touch: Sequence[str] = (),
    errors: ErrorList | None = None,
) -> Upserted:
    """``out`` holds the table's columns for each file row (``rows`` are their row numbers).

    ``update``/``immutable`` map column -> kind (money, date, int, bool, decimal, text) for comparing
    incoming with stored values. A stored row whose immutable columns differ is a conflict:
    ``conflict(old, new)`` words the error, reported at ``conflict_column`` of that row. ``errors``
    found by the caller are reported together with these; any error rejects the file before a write.
    """
    immutable = immutable or {}
    fetch = list(dict.fromkeys([*immutable, *update]))
    matched = match_existing(table=table, frame=out, keys=keys, columns=fetch, scope=scope)
    exists = ~matched.new
    errors = errors if errors is not None else ErrorList()
    if immutable and exists.any():
        clash = exists & changed_rows(out, matched.old, immutable)
        for idx in out.index[clash]:
            old, new = matched.old.loc[idx], out.loc[idx]
            errors.add(rows.loc[idx], conflict_column, new.get(conflict_column, ""),
                       conflict(old, new) if conflict else "conflicts with the stored record")
    if errors:
        raise Rejected(errors)
    changed = pd.Series(False, index=out.index)
    if exists.any():
        changed = exists & changed_rows(out, matched.old, update)
    insert_frame(table, out.loc[matched.new])
    if changed.any():
        upd = out.loc[changed, [*update, *touch]].copy()
        upd.insert(0, "id", matched.ids.loc[changed].astype("int64"))
        update_frame(table, upd, [*update, *touch])
    n_exist = int(exists.sum())
    return Upserted(WriteResult(int(matched.new.sum()), int(changed.sum()), n_exist - int(changed.sum())),
                    matched, changed)


def same(kind: str, a: object, b: object) -> bool:
    """Compare one stored and one incoming value the way ``upsert_records`` does."""
    return canonical(pd.Series([a]), kind).iloc[0] == canonical(pd.Series([b]), kind).iloc[0]


def change_events(*, done: Upserted, out: pd.DataFrame, update: Mapping[str, str], action: str, object_type: str,
                  key_column: str, reason: str) -> list[AuditEvent]:
    """One ledger entry per updated row: the old and new value of each column that changed (compared
    column by column over all updated rows at once; ``*_id`` columns are named without the suffix)."""
    idx = out.index[done.changed]
    if not len(idx):
        return []
    old, new = done.matched.old.loc[idx], out.loc[idx]
    differs = {col: canonical(new[col], kind).to_numpy() != canonical(old[col], kind).to_numpy()
               for col, kind in update.items()}
    differs = {col: d for col, d in differs.items() if d.any()}
    values = {col: ([_ledger_value(v, update[col]) for v in old[col]],
                    [_ledger_value(v, update[col]) for v in new[col]]) for col in differs}
    ids, keys = done.matched.ids.loc[idx].tolist(), new[key_column].tolist()
    events = []
    for i in range(len(idx)):
        changed = [col for col, d in differs.items() if d[i]]
        before = {col.removesuffix("_id"): values[col][0][i] for col in changed}
        after = {col.removesuffix("_id"): values[col][1][i] for col in changed}
        events.append(AuditEvent(action, (object_type, int(ids[i]), str(keys[i])), before, after, reason))
    return events


def _ledger_value(value: object, kind: str) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if kind == "money":
        return money(str(value))
    if kind == "int":
        return int(value)  # type: ignore[call-overload]
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    return str(value)
