"""Duration distributions used by the simulator."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.sim import Empirical, Exponential, Fixed, LogNormal


@pytest.mark.parametrize(
    "dist",
    [Exponential(180.0), LogNormal(240.0, 120.0), Empirical([30, 60, 600]), Fixed(42.0)],
)
def test_sample_mean_matches_the_declared_mean(
    dist: Exponential | LogNormal | Empirical | Fixed,
) -> None:
    """Over 40,000 seeded draws the sample mean lies within 3 % of ``mean``
    (several standard errors for these shapes), and every draw is >= 0."""
    rng = random.Random(7)
    draws = [dist.sample(rng) for _ in range(40_000)]
    assert min(draws) >= 0
    assert statistics.fmean(draws) == pytest.approx(dist.mean, rel=0.03)


def test_lognormal_standard_deviation_is_the_one_asked_for() -> None:
    """LogNormal is parametrised by the duration's own mean and sd."""
    rng = random.Random(11)
    draws = [LogNormal(300.0, 90.0).sample(rng) for _ in range(60_000)]
    assert statistics.stdev(draws) == pytest.approx(90.0, rel=0.05)


@given(st.integers(0, 2**32 - 1))
def test_same_seed_same_draws(seed: int) -> None:
    """Runs are reproducible: one seed, one sequence."""
    dist = LogNormal(100.0, 50.0)
    a, b = random.Random(seed), random.Random(seed)
    assert [dist.sample(a) for _ in range(20)] == [dist.sample(b) for _ in range(20)]


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_bad_parameters_are_refused(bad: float) -> None:
    """A mean that is not positive and finite is a clear ValidationError."""
    with pytest.raises(ValidationError, match="mean_s"):
        Exponential(bad)


def test_empirical_needs_observations() -> None:
    """An empty or negative sample set cannot define a distribution."""
    with pytest.raises(ValidationError):
        Empirical([])
    with pytest.raises(ValidationError):
        Empirical([1.0, -2.0])
