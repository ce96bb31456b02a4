"""Days for the report tests: the events the real ACD publishes with its records, and a dialer's."""

from __future__ import annotations

import random

from callcenter_sdk import Event
from callcenter_sdk.acd import Queue
from callcenter_sdk.dialer import AnswerRecorded, CallPlaced, CallResult, CallResulted
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


def dialled_day(
    seed: int, *, calls: int = 80, duration: float = 2 * 3600
) -> tuple[list[Event], list[tuple[float, CallResult]]]:
    """A dialer's day: calls placed on two campaigns, their results, survey answers.

    Campaign ``renewals`` places ``calls`` calls spread over ``duration``, a
    quarter as many go to ``winback``; each result comes 5 s after the dial.
    Every connected renewals call answers ``satisfaction`` (1-5) and
    ``recommend`` (yes/no); one call in five changes its first answer (the
    last one counts). Returns the events (in time order) and, for
    ``renewals``, each call's (placed at, result).
    """
    rng = random.Random(seed)
    results = list(CallResult)
    timed: list[tuple[float, int, Event]] = []
    placed: list[tuple[float, CallResult]] = []
    n = 0
    for campaign, count in (("renewals", calls), ("winback", calls // 4)):
        for _ in range(count):
            n += 1
            call = f"call-{n}"
            at = rng.uniform(0.0, duration - 60.0)
            result = rng.choices(results, weights=(6, 1, 3, 2, 2, 1))[0]
            timed.append(
                (
                    at,
                    n,
                    CallPlaced(
                        at=at, call_id=call, lead_id=call, campaign=campaign, phone="+33100000000"
                    ),
                )
            )
            timed.append(
                (
                    at + 5,
                    n,
                    CallResulted(
                        at=at + 5, call_id=call, lead_id=call, campaign=campaign, result=result
                    ),
                )
            )
            if campaign != "renewals":
                continue
            placed.append((at, result))
            if result is not CallResult.CONNECTED:
                continue
            answers = [
                ("satisfaction", str(rng.randint(1, 5))),
                ("recommend", rng.choice(("yes", "no"))),
            ]
            if rng.random() < 0.2:
                answers.insert(0, ("satisfaction", "1"))  # changed afterwards: the last counts
            for k, (question, value) in enumerate(answers):
                timed.append(
                    (
                        at + 10 + k,
                        n,
                        AnswerRecorded(
                            at=at + 10 + k,
                            questionnaire="renewals-2026",
                            contact_id=call,
                            lead_id=call,
                            question=question,
                            value=value,
                        ),
                    )
                )
    timed.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in timed], placed
