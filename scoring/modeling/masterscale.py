"""Rating master scale: probability of default (PD) -> grade 1 (best) .. 10 (default grade).

Default bands are geometric: the 9 upper bounds are ``numpy.geomspace(0.001, 0.5, 9)`` rounded to
3 significant figures, so each grade spans about 2.2x the PD of the one before (a doubling-ish
scale like the agencies' notches, where each grade roughly doubles the default rate):

===== ==================
grade PD band
===== ==================
1     PD < 0.10 %
2     0.10 % - 0.217 %
3     0.217 % - 0.473 %
4     0.473 % - 1.03 %
5     1.03 % - 2.24 %
6     2.24 % - 4.87 %
7     4.87 % - 10.6 %
8     10.6 % - 23.0 %
9     23.0 % - 50.0 %
10    PD >= 50 % (more likely than not to default: treated as the default grade)
===== ==================

Lower bounds are inclusive, upper bounds exclusive. Pass other ``upper_bounds`` (strictly
increasing, in (0, 1)) for another scale: n bounds give grades 1..n+1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_UPPER_BOUNDS: tuple[float, ...] = (
    0.001,
    0.00217,
    0.00473,
    0.0103,
    0.0224,
    0.0487,
    0.106,
    0.230,
    0.50,
)


@dataclass(frozen=True)
class MasterScale:
    upper_bounds: tuple[float, ...] = DEFAULT_UPPER_BOUNDS

    def __post_init__(self) -> None:
        bounds = np.asarray(self.upper_bounds, dtype=float)
        if bounds.ndim != 1 or len(bounds) < 1:
            raise ValueError("a master scale needs at least one band upper bound")
        if not ((bounds > 0) & (bounds < 1)).all() or not (np.diff(bounds) > 0).all():
            raise ValueError(
                f"band upper bounds must be strictly increasing and in (0, 1): {self.upper_bounds}"
            )
        object.__setattr__(self, "upper_bounds", tuple(float(b) for b in bounds))

    @property
    def n_grades(self) -> int:
        return len(self.upper_bounds) + 1

    @property
    def grades(self) -> list[int]:
        return list(range(1, self.n_grades + 1))

    def grade_for(self, pd_values: Any) -> np.ndarray:
        """Grade of each PD (vectorised); NaN or out-of-range PDs raise ValueError."""
        p = np.asarray(pd_values, dtype=float)
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError("PD values must be numbers in [0, 1]")
        return np.searchsorted(np.asarray(self.upper_bounds), p, side="right").astype(int) + 1

    def table(self) -> pd.DataFrame:
        """Grade, PD band (lower inclusive, upper exclusive) and the band's geometric midpoint."""
        lower = np.r_[0.0, self.upper_bounds]
        upper = np.r_[self.upper_bounds, 1.0]
        mid = np.sqrt(np.where(lower > 0, lower, upper / 2) * upper)
        return pd.DataFrame({"grade": self.grades, "pd_lower": lower, "pd_upper": upper, "pd_mid": mid})
