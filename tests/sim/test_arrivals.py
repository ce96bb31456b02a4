"""Arrival processes."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import IntervalForecast
from callcenter_sdk.sim import PiecewisePoisson, Poisson, forecast_arrivals


@given(
    rate=st.floats(0.01, 5.0),
    seed=st.integers(0, 2**32 - 1),
    start=st.floats(0, 1000),
    length=st.floats(0, 500),
)
def test_poisson_times_are_increasing_and_inside_the_window(
    rate: float, seed: int, start: float, length: float
) -> None:
    """Every arrival lies in [start, end) and arrivals come in order."""
    times = list(Poisson(rate).times(random.Random(seed), start, start + length))
    assert times == sorted(times)
    assert all(start <= t < start + length for t in times)


def test_poisson_count_has_the_poisson_mean_and_variance() -> None:
    """Counts in a window of length T have mean and variance rate×T."""
    rng = random.Random(3)
    counts = [sum(1 for _ in Poisson(0.5).times(rng, 0, 100)) for _ in range(3000)]
    assert statistics.fmean(counts) == pytest.approx(50, rel=0.02)
    assert statistics.variance(counts) == pytest.approx(50, rel=0.1)


def test_piecewise_counts_follow_each_interval() -> None:
    """Each interval receives its own expected volume and none leaks over."""
    process = PiecewisePoisson.from_counts(900, [10, 0, 90])
    rng = random.Random(5)
    per_interval = [[0.0] * 3 for _ in range(2000)]
    for run in per_interval:
        for t in process.times(rng, 0, process.end):
            run[int(t // 900)] += 1
    means = [statistics.fmean(run[i] for run in per_interval) for i in range(3)]
    assert means[0] == pytest.approx(10, rel=0.05)
    assert means[1] == 0
    assert means[2] == pytest.approx(90, rel=0.03)


def test_rates_must_be_valid() -> None:
    """Negative rates or non-positive intervals are refused."""
    with pytest.raises(ValidationError):
        Poisson(0.0)
    with pytest.raises(ValidationError):
        PiecewisePoisson(900, (1.0, -1.0))
    with pytest.raises(ValidationError):
        PiecewisePoisson(0, (1.0,))


def test_forecast_arrivals_follow_the_forecast_volumes() -> None:
    """A forecast's intervals (with a gap) become per-interval Poisson rates,
    shifted so that the origin is time 0; other queues' rows are ignored."""
    rows = [
        IntervalForecast(queue="q", start=28800, volume=30, aht=100, interval_s=900),
        IntervalForecast(queue="q", start=30600, volume=90, aht=100, interval_s=900),
        IntervalForecast(queue="other", start=28800, volume=999, aht=100, interval_s=900),
    ]
    process = forecast_arrivals(rows, "q", origin=28800)
    assert process.start == 0
    assert process.rates == (30 / 900, 0.0, 90 / 900)
    rng = random.Random(2)
    counts = [0, 0, 0]
    for _ in range(500):
        for t in process.times(rng, 0, process.end):
            counts[int(t // 900)] += 1
    assert counts[0] / 500 == pytest.approx(30, rel=0.05)
    assert counts[1] == 0
    assert counts[2] / 500 == pytest.approx(90, rel=0.05)


def test_forecast_arrivals_refuse_inconsistent_rows() -> None:
    """Unknown queues, mixed interval lengths and misaligned starts are refused."""
    a = IntervalForecast(queue="q", start=0, volume=1, aht=1, interval_s=900)
    with pytest.raises(ValidationError, match="no interval"):
        forecast_arrivals([a], "nope")
    with pytest.raises(ValidationError, match="differ"):
        forecast_arrivals(
            [a, IntervalForecast(queue="q", start=900, volume=1, aht=1, interval_s=1800)], "q"
        )
    with pytest.raises(ValidationError, match="misaligned"):
        forecast_arrivals(
            [a, IntervalForecast(queue="q", start=450, volume=1, aht=1, interval_s=900)], "q"
        )
