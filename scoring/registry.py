"""Model files of the registry and the scorer a registry entry stands for.

Trained models are written with ``modeling.io.save`` under ``MEDIA_ROOT/scoring/models/<org>/`` and
loaded only from there, with the SHA-256 recorded in the registry passed as ``expected_sha256``: a
file changed on disk after registration is refused (pickles run code; see ``modeling.io``). In a
deployment with several worker hosts MEDIA_ROOT is a shared volume (or object storage mounted as
one), as it already is for uploaded import files.

``scorer_for(model)`` returns the same interface for both kinds: ``predict_pd(X)``,
``contributions(X)`` (log-odds each feature adds; positive = raises risk) and ``points(X)``.
Loaded models are cached per process by (id, sha256): a nightly run of 200 chunks on one worker
reads the file once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from .expert import ExpertScorecard
from .modeling import io as model_io
from .modeling.trainer import TrainedModel
from .models import ScoringModel


def model_folder(organization_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "scoring" / "models" / str(organization_id)


def save_model_file(organization_id: int, version: int, model: TrainedModel) -> tuple[str, str, int]:
    """Write the file; returns (path relative to MEDIA_ROOT, sha256, size in bytes)."""
    folder = model_folder(organization_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{version}.bin"
    header = model_io.save(model, path)
    return str(path.relative_to(Path(settings.MEDIA_ROOT))), header["sha256"], path.stat().st_size


class Scorer:
    features: list[str]

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def points(self, X: pd.DataFrame) -> np.ndarray | None:
        return None


class ExpertScorer(Scorer):
    def __init__(self, card: ExpertScorecard):
        self.card = card
        self.features = list(card.features_)

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        return self.card.predict_proba(X)[:, 1]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        return self.card.contributions(X)

    def points(self, X: pd.DataFrame) -> np.ndarray | None:
        return self.card.score_points(X)


class TrainedScorer(Scorer):
    def __init__(self, model: TrainedModel):
        self.model = model
        self.features = list(model.features)

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        return self.model.estimator.contributions(self.model.prepare(X))


@lru_cache(maxsize=8)
def _load(path: str, sha256: str) -> TrainedModel:
    return model_io.load(Path(settings.MEDIA_ROOT) / path, expected_sha256=sha256)


def load_trained(model: ScoringModel) -> TrainedModel:
    return _load(model.file_path, model.sha256)


def scorer_for(model: ScoringModel) -> Scorer:
    if model.kind == ScoringModel.Kind.EXPERT:
        return ExpertScorer(ExpertScorecard.from_config(model.config))
    return TrainedScorer(load_trained(model))


def clear_cache() -> Any:
    _load.cache_clear()
