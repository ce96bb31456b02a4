"""One virtual-time loop for every simulation.

A simulation is two kinds of timed things. The simulated world schedules
*happenings*: a caller arrives, an agent's phone is answered, a line is busy,
a customer hangs up. The pure cores it drives (the ACD engine, the dialer's
campaign core) have *deadlines*: each says when it next needs the time
(``next_deadline()``) and does what is due when asked (``tick()``), exactly as
under the real-time :class:`~callcenter_sdk.Ticker`. :class:`VirtualLoop`
jumps a :class:`~callcenter_sdk.ManualClock` to whichever comes first and
runs it, so an eight-hour day takes a fraction of a second and the same seed
gives the same run.

At one instant a core's deadline goes before the happenings, and happenings
go in the order they were scheduled: a heap of ``(time, sequence, callback,
argument)``. The sequence also numbers the simulated contacts
(:meth:`VirtualLoop.number`), so their ids are unique and follow the order in
which things happened.

.. versionadded:: 0.2
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .._clock import ManualClock

__all__ = ["CoreFunctions", "SimulatedCore", "VirtualLoop"]

_T = TypeVar("_T")


class SimulatedCore(Protocol):
    """A core driven in virtual time: when it next needs the time, and what it does then."""

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`tick` has something to do, ``None`` if nothing waits."""
        ...

    def tick(self) -> None:
        """Do what is due now (called at :meth:`next_deadline`)."""
        ...


class CoreFunctions:
    """A core given as its two functions, which the loop then calls with no method in between.

    The loop asks for the next deadline after every happening: for the
    engine, a bound ``engine.next_deadline`` spares the simulator a wrapper
    call per happening.
    """

    __slots__ = ("next_deadline", "tick")

    def __init__(self, next_deadline: Callable[[], float | None], tick: Callable[[], None]) -> None:
        self.next_deadline = next_deadline
        self.tick = tick


class _Earliest:
    """Several cores seen as one: the earliest deadline, and that core's tick."""

    def __init__(self, cores: list[SimulatedCore]) -> None:
        self._cores = cores

    def _due(self) -> tuple[float | None, SimulatedCore | None]:
        first: tuple[float | None, SimulatedCore | None] = (None, None)
        for core in self._cores:
            due = core.next_deadline()
            if due is not None and (first[0] is None or due < first[0]):
                first = (due, core)
        return first

    def next_deadline(self) -> float | None:
        return self._due()[0]

    def tick(self) -> None:
        core = self._due()[1]
        if core is not None:
            core.tick()


class VirtualLoop:
    """Runs happenings and the deadlines of the cores it drives, in virtual-time order.

    Args:
        clock: The clock it moves (the cores read their time from it).
    """

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Callable[[Any], object], Any]] = []
        self._seq = 0
        self._cores: list[SimulatedCore] = []

    @property
    def clock(self) -> ManualClock:
        """The virtual clock."""
        return self._clock

    def drive(self, core: SimulatedCore) -> None:
        """Tick ``core`` at its deadlines from now on."""
        self._cores.append(core)

    def call_at(self, when: float, callback: Callable[[_T], object], arg: _T) -> None:
        """Schedule ``callback(arg)`` at ``when`` (after what is already due then)."""
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, callback, arg))

    def call_numbered(
        self, when: float, number: int, callback: Callable[[_T], object], arg: _T
    ) -> None:
        """Schedule ``callback(arg)`` at ``when`` in the place of ``number`` (from :meth:`number`).

        For a happening its driver held back: it runs where it would have had
        :meth:`call_at` been called when the number was taken.
        """
        heapq.heappush(self._heap, (when, number, callback, arg))

    def number(self) -> int:
        """Take the next number of the loop's sequence (an id for a simulated contact)."""
        self._seq += 1
        return self._seq

    def nothing_due_by(self, when: float) -> bool:
        """Whether no happening and no core deadline is due at or before ``when``.

        A happening scheduled at ``when`` now would then be the very next one run.
        """
        heap = self._heap
        if heap and heap[0][0] <= when:
            return False
        for core in self._cores:
            due = core.next_deadline()
            if due is not None and due <= when:
                return False
        return True

    def next_deadline(self) -> float | None:
        """When the next happening or core deadline is due, ``None`` when nothing is left."""
        times = [d for c in self._cores if (d := c.next_deadline()) is not None]
        if self._heap:
            times.append(self._heap[0][0])
        return min(times, default=None)

    def run(self, until: float = math.inf) -> None:
        """Run everything due up to ``until`` (all of it by default), in time order.

        The clock is left at the last time run; a happening or deadline due
        later stays for the next call.
        """
        if not self._cores:
            core: SimulatedCore = _Earliest([])
        else:
            core = self._cores[0] if len(self._cores) == 1 else _Earliest(self._cores)
        clock, heap, pop = self._clock, self._heap, heapq.heappop
        deadline, tick = core.next_deadline, core.tick
        now = clock.now()
        while True:
            due = deadline()
            if heap and (due is None or heap[0][0] < due):
                if heap[0][0] > until:
                    return
                when, _, callback, arg = pop(heap)
                if when > now:
                    clock.set(when)
                    now = when
                callback(arg)
            elif due is not None and due <= until:
                if due > now:
                    clock.set(due)
                    now = due
                tick()
            else:
                return
