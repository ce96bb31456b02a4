"""The wallboard's figures: today's queues and agents, folded from the event log.

The log is the truth for figures as for live events: :class:`Tally` reads it
after the last sequence number it folded (at most ``start_window`` events
back at its first read), so every process serving the wallboard counts the
same calls, whoever published them, and a restart counts the day again.
The ACD engine's live status adds what the log does not hold as a number
(who waits now, the longest wait, each agent's state).

A queue's figures, for contacts that left it today:

* **service level** = answered within the queue's threshold /
  (answered + abandoned − short abandons): the ``kpi`` variant
  ``OFFERED_EXCLUDING_SHORT_ABANDONS`` over contacts whose wait is over;
* **ASA** = total wait of the answered / answered;
* **abandon rate** = (abandoned − short abandons) / (answered + abandoned −
  short abandons); short abandons (waited under ``short_abandon`` seconds)
  are named beside it, never hidden.

"Today" is the server's local calendar day of the center's clock; intervals
are ``interval`` seconds long (15 minutes) from local midnight.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.to_thread
import attrs

from .._events import Event
from ..acd import (
    AgentState,
    AgentStateChanged,
    ContactAbandoned,
    ContactConnected,
    ContactEnteredQueue,
)
from ..store import EventLog

__all__ = ["Tally", "WallboardSettings"]


def _default_stuck() -> Mapping[str, float]:
    return {"not_ready": 1800.0, "reserved": 60.0, "busy": 1800.0, "wrap_up": 300.0}


@attrs.frozen
class WallboardSettings:
    """What the wallboard counts and when it raises an alert.

    Attributes:
        service_level_target: The share of contacts answered within the
            queue's threshold under which a queue is flagged.
        longest_wait_alert: Seconds a caller may wait before the queue is flagged.
        stuck_after: Seconds an agent may stay in a state (by state value)
            before being flagged; a state not named is never flagged.
        short_abandon: A caller hanging up within this many seconds is a
            short abandon (a wrong number, a caller who changed their mind).
        interval: Seconds per interval of the service-level chart.
        start_window: Events read back from the log's end at the first look.
    """

    service_level_target: float = 0.8
    longest_wait_alert: float = 60.0
    stuck_after: Mapping[str, float] = attrs.field(factory=_default_stuck)
    short_abandon: float = 5.0
    interval: float = 900.0
    start_window: int = 200_000


@attrs.define
class _Counts:
    answered: int = 0
    answered_in_time: int = 0
    waited: float = 0.0
    abandoned: int = 0
    short_abandons: int = 0

    def counted(self) -> int:
        return self.answered + self.abandoned - self.short_abandons

    def figures(self) -> dict[str, Any]:
        counted = self.counted()
        return {
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandons": self.short_abandons,
            "service_level": self.answered_in_time / counted if counted else None,
            "asa": self.waited / self.answered if self.answered else None,
            "abandon_rate": (self.abandoned - self.short_abandons) / counted if counted else None,
        }


def _day(at: float) -> datetime.date:
    return datetime.datetime.fromtimestamp(at).date()  # noqa: DTZ006 - the server's local day


def _midnight(at: float) -> float:
    day = _day(at)
    return datetime.datetime(day.year, day.month, day.day).timestamp()  # noqa: DTZ001


class Tally:
    """Today's per-queue counts and each agent's last state change, from the event log.

    Args:
        log: The center's event log.
        settings: Thresholds and the interval.
    """

    def __init__(self, log: EventLog, settings: WallboardSettings) -> None:
        self._log = log
        self.settings = settings
        self._cursor: int | None = None
        self._lock = anyio.Lock()
        self._day: datetime.date | None = None
        self._queues: dict[str, _Counts] = {}
        self._intervals: dict[str, dict[int, _Counts]] = {}
        self._threshold: dict[str, float] = {}  # contact -> its queue's service-level threshold
        self.since: dict[str, float] = {}
        """When each agent entered their current state (the log's time)."""

    async def catch_up(self) -> None:
        """Fold the events written since the last look (one reader at a time)."""
        async with self._lock:
            if self._cursor is None:
                last = await anyio.to_thread.run_sync(self._log.last_seq)
                self._cursor = max(0, last - self.settings.start_window)
            while True:
                read = functools.partial(self._log.read, after=self._cursor, limit=2_000)
                rows = await anyio.to_thread.run_sync(read)
                for row in rows:
                    self._fold(row.event)
                    self._cursor = row.seq
                if len(rows) < 2_000:
                    return

    def _fold(self, event: Event) -> None:
        if isinstance(event, AgentStateChanged):
            self.since[event.agent_id] = event.at
            return
        if isinstance(event, ContactEnteredQueue):
            self._threshold[event.contact_id] = event.service_level_threshold
            if len(self._threshold) > 100_000:
                self._threshold.pop(next(iter(self._threshold)))
            return
        if not isinstance(event, ContactConnected | ContactAbandoned):
            return
        day = _day(event.at)
        if day != self._day:
            self._day, self._queues, self._intervals = day, {}, {}
        slot = int((event.at - _midnight(event.at)) // self.settings.interval)
        for counts in (
            self._queues.setdefault(event.queue, _Counts()),
            self._intervals.setdefault(event.queue, {}).setdefault(slot, _Counts()),
        ):
            if isinstance(event, ContactConnected):
                counts.answered += 1
                counts.waited += event.waited
                if event.waited <= self._threshold.get(event.contact_id, 20.0):
                    counts.answered_in_time += 1
            else:
                counts.abandoned += 1
                if event.waited < self.settings.short_abandon:
                    counts.short_abandons += 1

    def queue(self, queue: str, now: float) -> dict[str, Any]:
        """Today's figures of ``queue``, this interval's service level and the chart's points."""
        today = self._day == _day(now)
        counts = self._queues.get(queue) if today else None
        slots = self._intervals.get(queue, {}) if today else {}
        current = int((now - _midnight(now)) // self.settings.interval)
        chart = [
            {
                "start": _midnight(now) + slot * self.settings.interval,
                "service_level": c.figures()["service_level"],
                "counted": c.counted(),
            }
            for slot, c in sorted(slots.items())
        ]
        this = slots.get(current)
        return {
            **(counts or _Counts()).figures(),
            "service_level_interval": this.figures()["service_level"] if this else None,
            "chart": chart,
        }

    def stuck(self, state: AgentState, since: float | None, now: float) -> bool:
        """Whether an agent in ``state`` since ``since`` has been there too long."""
        limit = self.settings.stuck_after.get(state.value)
        return limit is not None and since is not None and now - since > limit
