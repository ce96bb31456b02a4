"""Clocks: the only source of time in the core."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import callcenter_sdk as cc


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=50))
def test_manual_clock_moves_only_forward_by_the_steps_given(steps: list[float]) -> None:
    """A manual clock's time is its start plus the sum of the advances."""
    clock = cc.ManualClock(10.0)
    for step in steps:
        before = clock.now()
        assert clock.advance(step) >= before
    assert clock.now() == pytest.approx(10.0 + sum(steps))


def test_manual_clock_refuses_to_go_back() -> None:
    """Going back in time would reorder events; it is refused."""
    clock = cc.ManualClock(5.0)
    with pytest.raises(cc.ValidationError):
        clock.advance(-1)
    with pytest.raises(cc.ValidationError):
        clock.set(4.0)
    clock.set(6.0)
    assert clock.now() == 6.0


def test_wall_clock_is_epoch_seconds_and_monotonic() -> None:
    """The wall clock reads epoch seconds and never decreases between reads."""
    clock = cc.WallClock()
    first = clock.now()
    assert abs(first - time.time()) < 5
    readings = [clock.now() for _ in range(1000)]
    assert readings == sorted(readings)
    assert isinstance(clock, cc.Clock)
    assert isinstance(cc.ManualClock(), cc.Clock)
