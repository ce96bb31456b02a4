"""The report by 15 minutes and queue from the summary cells' packed figures: the rows
equal those the checked constructor builds, and cells without figures still report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.reports import (
    FIGURES,
    IntervalAggregator,
    ReportRow,
    build_report,
    cells_from_records,
    report_from_store,
)
from callcenter_sdk.reports._figures import FORMAT, PACKED, figures, pack_figures
from callcenter_sdk.reports._report import _packed_rows
from callcenter_sdk.runtime import call_center_records
from callcenter_sdk.store import (
    AggregateCell,
    AggregateState,
    EventLog,
    IntervalAggregates,
    Store,
    create_store,
)
from callcenter_sdk.store._aggregates import _figures_sql

from .days import scenario, simulated_day
from .test_aggregates import CAMPAIGNS

_STATE = AggregateState(
    seq=0, epoch_seq=0, frozen_before=None, threshold_s=20.0, short_abandon_s=5.0
)
_COUNT = st.integers(min_value=0, max_value=2**40)
_SECONDS = st.floats(min_value=0.0, max_value=1e9)


def _day_cells() -> list[AggregateCell]:
    events, _ = simulated_day(scenario(queues=3, agents=4, duration=5400.0), seed=8)
    records, intervals = call_center_records(events)
    return cells_from_records(
        records, intervals, threshold_s=20.0, short_abandon_s=5.0, now=max(e.at for e in events)
    )


@given(
    st.tuples(_COUNT, _COUNT, _COUNT, _COUNT),
    st.lists(st.none() | _SECONDS, min_size=8, max_size=8),
    st.floats(min_value=0.0, max_value=1e6),
)
def test_packed_figures_unpack_to_the_row_the_constructor_builds(
    counts: tuple[int, int, int, int], optional: list[float | None], start: float
) -> None:
    """Any counts and figures, None or not, packed and read back make the row that
    ReportRow's own __init__ makes of them, bit for bit."""
    values = (*counts, *optional)
    rows = _packed_rows([(start, "q0", pack_figures(values))])
    named: dict[str, Any] = dict(zip(FIGURES, values, strict=True))
    assert rows == (ReportRow(start=start, keys={"queue": "q0"}, **named),)
    assert rows is not None
    assert type(rows[0]) is ReportRow


def test_a_report_from_packed_figures_equals_build_report_none_figures_included(
    store: Store,
) -> None:
    """The report by 15 minutes and queue read from the summaries' packed figures equals
    build_report over the queue cells read one by one (rows made by ReportRow's checked
    constructor), where ratios are None (no contact offered: agents' time only) too."""
    events, _ = simulated_day(scenario(queues=3, agents=4), seed=9)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store, campaigns=CAMPAIGNS)
    aggregator.catch_up()
    read = aggregator.aggregates.summary_figures()
    packed = _packed_rows(read)
    assert packed is not None  # the path taken: every summary has figures of this format
    expected = build_report(
        aggregator.aggregates.read(level="queue"), by=("queue",), interval="15min"
    )
    assert packed == expected.rows
    assert report_from_store(store, by=("queue",), interval="15min") == expected
    assert any(r.service_level is None for r in packed)
    assert any(r.service_level is not None and r.longest_wait is not None for r in packed)
    later = aggregator.aggregates.summary_figures(start=1800.0, end=3600.0)
    assert later == [row for row in read if 1800.0 <= row[0] < 3600.0] != []


@pytest.mark.parametrize("figures_of", ["none", "other format", "short"])
def test_summaries_without_readable_figures_report_from_their_columns(
    store: Store, figures_of: str
) -> None:
    """Summary cells written without figures (by hand, or before migration 0013), or
    with figures packed another way, are not misread: the report works the rows out
    from the cells' columns and equals build_report over the queue cells."""
    cells = _day_cells()
    changed = []
    for cell in cells:
        if cell.level == "summary" and cell.start == 1800.0:
            assert cell.figures is not None
            replaced = {
                "none": None,
                "other format": bytes([FORMAT + 1]) + cell.figures[1:],
                "short": cell.figures[:-1],
            }[figures_of]
            changed.append(attrs.evolve(cell, figures=replaced))
        else:
            changed.append(cell)
    aggregates = IntervalAggregates(store)
    assert aggregates.replace(changed, since=None, state=_STATE, expected_seq=None)
    assert _packed_rows(aggregates.summary_figures()) is None
    expected = build_report(
        [c for c in cells if c.level == "queue"], by=("queue",), interval="15min"
    )
    assert report_from_store(store, by=("queue",), interval="15min") == expected
    assert sum(r.offered for r in expected.rows) > 10


def test_a_summary_cells_figures_are_its_row_as_build_report_makes_it() -> None:
    """figures() of a summary cell's counts, longest wait and totals is its row's figures
    as build_report gives them over the cell, and the packed value holds them."""
    summaries = [c for c in _day_cells() if c.level == "summary"]
    report = build_report(summaries, by=("queue",), interval="15min")
    assert len(report.rows) == len(summaries) > 12
    for cell, row in zip(summaries, report.rows, strict=True):
        assert cell.figures is not None
        assert len(cell.figures) == PACKED.size
        assert _packed_rows([(cell.start, cell.queue, cell.figures)]) == (row,)


def test_figures_must_be_bytes_of_a_few_hundred_at_most(store: Store) -> None:
    """A cell's figures that are not bytes, or too long, are refused: nothing is written."""
    summary = next(c for c in _day_cells() if c.level == "summary")
    aggregates = IntervalAggregates(store)
    bad: Any
    for bad in (b"x" * 257, "text", bytearray(b"x")):
        cell = attrs.evolve(summary, figures=bad)
        with pytest.raises(ValidationError, match="figures"):
            aggregates.replace([cell], since=None, state=_STATE, expected_seq=None)
    assert aggregates.read(level="summary") == []
    assert aggregates.state() is None


def test_figures_of_nothing_are_none_but_the_counts() -> None:
    """A cell with no contact and no agent time has its counts and no ratio."""
    assert figures((0,) * 7, None, (0.0,) * 6) == (0, 0, 0, 0, *(None,) * 8)


def test_sqlite_reads_the_figures_from_the_summaries_index_alone(tmp_path: Path) -> None:
    """On SQLite the figures' query is answered by the summaries' covering index: the
    table's pages, scattered once catch-ups rewrote the cells, are never visited."""
    with create_store(f"sqlite:///{tmp_path}/plan.sqlite") as store:
        for after, before in ((False, False), (True, True)):
            sql = _figures_sql(after, before)
            with store.transaction("plan") as session:
                driver: Any = session.connection().connection.driver_connection
                params = [0.0] * (after + before)
                plan = driver.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            details = " ".join(str(step[-1]) for step in plan)
            assert "COVERING INDEX ix_interval_aggregates_summaries" in details, details
            assert "TEMP B-TREE" not in details  # in the index's order: no sort
