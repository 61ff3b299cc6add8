"""Machine-learning core of the scoring app: pure Python/pandas/scikit-learn, no Django.

Modules, one concern each: ``schema`` (column kinds, input checks), ``binning`` (monotone WOE
binning), ``scorecard`` (WOE logistic scorecard with points), ``logit`` (regularised one-hot
logistic regression), ``gbm`` (monotone gradient boosting), ``blend`` (log-odds blend),
``calibration``, ``metrics``, ``masterscale`` (PD -> grade), ``reasons`` (reason codes in
English and Chinese), ``trainer`` (``train`` -> ``TrainedModel``) and ``io`` (the ``model.bin``
file format).
"""

from .masterscale import MasterScale
from .schema import DataError
from .trainer import TrainedModel, train

__all__ = ["DataError", "MasterScale", "TrainedModel", "train"]
