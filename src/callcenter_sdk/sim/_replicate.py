"""Independent replications, run in parallel, and their confidence intervals.

Replications are independent by construction (each has its own seed), so
they run in worker processes, one per core by default. A worker gets the
scenario once, runs the seeds it is handed and sends back each run's
records and intervals as plain tuples: rebuilding the attrs values in the
parent costs a fraction of pickling them whole, which is what keeps the
speed-up near the number of cores. The results are those of a serial run
with the same seeds, value for value.

.. versionadded:: 0.1
.. versionchanged:: 0.2
   ``workers=``: replications run in parallel across processes.
"""

from __future__ import annotations

import concurrent.futures
import copyreg
import gc
import io
import math
import multiprocessing
import operator
import os
import pickle
import types
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..acd import BUILTIN_STRATEGIES, StrategyFactory
from ..acd._unchecked import unchecked_rows
from ..kpi import AgentInterval, ContactRecord
from ._scenario import Scenario
from ._simulator import SimResult, simulate
from ._stats import Estimate, estimate

__all__ = ["Replications", "replicate"]

_Row = tuple[Any, ...]
# What a worker sends back for one run: records, intervals, end time, event
# count, and its KPI report (computed there: the same code on the same values).
_Encoded = tuple[list[_Row], list[_Row], float, int, dict[str, float]]


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


def _default_workers() -> int:
    """Every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def replicate(
    scenario: Scenario,
    replications: int = 30,
    *,
    seed: int = 0,
    threshold_s: float | None = None,
    warmup: float = 0.0,
    strategies: dict[str, StrategyFactory] | None = None,
    progress: Callable[[float], None] | None = None,
    workers: int | None = None,
) -> Replications:
    """Run ``replications`` independent runs (seeds ``seed``, ``seed + 1``, ...).

    With more than one worker the runs go to that many ``spawn``-ed
    processes (safe beside threads and event loops; a script calling this
    needs the usual ``if __name__ == "__main__":`` guard). The results are
    the same as with ``workers=1``, in seed order.

    Args:
        scenario: What to simulate.
        replications: How many runs (at least 2 for an interval).
        seed: The first seed.
        threshold_s: Service-level threshold for the reports.
        warmup: Seconds at the start of each run left out of the reports.
        strategies: Routing strategies by name (built-ins by default). To run
            in parallel, factories other than the built-ins must pickle
            (module-level classes or functions).
        progress: Called with the overall fraction done: within each run when
            serial, as each run finishes when parallel.
        workers: How many processes run the replications; ``1`` runs them in
            this process. By default every core this process may run on, or
            this process alone when the scenario or the strategies do not
            pickle.

    Raises:
        TypeError: ``workers`` asks for several processes and the scenario
            or the strategies cannot be pickled.
        ValueError: ``workers`` is less than 1.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    processes = min(_default_workers() if workers is None else workers, replications)
    payload = _dumps((scenario, strategies)) if processes > 1 else None
    if payload is None and processes > 1 and workers is not None:
        raise TypeError(
            "replicate(workers>1) needs a scenario and strategies that pickle; "
            "pass workers=1 or define the strategy factories at module level"
        )
    seeds = range(seed, seed + replications)
    if payload is None:
        results = _serial(scenario, seeds, strategies, progress)
        reports = [r.report(threshold_s, warmup=warmup).as_dict() for r in results]
    else:
        results, reports = _parallel(
            scenario,
            seeds,
            payload=payload,
            processes=processes,
            progress=progress,
            report=(threshold_s, warmup),
        )
    names = list(reports[0]) if reports else []
    estimates = {name: estimate([rep.get(name, math.nan) for rep in reports]) for name in names}
    return Replications(results=tuple(results), estimates=estimates)


def _serial(
    scenario: Scenario,
    seeds: range,
    strategies: dict[str, StrategyFactory] | None,
    progress: Callable[[float], None] | None,
) -> list[SimResult]:
    results: list[SimResult] = []
    total = len(seeds)
    for i, s in enumerate(seeds):

        def part(fraction: float, i: int = i) -> None:
            if progress is not None:
                progress((i + fraction) / total)

        results.append(simulate(scenario, seed=s, strategies=strategies, progress=part))
    return results


def _parallel(
    scenario: Scenario,
    seeds: range,
    *,
    payload: bytes,
    processes: int,
    progress: Callable[[float], None] | None,
    report: tuple[float | None, float],
) -> tuple[list[SimResult], list[dict[str, float]]]:
    results: list[SimResult | None] = [None] * len(seeds)
    reports: list[dict[str, float]] = [{} for _ in seeds]
    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_load,
        initargs=(payload,),
    )
    # The results received pile up (tens of thousands of values per run) and
    # make no cycles: the cyclic collector, left on while they are unpickled
    # and rebuilt, would rescan them all again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        index_of = {executor.submit(_run, s, *report): i for i, s in enumerate(seeds)}
        for done, future in enumerate(concurrent.futures.as_completed(index_of), 1):
            i = index_of[future]
            results[i], reports[i] = _decoded(scenario, seeds[i], future.result())
            if progress is not None:
                progress(done / len(seeds))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        if enabled:
            gc.enable()
    return [r for r in results if r is not None], reports


# --- what crosses the process boundary ------------------------------------

_RECORD_FIELDS = tuple(f.name for f in attrs.fields(ContactRecord))
_INTERVAL_FIELDS = tuple(f.name for f in attrs.fields(AgentInterval))
_record_row = operator.attrgetter(*_RECORD_FIELDS)
_interval_row = operator.attrgetter(*_INTERVAL_FIELDS)
# Back from the rows in the parent, slots filled directly: the values were built
# from the engine's own events in the worker, so __init__ would only check them again.
_records_from_rows = unchecked_rows(ContactRecord)
_intervals_from_rows = unchecked_rows(AgentInterval)


# The engine's values hold read-only mappings (``MappingProxyType``), which
# pickle refuses; they travel as the dict they show. Kept to our own pickler
# rather than registered process-wide.
def _read_only(items: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(items)


_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[types.MappingProxyType] = lambda proxy: (_read_only, (dict(proxy),))

# The built-in strategy factories are closures, which pickle refuses by value:
# they travel by name, so ``PluginHost.routing_strategies()`` runs in parallel
# as long as the plugins' own factories pickle.
_BUILTIN_NAME = {id(factory): name for name, factory in BUILTIN_STRATEGIES.items()}


def _builtin_strategy(name: str) -> StrategyFactory:
    return BUILTIN_STRATEGIES[name]


class _Pickler(pickle.Pickler):
    dispatch_table = _DISPATCH

    def reducer_override(self, obj: Any) -> Any:
        name = _BUILTIN_NAME.get(id(obj))
        if name is not None and BUILTIN_STRATEGIES[name] is obj:
            return _builtin_strategy, (name,)
        return NotImplemented


_loaded: tuple[Scenario, dict[str, StrategyFactory] | None] | None = None


def _dumps(value: object) -> bytes | None:
    """Pickle ``value`` with read-only mappings allowed, or None when it does not pickle."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return buffer.getvalue()


def _load(payload: bytes) -> None:
    """Worker initializer: unpickle the scenario and strategies once per process."""
    global _loaded  # noqa: PLW0603 - one scenario per worker process, set at its start
    _loaded = pickle.loads(payload)  # noqa: S301 - our own payload, from the parent process


def _run(seed: int, threshold_s: float | None, warmup: float) -> _Encoded:
    """In a worker: one replication, flattened to tuples, and its report.

    The cyclic collector stays paused until the run is flattened, not only
    during the run (as :func:`simulate` does): the report and the tuples add
    tens of thousands of objects, and each collection would rescan the run's.
    """
    if _loaded is None:
        raise RuntimeError("this worker was started without its scenario")
    scenario, strategies = _loaded
    gc.disable()
    try:
        result = simulate(scenario, seed=seed, strategies=strategies)
        return (
            [_record_row(r) for r in result.records],
            [_interval_row(i) for i in result.intervals],
            result.end_time,
            result.events,
            result.report(threshold_s, warmup=warmup).as_dict(),
        )
    finally:
        gc.enable()


def _decoded(
    scenario: Scenario, seed: int, encoded: _Encoded
) -> tuple[SimResult, dict[str, float]]:
    records, intervals, end_time, events, report = encoded
    # Tens of thousands of new objects per run: without the cyclic collector's
    # rescans of everything received so far, rebuilding costs a third as much.
    enabled = gc.isenabled()
    gc.disable()
    try:
        result = SimResult(
            scenario=scenario,
            seed=seed,
            records=_records_from_rows(records),
            intervals=_intervals_from_rows(intervals),
            end_time=end_time,
            events=events,
        )
    finally:
        if enabled:
            gc.enable()
    return result, report
