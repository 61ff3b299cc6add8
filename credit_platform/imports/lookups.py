"""Resolving a file's natural references (external ids, numbers) to database ids in one query each."""

from __future__ import annotations

from typing import Any

import pandas as pd

from credit_platform.models import Organization

from .spec import ErrorList


def id_map(model: Any, organization: Organization, field: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """All of the organization's rows of ``model`` as a frame indexed by ``field``: one query.
    (100k customers read in ~0.2 s; an IN-list per file would hit SQLite's parameter limit.)"""
    rows = list(model.objects.for_organization(organization).values_list(field, "id", *extra))
    frame = pd.DataFrame(rows, columns=[field, "id", *extra])
    return frame.set_index(field)


def resolve(
    frame: pd.DataFrame, column: str, known: pd.DataFrame, errors: ErrorList, what: str, out: str = "id"
) -> pd.Series:
    """Map the ``column`` of ``frame`` through ``known``; unknown present values are located errors."""
    values = frame[column]
    mapped = values.map(known[out]) if len(known) else pd.Series(pd.NA, index=frame.index, dtype=object)
    unknown = values.notna() & mapped.isna()
    errors.add_mask(frame, unknown, column, f"no {what} with this id in your organization")
    return mapped
