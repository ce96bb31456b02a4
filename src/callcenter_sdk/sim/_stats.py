"""Summaries over independent replications, with Student-t confidence intervals.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from .._errors import ValidationError

__all__ = ["Estimate", "estimate", "t_quantile_975"]

# Two-sided 95 % Student-t critical values t(0.975, df) for df = 1..30.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959963984540054


def t_quantile_975(df: int) -> float:
    """Return the 0.975 quantile of Student's t with ``df`` degrees of freedom.

    Tabulated up to 30 degrees of freedom; beyond, the Cornish–Fisher expansion
    around the normal quantile (error below 1e-4 for df > 30).
    """
    if df < 1:
        raise ValidationError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


@attrs.frozen
class Estimate:
    """A mean over replications and its 95 % confidence interval.

    Attributes:
        mean: The sample mean.
        half_width: Half the width of the 95 % interval (0 with one replication
            is impossible: one replication gives ``math.inf``).
        n: How many replications.
    """

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        """The lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """The upper end of the interval."""
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (ends included)."""
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.half_width:.2g} (95 %, n={self.n})"


def estimate(values: Sequence[float]) -> Estimate:
    """Return the mean of ``values`` with its Student-t 95 % interval.

    NaN values (a KPI undefined in one replication, such as ASA with no answer)
    are dropped first.
    """
    clean = [v for v in values if not math.isnan(v)]
    n = len(clean)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    mean = math.fsum(clean) / n
    if n == 1:
        return Estimate(mean, math.inf, 1)
    var = math.fsum((v - mean) ** 2 for v in clean) / (n - 1)
    return Estimate(mean, t_quantile_975(n - 1) * math.sqrt(var / n), n)
