"""The ticker: one real-time loop ticking every part when it is due."""

from __future__ import annotations

import math

import anyio
import pytest

import callcenter_sdk as cc


class _Alarm:
    """A part with a list of deadlines; each tick drops those due and notes when."""

    def __init__(self, clock: cc.ManualClock, *deadlines: float, fail: bool = False) -> None:
        self.clock = clock
        self.deadlines = sorted(deadlines)
        self.fired: list[float] = []
        self.fail = fail
        self.rang = anyio.Event()

    def next_deadline(self) -> float | None:
        return self.deadlines[0] if self.deadlines else None

    async def tick(self) -> None:
        now = self.clock.now()
        while self.deadlines and self.deadlines[0] <= now:
            self.fired.append(self.deadlines.pop(0))
            self.rang.set()
        if self.fail:
            raise cc.StateError("this part's timer broke")


async def test_each_part_ticks_only_when_due_and_a_failing_part_spares_the_others() -> None:
    """tick() runs exactly the parts whose deadline passed; one raising does not stop another."""
    clock = cc.ManualClock()
    ticker = cc.Ticker(clock)
    early, late = _Alarm(clock, 5, 20), _Alarm(clock, 10, fail=True)
    ticker.add(early)
    remove = ticker.add(late)
    assert ticker.next_deadline() == 5
    assert not await ticker.tick()
    clock.set(12)
    assert await ticker.tick()
    assert early.fired == [5]
    assert late.fired == [10]
    assert ticker.next_deadline() == 20
    remove()
    late.deadlines.append(15)
    assert ticker.next_deadline() == 20


async def test_the_loop_sleeps_until_the_deadline_and_wakes_on_input() -> None:
    """run() ticks a part at its deadline on the wall clock, and a wake makes it look again."""
    clock = cc.WallClock()
    ticker = cc.Ticker(clock)
    alarm = _Alarm(clock, clock.now() + 0.05)  # type: ignore[arg-type]
    async with anyio.create_task_group() as tg:
        await tg.start(ticker.run)
        ticker.add(alarm)
        with anyio.fail_after(30):
            await alarm.rang.wait()
        added = _Alarm(clock, clock.now())  # type: ignore[arg-type]
        ticker.add(added)  # wakes the sleeping loop: the new deadline is due now
        with anyio.fail_after(30):
            await added.rang.wait()
        with pytest.raises(cc.StateError):
            await ticker.run()
        tg.cancel_scope.cancel()
    assert math.isfinite(alarm.fired[0])
