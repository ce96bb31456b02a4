"""Replications in parallel give the runs a serial loop gives."""

from __future__ import annotations

import gc
from collections.abc import Mapping

import pytest

from callcenter_sdk.acd import BUILTIN_STRATEGIES, Queue, RoutingStrategy, StrategyFactory
from callcenter_sdk.sim import AgentGroup, Exponential, Poisson, QueueLoad, Scenario, replicate


def _scenario(strategy: str = "longest-idle") -> Scenario:
    return Scenario(
        loads=(
            QueueLoad(
                queue=Queue(name="q", strategy=strategy, strategy_options={"note": 1}),
                arrivals=Poisson(1 / 20),
                handle_time=Exponential(50.0),
                patience=Exponential(90.0),
            ),
        ),
        agents=(AgentGroup(prefix="a", count=3, memberships=("q",)),),
        duration=1800.0,
        short_abandon_s=0.0,
    )


def test_parallel_replications_equal_serial_ones() -> None:
    """Two worker processes return, in seed order, the very records, intervals
    and estimates that one process computes for the same seeds."""
    scenario = _scenario()
    serial = replicate(scenario, 5, seed=7, warmup=60.0, workers=1)
    parallel = replicate(scenario, 5, seed=7, warmup=60.0, workers=2)
    assert [r.seed for r in parallel.results] == [7, 8, 9, 10, 11]
    assert parallel.results == serial.results
    assert parallel.lines() == serial.lines()
    assert len({len(r.records) for r in parallel.results}) > 1  # the seeds differ


def test_builtin_strategies_passed_explicitly_run_in_parallel() -> None:
    """The built-in factories are closures; they still reach the workers (by
    name), so a plugin host's strategy table can be passed with workers > 1."""
    scenario = _scenario("round-robin")
    strategies = dict(BUILTIN_STRATEGIES)
    serial = replicate(scenario, 2, seed=3, strategies=strategies, workers=1)
    parallel = replicate(scenario, 2, seed=3, strategies=strategies, workers=2)
    assert parallel.results == serial.results


def test_strategies_that_do_not_pickle() -> None:
    """A strategy factory defined in a function cannot reach another process:
    by default the replications then run here; asked for workers, it says why."""
    builtin = BUILTIN_STRATEGIES["longest-idle"]

    def local(options: Mapping[str, object]) -> RoutingStrategy:
        return builtin(options)

    strategies: dict[str, StrategyFactory] = {"local": local}
    scenario = _scenario("local")
    reps = replicate(scenario, 2, seed=1, strategies=strategies)
    assert reps.results == replicate(scenario, 2, seed=1, strategies=strategies, workers=1).results
    with pytest.raises(TypeError, match="pickle"):
        replicate(scenario, 2, seed=1, strategies=strategies, workers=2)


def test_parallel_progress_ends_at_one() -> None:
    """In parallel, progress rises with each finished run and ends at 1."""
    seen: list[float] = []
    replicate(_scenario(), 3, workers=2, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_workers_must_be_positive() -> None:
    """workers=0 is a mistake, not a request for the default."""
    with pytest.raises(ValueError, match="workers"):
        replicate(_scenario(), 2, workers=0)


def test_the_collector_is_on_again_after_parallel_replications() -> None:
    """The cyclic collector, paused while the workers' results are received and
    rebuilt, is back on afterwards (and stays off for a caller who had it off)."""
    scenario = _scenario()
    replicate(scenario, 2, seed=1, workers=2)
    assert gc.isenabled()
    gc.disable()
    try:
        replicate(scenario, 2, seed=1, workers=2)
        assert not gc.isenabled()
    finally:
        gc.enable()
