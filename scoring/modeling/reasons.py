"""Reason codes: the factors that most raised a prediction's risk, in English and Chinese.

Each model returns ``contributions(frame)``: per row and feature, how much the feature raises
the log-odds of default compared with a reference (scorecard: the feature's population-average
WOE, so ``contribution * factor`` is the points lost against an average applicant; GBM: the log-
odds change when the feature alone is set to its training median / most frequent category;
wide logit: ``coef * (encoded value - training mean)`` summed over the feature's columns; blend:
the weighted sum). The reasons are the features with the largest positive
contributions (at most ``max_reasons``, default 4; only contributions above
``min_contribution`` = 0.01 log-odds, about 0.3 points at 20 PDO, count).

Texts come from ``REASON_TEMPLATES`` (feature -> (English, Chinese) format strings with
``{feature}`` and ``{value}``), falling back to a generic sentence. The platform registers
its own features' templates with ``register_reason_template``; a TrainedModel can also carry
its own overrides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Full-width brackets are the correct punctuation in Chinese text.
GENERIC_TEMPLATE = ("Value of {feature} ({value}) raises risk", "{feature}（{value}）增加风险")
MISSING_VALUE = ("missing", "缺失")

REASON_TEMPLATES: dict[str, tuple[str, str]] = {}


def register_reason_template(feature: str, en: str, zh: str) -> None:
    """Add or replace the texts for one feature; both may use {feature} and {value}."""
    for text in (en, zh):
        text.format(feature="x", value="y")  # fail now, not at scoring time, on a bad template
    REASON_TEMPLATES[feature] = (en, zh)


@dataclass(frozen=True)
class Reason:
    feature: str
    value: Any
    contribution: float
    text_en: str
    text_zh: str


def format_value(value: Any) -> tuple[str, str]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING_VALUE
    if isinstance(value, (int, np.integer)):
        return str(int(value)), str(int(value))
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
        return text, text
    text = str(value).strip()
    return (text, text) if text else MISSING_VALUE


def reason_texts(
    feature: str, value: Any, templates: Mapping[str, tuple[str, str]] | None = None
) -> tuple[str, str]:
    en_value, zh_value = format_value(value)
    table = dict(REASON_TEMPLATES)
    if templates:
        table.update(templates)
    en, zh = table.get(feature, GENERIC_TEMPLATE)
    return en.format(feature=feature, value=en_value), zh.format(feature=feature, value=zh_value)


def top_reasons(
    contributions: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    max_reasons: int = 4,
    min_contribution: float = 0.01,
    templates: Mapping[str, tuple[str, str]] | None = None,
) -> list[list[Reason]]:
    """For every row, its reasons sorted by contribution, largest first."""
    if not 1 <= max_reasons <= 10:
        raise ValueError(f"max_reasons must be between 1 and 10, got {max_reasons}")
    values = contributions.to_numpy(dtype=float)
    features = list(contributions.columns)
    k = min(max_reasons, len(features))
    if not len(values) or not k:
        return [[] for _ in range(len(values))]
    top = np.argsort(-values, axis=1, kind="stable")[:, :k]
    raw = {f: frame[f].to_numpy(dtype=object) for f in features}
    out: list[list[Reason]] = []
    for i in range(len(values)):
        row: list[Reason] = []
        for j in top[i]:
            c = values[i, j]
            if not c > min_contribution:
                break
            feature = features[j]
            value = raw[feature][i]
            en, zh = reason_texts(feature, value, templates)
            row.append(Reason(feature=feature, value=value, contribution=float(c), text_en=en, text_zh=zh))
        out.append(row)
    return out
