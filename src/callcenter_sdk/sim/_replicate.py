"""Independent replications and their confidence intervals.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import attrs

from ..acd import StrategyFactory
from ._scenario import Scenario
from ._simulator import SimResult, simulate
from ._stats import Estimate, estimate

__all__ = ["Replications", "replicate"]


@attrs.frozen(kw_only=True)
class Replications:
    """The KPI reports of several independent runs and their 95 % intervals.

    Attributes:
        results: Each replication's result, in seed order.
        estimates: For each KPI of :class:`~callcenter_sdk.kpi.KpiReport`, the
            mean over replications with its Student-t 95 % interval.
    """

    results: tuple[SimResult, ...]
    estimates: Mapping[str, Estimate]

    def lines(self) -> list[str]:
        """Render each estimate on one line."""
        return [f"{name:<16} {est}" for name, est in self.estimates.items()]


def replicate(
    scenario: Scenario,
    replications: int = 30,
    *,
    seed: int = 0,
    threshold_s: float | None = None,
    warmup: float = 0.0,
    strategies: dict[str, StrategyFactory] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Replications:
    """Run ``replications`` independent runs (seeds ``seed``, ``seed + 1``, ...).

    Args:
        scenario: What to simulate.
        replications: How many runs (at least 2 for an interval).
        seed: The first seed.
        threshold_s: Service-level threshold for the reports.
        warmup: Seconds at the start of each run left out of the reports.
        strategies: Routing strategies by name (built-ins by default).
        progress: Called with the overall fraction done.
    """
    results: list[SimResult] = []
    for i in range(replications):

        def part(fraction: float, i: int = i) -> None:
            if progress is not None:
                progress((i + fraction) / replications)

        results.append(simulate(scenario, seed=seed + i, strategies=strategies, progress=part))
    reports = [r.report(threshold_s, warmup=warmup).as_dict() for r in results]
    names = list(reports[0]) if reports else []
    estimates = {name: estimate([rep.get(name, math.nan) for rep in reports]) for name in names}
    return Replications(results=tuple(results), estimates=estimates)
