"""Keeping the stored interval aggregates up to date with the event log.

:class:`IntervalAggregator` folds the event log into
:class:`~callcenter_sdk.store.AggregateCell` values, 15 minutes at a time,
with the same folding as every other report
(:func:`callcenter_sdk.runtime.call_center_records`) and the same
definitions as :mod:`callcenter_sdk.kpi`. Call :meth:`~IntervalAggregator.catch_up`
after events are written (``create_event_writer(..., after_write=aggregator.catch_up)``
does it after every batch); a report calls it first too, so it always counts
every written event.

**How it stays cheap and exact.** A contact's record is not final when it
arrives: it is answered later, its wrap-up ends later still. So a catch-up
folds again the *epoch*: the events since the start of the earliest
15-minute interval holding a contact that is not finished (still waiting or
talking, or its agent still in wrap-up), and replaces the cells from that
interval on. Cells before it are final and never read again. The epoch then
starts at that interval; the agents' states at its start are carried into it
as events (an interval of an agent is cut at a 15-minute boundary, which
changes no cell). A day of live traffic keeps the epoch to the last few
minutes; a contact left unfinished for hours (a callback due tomorrow) keeps
it open that long.

:meth:`~IntervalAggregator.rebuild` forgets the cells and folds the whole log
again, in chunks; the result equals the cells kept up to date event batch by
event batch (a test).

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import itertools
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from .._errors import CallCenterError, ConfigError
from .._events import Event, event_from_dict, event_to_dict
from ..acd import AgentState, AgentStateChanged, ContactEnteredQueue
from ..kpi import AgentInterval, ContactRecord, IntervalState, Outcome, clip, interval_start
from ..kpi import offered as offered_records
from ..org import Org
from ..runtime import call_center_records
from ..store import (
    COUNTS,
    SUMS,
    AggregateCell,
    AggregateState,
    IntervalAggregates,
    Store,
    scan_events,
)
from ._exact import partials
from ._figures import figures, pack_figures

__all__ = ["CELL_S", "IntervalAggregator", "cells_from_records", "summary_cells"]

CELL_S = 900.0
"""Length of a stored cell: 15 minutes, the shortest reporting interval."""

_HANDLING = frozenset({IntervalState.BUSY, IntervalState.WRAP_UP})
_AVAILABLE = frozenset({IntervalState.READY, IntervalState.RESERVED})
_CHUNK = 50_000


class _CollectorPause:
    """Pauses the cyclic garbage collector while folds run (internal).

    A fold makes millions of objects, none in a cycle (events, records,
    cells); each of them moves the collector on, and every full collection
    walks all of them again: half of a rebuild's time went there. Memory is
    still freed by reference counting. Folds of several aggregators may
    overlap: the collector resumes when the last one ends, if it was running
    when the first one began.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._resume = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._resume:
                    gc.enable()


_collector_paused = _CollectorPause()


class _Cell:
    """A cell being summed (internal)."""

    __slots__ = ("counts", "longest", "values")

    def __init__(self) -> None:
        self.counts = [0] * 7
        self.longest: float | None = None
        self.values: dict[str, list[float]] = {}


def _team_place(org: Org | None, agent: str) -> tuple[str, str, str]:
    """(team, campaign, organisation) of an agent, ``""`` where the org does not say."""
    if org is None:
        return "", "", ""
    with contextlib.suppress(CallCenterError):
        team = org.team_of(agent)
        if team is not None:
            campaign = team.campaign or ""
            organisation = ""
            if campaign:
                with contextlib.suppress(CallCenterError):
                    organisation = org.campaign(campaign).organisation or ""
            return team.id, campaign, organisation
    return "", "", ""


def cells_from_records(
    records: Sequence[ContactRecord],
    intervals: Iterable[AgentInterval],
    *,
    threshold_s: float,
    short_abandon_s: float,
    org: Org | None = None,
    since: float | None = None,
    now: float | None = None,
) -> list[AggregateCell]:
    """The cells of contact records and agent intervals, from ``since`` on.

    A contact counts in the cell of its arrival (like
    :func:`~callcenter_sdk.kpi.group_records`), at both levels; an agent's
    time is cut at cell boundaries with :func:`~callcenter_sdk.kpi.clip`
    (open intervals run to ``now``) and counts at the agent level under the
    agent's team and at the queue level under the queue it was about. The
    queue cells of each interval and queue are also added up into one
    ``"summary"`` cell (:func:`summary_cells`).
    """
    cells: dict[tuple[Any, ...], _Cell] = {}

    def pair(start: float, keys: tuple[str, str, str, str], team: str, agent: str) -> list[_Cell]:
        q = ("queue", start, *keys, "", "")
        a = ("agent", start, *keys, team, agent)
        found = cells.get(q)
        if found is None:
            found = cells[q] = _Cell()
        mine = cells.get(a)
        if mine is None:
            mine = cells[a] = _Cell()
        return [found, mine]

    offered = {id(r) for r in offered_records(records)}
    for r in records:
        start = interval_start(r.arrived_at, CELL_S)
        if since is not None and start < since:
            continue
        keys = (r.queue or "", r.campaign or "", r.organisation or "", r.channel.value)
        for cell in pair(start, keys, r.team or "", r.agent or ""):
            n = cell.counts
            if r.outcome is Outcome.ANSWERED:
                n[6] += 1
                cell.values.setdefault("talk", []).append(r.talk_s)
                cell.values.setdefault("hold", []).append(r.hold_s)
                cell.values.setdefault("wrap", []).append(r.wrap_s)
                cell.values.setdefault("handle", []).append(r.handle_s)
            if id(r) not in offered:
                continue
            wait = r.wait_s or 0.0
            n[0] += 1
            cell.values.setdefault("offered_wait", []).append(wait)
            if cell.longest is None or wait > cell.longest:
                cell.longest = wait
            if r.outcome is Outcome.ANSWERED:
                n[1] += 1
                n[3] += wait <= threshold_s
                cell.values.setdefault("answered_wait", []).append(wait)
            elif r.outcome is Outcome.ABANDONED:
                n[2] += 1
                n[4] += wait <= threshold_s
                n[5] += wait < short_abandon_s
    _add_agent_time(intervals, pair, org=org, since=since, now=now)
    made = [
        AggregateCell(
            level=key[0],
            start=key[1],
            queue=key[2],
            campaign=key[3],
            organisation=key[4],
            channel=key[5],
            team=key[6],
            agent=key[7],
            offered=cell.counts[0],
            answered=cell.counts[1],
            abandoned=cell.counts[2],
            answered_within=cell.counts[3],
            abandoned_within=cell.counts[4],
            short_abandons=cell.counts[5],
            handled=cell.counts[6],
            longest_wait=cell.longest,
            sums={name: partials(values) for name, values in cell.values.items()},
        )
        for key, cell in cells.items()
    ]
    return made + summary_cells(made)


def summary_cells(cells: Iterable[AggregateCell]) -> list[AggregateCell]:
    """The ``"summary"`` cells of queue cells: those of each interval and queue added up.

    Counts add, the longest wait is the longest, and each total's partials
    are the partials of the cells' partials, which are those of all their
    values (:func:`~callcenter_sdk.reports._exact.partials` depends only on
    the exact sum), so a summary is exactly the cell its queue cells would
    make together. Cells of other levels are left out. The summaries come
    by interval then queue, the order a report reads them in. Each carries
    its report row's figures, packed (:mod:`._figures`), for the report by
    15 minutes and queue to read as they are.

    .. versionadded:: 0.2
    """
    merged: dict[tuple[float, str], list[Any]] = {}
    for cell in cells:
        if cell.level != "queue":
            continue
        key = (cell.start, cell.queue)
        seen = merged.get(key)
        if seen is None:
            merged[key] = [[getattr(cell, n) for n in COUNTS], cell.longest_wait, [cell.sums]]
            continue
        counts = seen[0]
        for i, name in enumerate(COUNTS):
            counts[i] += getattr(cell, name)
        if cell.longest_wait is not None and (seen[1] is None or cell.longest_wait > seen[1]):
            seen[1] = cell.longest_wait
        seen[2].append(cell.sums)
    made = []
    for (start, queue), (counts, longest, parts) in sorted(merged.items()):
        sums = {
            name: partials([p for sums in parts for p in sums[name]])
            if len(parts) > 1
            else parts[0][name]
            for name in SUMS
        }
        totals = [math.fsum(sums[name]) for name in _ROW_TOTALS]
        made.append(
            AggregateCell(
                level="summary",
                start=start,
                queue=queue,
                **dict(zip(COUNTS, counts, strict=True)),
                longest_wait=longest,
                sums=sums,
                figures=pack_figures(figures(counts, longest, totals)),
            )
        )
    return made


_ROW_TOTALS = ("answered_wait", "offered_wait", "handle", "handling", "available", "logged_in")
"""The totals :func:`~._figures.figures` takes, in its order."""


_IGNORE = "reports.ignore"  # the carried entry naming visits frozen already


def _without(
    epoch: list[tuple[int | None, Event]], ignore: Mapping[str, float]
) -> list[tuple[int | None, Event]]:
    """The epoch without the events of visits counted in frozen cells.

    A contact that arrived before the epoch may still have events after its
    start (answered at 09:14, hung up at 09:16): its record is in a frozen
    cell, and folded again here its tail would make a second, broken record.
    Its events up to its end (``ignore``: contact id -> ended at) are left
    out; a later visit of the same contact starts with a new entry and stays.
    """
    if not ignore:
        return epoch
    get = ignore.get
    about = _ABOUT_CONTACTS
    kept = []
    for entry in epoch:
        event = entry[1]
        cls = type(event)
        has = about.get(cls)
        if has is None:
            has = about[cls] = "contact_id" in attrs.fields_dict(cls)
        if (
            not has
            or (until := get(event.contact_id or "")) is None  # type: ignore[attr-defined]
            or event.at > until
            or isinstance(event, ContactEnteredQueue)
        ):
            kept.append(entry)
    return kept


_ABOUT_CONTACTS: dict[type[Event], bool] = {}
"""Whether an event class has a ``contact_id`` (asking an instance that has none raises inside)."""


def _add_agent_time(
    intervals: Iterable[AgentInterval],
    pair: Callable[[float, tuple[str, str, str, str], str, str], list[_Cell]],
    *,
    org: Org | None,
    since: float | None,
    now: float | None,
) -> None:
    """Cut agent intervals at cell boundaries and count them (see ``cells_from_records``)."""
    places: dict[str, tuple[str, str, str]] = {}
    for iv in intervals:
        stop = iv.end if iv.end is not None else now
        if stop is None or iv.state is IntervalState.OFFLINE:
            continue  # offline time counts in no figure
        team, campaign, org_id = places.get(iv.agent) or places.setdefault(
            iv.agent, _team_place(org, iv.agent)
        )
        slot = interval_start(iv.start, CELL_S)
        while slot < stop:
            if since is None or slot >= since:
                seconds = clip(iv, slot, slot + CELL_S, now)
                keys = (iv.queue or "", campaign, org_id, "")
                for cell in pair(slot, keys, team, iv.agent):
                    if iv.state in _HANDLING:
                        cell.values.setdefault("handling", []).append(seconds)
                    elif iv.state in _AVAILABLE:
                        cell.values.setdefault("available", []).append(seconds)
                    cell.values.setdefault("logged_in", []).append(seconds)
            slot += CELL_S


def _horizon(
    records: Sequence[ContactRecord], intervals: Sequence[AgentInterval], now: float
) -> float:
    """The earliest arrival of a contact whose record may still change."""
    open_ = [r.arrived_at for r in records if r.ended_at is None]
    # an agent busy or in wrap-up may still add wrap-up time to their last contact
    # (the wrap-up's state change comes after the contact's end)
    wrapping = {iv.agent for iv in intervals if iv.end is None and iv.state in _HANDLING}
    last: dict[str, ContactRecord] = {}
    for r in records:
        if r.agent in wrapping and r.answered_at is not None:
            seen = last.get(r.agent)
            if seen is None or (r.ended_at or 0.0) >= (seen.ended_at or 0.0):
                last[r.agent] = r
    return min([*open_, *(r.arrived_at for r in last.values())], default=now)


class IntervalAggregator:
    """Folds a store's event log into its stored interval aggregates.

    Thread-safe: the event writer's thread and a report may catch up at once.

    Args:
        store: The store holding the event log and the aggregates.
        org: The org, for each agent's team and each campaign's client.
        campaigns: Queue -> campaign id (``CallCenterConfig.campaigns``).
        threshold_s: The service-level threshold the cells count with.
        short_abandon_s: Abandons quicker than this are short abandons.
        chunk: Events read per step (bounds memory during a rebuild).
    """

    def __init__(
        self,
        store: Store,
        *,
        org: Org | None = None,
        campaigns: Mapping[str, str] | None = None,
        threshold_s: float = 20.0,
        short_abandon_s: float = 5.0,
        chunk: int = _CHUNK,
    ) -> None:
        self._store = store
        self._cells = IntervalAggregates(store)
        self._org = org
        self._campaigns = dict(campaigns or {})
        self.threshold_s = threshold_s
        self.short_abandon_s = short_abandon_s
        self._chunk = chunk
        self._lock = threading.Lock()
        # the epoch in memory: (seq or None for carried events, event), and where it stands
        self._epoch: list[tuple[int | None, Event]] = []
        self._cached: tuple[int, int] | None = None  # (epoch_seq, seq) of self._epoch

    @property
    def aggregates(self) -> IntervalAggregates:
        """The stored cells."""
        return self._cells

    def catch_up(self) -> int:
        """Fold every event written since the last catch-up; return how many.

        Raises:
            ConfigError: The stored cells count with other thresholds (rebuild them).
            StoreError: The database failed (nothing is half written).
        """
        with self._lock, _collector_paused():
            folded = 0
            while True:
                state = self._cells.state()
                expected = None if state is None else state.seq
                if state is None:
                    state = AggregateState(
                        seq=0,
                        epoch_seq=0,
                        frozen_before=None,
                        threshold_s=self.threshold_s,
                        short_abandon_s=self.short_abandon_s,
                    )
                self._check(state)
                if self._cached != (state.epoch_seq, state.seq):
                    self._reload(state)
                new = scan_events(self._store, after=state.seq, limit=self._chunk)
                if not new and expected is not None:
                    return folded
                epoch = self._epoch + _without([(e.seq, e.event) for e in new], _ignored(state))
                nxt, keep, cells = self._fold(state, epoch, new[-1].seq if new else state.seq)
                if self._cells.replace(
                    cells, since=state.frozen_before, state=nxt, expected_seq=expected
                ):
                    self._epoch, self._cached = keep, (nxt.epoch_seq, nxt.seq)
                    folded += len(new)
                else:  # another node moved the aggregates on meanwhile: start from theirs
                    self._cached = None
                if not new:
                    return folded

    def rebuild(self) -> int:
        """Forget the cells and fold the whole event log again; return the events folded."""
        with self._lock:
            self._cells.clear()
            self._epoch, self._cached = [], None
        return self.catch_up()

    def _check(self, state: AggregateState) -> None:
        if (state.threshold_s, state.short_abandon_s) != (self.threshold_s, self.short_abandon_s):
            raise ConfigError(
                "interval aggregates",
                ("threshold_s",),
                f"the thresholds they were built with ({state.threshold_s:g} s, short abandons"
                f" {state.short_abandon_s:g} s), or a rebuild with"
                f" {self.threshold_s:g} s and {self.short_abandon_s:g} s",
            )

    def _reload(self, state: AggregateState) -> None:
        ignore = _ignored(state)
        carried: list[tuple[int | None, Event]] = [
            (None, event_from_dict(c)) for c in state.carry if c.get("kind") != _IGNORE
        ]
        logged: list[tuple[int | None, Event]] = []
        after = state.epoch_seq
        while after < state.seq:
            part = scan_events(self._store, after=after, limit=min(self._chunk, state.seq - after))
            if not part:
                break
            logged.extend((e.seq, e.event) for e in part if e.seq <= state.seq)
            after = part[-1].seq
        self._epoch = carried + _without(logged, ignore)
        self._cached = (state.epoch_seq, state.seq)

    def _fold(
        self, state: AggregateState, epoch: list[tuple[int | None, Event]], seq: int
    ) -> tuple[AggregateState, list[tuple[int | None, Event]], list[AggregateCell]]:
        events = [event for _, event in epoch]
        records, intervals = call_center_records(events, org=self._org, campaigns=self._campaigns)
        now = max((e.at for e in events), default=None)
        cells = cells_from_records(
            records,
            intervals,
            threshold_s=self.threshold_s,
            short_abandon_s=self.short_abandon_s,
            org=self._org,
            since=state.frozen_before,
            now=now,
        )
        unchanged = AggregateState(
            seq=seq,
            epoch_seq=state.epoch_seq,
            frozen_before=state.frozen_before,
            threshold_s=self.threshold_s,
            short_abandon_s=self.short_abandon_s,
            carry=state.carry,
        )
        if now is None:
            return unchanged, epoch, cells
        cut_at = interval_start(_horizon(records, intervals, now), CELL_S)
        if state.frozen_before is not None and cut_at <= state.frozen_before:
            return unchanged, epoch, cells
        real = [i for i, (s, _) in enumerate(epoch) if s is not None]
        times = [epoch[i][1].at for i in real]
        if any(b < a for a, b in itertools.pairwise(times)):
            return unchanged, epoch, cells  # out-of-order times: never cut, fold it all
        cut = bisect.bisect_left(times, cut_at)
        if cut == 0:
            return unchanged, epoch, cells
        first_kept = real[cut] if cut < len(real) else len(epoch)
        states: dict[str, AgentStateChanged] = {}
        for _, event in epoch[:first_kept]:
            if isinstance(event, AgentStateChanged):
                states[event.agent_id] = event
        carry = [
            AgentStateChanged(
                at=cut_at,
                agent_id=agent,
                state=change.state,
                previous=change.state,
                reason=change.reason,
                queue=change.queue,
                on_hold=change.on_hold,
            )
            for agent, change in sorted(states.items())
            if change.state is not AgentState.OFFLINE
        ]
        epoch_seq = epoch[real[cut - 1]][0] or state.epoch_seq
        ignore = {k: v for k, v in _ignored(state).items() if v >= cut_at}
        for r in records:
            if r.arrived_at < cut_at and r.ended_at is not None and r.ended_at >= cut_at:
                ignore[r.contact_id] = max(r.ended_at, ignore.get(r.contact_id, r.ended_at))
        kept = _without(epoch[first_kept:], ignore)
        marks: list[Mapping[str, Any]] = (
            [{"kind": _IGNORE, "visits": sorted(ignore.items())}] if ignore else []
        )
        entries: list[Mapping[str, Any]] = [event_to_dict(c) for c in carry]
        moved = AggregateState(
            seq=seq,
            epoch_seq=epoch_seq,
            frozen_before=cut_at,
            threshold_s=self.threshold_s,
            short_abandon_s=self.short_abandon_s,
            carry=[*entries, *marks],
        )
        return moved, [(None, c) for c in carry] + kept, cells


def _ignored(state: AggregateState) -> dict[str, float]:
    for entry in state.carry:
        if entry.get("kind") == _IGNORE:
            return {str(cid): float(until) for cid, until in entry["visits"]}
    return {}
