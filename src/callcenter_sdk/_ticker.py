"""One real-time loop for every core the application drives.

A pure core never sleeps: it says when it next needs the time
(``next_deadline()``) and does what is due when asked (``tick()``). The
:class:`Ticker` is the one task that sleeps until the earliest deadline of
every part it drives, or until an input may have moved one (:meth:`Ticker.wake`),
and then ticks each part that is due. The ACD engine, the ticket SLA clock,
scheduled callbacks and the live dialer's timers all run on it, so a
deployment has one loop per kind of time instead of one per part (trio's
run loop keeps its deadlines the same way).

Virtual time has its own loop, in :mod:`callcenter_sdk.sim`.

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.lowlevel

from ._clock import Clock
from ._errors import CallCenterError, StateError

if TYPE_CHECKING:
    from anyio.abc import TaskStatus

__all__ = ["Ticker", "Timed"]

_log = logging.getLogger(__name__)


class Timed(Protocol):
    """A part with timers: when it next needs the time, and what to do then."""

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`tick` has something to do, ``None`` if nothing waits."""
        ...

    def tick(self) -> Awaitable[None]:
        """Do everything due now (called at or after :meth:`next_deadline`)."""
        ...


class Ticker:
    """Sleeps until the earliest deadline of the parts it drives, then ticks them.

    Args:
        clock: The clock deadlines are measured on (a wall clock, live).
        idle: The longest it sleeps without a deadline or a wake, in seconds
            (``math.inf``: only deadlines and wakes end a sleep).
    """

    def __init__(self, clock: Clock, *, idle: float = math.inf) -> None:
        self._clock = clock
        self._idle = idle
        self._parts: list[Timed] = []
        self._wake = anyio.Event()
        self._running = False

    def add(self, part: Timed) -> Callable[[], None]:
        """Drive ``part`` from now on; return the function that stops driving it."""
        self._parts.append(part)
        self.wake()

        def remove() -> None:
            if part in self._parts:
                self._parts.remove(part)

        return remove

    def wake(self) -> None:
        """An input may have moved a deadline: look again now."""
        self._wake.set()

    def next_deadline(self) -> float | None:
        """The earliest deadline of every part, ``None`` if none waits."""
        deadlines = [d for p in self._parts if (d := p.next_deadline()) is not None]
        return min(deadlines, default=None)

    async def tick(self) -> bool:
        """Tick every part that is due now; return whether one was.

        A part whose tick raises a :class:`~callcenter_sdk.CallCenterError`
        is logged and the others still run: one part's trouble never stops
        the clock of the rest.
        """
        now = self._clock.now()
        due = [p for p in list(self._parts) if (d := p.next_deadline()) is not None and d <= now]
        for part in due:
            try:
                await part.tick()
            except CallCenterError:
                _log.exception("a timer of %r failed", part)
        return bool(due)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Tick the parts on time, forever (until cancelled)."""
        if self._running:
            raise StateError("this ticker is already running")
        self._running = True
        task_status.started()
        try:
            while True:
                self._wake = anyio.Event()
                if await self.tick():
                    await anyio.lowlevel.checkpoint()  # inputs run between rounds
                    continue
                deadline = self.next_deadline()
                delay = math.inf if deadline is None else deadline - self._clock.now()
                delay = min(delay, self._idle)
                if delay > 0:
                    with anyio.move_on_after(delay):
                        await self._wake.wait()
        finally:
            self._running = False
