"""Column kinds and the conversion of raw frames into what the estimators read.

Every estimator in this package takes a pandas DataFrame straight from a CSV file or a SQL
read: numbers, text (categorical) columns and missing values, with no preparation. A column
is *numeric* when pandas parsed it as numbers (booleans count as 0/1), otherwise it is
*categorical*. The kind is fixed at fit time and enforced at predict time, so a numeric
column that later holds text is reported instead of being silently turned into NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"


class DataError(ValueError):
    """Input data the modeling code cannot use; the message says what was wrong and what was received."""


def infer_kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return NUMERIC
    return CATEGORICAL


def infer_kinds(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> dict[str, str]:
    cols = list(frame.columns) if columns is None else list(columns)
    return {str(c): infer_kind(frame[c]) for c in cols}


def as_frame(X: Any) -> pd.DataFrame:
    """A DataFrame view of X; arrays get the column names x0, x1, ... (as scikit-learn would)."""
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D table of features, got an array of shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _row_label(index: pd.Index, pos: int) -> str:
    return str(index[pos])


def numeric_values(series: pd.Series, name: str) -> np.ndarray:
    """Float values of a column that must be numeric; NaN for missing.

    Text that is not a number raises DataError naming the column, the row and the value.
    """
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return np.asarray(series.astype("float64"), dtype=float)
    stripped = series.astype("object").where(series.notna(), None)
    text = pd.Series(stripped, index=series.index).map(lambda v: v.strip() if isinstance(v, str) else v)
    text = text.replace("", None)
    converted = pd.to_numeric(text, errors="coerce")
    bad = text.notna().to_numpy() & converted.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column '{name}', row {_row_label(series.index, pos)}: '{text.iloc[pos]}' is not a number "
            f"(the model was trained with '{name}' as a numeric column; {int(bad.sum())} such value(s))"
        )
    return np.asarray(converted.astype("float64"), dtype=float)


def _format_number(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return repr(float(v))


def category_values(series: pd.Series) -> np.ndarray:
    """Object array of stripped strings, None for missing (NaN, None, empty or blank text).

    Numbers become their shortest text ("3", not "3.0"), so a code column read as numbers in
    one file and as text in another maps to the same categories.
    """
    out = np.empty(len(series), dtype=object)
    missing = series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        vals = series.to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(~missing):
            out[i] = _format_number(vals[i])
    else:
        vals = series.to_numpy(dtype=object)
        for i in np.flatnonzero(~missing):
            s = str(vals[i]).strip()
            out[i] = s if s else None
    return out


def check_columns(frame: pd.DataFrame, required: Iterable[str], what: str = "data") -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        shown = ", ".join(f"'{c}'" for c in missing[:20]) + (" ..." if len(missing) > 20 else "")
        raise DataError(f"the {what} lacks {len(missing)} column(s) the model needs: {shown}")


def normalise_monotone(monotone: Mapping[str, Any] | None, features: Iterable[str]) -> dict[str, int]:
    """Directions as +1 (risk rises with the value), -1 (risk falls) or 0 (no constraint).

    Accepts 1/-1/0, "increasing"/"decreasing"/"none" and "+1"/"-1"; unknown features raise.
    """
    if not monotone:
        return {}
    names = set(features)
    words = {
        "increasing": 1,
        "inc": 1,
        "+1": 1,
        "1": 1,
        "up": 1,
        "decreasing": -1,
        "dec": -1,
        "-1": -1,
        "down": -1,
        "none": 0,
        "0": 0,
        "auto": 0,
    }
    out: dict[str, int] = {}
    unknown = [f for f in monotone if f not in names]
    if unknown:
        raise DataError(f"monotone directions given for unknown feature(s): {', '.join(map(str, unknown))}")
    for feature, direction in monotone.items():
        if isinstance(direction, str):
            key = direction.strip().lower()
            if key not in words:
                raise DataError(
                    f"monotone direction for '{feature}' is '{direction}'; "
                    "use 1/increasing, -1/decreasing or 0"
                )
            out[str(feature)] = words[key]
        elif direction in (1, -1, 0):
            out[str(feature)] = int(direction)
        else:
            raise DataError(f"monotone direction for '{feature}' is {direction!r}; use 1, -1 or 0")
    return out


def binary_target(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """(classes_, y01): classes sorted as scikit-learn does; the positive class is classes_[1]."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        arr = arr.ravel()
    if pd.isna(arr).any():
        raise DataError("the target has missing values")
    classes = np.unique(arr)
    if len(classes) != 2:
        raise DataError(f"the target must have exactly 2 classes, found {len(classes)}: {list(classes)[:10]}")
    return classes, (arr == classes[1]).astype(np.int64)
