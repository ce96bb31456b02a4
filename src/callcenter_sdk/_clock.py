"""Time, injected: the core reads the time only through a :class:`Clock`.

Live deployments use :class:`WallClock`; tests and the simulator use
:class:`ManualClock`, which only moves when told to. Times are float seconds;
for the wall clock they are seconds since the Unix epoch, for a manual clock
they are whatever origin the caller picks (0.0 by default).

.. versionadded:: 0.1
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from ._errors import ValidationError

__all__ = ["Clock", "ManualClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that can tell the current time in seconds."""

    def now(self) -> float:
        """Return the current time in seconds."""
        ...


class WallClock:
    """The real time, in seconds since the epoch, never going backwards.

    ``time.time()`` can step back when the system clock is corrected; events
    stamped out of order would break every KPI computed from them, so the wall
    clock anchors once on ``time.time()`` and then advances with
    ``time.monotonic()``.
    """

    def __init__(self) -> None:
        self._origin = time.time() - time.monotonic()

    def now(self) -> float:
        """Return the current time in seconds since the epoch."""
        return self._origin + time.monotonic()


class ManualClock:
    """A clock that moves only when told to: for tests and the simulator.

    Args:
        start: The initial time, in seconds.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        """Return the current manual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValidationError(f"a clock cannot go back: advance({seconds!r})")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        """Jump to ``when``, which must not be earlier than now."""
        if when < self._now:
            raise ValidationError(f"a clock cannot go back: {when!r} < {self._now!r}")
        self._now = float(when)
