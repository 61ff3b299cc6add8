"""Every string of the onboarding and import-mapping pages has its Simplified Chinese translation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _entries(path: Path) -> list[tuple[str, str, bool]]:
    out = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = block.strip().split("\n")
        starts = [i for i, line in enumerate(lines) if line.startswith("msgid ")]
        ends = [i for i, line in enumerate(lines) if line.startswith("msgstr ")]
        if not starts or not ends:
            continue
        i, j = starts[0], ends[0]
        msgid = "".join(ast.literal_eval(x) for x in [lines[i][6:], *lines[i + 1:j]])
        msgstr = "".join(ast.literal_eval(x) for x in [lines[j][7:], *lines[j + 1:]])
        out.append((msgid, msgstr, any(line.startswith("#,") and "fuzzy" in line for line in lines)))
    return out


@pytest.mark.parametrize("app", ["onboarding", "credit_platform/imports"])
def test_every_string_is_translated_and_none_is_fuzzy(app):
    entries = _entries(ROOT / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 20
    assert [m for m, s, _f in entries if m and not s] == []
    assert [m for m, _s, fuzzy in entries if m and fuzzy] == []
