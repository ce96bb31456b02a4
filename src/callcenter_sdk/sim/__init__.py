"""A discrete-event simulator that drives the real engines in virtual time.

There is no second model of routing: the simulator feeds the real ACD with
contacts drawn from arrival processes and duration distributions, advancing a
:class:`callcenter_sdk.ManualClock` from happening to happening, and reports
with the same KPI calculators as live figures. :func:`simulate_campaign`
drives the dialer's campaign core the same way. Both run on one
virtual-time loop.

The campaign names are loaded on first use: the inbound simulator needs
neither the dialer nor what it imports (anyio, the store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ._campaign import OutcomeModel as OutcomeModel
    from ._campaign import simulate_campaign as simulate_campaign


def __getattr__(name: str) -> Any:
    if name in ("OutcomeModel", "simulate_campaign"):
        from . import _campaign  # noqa: PLC0415 - keeps the inbound simulator free of the dialer

        return getattr(_campaign, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "OutcomeModel",
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
    "simulate_campaign",
    "t_quantile_975",
    "text_progress",
]
