"""Confidence intervals over replications."""

from __future__ import annotations

import math
import random

import pytest

from callcenter_sdk.sim import estimate, t_quantile_975


def test_t_quantile_joins_the_table_smoothly_and_tends_to_normal() -> None:
    """The expansion used past 30 df continues the table and decreases to z."""
    assert t_quantile_975(30) == pytest.approx(2.042, abs=1e-3)
    assert t_quantile_975(31) == pytest.approx(2.040, abs=1e-3)
    assert t_quantile_975(60) == pytest.approx(2.000, abs=1e-3)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
    values = [t_quantile_975(df) for df in range(1, 500)]
    assert values == sorted(values, reverse=True)
    assert values[-1] > 1.959963984540054


def test_interval_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    """Over 2,000 experiments of 30 normal draws, the 95 % interval contains
    the true mean between 93.5 % and 96.5 % of the time."""
    rng = random.Random(1)
    hits = sum(estimate([rng.gauss(10, 3) for _ in range(30)]).contains(10) for _ in range(2000))
    assert 0.935 <= hits / 2000 <= 0.965


def test_degenerate_inputs() -> None:
    """No values gives NaN, one value an infinite interval; NaNs are dropped."""
    assert math.isnan(estimate([]).mean)
    assert estimate([4.0]).half_width == math.inf
    est = estimate([1.0, math.nan, 3.0])
    assert (est.mean, est.n) == (2.0, 2)
