"""Simulated days for the report tests: the events the real ACD publishes, and its records."""

from __future__ import annotations

from callcenter_sdk import Event
from callcenter_sdk.acd import Queue
from callcenter_sdk.sim import AgentGroup, Exponential, Poisson, QueueLoad, Scenario, SimResult
from callcenter_sdk.sim._simulator import _Run


def scenario(
    *, queues: int = 2, agents: int = 4, rate: float = 1 / 30, duration: float = 2 * 3600
) -> Scenario:
    """``queues`` queues q0, q1... with Poisson traffic, impatient callers and wrap-up."""
    names = [f"q{i}" for i in range(queues)]
    return Scenario(
        loads=tuple(
            QueueLoad(
                queue=Queue(name=name, service_level_threshold=20.0, wrap_up=10.0),
                arrivals=Poisson(rate),
                handle_time=Exponential(120.0),
                patience=Exponential(60.0),
            )
            for name in names
        ),
        agents=(AgentGroup(prefix="a", count=agents, memberships=tuple(names)),),
        duration=duration,
    )


def simulated_day(scenario: Scenario, seed: int) -> tuple[list[Event], SimResult]:
    """Run the simulator and return every event it published, with its result.

    The simulator keeps its event stream to itself; the run object is the
    one place the very events behind its KPI report can be read.
    """
    run = _Run(scenario, seed, None, None)
    result = run.run()
    return list(run.events.history()), result
