"""The ACD's promises, proven over random operation sequences (hypothesis stateful).

Each machine runs the public :class:`callcenter_sdk.testing.EngineMachine`,
which checks after every step: no contact lost or duplicated, never offered
to an agent who is not ready or at capacity, no agent double-booked, FIFO
among equal priority in a queue, each contact ending exactly once, and only
legal agent transitions.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from hypothesis import HealthCheck, settings

from callcenter_sdk import acd
from callcenter_sdk.testing import EngineMachine


class LongestIdleMachine(EngineMachine):
    """The default strategy under random load."""


class RingAllMachine(EngineMachine):
    """Ring-all: several offers per contact, the first answer wins."""

    strategy = "ring-all"


class _Chaos:
    """A plugin that cycles through raising, lying, repeating itself and answering well."""

    index_key: acd.IndexKey | None = None
    ring = False

    def __init__(self) -> None:
        self._moods = itertools.cycle(["raise", "stranger", "twice", "good", "empty"])

    def select(self, request: acd.RoutingRequest) -> Sequence[str]:
        mood = next(self._moods)
        if mood == "raise":
            raise RuntimeError("chaos")
        if mood == "stranger":
            return ["nobody"]
        if mood == "twice":
            return [request.candidates[0].agent_id] * 2
        if mood == "empty":
            return []
        return [request.candidates[-1].agent_id]


def _chaos(options: Mapping[str, object]) -> acd.RoutingStrategy:
    return _Chaos()


class ChaosMachine(EngineMachine):
    """A misbehaving plugin never breaks a promise: the fallback decides."""

    strategy = "chaos"
    strategies = MappingProxyType({**acd.BUILTIN_STRATEGIES, "chaos": _chaos})


class RoundRobinMachine(EngineMachine):
    """Round-robin with memory, an index scanned from a moving start."""

    strategy = "round-robin"


_SETTINGS = settings(
    max_examples=1000,
    stateful_step_count=16,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestLongestIdle = LongestIdleMachine.TestCase
TestLongestIdle.settings = _SETTINGS
TestRingAll = RingAllMachine.TestCase
TestRingAll.settings = settings(_SETTINGS, max_examples=200)
TestChaos = ChaosMachine.TestCase
TestChaos.settings = settings(_SETTINGS, max_examples=150)
TestRoundRobin = RoundRobinMachine.TestCase
TestRoundRobin.settings = settings(_SETTINGS, max_examples=100)
