"""Arrival processes: when contacts reach the call center.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Sequence

import attrs

from .._errors import ValidationError
from ..kpi import IntervalForecast

__all__ = ["PiecewisePoisson", "Poisson", "forecast_arrivals"]


@attrs.frozen
class Poisson:
    """A homogeneous Poisson process: independent arrivals at a constant rate.

    Attributes:
        rate: Arrivals per second (> 0).
    """

    rate: float

    def __attrs_post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValidationError(f"rate must be a positive finite number, got {self.rate!r}")

    def times(self, rng: random.Random, start: float, end: float) -> Iterator[float]:
        """Yield arrival times in ``[start, end)`` in increasing order."""
        t = start + rng.expovariate(self.rate)
        while t < end:
            yield t
            t += rng.expovariate(self.rate)


def _rates(values: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if any(not (v >= 0 and math.isfinite(v)) for v in out):
        raise ValidationError("interval rates must be finite and >= 0")
    return out


@attrs.frozen
class PiecewisePoisson:
    """A Poisson process whose rate is constant within each forecast interval.

    This is how workforce planners model a day: 96 quarter-hours, each with
    its own expected volume. Because the process is memoryless, restarting the
    exponential gap at each interval boundary is exact, not an approximation.

    Attributes:
        interval_s: Length of each interval in seconds (900 for 15 minutes).
        rates: Arrivals per second in each successive interval.
        start: The time the first interval begins.
    """

    interval_s: float
    rates: tuple[float, ...] = attrs.field(converter=_rates)
    start: float = 0.0

    def __attrs_post_init__(self) -> None:
        if not (self.interval_s > 0 and math.isfinite(self.interval_s)):
            raise ValidationError(f"interval_s must be > 0, got {self.interval_s!r}")

    @classmethod
    def from_counts(
        cls, interval_s: float, counts: Sequence[float], start: float = 0.0
    ) -> PiecewisePoisson:
        """Build from expected contacts per interval (what a forecast lists)."""
        return cls(interval_s, tuple(c / interval_s for c in counts), start)

    @property
    def end(self) -> float:
        """The time the last interval ends."""
        return self.start + self.interval_s * len(self.rates)

    def times(self, rng: random.Random, start: float, end: float) -> Iterator[float]:
        """Yield arrival times in ``[start, end)`` in increasing order."""
        for index, rate in enumerate(self.rates):
            lo = max(start, self.start + index * self.interval_s)
            hi = min(end, self.start + (index + 1) * self.interval_s)
            if rate <= 0 or lo >= hi:
                continue
            yield from Poisson(rate).times(rng, lo, hi)


def forecast_arrivals(
    forecasts: Iterable[IntervalForecast], queue: str, *, origin: float = 0.0
) -> PiecewisePoisson:
    """The arrival process a forecast describes for one queue.

    Each interval's volume becomes a constant Poisson rate over that interval;
    intervals missing between the first and the last forecast one get no
    arrivals. Times are shifted so that ``origin`` (for example 08:00 as
    28,800 s) becomes simulation time 0.

    Raises:
        ValidationError: The queue has no rows, or its rows disagree on the
            interval length or overlap.
    """
    rows = sorted((f for f in forecasts if f.queue == queue), key=lambda f: f.start)
    if not rows:
        raise ValidationError(f"the forecast has no interval for queue {queue!r}")
    length = rows[0].interval_s
    if any(f.interval_s != length for f in rows):
        raise ValidationError(f"queue {queue!r}: forecast intervals differ in length")
    counts: list[float] = []
    first = rows[0].start
    for f in rows:
        slot = (f.start - first) / length
        index = round(slot)
        if abs(slot - index) > 1e-9 or index < len(counts):
            raise ValidationError(f"queue {queue!r}: interval at {f.start:g} s is misaligned")
        counts.extend([0.0] * (index - len(counts)))
        counts.append(f.volume)
    return PiecewisePoisson.from_counts(length, counts, start=first - origin)
