"""The ``model.bin`` file: a JSON header (format, SHA-256 of the payload, library versions, a
summary) followed by a joblib (pickle) payload holding the TrainedModel.

Layout: the magic line ``CREDITPD-MODEL 1\\n``, one line of UTF-8 JSON, then the payload bytes.

Security: unpickling runs code, so a model file is only ever loaded from the platform's own model
registry, never from a user upload. The header's SHA-256 lets ``load`` refuse a corrupted or
altered payload *before* unpickling it; it is not a signature (whoever can rewrite the payload
can rewrite the header too), so the registry also records the hash in its database and passes
it as ``expected_sha256``, which then binds the file to the registry entry.

Files are written atomically (temporary file in the same folder, fsync, rename): a crash or an
error never leaves a partial ``model.bin``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import joblib

from .trainer import TrainedModel, library_versions

MAGIC = b"CREDITPD-MODEL 1\n"
FORMAT_VERSION = 1
_MAX_HEADER = 1 << 20  # 1 MiB: a header is a few kB; anything longer is not our file


class ModelFileError(ValueError):
    """The file is not a model file this code wrote, or its payload does not match its hash."""


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Write a file through ``write(fileobj)`` so that it appears whole or not at all."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path())
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps(model: TrainedModel) -> tuple[bytes, dict[str, Any]]:
    """(file bytes, header) for a model."""
    if not isinstance(model, TrainedModel):
        raise TypeError(f"expected a TrainedModel, got {type(model).__name__}")
    buf = io.BytesIO()
    joblib.dump(model, buf, compress=3)
    payload = buf.getvalue()
    header = {
        "format": FORMAT_VERSION,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload_bytes": len(payload),
        "versions": library_versions(),
        "created_at": model.created_at,
        "champion": model.champion,
        "target": model.target,
        "positive_label": str(model.positive_label),
        "features": model.features,
        "cv_auc": model.metrics.get("cv", {}).get("auc"),
    }
    head = json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return MAGIC + head + b"\n" + payload, header


def save(model: TrainedModel, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ``model`` to ``path`` atomically; returns the header (its ``sha256`` is for the registry)."""
    data, header = dumps(model)
    write_atomic(path, lambda fh: fh.write(data))
    return header


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes]:
    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{p}: no such model file")
    data = p.read_bytes()
    if not data.startswith(MAGIC):
        raise ModelFileError(f"{p}: not a model file written by this platform (unknown format)")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    if end < 0:
        raise ModelFileError(f"{p}: model file header is damaged")
    try:
        header = json.loads(data[len(MAGIC) : end].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{p}: model file header is damaged ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        raise ModelFileError(f"{p}: unsupported model file format {header.get('format')!r}")
    return header, data[end + 1 :]


def load(path: str | os.PathLike[str], *, expected_sha256: str | None = None) -> TrainedModel:
    """Load a model file after checking its payload against the header's (and the caller's) SHA-256.

    Refuses (``ModelFileError``) a file whose payload was changed, truncated or extended. Warns
    when the file was written with other numpy/pandas/scikit-learn versions (pickles of
    scikit-learn models are only guaranteed to load in the version that wrote them).
    """
    header, payload = read_header(path)
    digest = hashlib.sha256(payload).hexdigest()
    if len(payload) != header.get("payload_bytes") or digest != header.get("sha256"):
        raise ModelFileError(
            f"{path}: payload does not match its SHA-256; the file was altered or damaged and is refused"
        )
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ModelFileError(
            f"{path}: SHA-256 {digest} differs from the registered {expected_sha256}; refused"
        )
    current = library_versions()
    changed = {
        k: (v, current.get(k))
        for k, v in header.get("versions", {}).items()
        if k in ("numpy", "pandas", "scikit-learn") and v != current.get(k)
    }
    if changed:
        warnings.warn(
            f"{path} was written with other library versions {changed}; retrain or verify its predictions",
            UserWarning,
            stacklevel=2,
        )
    model = joblib.load(io.BytesIO(payload))
    if not isinstance(model, TrainedModel):
        raise ModelFileError(f"{path}: payload is a {type(model).__name__}, not a TrainedModel")
    return model
