"""Message catalogues: find every ``locale/<lang>/LC_MESSAGES/*.po`` of the project and compile it.

Compiled with Babel's pure-Python reader and writer, so that a newcomer's ``make run`` and ``make test``
need no GNU gettext (``msgfmt``) on the machine; ``makemessages`` (which does need xgettext) is only for
whoever adds strings. Fuzzy entries are left out of the compiled file, as msgfmt does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

SKIP_DIRS = {".venv", "var", "node_modules", ".git", "staticfiles", "build"}


def catalogue_paths(root: Path | None = None) -> Iterator[Path]:
    """The root catalogue (``locale/``) and every app's (``<app>/locale/``), outside virtualenvs."""
    base = Path(root or settings.BASE_DIR)
    for po in sorted(base.rglob("locale/*/LC_MESSAGES/*.po")):
        if not SKIP_DIRS.intersection(po.relative_to(base).parts):
            yield po


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def compile_catalogue(path: Path) -> Path:
    """Write ``<name>.mo`` next to ``path`` when it is missing or older than the .po; return its path."""
    target = path.with_suffix(".mo")
    if target.exists() and target.stat().st_mtime >= path.stat().st_mtime:
        return target
    catalog = read_catalogue(path)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # one per process: test workers compile at once
    with tmp.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    tmp.replace(target)  # atomic: a server reading the catalogue never sees half a file
    return target


def untranslated(path: Path) -> list[str]:
    """Entries a user would read in English: empty or fuzzy translations (header excluded)."""
    catalog = read_catalogue(path)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing
