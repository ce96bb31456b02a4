"""The interval report: KPIs by interval, queue, team, agent, campaign, client and channel.

A report is computed from stored :class:`~callcenter_sdk.store.AggregateCell`
values, never from the raw event log, so a quarter costs a few thousand rows.
Every figure uses the definitions of :mod:`callcenter_sdk.kpi` (the docs'
``docs/kpi.md``) and equals what those calculators give over the same
contact records: counts exactly, and waits and handle times exactly too,
because the cells keep exact totals (:mod:`._exact`).

Who asks decides what is in it: with ``org`` and ``viewer`` a cell counts
only when :func:`callcenter_sdk.org.can` lets the viewer ``VIEW_KPIS`` (or
``EXPORT_REPORTS``) on it, so a client's project manager sees their own
campaigns and nothing of another client's.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._errors import CallCenterError, ValidationError
from ..kpi import interval_start
from ..org import PERMISSIONS, Action, Org, Placement, Scope, can
from ..store import COUNTS, AggregateCell, IntervalAggregates, Store
from ._aggregator import CELL_S, IntervalAggregator, _collector_paused
from ._figures import FORMAT, PACKED

__all__ = [
    "FIGURES",
    "GROUPS",
    "INTERVALS",
    "Report",
    "ReportRow",
    "build_report",
    "cell_filter",
    "level_for",
    "report_from_store",
]

GROUPS = ("queue", "team", "agent", "campaign", "organisation", "channel")
"""What a report can be grouped by, besides the interval."""

INTERVALS: Mapping[str, float] = {
    "15min": 900.0,
    "30min": 1800.0,
    "60min": 3600.0,
    "day": 86_400.0,
    "week": 604_800.0,
}
"""Reporting intervals by name, in seconds. Days start at midnight UTC, weeks on Monday."""

_WEEK_ORIGIN = 4 * 86_400.0  # 1970-01-05, the first Monday of Unix time

FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "handled",
    "service_level",
    "abandon_rate",
    "asa",
    "average_wait",
    "longest_wait",
    "aht",
    "occupancy",
    "utilization",
)
"""The columns of a report row after its keys."""


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


@attrs.frozen(kw_only=True)
class ReportRow:
    """The figures of one group.

    Ratios are ``None`` when their denominator is zero, as in :mod:`callcenter_sdk.kpi`.

    Attributes:
        start: Start of the reporting interval, seconds (``None`` when the
            report is not by interval).
        keys: The group's values by field (``{"queue": "support"}``); ``""``
            when the records do not know it.
        offered: Contacts offered (inbound, entered a queue and left it).
        answered: Offered contacts answered.
        abandoned: Offered contacts abandoned.
        handled: Answered contacts of either direction.
        service_level: Answered within the threshold over offered.
        abandon_rate: Abandoned over offered, short abandons left out of both.
        asa: Mean wait of answered contacts, seconds.
        average_wait: Mean wait of offered contacts, seconds.
        longest_wait: Longest wait of an offered contact, seconds.
        aht: Mean handle time (talk + hold + wrap-up) of handled contacts, seconds.
        occupancy: Handling over handling plus available agent time.
        utilization: Handling over logged-in agent time.
    """

    start: float | None
    keys: Mapping[str, str]
    offered: int
    answered: int
    abandoned: int
    handled: int
    service_level: float | None
    abandon_rate: float | None
    asa: float | None
    average_wait: float | None
    longest_wait: float | None
    aht: float | None
    occupancy: float | None
    utilization: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row as one flat mapping: ``start``, the keys, then :data:`FIGURES`."""
        return {
            "start": self.start,
            **self.keys,
            **{name: getattr(self, name) for name in FIGURES},
        }


@attrs.frozen(kw_only=True)
class Report:
    """A report: its grouping and its rows, ordered by interval then keys.

    Attributes:
        by: The fields it is grouped by (after the interval).
        interval: The interval's name (:data:`INTERVALS`), or ``None``.
        threshold_s: The service-level threshold.
        short_abandon_s: The short-abandon threshold.
        rows: The groups.
    """

    by: tuple[str, ...]
    interval: str | None
    threshold_s: float
    short_abandon_s: float
    rows: tuple[ReportRow, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of :meth:`ReportRow.as_dict`, in order."""
        return ("start", *self.by, *FIGURES)

    @property
    def counts(self) -> tuple[str, ...]:
        """The columns that are whole numbers (the others are seconds or ratios)."""
        return ("offered", "answered", "abandoned", "handled")


class _Group:
    __slots__ = ("counts", "longest", "sums")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTS, 0)
        self.longest: float | None = None
        self.sums: dict[str, list[float]] = {}


def _check(by: Sequence[str], interval: str | None) -> None:
    for name in by:
        if name not in GROUPS:
            raise ValidationError(f"cannot group by {name!r}; choose from {', '.join(GROUPS)}")
    if interval is not None and interval not in INTERVALS:
        raise ValidationError(f"unknown interval {interval!r}; choose from {', '.join(INTERVALS)}")


def level_for(by: Sequence[str]) -> str:
    """The cells a grouping reads: agent cells for a team or agent, else queue cells."""
    return "agent" if {"team", "agent"} & set(by) else "queue"


def build_report(
    cells: Iterable[AggregateCell],
    *,
    by: Sequence[str] = (),
    interval: str | None = None,
    threshold_s: float = 20.0,
    short_abandon_s: float = 5.0,
    keep: Callable[[AggregateCell], bool] | None = None,
) -> Report:
    """Group cells (all of one level) into a :class:`Report`.

    Args:
        cells: The cells, e.g. ``IntervalAggregates.read(level=level_for(by))``.
        by: Fields of :data:`GROUPS` to group by.
        interval: A name of :data:`INTERVALS`, or ``None`` for one row per group.
        threshold_s: The threshold the cells were counted with (for the record).
        short_abandon_s: Likewise for short abandons.
        keep: Counts a cell only when this says so (see :func:`cell_filter`).
    """
    by = tuple(by)
    _check(by, interval)
    length = INTERVALS[interval] if interval is not None else None
    origin = _WEEK_ORIGIN if interval == "week" else 0.0
    groups: dict[tuple[Any, ...], _Group] = {}
    for cell in cells:
        if keep is not None and not keep(cell):
            continue
        start = None if length is None else interval_start(cell.start, length, origin)
        key = (start, *(getattr(cell, name) for name in by))
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
        counts = group.counts
        for name in COUNTS:
            counts[name] += getattr(cell, name)
        if cell.longest_wait is not None and (
            group.longest is None or cell.longest_wait > group.longest
        ):
            group.longest = cell.longest_wait
        for name, parts in cell.sums.items():
            if parts:
                group.sums.setdefault(name, []).extend(parts)
    rows = [_row(key, group, by) for key, group in groups.items()]
    rows.sort(key=lambda r: (-math.inf if r.start is None else r.start, *r.keys.values()))
    return Report(
        by=by,
        interval=interval,
        threshold_s=threshold_s,
        short_abandon_s=short_abandon_s,
        rows=tuple(rows),
    )


def _row(key: tuple[Any, ...], group: _Group, by: tuple[str, ...]) -> ReportRow:
    n = group.counts

    def total(name: str) -> float:
        return math.fsum(group.sums.get(name, ()))

    handling = total("handling")
    short = n["short_abandons"]
    return ReportRow(
        start=key[0],
        keys=dict(zip(by, key[1:], strict=True)),
        offered=n["offered"],
        answered=n["answered"],
        abandoned=n["abandoned"],
        handled=n["handled"],
        service_level=_ratio(n["answered_within"], n["offered"]),
        abandon_rate=_ratio(n["abandoned"] - short, n["offered"] - short),
        asa=_ratio(total("answered_wait"), n["answered"]),
        average_wait=_ratio(total("offered_wait"), n["offered"]),
        longest_wait=group.longest,
        aht=_ratio(total("handle"), n["handled"]),
        occupancy=_ratio(handling, math.fsum((handling, total("available")))),
        utilization=_ratio(handling, total("logged_in")),
    )


def cell_filter(
    org: Org, viewer: str, action: Action = Action.VIEW_KPIS
) -> Callable[[AggregateCell], bool]:
    """Whether ``viewer`` may ``action`` on a cell: its campaign, team and agent decide.

    A cell that names no campaign and no agent sits in the center (when the
    org has one center), so only people reaching the whole center see it.
    """
    allowed = _scope(org, viewer, action)

    def keep(cell: AggregateCell) -> bool:
        return allowed(cell.campaign, cell.agent)

    return keep


def _scope(org: Org, viewer: str, action: Action) -> Callable[[str, str], bool]:
    """Whether ``viewer`` may ``action`` on the cells of a campaign and an agent."""
    org.person(viewer)  # an unknown viewer is a NotFoundError, not an empty report
    centers = tuple(org.centers)
    center = centers[0].id if len(centers) == 1 else None
    seen: dict[tuple[str, str], bool] = {}

    def allowed(campaign: str, agent: str) -> bool:
        key = (campaign, agent)
        verdict = seen.get(key)
        if verdict is None:
            place = Placement(campaign=campaign or None, person=agent or None)
            if not campaign and not agent:
                place = Placement(center=center)
            verdict = False
            with contextlib.suppress(CallCenterError):
                verdict = can(org, viewer, action, place)
            seen[key] = verdict
        return verdict

    return allowed


def report_from_store(
    store: Store,
    *,
    by: Sequence[str] = (),
    interval: str | None = None,
    start: float | None = None,
    end: float | None = None,
    org: Org | None = None,
    viewer: str | None = None,
    action: Action = Action.VIEW_KPIS,
    aggregator: IntervalAggregator | None = None,
) -> Report:
    """The report of the contacts that arrived in ``[start, end)``, from the stored cells.

    Args:
        store: The store.
        by: Fields of :data:`GROUPS`.
        interval: A name of :data:`INTERVALS`, or ``None``.
        start: First second reported (rounded down to 15 minutes by the cells).
        end: First second not reported.
        org: The org, to scope the report to ``viewer``.
        viewer: Id of the person asking; ``None`` reports everything.
        action: What the viewer does: ``VIEW_KPIS``, or ``EXPORT_REPORTS`` for a file.
        aggregator: Catches up with the event log first (else the cells as stored).
    """
    _check(by, interval)
    if aggregator is not None:
        aggregator.catch_up()
    cells = IntervalAggregates(store)
    threshold, short = cells.thresholds() or (20.0, 5.0)
    allowed = None
    level = level_for(by)
    if viewer is not None:
        if org is None:
            raise ValidationError("a report for a viewer needs the org that says what they see")
        allowed = _scope(org, viewer, action)
        who = org.person(viewer)
        if PERMISSIONS[who.role][action] < Scope.CAMPAIGN:
            level = "agent"  # their team or themselves: only agent cells say whose a contact was
    by = tuple(by)
    length = INTERVALS[interval] if interval is not None else None
    origin = _WEEK_ORIGIN if interval == "week" else 0.0
    if allowed is None and level == "queue" and set(by) <= {"queue"}:
        level = "summary"  # the queue cells already added up by interval and queue
    # a report makes thousands of rows and no cycle: the collector would only walk the heap
    with _collector_paused():
        rows: tuple[ReportRow, ...] = ()
        if level == "summary" and by == ("queue",) and length == CELL_S:
            packed = _packed_rows(cells.summary_figures(start=start, end=end))
            if packed is None:  # cells written without figures (before migration 0013): work
                packed = _summary_rows(cells.summaries(start=start, end=end, totals=_NEEDED))
            rows = packed
        elif level == "summary":
            groups = cells.sum_by(
                by, level=level, start=start, end=end, length=length, origin=origin, totals=_NEEDED
            )
            rows = _group_rows(groups, by)
        if allowed is None and not rows:
            # none: no cell in the period, or cells written without their summaries (by
            # hand, or by an older version since migration 0010): the queue cells say
            level = "queue" if level == "summary" else level
            groups = cells.sum_by(
                by, level=level, start=start, end=end, length=length, origin=origin, totals=_NEEDED
            )
            rows = _group_rows(groups, by)
        elif allowed is not None:  # whose each cell is decides: add up by campaign and agent too
            keys = tuple(dict.fromkeys((*by, "campaign", "agent")))
            groups = cells.sum_by(
                keys, level=level, start=start, end=end, length=length, origin=origin, partials=True
            )
            rows = _merged_rows(groups, keys, by=by, allowed=allowed)
    return Report(
        by=by,
        interval=interval,
        threshold_s=threshold,
        short_abandon_s=short,
        rows=rows,
    )


_NEEDED = ("answered_wait", "offered_wait", "handle", "handling", "available", "logged_in")
"""The totals a report row needs, in the order :func:`_group_rows` reads them."""


def _group_rows(groups: Sequence[tuple[Any, ...]], by: tuple[str, ...]) -> tuple[ReportRow, ...]:
    """Report rows from :meth:`IntervalAggregates.sum_by` groups (totals :data:`_NEEDED`).

    The loop is the report's hot path: one row per group, no call per figure.
    """
    n = len(by)
    rows = []
    for group in groups:
        offered, answered, abandoned, within, _, short, handled, longest = group[n + 1 : n + 9]
        if group[-1] is None:  # each total from one cell at most: the database's sum is exact
            waited_answered, waited, handle, handling, available, logged_in = (
                value or 0.0 for value in group[n + 9 : n + 15]
            )
        else:
            cells: list[dict[str, list[float]]] = json.loads(group[-1])
            waited_answered, waited, handle, handling, available, logged_in = (
                math.fsum(itertools.chain.from_iterable(c.get(name, ()) for c in cells))
                for name in _NEEDED
            )
        busy_or_free = handling + available
        rows.append(
            ReportRow(
                start=group[0],
                keys=dict(zip(by, group[1 : n + 1], strict=True)),
                offered=offered,
                answered=answered,
                abandoned=abandoned,
                handled=handled,
                service_level=within / offered if offered > 0 else None,
                abandon_rate=(
                    (abandoned - short) / (offered - short) if offered - short > 0 else None
                ),
                asa=waited_answered / answered if answered > 0 else None,
                average_wait=waited / offered if offered > 0 else None,
                longest_wait=longest,
                aht=handle / handled if handled > 0 else None,
                occupancy=handling / busy_or_free if busy_or_free > 0 else None,
                utilization=handling / logged_in if logged_in > 0 else None,
            )
        )
    return tuple(rows)


_FIELDS = tuple(field.name for field in attrs.fields(ReportRow))


def _summary_rows(cells: Sequence[tuple[Any, ...]]) -> tuple[ReportRow, ...]:
    """Report rows by 15 minutes and queue, one per summary cell (totals :data:`_NEEDED`).

    The report most often asked, and a row per cell: each row is built by
    setting its slots directly, as attrs' own ``__init__`` does for a frozen
    class, without the call of an ``__init__`` of fourteen keyword arguments
    (0.9 µs a row instead of 1.7 µs). Tests check the rows equal those built
    the usual way (:func:`build_report` over the same cells).
    """
    new = object.__new__
    (
        set_start,
        set_keys,
        set_offered,
        set_answered,
        set_abandoned,
        set_handled,
        set_service_level,
        set_abandon_rate,
        set_asa,
        set_average_wait,
        set_longest_wait,
        set_aht,
        set_occupancy,
        set_utilization,
    ) = (getattr(ReportRow, name).__set__ for name in _FIELDS)
    rows: list[ReportRow] = []
    append = rows.append
    for cell in cells:
        (
            start,
            queue,
            offered,
            answered,
            abandoned,
            within,
            _,
            short,
            handled,
            longest,
            waited_answered,
            waited,
            handle,
            handling,
            available,
            logged_in,
        ) = cell
        handling, logged_in = handling or 0.0, logged_in or 0.0
        busy_or_free = handling + (available or 0.0)
        row = new(ReportRow)
        set_start(row, start)
        set_keys(row, {"queue": queue})
        set_offered(row, offered)
        set_answered(row, answered)
        set_abandoned(row, abandoned)
        set_handled(row, handled)
        set_service_level(row, within / offered if offered > 0 else None)
        set_abandon_rate(
            row, (abandoned - short) / (offered - short) if offered - short > 0 else None
        )
        set_asa(row, (waited_answered or 0.0) / answered if answered > 0 else None)
        set_average_wait(row, (waited or 0.0) / offered if offered > 0 else None)
        set_longest_wait(row, longest)
        set_aht(row, (handle or 0.0) / handled if handled > 0 else None)
        set_occupancy(row, handling / busy_or_free if busy_or_free > 0 else None)
        set_utilization(row, handling / logged_in if logged_in > 0 else None)
        append(row)
    return tuple(rows)


def _packed_rows(cells: Sequence[tuple[float, str, bytes | None]]) -> tuple[ReportRow, ...] | None:
    """Report rows by 15 minutes and queue from the summary cells' packed figures.

    Each row is unpacked from one value (:data:`~._figures.PACKED`) and built
    by setting its slots as :func:`_summary_rows` does. ``None`` when a cell
    has no figures, or figures packed otherwise than :data:`~._figures.FORMAT`
    says: the caller works the rows out from the cells' columns instead. Tests
    check the rows equal those the checked constructor builds
    (:func:`build_report` over the same cells), ``None`` figures included.
    """
    new = object.__new__
    unpack = PACKED.unpack
    (
        set_start,
        set_keys,
        set_offered,
        set_answered,
        set_abandoned,
        set_handled,
        set_service_level,
        set_abandon_rate,
        set_asa,
        set_average_wait,
        set_longest_wait,
        set_aht,
        set_occupancy,
        set_utilization,
    ) = (getattr(ReportRow, name).__set__ for name in _FIELDS)
    rows: list[ReportRow] = []
    append = rows.append
    try:
        for start, queue, packed in cells:
            (
                packing,
                mask,
                offered,
                answered,
                abandoned,
                handled,
                service_level,
                abandon_rate,
                asa,
                average_wait,
                longest_wait,
                aht,
                occupancy,
                utilization,
            ) = unpack(packed)  # type: ignore[arg-type]  # None: TypeError; a length: struct.error
            if packing != FORMAT:
                return None
            if mask:  # NaN stands for None where the mask says so
                (
                    service_level,
                    abandon_rate,
                    asa,
                    average_wait,
                    longest_wait,
                    aht,
                    occupancy,
                    utilization,
                ) = (
                    None if mask >> i & 1 else value
                    for i, value in enumerate(
                        (
                            service_level,
                            abandon_rate,
                            asa,
                            average_wait,
                            longest_wait,
                            aht,
                            occupancy,
                            utilization,
                        )
                    )
                )
            row = new(ReportRow)
            set_start(row, start)
            set_keys(row, {"queue": queue})
            set_offered(row, offered)
            set_answered(row, answered)
            set_abandoned(row, abandoned)
            set_handled(row, handled)
            set_service_level(row, service_level)
            set_abandon_rate(row, abandon_rate)
            set_asa(row, asa)
            set_average_wait(row, average_wait)
            set_longest_wait(row, longest_wait)
            set_aht(row, aht)
            set_occupancy(row, occupancy)
            set_utilization(row, utilization)
            append(row)
    except (TypeError, struct.error):
        return None
    return tuple(rows)


def _merged_rows(
    groups: Sequence[tuple[Any, ...]],
    keys: tuple[str, ...],
    *,
    by: tuple[str, ...],
    allowed: Callable[[str, str], bool],
) -> tuple[ReportRow, ...]:
    """Report rows from groups by ``by`` and the scope's keys, keeping what ``allowed`` lets."""
    n = len(keys)
    where = [keys.index(name) + 1 for name in by]
    campaign, agent = keys.index("campaign") + 1, keys.index("agent") + 1
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for group in groups:
        if not allowed(group[campaign], group[agent]):
            continue
        key = (group[0], *(group[i] for i in where))
        counts = group[n + 1 : n + 8]
        longest = group[n + 8]
        sums: list[dict[str, list[float]]] = json.loads(group[-1])
        seen = merged.get(key)
        if seen is None:
            merged[key] = [list(counts), longest, sums]
            continue
        seen[0] = [a + b for a, b in zip(seen[0], counts, strict=True)]
        if longest is not None and (seen[1] is None or longest > seen[1]):
            seen[1] = longest
        seen[2].extend(sums)
    rows = [_sum_row(key, value[0], value[1], value[2], by) for key, value in merged.items()]
    rows.sort(key=lambda r: (-math.inf if r.start is None else r.start, *r.keys.values()))
    return tuple(rows)


def _sum_row(
    key: tuple[Any, ...],
    counts: list[int],
    longest: float | None,
    cells: list[dict[str, list[float]]],
    by: tuple[str, ...],
) -> ReportRow:
    def total(name: str) -> float:
        return math.fsum(itertools.chain.from_iterable(c.get(name, ()) for c in cells))

    offered, answered, abandoned, within, _, short, handled = counts
    handling = total("handling")
    return ReportRow(
        start=key[0],
        keys=dict(zip(by, key[1:], strict=True)),
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        handled=handled,
        service_level=_ratio(within, offered),
        abandon_rate=_ratio(abandoned - short, offered - short),
        asa=_ratio(total("answered_wait"), answered),
        average_wait=_ratio(total("offered_wait"), offered),
        longest_wait=longest,
        aht=_ratio(total("handle"), handled),
        occupancy=_ratio(handling, math.fsum((handling, total("available")))),
        utilization=_ratio(handling, total("logged_in")),
    )
