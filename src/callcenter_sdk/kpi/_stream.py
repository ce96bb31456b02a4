"""A streaming KPI aggregator for wallboards: O(1) work per record.

:class:`KpiStream` keeps running counters per group (reporting interval,
queue, campaign, team or agent) and answers the same figures as the batch
functions of :mod:`._contacts` without keeping the records. A property test
checks that, for any records, the stream and the batch functions agree.

Contacts still waiting are tracked separately so the wallboard can show the
*current* longest wait: arrivals are kept in arrival order and the oldest still
waiting is found by dropping, from the front, those that have left (amortized
O(1) when records arrive in time order, as events do).

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterator, Sequence

import attrs

from .._errors import ValidationError
from ._agents import AVAILABLE, HANDLING
from ._contacts import OFFERED_OUTCOMES, ServiceLevelVariant
from ._grouping import GROUP_FIELDS, INTERVAL_FIELDS, interval_start
from ._records import AgentInterval, ContactRecord, Direction, IntervalState, Outcome, member

__all__ = ["KpiStream", "StreamFigures"]


@attrs.define
class StreamFigures:
    """Running counters of one group, and the KPIs they give.

    Ratios are ``None`` when their denominator is zero, exactly like the batch
    functions.

    Attributes:
        threshold_s: The service-level threshold T, seconds.
        short_abandon_s: Abandons that waited less than this are short.
        offered: Offered contacts (answered, abandoned, overflowed, timed out).
        answered: Offered contacts answered.
        abandoned: Offered contacts abandoned.
        answered_within: Answered with a wait of at most T.
        abandoned_within: Abandoned with a wait of at most T.
        short_abandons: Abandoned with a wait below ``short_abandon_s``.
        answered_wait_s: Total wait of the answered contacts.
        offered_wait_s: Total wait of all offered contacts.
        longest_wait_s: Longest wait of an offered contact, or ``None``.
        handled: Answered contacts of either direction (handle-time base).
        talk_s: Total talk time of handled contacts.
        hold_s: Total hold time of handled contacts.
        wrap_s: Total wrap-up time of handled contacts.
        handling_s: Agent seconds busy or in wrap-up (from agent intervals).
        available_s: Agent seconds ready or reserved.
        logged_in_s: Agent seconds in any state but offline.
    """

    threshold_s: float
    short_abandon_s: float
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within: int = 0
    abandoned_within: int = 0
    short_abandons: int = 0
    answered_wait_s: float = 0.0
    offered_wait_s: float = 0.0
    longest_wait_s: float | None = None
    handled: int = 0
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_s: float = 0.0
    handling_s: float = 0.0
    available_s: float = 0.0
    logged_in_s: float = 0.0

    def add(self, record: ContactRecord) -> None:
        """Count one finished record (O(1))."""
        if record.outcome is Outcome.ANSWERED:
            self.handled += 1
            self.talk_s += record.talk_s
            self.hold_s += record.hold_s
            self.wrap_s += record.wrap_s
        if record.direction is not Direction.INBOUND or record.outcome not in OFFERED_OUTCOMES:
            return
        wait = record.wait_s or 0.0
        self.offered += 1
        self.offered_wait_s += wait
        if self.longest_wait_s is None or wait > self.longest_wait_s:
            self.longest_wait_s = wait
        if record.outcome is Outcome.ANSWERED:
            self.answered += 1
            self.answered_wait_s += wait
            self.answered_within += wait <= self.threshold_s
        elif record.outcome is Outcome.ABANDONED:
            self.abandoned += 1
            self.abandoned_within += wait <= self.threshold_s
            self.short_abandons += wait < self.short_abandon_s

    def service_level(
        self, variant: ServiceLevelVariant | str = ServiceLevelVariant.OFFERED
    ) -> float | None:
        """The service level at this stream's threshold, by variant (see ``service_level``)."""
        kind = member(ServiceLevelVariant, "variant", variant, ValidationError)
        num, den = self.answered_within, self.offered
        if kind is ServiceLevelVariant.ANSWERED:
            den = self.answered
        elif kind is ServiceLevelVariant.OFFERED_EXCLUDING_SHORT_ABANDONS:
            den = self.offered - self.short_abandons
        elif kind is ServiceLevelVariant.ABANDONS_MET:
            num += self.abandoned_within
        elif kind is ServiceLevelVariant.ABANDONS_EXCLUDED:
            den = self.offered - self.abandoned_within
        return num / den if den else None

    def abandon_rate(self, *, exclude_short: bool = False) -> float | None:
        """Abandoned over offered; ``exclude_short`` leaves short abandons out of both.

        The default matches ``abandon_rate(records)``; ``exclude_short=True``
        matches ``abandon_rate(records, short_abandon_s=...)`` at this stream's threshold.
        """
        short = self.short_abandons if exclude_short else 0
        den = self.offered - short
        return (self.abandoned - short) / den if den else None

    @property
    def asa(self) -> float | None:
        """Mean wait of answered contacts."""
        return self.answered_wait_s / self.answered if self.answered else None

    @property
    def average_wait(self) -> float | None:
        """Mean wait of all offered contacts."""
        return self.offered_wait_s / self.offered if self.offered else None

    def add_state(self, state: IntervalState, seconds: float) -> None:
        """Count ``seconds`` an agent spent in ``state`` (O(1))."""
        if state in HANDLING:
            self.handling_s += seconds
        elif state in AVAILABLE:
            self.available_s += seconds
        if state is not IntervalState.OFFLINE:
            self.logged_in_s += seconds

    @property
    def occupancy(self) -> float | None:
        """Handling over handling plus available time (see ``occupancy``)."""
        den = self.handling_s + self.available_s
        return self.handling_s / den if den > 0 else None

    @property
    def utilization(self) -> float | None:
        """Handling over logged-in time (see ``utilization``)."""
        return self.handling_s / self.logged_in_s if self.logged_in_s > 0 else None

    @property
    def aht(self) -> float | None:
        """Mean talk + hold + wrap-up of handled contacts."""
        if not self.handled:
            return None
        return (self.talk_s + self.hold_s + self.wrap_s) / self.handled


class KpiStream:
    """Real-time KPIs updated record by record, grouped like ``group_records``.

    Feed it every record once it is final (and, optionally, ``WAITING`` records
    as contacts join a queue); read :meth:`figures` and
    :meth:`current_longest_wait` at any time.

    Args:
        threshold_s: Service-level threshold T in seconds.
        short_abandon_s: Abandons shorter than this are short abandons.
        by: Record fields to group by (``queue``, ``campaign``, ``team``, ``agent``...).
        interval_s: Also group by arrival interval of this length (900, 1800, 3600).
        origin: Where intervals are counted from (e.g. midnight).
    """

    def __init__(
        self,
        *,
        threshold_s: float = 20.0,
        short_abandon_s: float = 5.0,
        by: Sequence[str] = (),
        interval_s: float | None = None,
        origin: float = 0.0,
    ) -> None:
        for name in by:
            if name not in GROUP_FIELDS:
                raise ValidationError(f"cannot group by {name!r}; choose from {GROUP_FIELDS}")
        if threshold_s < 0 or short_abandon_s < 0:
            raise ValidationError("thresholds must be >= 0 seconds")
        self._threshold = threshold_s
        self._short = short_abandon_s
        self._by = tuple(by)
        self._interval = interval_s
        self._origin = origin
        self._groups: dict[tuple[Hashable, ...], StreamFigures] = {}
        self._queued: dict[tuple[Hashable, ...], list[tuple[float, str]]] = {}
        self._heads: dict[tuple[Hashable, ...], int] = {}
        self._waiting: dict[str, tuple[Hashable, ...]] = {}

    def key(self, record: ContactRecord) -> tuple[Hashable, ...]:
        """The group a record belongs to: ``(interval_start, *fields)`` or ``(*fields,)``."""
        key: tuple[Hashable, ...] = tuple(getattr(record, name) for name in self._by)
        if self._interval is not None:
            key = (interval_start(record.arrived_at, self._interval, self._origin), *key)
        return key

    def add(self, record: ContactRecord) -> None:
        """Account for one record: O(1) (amortized for waiting contacts)."""
        key = self.key(record)
        if record.outcome is Outcome.WAITING:
            if record.direction is Direction.INBOUND and record.contact_id not in self._waiting:
                self._waiting[record.contact_id] = key
                queue = self._queued.setdefault(key, [])
                item = (record.arrived_at, record.contact_id)
                if queue and item < queue[-1]:
                    bisect.insort(queue, item, lo=self._heads.get(key, 0))
                else:
                    queue.append(item)
            return
        self._waiting.pop(record.contact_id, None)
        self._group(key).add(record)

    def add_interval(self, interval: AgentInterval) -> None:
        """Account for one finished agent-state interval.

        With ``interval_s`` the time is split across the reporting intervals it
        spans (O(1) per reporting interval). Grouping by ``channel`` or
        ``direction`` does not apply to agents: those keys are ``None``.
        Open intervals (``end is None``) are ignored: add them once closed.
        """
        if interval.end is None:
            return
        fields = tuple(
            getattr(interval, name) if name in INTERVAL_FIELDS else None for name in self._by
        )
        if self._interval is None:
            self._group(fields).add_state(interval.state, interval.end - interval.start)
            return
        slot = interval_start(interval.start, self._interval, self._origin)
        while True:
            piece = min(interval.end, slot + self._interval) - max(interval.start, slot)
            self._group((slot, *fields)).add_state(interval.state, max(0.0, piece))
            slot += self._interval
            if slot >= interval.end:
                break

    def _group(self, key: tuple[Hashable, ...]) -> StreamFigures:
        figures = self._groups.get(key)
        if figures is None:
            figures = self._groups[key] = StreamFigures(self._threshold, self._short)
        return figures

    def figures(self, key: tuple[Hashable, ...] = ()) -> StreamFigures:
        """The live counters of a group (an empty one if nothing was seen for it)."""
        return self._groups.get(key) or StreamFigures(self._threshold, self._short)

    def keys(self) -> Iterator[tuple[Hashable, ...]]:
        """Every group that has counted a finished record or agent interval."""
        return iter(self._groups)

    def current_longest_wait(self, now: float, key: tuple[Hashable, ...] = ()) -> float | None:
        """How long the oldest contact still waiting in the group has waited; ``None`` if none."""
        queue = self._queued.get(key)
        if not queue:
            return None
        head = self._heads.get(key, 0)
        while head < len(queue) and self._waiting.get(queue[head][1]) != key:
            head += 1
        if head > 64 and head * 2 > len(queue):
            del queue[:head]
            head = 0
        self._heads[key] = head
        if head >= len(queue):
            return None
        return max(0.0, now - queue[head][0])
