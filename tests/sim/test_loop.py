"""The one virtual-time loop: happenings and core deadlines in time order, ties settled."""

from __future__ import annotations

from callcenter_sdk import ManualClock
from callcenter_sdk.sim._loop import VirtualLoop


class _Core:
    """A core with fixed deadlines that notes when it was ticked."""

    def __init__(self, name: str, clock: ManualClock, log: list[str], *deadlines: float) -> None:
        self.name, self.clock, self.log = name, clock, log
        self.deadlines = sorted(deadlines)

    def next_deadline(self) -> float | None:
        return self.deadlines[0] if self.deadlines else None

    def tick(self) -> None:
        self.deadlines.pop(0)
        self.log.append(f"{self.name}@{self.clock.now():g}")


def test_happenings_and_deadlines_run_in_time_order_with_cores_first_at_a_tie() -> None:
    """The clock jumps from one time to the next; at one instant the core's deadline goes
    first, then the happenings in the order they were scheduled (also those scheduled
    for that instant while it runs)."""
    clock = ManualClock(0.0)
    loop = VirtualLoop(clock)
    log: list[str] = []
    loop.drive(_Core("core", clock, log, 5.0, 12.0))

    def happen(what: str) -> None:
        log.append(f"{what}@{clock.now():g}")
        if what == "b":
            loop.call_at(clock.now(), happen, "c")

    loop.call_at(5.0, happen, "a")
    loop.call_at(5.0, happen, "b")
    loop.call_at(1.0, happen, "first")
    loop.run()
    assert log == ["first@1", "core@5", "a@5", "b@5", "c@5", "core@12"]
    assert clock.now() == 12.0
    assert loop.next_deadline() is None


def test_run_until_stops_before_later_times_and_several_cores_take_turns() -> None:
    """run(until=t) leaves what is due after t for the next call; of several cores the
    one due first ticks first; numbers drawn from the sequence are unique and rising."""
    clock = ManualClock(0.0)
    loop = VirtualLoop(clock)
    log: list[str] = []
    loop.drive(_Core("x", clock, log, 3.0, 9.0))
    loop.drive(_Core("y", clock, log, 4.0))
    loop.call_at(8.0, log.append, "h")
    loop.run(until=5.0)
    assert log == ["x@3", "y@4"]
    assert (clock.now(), loop.next_deadline()) == (4.0, 8.0)
    loop.run()
    assert log == ["x@3", "y@4", "h", "x@9"]
    numbers = [loop.number() for _ in range(3)]
    assert numbers == sorted(set(numbers))


def test_a_happening_held_back_runs_in_the_place_of_the_number_it_took() -> None:
    """call_numbered puts a happening where call_at would have put it when its number was
    taken: ahead of one scheduled for the same instant after that number."""
    clock = ManualClock(0.0)
    loop = VirtualLoop(clock)
    log: list[str] = []
    held = loop.number()
    loop.call_at(2.0, log.append, "later")
    loop.call_numbered(2.0, held, log.append, "held")
    loop.run()
    assert log == ["held", "later"]


def test_nothing_due_by_sees_happenings_and_core_deadlines() -> None:
    """nothing_due_by(t) is false while a happening or a core's deadline is due at or
    before t, and true once both are later."""
    clock = ManualClock(0.0)
    loop = VirtualLoop(clock)
    log: list[str] = []
    loop.drive(_Core("core", clock, log, 4.0))
    loop.call_at(6.0, log.append, "h")
    assert loop.nothing_due_by(3.9)
    assert not loop.nothing_due_by(4.0)  # the core's deadline
    loop.run(until=4.0)
    assert loop.nothing_due_by(5.9)
    assert not loop.nothing_due_by(6.0)  # the happening
