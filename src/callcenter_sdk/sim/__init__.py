"""A discrete-event simulator that drives the real engines in virtual time.

There is no second model of routing: the simulator feeds the real ACD with
contacts drawn from arrival processes and duration distributions, advancing a
:class:`callcenter_sdk.ManualClock` from happening to happening, and reports
with the same KPI calculators as live figures.
"""

from __future__ import annotations

from ._arrivals import PiecewisePoisson as PiecewisePoisson
from ._arrivals import Poisson as Poisson
from ._arrivals import forecast_arrivals as forecast_arrivals
from ._distributions import Distribution as Distribution
from ._distributions import Empirical as Empirical
from ._distributions import Exponential as Exponential
from ._distributions import Fixed as Fixed
from ._distributions import LogNormal as LogNormal
from ._progress import text_progress as text_progress
from ._replicate import Replications as Replications
from ._replicate import replicate as replicate
from ._scenario import AgentGroup as AgentGroup
from ._scenario import ArrivalProcess as ArrivalProcess
from ._scenario import Break as Break
from ._scenario import QueueLoad as QueueLoad
from ._scenario import Scenario as Scenario
from ._simulator import SimResult as SimResult
from ._simulator import simulate as simulate
from ._stats import Estimate as Estimate
from ._stats import estimate as estimate
from ._stats import t_quantile_975 as t_quantile_975

__all__ = [
    "AgentGroup",
    "ArrivalProcess",
    "Break",
    "Distribution",
    "Empirical",
    "Estimate",
    "Exponential",
    "Fixed",
    "LogNormal",
    "PiecewisePoisson",
    "Poisson",
    "QueueLoad",
    "Replications",
    "Scenario",
    "SimResult",
    "estimate",
    "forecast_arrivals",
    "replicate",
    "simulate",
    "t_quantile_975",
    "text_progress",
]
