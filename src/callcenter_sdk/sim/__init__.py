"""A discrete-event simulator that drives the real engines in virtual time.

There is no second model of routing: the simulator feeds the real ACD (and
dialer) with contacts drawn from arrival processes and duration
distributions, advancing a :class:`callcenter_sdk.ManualClock` from event to
event.
"""

from __future__ import annotations

from ._arrivals import PiecewisePoisson as PiecewisePoisson
from ._arrivals import Poisson as Poisson
from ._distributions import Distribution as Distribution
from ._distributions import Empirical as Empirical
from ._distributions import Exponential as Exponential
from ._distributions import Fixed as Fixed
from ._distributions import LogNormal as LogNormal
from ._stats import Estimate as Estimate
from ._stats import estimate as estimate
from ._stats import t_quantile_975 as t_quantile_975

__all__ = [
    "Distribution",
    "Empirical",
    "Estimate",
    "Exponential",
    "Fixed",
    "LogNormal",
    "PiecewisePoisson",
    "Poisson",
    "estimate",
    "t_quantile_975",
]
