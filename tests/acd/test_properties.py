"""The ACD's promises, proven over random operation sequences (hypothesis stateful)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from callcenter_sdk.testing import EngineMachine


class LongestIdleMachine(EngineMachine):
    """The default strategy under random load."""


class RingAllMachine(EngineMachine):
    """Ring-all: several offers per contact, the first answer wins."""

    strategy = "ring-all"


_SETTINGS = settings(
    max_examples=1000,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestLongestIdle = LongestIdleMachine.TestCase
TestLongestIdle.settings = _SETTINGS
TestRingAll = RingAllMachine.TestCase
TestRingAll.settings = settings(_SETTINGS, max_examples=300)
