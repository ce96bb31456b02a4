"""The pictures: the same figures draw the same pixels as the stored reference PNGs.

A reference is rewritten, on purpose, with ``CALLCENTER_UPDATE_BASELINES=1``
(look at the new PNG before committing it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from matplotlib.testing.compare import compare_images

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import (
    AgentInterval,
    DropRate,
    DropRegime,
    IntervalForecast,
    StaffingRow,
    StaffingTargets,
    staffing_table,
)
from callcenter_sdk.reports import (
    Report,
    ReportRow,
    agent_timeline,
    drop_rate_chart,
    save_figure,
    service_level_chart,
    staffing_curve,
    survey_chart,
)

BASELINES = Path(__file__).parent / "baseline"
TOLERANCE = 2.0
"""RMS difference allowed (0-255 scale): antialiasing may move by a bit across FreeType builds."""

DAY = 1_765_411_200.0  # 2025-12-11 00:00 UTC


def _row(start: float, offered: int, within: int) -> ReportRow:
    return ReportRow(
        start=start,
        keys={},
        offered=offered,
        answered=within,
        abandoned=offered - within,
        handled=within,
        service_level=within / offered if offered else None,
        abandon_rate=None,
        asa=None,
        average_wait=None,
        longest_wait=None,
        aht=None,
        occupancy=None,
        utilization=None,
    )


def _day() -> Report:
    volumes = [20, 35, 60, 80, 75, 50, 40, 30]
    rows = tuple(
        _row(DAY + 8 * 3600 + i * 1800, v, int(v * (0.95 - 0.004 * v)))
        for i, v in enumerate(volumes)
    )
    return Report(by=(), interval="30min", threshold_s=20.0, short_abandon_s=5.0, rows=rows)


def _plan() -> list[StaffingRow]:
    forecasts = [
        IntervalForecast(queue="support", start=8 * 3600 + i * 1800, volume=v, aht=240.0)
        for i, v in enumerate([25, 40, 55, 70, 70, 55, 40, 30])
    ]
    return list(staffing_table(forecasts, StaffingTargets(service_level=0.8, within=20.0)))


def _check(fig: object, name: str, tmp_path: Path) -> str | None:
    actual = save_figure(fig, tmp_path / f"{name}.png")
    expected = BASELINES / f"{name}.png"
    if os.environ.get("CALLCENTER_UPDATE_BASELINES") == "1":
        BASELINES.mkdir(exist_ok=True)
        expected.write_bytes(actual.read_bytes())
    verdict = compare_images(str(expected), str(actual), tol=TOLERANCE)
    return None if verdict is None else str(verdict)


def test_staffing_curve_matches_its_reference(tmp_path: Path) -> None:
    """The staffing curve of 200 contacts/h at 240 s AHT (Erlang C) draws as stored."""
    assert _check(staffing_curve(200 / 3600, 240.0), "staffing_curve", tmp_path) is None


def test_service_level_chart_matches_its_reference(tmp_path: Path) -> None:
    """A day's service level and volume by half hour against its staffing plan draws as stored."""
    fig = service_level_chart(_day(), plan=_plan())
    assert _check(fig, "service_level", tmp_path) is None


def test_agent_timeline_matches_its_reference(tmp_path: Path) -> None:
    """Three agents' morning (pauses, work, wrap-up, one still busy at the end) draws as stored."""
    h = 3600.0
    day: dict[str, list[tuple[str, float, float | None]]] = {
        "ag.alice": [("ready", 0, 1), ("busy", 1, 1.5), ("wrap_up", 1.5, 1.6),
                     ("ready", 1.6, 3), ("not_ready", 3, 3.5), ("busy", 3.5, None)],
        "ag.farid": [("offline", 0, 0.5), ("ready", 0.5, 2), ("reserved", 2, 2.05),
                     ("busy", 2.05, 3.8), ("wrap_up", 3.8, 4)],
        "ag.karim": [("not_ready", 0, 4)],
    }  # fmt: skip
    intervals = [
        AgentInterval(
            agent=a,
            state=s,
            start=DAY + 8 * h + lo * h,
            end=None if hi is None else DAY + 8 * h + hi * h,
        )
        for a, spans in day.items()
        for s, lo, hi in spans
    ]
    fig = agent_timeline(intervals, start=DAY + 8 * h, end=DAY + 12 * h)
    assert _check(fig, "agent_timeline", tmp_path) is None


def test_drop_rate_chart_matches_its_reference(tmp_path: Path) -> None:
    """The drop rate hour by hour against the 3 % cap (one hour without live calls is a gap)."""
    rates = [
        DropRate(
            regime=DropRegime.OFCOM,
            campaign="telesales",
            window_start=DAY + (hour - 24) * 3600,
            window_end=DAY + hour * 3600,
            dropped=dropped,
            live=live,
            rate=dropped / live if live else None,
        )
        for hour, dropped, live in [
            (9, 1, 80),
            (10, 3, 120),
            (11, 0, 0),
            (12, 5, 140),
            (13, 2, 150),
        ]
    ]
    assert _check(drop_rate_chart(rates), "drop_rate", tmp_path) is None


def test_survey_chart_matches_its_reference(tmp_path: Path) -> None:
    """Four questions' answer distributions, a scale kept in its own order, draw as stored."""
    answers = {
        "satisfied": {"1": 4, "2": 9, "3": 21, "4": 38, "5": 28},
        "recommend": {"yes": 71, "no": 29},
        "provider": {"fibrenet": 40, "streamtv": 35, "other": 25},
        "contact_again": {"yes": 12, "no": 88},
    }
    assert _check(survey_chart(answers), "survey", tmp_path) is None


def test_a_different_picture_fails_the_comparison(tmp_path: Path) -> None:
    """The comparison is not blind: another AHT draws another curve, outside the tolerance."""
    assert _check(staffing_curve(200 / 3600, 250.0), "staffing_curve", tmp_path) is not None


def test_svg_is_the_same_file_every_time(tmp_path: Path) -> None:
    """SVG output has no date and fixed ids, so two saves are byte for byte equal."""
    first = save_figure(staffing_curve(0.05, 200.0), tmp_path / "a.svg").read_bytes()
    second = save_figure(staffing_curve(0.05, 200.0), tmp_path / "b.svg").read_bytes()
    assert first == second
    assert first.startswith(b"<?xml")


def test_a_chart_needs_a_report_by_interval_and_a_known_format(tmp_path: Path) -> None:
    """A report without intervals cannot be drawn by interval; only .png and .svg are written."""
    flat = Report(by=(), interval=None, threshold_s=20.0, short_abandon_s=5.0, rows=())
    with pytest.raises(ValidationError, match="at least one question"):
        survey_chart({})
    with pytest.raises(ValidationError, match="by interval"):
        service_level_chart(flat)
    with pytest.raises(ValidationError, match=r"\.png or \.svg"):
        save_figure(staffing_curve(0.05, 200.0), tmp_path / "x.pdf")
