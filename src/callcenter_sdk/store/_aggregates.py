"""Interval aggregates: a report's figures per 15 minutes, stored so months never rescan the log.

A report over a quarter must not fold ten million events again each time it
is asked. :class:`IntervalAggregates` keeps, for every 15-minute interval and
every combination of report keys, the counters and totals the KPI formulas
need (:class:`AggregateCell`); a report by hour, day or week, by queue or by
client sums the cells it covers. The cells are computed by the reports
package from the event log (``callcenter_sdk.reports.IntervalAggregator``);
this module only stores and reads them, since the store is the one package
that writes SQL.

**Totals are exact.** The KPI calculators sum waits and handle times with
:func:`math.fsum` (the correctly rounded sum). A stored float total per cell
would round once per cell and again when cells are added up, so a report
from cells would differ from the calculators in the last bits, and a cell
rebuilt in another order would differ from the one kept up to date. Each
total is therefore stored as its *partials*: a few floats whose exact sum is
the exact sum of the values (Shewchuk's algorithm, the one inside
``math.fsum``). ``math.fsum`` of the partials of many cells is then exactly
``math.fsum`` of all the values, whatever the grouping and the order.

Cells are replaced, never incremented: a catch-up deletes the cells from the
first interval that may still change and writes them again, in one
transaction with the fold's position (:class:`AggregateState`), guarded by
the position it started from so two nodes catching up at once cannot both
write.

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import (
    BigInteger,
    Connection,
    Text,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy import null as sa_null

from .._errors import ValidationError
from ._limits import CHANNEL, NAME, check_float, check_json, check_optional_float, check_text
from ._rows import AggregateStateRow, IntervalAggregateRow
from ._store import Store

__all__ = ["COUNTS", "SUMS", "AggregateCell", "AggregateState", "IntervalAggregates"]

COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "answered_within",
    "abandoned_within",
    "short_abandons",
    "handled",
)
"""The counters of a cell, as in :class:`~callcenter_sdk.kpi.StreamFigures`."""

SUMS = (
    "answered_wait",
    "offered_wait",
    "talk",
    "hold",
    "wrap",
    "handle",
    "handling",
    "available",
    "logged_in",
)
"""The exact totals of a cell: seconds of waits and handle times of its contacts,
and of its agents' time handling, available and logged in."""

_INSERT = insert(IntervalAggregateRow)

_MAX_FIGURES = 256  # bytes of a cell's packed figures (a row's take 98)

CELL_S = 900.0
"""Length of a cell: 15 minutes, the shortest reporting interval."""

_KEYS = ("queue", "campaign", "organisation", "channel", "team", "agent")
_LEVELS = frozenset({"queue", "agent", "summary"})
_SUMMARY_KEYS = ("queue",)
_STATE = "default"


def _partials(value: Mapping[str, Iterable[float]]) -> dict[str, tuple[float, ...]]:
    return {name: tuple(value.get(name, ())) for name in SUMS}


def _entries(value: Iterable[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class AggregateCell:
    """The figures of one 15-minute interval for one combination of keys.

    Attributes:
        level: ``"queue"`` (keys down to the channel; ``team`` and ``agent``
            are ``""``), ``"agent"`` (every key) or ``"summary"`` (the queue
            cells of one interval and queue added up: only ``queue`` is set).
        start: Start of the interval, seconds (a multiple of 900).
        queue: The queue, ``""`` when none.
        campaign: The campaign the queue serves.
        organisation: The client organisation that ordered the campaign.
        channel: The contacts' channel (``""`` for agent time).
        team: The handling agent's team (agent level only).
        agent: The handling agent (agent level only).
        offered: Contacts offered (see :data:`COUNTS` for the others).
        answered: Offered contacts answered.
        abandoned: Offered contacts abandoned.
        answered_within: Answered within the threshold.
        abandoned_within: Abandoned within the threshold.
        short_abandons: Abandoned before the short-abandon threshold.
        handled: Answered contacts of either direction.
        longest_wait: Longest wait of an offered contact, or ``None``.
        sums: For each name of :data:`SUMS`, the partials of its exact total.
        figures: A ``"summary"`` cell's report row, packed by
            ``callcenter_sdk.reports`` (opaque here: at most
            256 bytes); ``None`` on the other levels.

    .. versionchanged:: 0.2
        ``figures`` (migration 0013).
    """

    level: str
    start: float
    queue: str = ""
    campaign: str = ""
    organisation: str = ""
    channel: str = ""
    team: str = ""
    agent: str = ""
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within: int = 0
    abandoned_within: int = 0
    short_abandons: int = 0
    handled: int = 0
    longest_wait: float | None = None
    sums: Mapping[str, tuple[float, ...]] = attrs.field(factory=dict, converter=_partials)
    figures: bytes | None = None


@attrs.frozen(kw_only=True)
class AggregateState:
    """How far the aggregates have folded the event log.

    Attributes:
        seq: The last event folded (0 before the first).
        epoch_seq: Events after this one are folded again at each catch-up.
        frozen_before: Cells starting before this time are final (``None``:
            none yet).
        threshold_s: The service-level threshold the cells count with.
        short_abandon_s: The short-abandon threshold they count with.
        carry: Events to fold before those after ``epoch_seq`` (the agents'
            states at ``frozen_before``), as ``event_to_dict`` mappings.
    """

    seq: int
    epoch_seq: int
    frozen_before: float | None
    threshold_s: float
    short_abandon_s: float
    carry: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=_entries)


class IntervalAggregates:
    """Stores and reads :class:`AggregateCell` values and the fold's :class:`AggregateState`.

    Args:
        store: Where the cells live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        """The store holding the cells."""
        return self._store

    def state(self) -> AggregateState | None:
        """The fold's position, or ``None`` before the first catch-up."""
        with self._store.transaction("read interval aggregate state") as session:
            row = session.get(AggregateStateRow, _STATE)
            return None if row is None else _state(row)

    def thresholds(self) -> tuple[float, float] | None:
        """The thresholds the cells count with, ``(threshold_s, short_abandon_s)``.

        What a report needs of :meth:`state`, without reading and decoding the
        carried events (a state change per agent on a large center).

        .. versionadded:: 0.2
        """
        table = AggregateStateRow.__table__
        query = select(table.c.threshold_s, table.c.short_abandon_s).where(table.c.name == _STATE)
        with self._store.transaction("read interval aggregate thresholds") as session:
            row = session.execute(query).first()
        return None if row is None else (row[0], row[1])

    def replace(
        self,
        cells: Iterable[AggregateCell],
        *,
        since: float | None,
        state: AggregateState,
        expected_seq: int | None,
    ) -> bool:
        """Replace every cell starting at ``since`` or later and record ``state``, atomically.

        Args:
            cells: The new cells (each must start at ``since`` or later).
            since: First interval replaced; ``None`` replaces every cell.
            state: The fold's position once these cells are written.
            expected_seq: The ``seq`` of the state the cells were computed
                from (``None``: no state yet). When another writer moved it
                meanwhile, nothing is written.

        Returns:
            Whether the cells were written.

        Raises:
            ValidationError: A key breaks the store's limits; nothing is written.
        """
        checked = _Checked()
        made = [_row(cell, checked) for cell in cells]
        # summaries go in by start then queue: every cell of a start is written here at once,
        # so their ids keep that order and summaries() reads them in the index's order
        rows = [row for row in made if row[0] != "summary"]
        rows.extend(sorted((row for row in made if row[0] == "summary"), key=_start_and_queue))
        if since is not None and any(row[1] < since for row in rows):
            raise ValidationError(f"a cell starts before {since}, the first interval replaced")
        check_optional_float("AggregateState.frozen_before", state.frozen_before)
        check_json("AggregateState.carry", list(state.carry))
        with self._store.transaction(f"replace {len(rows)} interval aggregates") as session:
            current = session.get(AggregateStateRow, _STATE, with_for_update=True)
            if (None if current is None else current.seq) != expected_seq:
                return False
            gone = delete(IntervalAggregateRow)
            if since is not None:  # naming the levels lets the (level, start) index find them
                gone = gone.where(
                    IntervalAggregateRow.level.in_(sorted(_LEVELS)),
                    IntervalAggregateRow.start >= since,
                )
            session.execute(gone)
            # on the connection: the driver's executemany, not the ORM's bulk bookkeeping
            _insert(session.connection(), rows)
            values = {
                "seq": state.seq,
                "epoch_seq": state.epoch_seq,
                "frozen_before": state.frozen_before,
                "threshold_s": state.threshold_s,
                "short_abandon_s": state.short_abandon_s,
                "carry": [dict(c) for c in state.carry],
            }
            if current is None:
                session.add(AggregateStateRow(name=_STATE, **values))
            else:
                for name, value in values.items():
                    setattr(current, name, value)
        return True

    def read(
        self,
        *,
        level: str = "queue",
        start: float | None = None,
        end: float | None = None,
    ) -> list[AggregateCell]:
        """Return the cells of ``level`` whose interval starts in ``[start, end)``, by start."""
        if level not in _LEVELS:
            raise ValidationError(f"level must be 'queue', 'agent' or 'summary', got {level!r}")
        table = IntervalAggregateRow.__table__
        query = select(table).where(table.c.level == level).order_by(table.c.start, table.c.id)
        if start is not None:
            query = query.where(table.c.start >= start)
        if end is not None:
            query = query.where(table.c.start < end)
        with self._store.transaction(f"read {level} interval aggregates") as session:
            result = session.execute(query).mappings().all()
        return [_cell(dict(row)) for row in result]

    def sum_by(
        self,
        keys: Sequence[str],
        *,
        level: str = "queue",
        start: float | None = None,
        end: float | None = None,
        length: float | None = CELL_S,
        origin: float = 0.0,
        totals: Sequence[str] = SUMS,
        partials: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The cells of ``level`` in ``[start, end)`` added up by interval and ``keys``, in SQL.

        A report reads one row per group instead of decoding every cell: the
        database adds the counters, takes the longest wait and adds each
        total's rounded column. That sum is exact when at most one cell of the
        group has values for the total (the usual case: a queue's contacts in
        one cell, its agents' time in another); otherwise the group also
        carries its cells' partials, to add up exactly with :func:`math.fsum`.

        Args:
            keys: Key columns to group by (of ``queue``, ``campaign``,
                ``organisation``, ``channel``, ``team``, ``agent``).
            level: ``"queue"`` or ``"agent"``.
            start: First interval read.
            end: First interval not read.
            length: Seconds of the reporting interval (a multiple of
                :data:`CELL_S`), counted from ``origin``; ``None``: one group
                for the whole period.
            origin: Where intervals are counted from (e.g. a Monday for weeks).
            totals: The names of :data:`SUMS` wanted.
            partials: Carry every group's partials, even where no total needs them.

        Returns:
            Per group, ordered by interval then keys: ``(start, *keys, *COUNTS,
            longest_wait, *sums, *cells, partials)`` where ``start`` is the
            interval's (``None`` without ``length``), ``sums`` the rounded
            sums of ``totals`` (``None``: no value), ``cells`` how many cells
            gave each, and ``partials`` ``None`` or a JSON array of the
            group's cells' ``sums`` mappings — for every group once any total
            of any group came from several cells.

        Raises:
            ValidationError: An unknown level or key, or a bad length.
        """
        if level not in _LEVELS:
            raise ValidationError(f"level must be 'queue', 'agent' or 'summary', got {level!r}")
        unknown = [key for key in keys if key not in _KEYS]
        if unknown:
            raise ValidationError(f"cannot add cells up by {', '.join(unknown)}")
        if level == "summary" and (unknown := [k for k in keys if k not in _SUMMARY_KEYS]):
            raise ValidationError(f"summary cells know no {', '.join(unknown)}; only the queue")
        unknown = [name for name in totals if name not in SUMS]
        if unknown:
            raise ValidationError(f"no total named {', '.join(unknown)}")
        if length is not None and (length <= 0 or length % CELL_S):
            raise ValidationError(f"an interval is a multiple of {CELL_S:g} s, got {length!r}")
        table = IntervalAggregateRow.__table__
        columns = [table.c[key] for key in keys]
        interval: Any = sa_null()
        if length is not None and length != CELL_S:
            # cell starts are whole seconds: the remainder is taken on integers on both databases
            # (and made positive: SQL's remainder takes the dividend's sign, Python's the divisor's)
            whole = int(length)
            offset = (cast(table.c.start - origin, BigInteger) % whole + whole) % whole
            interval = table.c.start - offset
        elif length is not None:
            interval = table.c.start
        named = [table.c[f"total_{name}"] for name in totals]
        grouping = [*([interval] if length is not None else []), *columns]

        def query(joined: Any) -> Any:
            chosen = select(
                interval,
                *columns,
                *(func.sum(table.c[name]) for name in COUNTS),
                func.max(table.c.longest_wait),
                *(func.sum(total) for total in named),
                *(func.count(total) for total in named),
                *([] if joined is None else [joined]),
            ).where(table.c.level == level)
            if grouping:
                chosen = chosen.group_by(*grouping).order_by(*grouping)
            if start is not None:
                chosen = chosen.where(table.c.start >= start)
            if end is not None:
                chosen = chosen.where(table.c.start < end)
            return chosen

        first = 1 + len(keys) + len(COUNTS) + 1 + len(named)  # the cells-contributing counts
        with self._store.transaction(f"sum {level} interval aggregates") as session:
            text = cast(table.c.sums, Text)
            if session.get_bind().dialect.name == "postgresql":
                joined = func.string_agg(text, literal_column("','"))
            else:
                joined = func.group_concat(text, ",")
            rows = session.execute(query(joined if partials else None)).all()
            if not partials and any(
                n > 1 for row in rows for n in row[first : first + len(named)]
            ):  # a total of several cells: only their partials add up exactly
                rows, partials = session.execute(query(joined)).all(), True
        return [
            (*row[:-1], "[" + row[-1] + "]") if partials else (*row, None)
            for row in rows
            if row[len(keys) + 1] is not None  # no cell at all: SQL's one empty group
        ]

    def summaries(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        totals: Sequence[str] = SUMS,
    ) -> list[tuple[Any, ...]]:
        """The summary cells in ``[start, end)`` as plain rows, ordered by interval then queue.

        The report by 15 minutes and queue is these rows one for one: no
        grouping, no partials. A summary cell's rounded totals are its exact
        totals correctly rounded (its partials are those of every value it
        adds up), so they are the figures' totals as they are.

        Args:
            start: First interval read.
            end: First interval not read.
            totals: The names of :data:`SUMS` wanted.

        Returns:
            Per cell: ``(start, queue, *COUNTS, longest_wait, *totals)``, a
            total ``None`` when the cell has no value for it.

        Raises:
            ValidationError: An unknown total.

        .. versionadded:: 0.2
        """
        unknown = [name for name in totals if name not in SUMS]
        if unknown:
            raise ValidationError(f"no total named {', '.join(unknown)}")
        table = IntervalAggregateRow.__table__
        columns = [
            table.c.start,
            table.c.queue,
            *(table.c[name] for name in COUNTS),
            table.c.longest_wait,
            *(table.c[f"total_{name}"] for name in totals),
        ]
        query = select(*columns).where(table.c.level == "summary")
        if start is not None:
            query = query.where(table.c.start >= start)
        if end is not None:
            query = query.where(table.c.start < end)
        with self._store.transaction("read summary interval aggregates") as session:
            connection = session.connection()
            if connection.dialect.name != "sqlite":
                return list(session.execute(query.order_by(table.c.start, table.c.queue)).all())
            # the driver's own tuples: a third of the time went to building result rows; in
            # the index's order, by start then id, which is by queue (see replace): no sort
            compiled = query.order_by(table.c.start, table.c.id).compile(dialect=connection.dialect)
            params = [compiled.params[name] for name in compiled.positiontup or ()]
            driver: Any = connection.connection.driver_connection  # a sqlite3.Connection
            rows: list[tuple[Any, ...]] = driver.execute(compiled.string, params).fetchall()
        return rows

    def summary_figures(
        self, *, start: float | None = None, end: float | None = None
    ) -> list[tuple[float, str, bytes | None]]:
        """The summary cells in ``[start, end)`` as ``(start, queue, figures)``, by start and queue.

        Read from the summary cells' own index (migration 0013): three values
        a cell, the table never visited. ``figures`` is ``None`` for a cell
        written without them.

        .. versionadded:: 0.2
        """
        table = IntervalAggregateRow.__table__
        query = select(table.c.start, table.c.queue, table.c.figures).where(
            table.c.level == "summary"
        )
        if start is not None:
            query = query.where(table.c.start >= start)
        if end is not None:
            query = query.where(table.c.start < end)
        query = query.order_by(table.c.start, table.c.queue)
        with self._store.transaction("read summary figures") as session:
            connection = session.connection()
            if connection.dialect.name != "sqlite":
                return [(row[0], row[1], row[2]) for row in session.execute(query).all()]
            # the driver's own tuples, as summaries() reads them; the index named, since
            # SQLite's planner, without statistics, prefers (level, start) and a sort
            sql = _figures_sql(start is not None, end is not None)
            params = [value for value in (start, end) if value is not None]
            driver: Any = connection.connection.driver_connection  # a sqlite3.Connection
            rows: list[tuple[float, str, bytes | None]] = driver.execute(sql, params).fetchall()
        return rows

    def clear(self) -> None:
        """Forget every cell and the fold's position (before a rebuild)."""
        with self._store.transaction("clear interval aggregates") as session:
            session.execute(delete(IntervalAggregateRow))
            session.execute(delete(AggregateStateRow))


_COLUMNS = (
    "level",
    "start",
    *_KEYS,
    *COUNTS,
    "longest_wait",
    "sums",
    *(f"total_{name}" for name in SUMS),
    "figures",
)
"""IntervalAggregateRow's columns that a cell fills, in the order of :func:`_row`'s tuple."""

# the table's and columns' names are constants of this module, no input reaches this text
_SQLITE_INSERT = (
    f"INSERT INTO {IntervalAggregateRow.__tablename__} ({', '.join(_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join('?' * len(_COLUMNS))})"
)


class _Checked:
    """The key values already checked against the store's limits, in one write (internal).

    A rebuild writes hundreds of thousands of cells sharing a few thousand
    combinations of names and starts: each combination is checked once.
    """

    __slots__ = ("keys", "starts")

    def __init__(self) -> None:
        self.keys: set[tuple[Any, ...]] = set()
        self.starts: set[Any] = set()

    def cell(self, start: object, keys: tuple[Any, ...]) -> None:
        # only floats and strings are remembered: a bool or an unhashable value is checked
        # (and refused) every time, never found equal to a value checked before
        if type(start) is not float or start not in self.starts:
            check_float("AggregateCell.start", start)
            if type(start) is float:
                self.starts.add(start)
        if not all(type(value) is str for value in keys) or keys not in self.keys:
            for key, value in zip(_KEYS, keys, strict=True):
                check_text(f"AggregateCell.{key}", value, CHANNEL if key == "channel" else NAME)
            self.keys.add(keys)


def _row(cell: AggregateCell, checked: _Checked) -> tuple[Any, ...]:
    """The cell as a row of :data:`_COLUMNS`, checked (``sums`` as a mapping)."""
    level = cell.level
    if level not in _LEVELS:
        raise ValidationError(f"level must be 'queue', 'agent' or 'summary', got {level!r}")
    keys = (cell.queue, cell.campaign, cell.organisation, cell.channel, cell.team, cell.agent)
    checked.cell(cell.start, keys)
    check_optional_float("AggregateCell.longest_wait", cell.longest_wait)
    figures = cell.figures
    if figures is not None and (type(figures) is not bytes or len(figures) > _MAX_FIGURES):
        raise ValidationError(
            f"AggregateCell.figures must be bytes (at most {_MAX_FIGURES}) or None"
        )
    sums: dict[str, list[float]] = {}
    totals: list[float | None] = []
    given = cell.sums
    for name in SUMS:
        parts = given[name]
        if not parts:
            totals.append(None)
            continue
        # a few floats under known names: finite numbers are all the databases need checked
        if not all(map(math.isfinite, parts)):
            raise ValidationError(f"AggregateCell.sums[{name!r}] holds a number not finite")
        sums[name] = list(parts)
        totals.append(parts[0] if len(parts) == 1 else math.fsum(parts))
    return (
        level,
        cell.start,
        *keys,
        cell.offered,
        cell.answered,
        cell.abandoned,
        cell.answered_within,
        cell.abandoned_within,
        cell.short_abandons,
        cell.handled,
        cell.longest_wait,
        sums,
        *totals,
        figures,
    )


def _insert(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert cells' rows (from :func:`_row`) in the connection's transaction.

    On SQLite the rows go to the driver's ``executemany`` as they are, the
    ``sums`` mapping as the text SQLAlchemy's JSON type would send (the
    engine's serializer, ``json.dumps`` by default); elsewhere through Core.
    """
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name == "sqlite":
        dumps: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps
        at = _COLUMNS.index("sums")
        connection.exec_driver_sql(
            _SQLITE_INSERT, [(*row[:at], dumps(row[at]), *row[at + 1 :]) for row in rows]
        )
    else:
        connection.execute(_INSERT, [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


_start_and_queue = operator.itemgetter(1, 2)  # of a row of _row: level, start, queue, ...


def _cell(row: Mapping[str, Any]) -> AggregateCell:
    return AggregateCell(
        level=row["level"],
        start=row["start"],
        **{key: row[key] for key in _KEYS},
        **{name: row[name] for name in COUNTS},
        longest_wait=row["longest_wait"],
        sums=row["sums"],
        figures=None if row["figures"] is None else bytes(row["figures"]),
    )


def _figures_sql(after: bool, before: bool) -> str:
    """The SQL text of summary_figures on SQLite, with ``?`` for start and end when given."""
    table = IntervalAggregateRow.__tablename__
    where = " AND ".join(
        [
            "level = 'summary'",
            *(["start >= ?"] if after else []),
            *(["start < ?"] if before else []),
        ]
    )
    # the table's, index's and columns' names are constants of this module: no input here
    return (
        f"SELECT start, queue, figures FROM {table}"  # noqa: S608
        f" INDEXED BY ix_interval_aggregates_summaries WHERE {where} ORDER BY start, queue"
    )


def _state(row: AggregateStateRow) -> AggregateState:
    carry: Sequence[Mapping[str, Any]] = row.carry
    return AggregateState(
        seq=row.seq,
        epoch_seq=row.epoch_seq,
        frozen_before=row.frozen_before,
        threshold_s=row.threshold_s,
        short_abandon_s=row.short_abandon_s,
        carry=tuple(carry),
    )
