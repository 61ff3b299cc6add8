"""Reading CSV files for training and scoring, with errors that say what is wrong with the file."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from .schema import DataError

_SNIFF_BYTES = 64 * 1024


def read_csv(path: str | os.PathLike[str], *, encoding: str = "utf-8", as_text: bool = False) -> pd.DataFrame:
    """A CSV file as a DataFrame: types inferred by pandas, or every value kept as the exact text
    of the file (``as_text=True``, empty cells as ""), which is how scored files echo their input.

    Raises DataError for a missing, empty, binary, wrongly encoded or unparseable file.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if not p.is_file():
        raise DataError(f"{p}: not a file")
    with p.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        raise DataError(f"{p}: the file is empty")
    if b"\x00" in head:
        raise DataError(f"{p}: binary content, not a CSV text file")
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        frame = pd.read_csv(
            p,
            encoding=enc,
            low_memory=False,
            skipinitialspace=False,
            **({"dtype": str, "keep_default_na": False, "na_filter": False} if as_text else {}),
        )
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{p}: not {encoding} text (byte {exc.start}); save the file as {encoding} CSV "
            "or pass its encoding"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{p}: no columns to read (the file is empty or not a CSV file)") from exc
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{p}: not a readable CSV file ({first})") from exc
    if frame.shape[1] == 0:
        raise DataError(f"{p}: no columns found")
    frame.columns = [str(c) for c in frame.columns]
    return frame
