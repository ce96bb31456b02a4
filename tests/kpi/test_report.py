"""The headline KPI report: the same calculators as the single KPIs, NaN where undefined."""

from __future__ import annotations

import math

import pytest

from callcenter_sdk import kpi, sim
from callcenter_sdk.kpi import AgentInterval, ContactRecord, KpiReport, kpi_report


def _records() -> list[ContactRecord]:
    """Three answered calls (waits 5, 15 and 40 s) and two abandons (after 3 s and 30 s)."""
    out = [
        ContactRecord(
            contact_id=f"a{i}",
            outcome="answered",
            arrived_at=100.0 * i,
            answered_at=100.0 * i + wait,
            ended_at=100.0 * i + wait + 60.0,
            talk_s=60.0,
            wrap_s=10.0,
        )
        for i, wait in enumerate((5.0, 15.0, 40.0))
    ]
    out += [
        ContactRecord(contact_id=f"b{i}", outcome="abandoned", arrived_at=1000.0 + i, ended_at=t)
        for i, t in enumerate((1003.0, 1031.0))
    ]
    return out


def test_the_report_agrees_with_each_kpi() -> None:
    """Each figure is the KPI module's own calculation over the same records and intervals."""
    records = _records()
    intervals = [
        AgentInterval(agent="x", state="busy", start=0.0, end=300.0),
        AgentInterval(agent="x", state="ready", start=300.0, end=400.0),
    ]
    report = kpi_report(records, intervals, threshold_s=20.0, short_abandon_s=5.0)
    assert (report.offered, report.answered, report.abandoned) == (5, 3, 2)
    assert report.service_level == kpi.service_level(records, 20.0) == pytest.approx(2 / 5)
    assert report.abandon_rate == kpi.abandon_rate(records, short_abandon_s=5.0)
    assert report.asa == pytest.approx(20.0)
    assert report.aht == pytest.approx(70.0)
    assert report.occupancy == pytest.approx(0.75)
    assert report.as_dict()["offered"] == 5.0
    assert any(line.startswith("service level      40.0 %") for line in report.lines())
    assert report.short_abandoned == 1  # the abandon after 3 s
    assert (
        "abandon rate       25.0 % (2 abandoned, 1 short abandon under 5 s left out)"
        in report.lines()
    )


def test_the_abandon_rate_line_says_what_it_leaves_out() -> None:
    """0 % beside two abandons reads as a contradiction unless the line says both were
    short abandons under the threshold in use; with no threshold, it says all count."""
    records = _records()  # three answered, two abandons after 3 s and 30 s
    (line,) = (r for r in kpi_report(records, [], short_abandon_s=40.0).lines() if "rate" in r)
    assert line == "abandon rate       0.0 % (2 abandoned, 2 short abandons under 40 s left out)"
    (line,) = (r for r in kpi_report(records, [], short_abandon_s=0.0).lines() if "rate" in r)
    assert line == "abandon rate       40.0 % (2 abandoned, short abandons counted)"


def test_an_empty_report_is_nan_not_an_error() -> None:
    """No contact, no interval: the counts are zero and every ratio is NaN (shown as n/a)."""
    report = kpi_report([], [])
    assert report.offered == 0
    assert all(math.isnan(v) for k, v in report.as_dict().items() if k not in {
        "offered", "answered", "abandoned", "threshold_s", "short_abandoned", "short_abandon_s"
    })  # fmt: skip
    assert "n/a" in "\n".join(report.lines())


def test_the_report_lives_in_kpi_only() -> None:
    """The report moved from sim to kpi (the runtime's report uses it too): sim no longer
    exports it, and the simulator's results are KpiReports."""
    assert not hasattr(sim, "KpiReport")
    assert not hasattr(sim, "kpi_report")
    assert KpiReport.__module__ == "callcenter_sdk.kpi._report"
