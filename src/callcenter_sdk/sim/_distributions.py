"""Random durations for the simulator: handle times, patience, think times.

Every distribution is a small frozen value with a ``sample(rng)`` method and
its ``mean``, so a scenario file can name one and the simulator can compare
what it measured with what it was asked for. Parameters are in seconds.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Protocol

import attrs

from .._errors import ValidationError

__all__ = ["Distribution", "Empirical", "Exponential", "Fixed", "LogNormal"]


class Distribution(Protocol):
    """A source of non-negative random durations in seconds."""

    @property
    def mean(self) -> float:
        """The expected value of a sample."""
        ...

    def sample(self, rng: random.Random) -> float:
        """Draw one duration using ``rng`` (so runs are reproducible from a seed)."""
        ...


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValidationError(f"{attribute.name} must be a positive finite number, got {value!r}")


@attrs.frozen
class Fixed:
    """Always the same duration (deterministic service, the D in M/D/N).

    Attributes:
        value: The duration in seconds (>= 0).
    """

    value: float

    def __attrs_post_init__(self) -> None:
        if not (self.value >= 0 and math.isfinite(self.value)):
            raise ValidationError(f"value must be >= 0 and finite, got {self.value!r}")

    @property
    def mean(self) -> float:
        """The fixed value."""
        return self.value

    def sample(self, rng: random.Random) -> float:
        """Return the fixed value."""
        return self.value


@attrs.frozen
class Exponential:
    """Memoryless durations: the M in M/M/N and M/M/N+M.

    Attributes:
        mean_s: The mean in seconds (the rate is its inverse).
    """

    mean_s: float = attrs.field(validator=_positive)

    @property
    def mean(self) -> float:
        """The mean in seconds."""
        return self.mean_s

    def sample(self, rng: random.Random) -> float:
        """Draw one exponential duration."""
        return rng.expovariate(1.0 / self.mean_s)


@attrs.frozen
class LogNormal:
    """Right-skewed durations, the usual fit for call handle times.

    Parametrised by the mean and standard deviation of the duration itself
    (what a report shows), not of its logarithm.

    Attributes:
        mean_s: Mean duration in seconds.
        sd_s: Standard deviation in seconds.
    """

    mean_s: float = attrs.field(validator=_positive)
    sd_s: float = attrs.field(validator=_positive)

    @property
    def mean(self) -> float:
        """The mean in seconds."""
        return self.mean_s

    @property
    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd_s / self.mean_s) ** 2)
        return math.log(self.mean_s) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: random.Random) -> float:
        """Draw one log-normal duration."""
        mu, sigma = self._mu_sigma
        return rng.lognormvariate(mu, sigma)


def _samples(values: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if not out:
        raise ValidationError("an empirical distribution needs at least one observation")
    if any(not (v >= 0 and math.isfinite(v)) for v in out):
        raise ValidationError("empirical observations must be finite and >= 0")
    return out


@attrs.frozen
class Empirical:
    """Durations resampled from observations (for example last month's talk times).

    Attributes:
        values: The observed durations in seconds; each is drawn with equal
            probability.
    """

    values: tuple[float, ...] = attrs.field(converter=_samples)

    @property
    def mean(self) -> float:
        """The mean of the observations."""
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng: random.Random) -> float:
        """Return one of the observations, chosen uniformly."""
        return self.values[rng.randrange(len(self.values))]
