"""The staffing example: forecast → Erlang A staffing → simulated day."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import matplotlib.image as mpimg
import pytest

from callcenter_sdk.kpi import offered, read_forecast, staffing_table
from callcenter_sdk.sim import replicate

EXAMPLE = Path(__file__).parents[2] / "examples" / "staffing" / "main.py"
SVG = "http://www.w3.org/2000/svg"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("staffing_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_roster_is_the_staffing_table() -> None:
    """Each queue-interval becomes an agent group of exactly the scheduled
    size, working exactly that interval, absent at the shrinkage rate."""
    example = _load()
    table = staffing_table(read_forecast(EXAMPLE.parent / "forecast.csv"), example.TARGETS)
    origin = min(r.forecast.start for r in table)
    scenario = example.build_scenario(table, origin)
    assert [g.count for g in scenario.agents] == [r.staffing.scheduled for r in table]
    for group, row in zip(scenario.agents, table, strict=True):
        assert group.shift == (row.forecast.start - origin, row.forecast.start - origin + 1800)
        assert group.absence == example.TARGETS.shrinkage
    assert scenario.duration == 12 * 3600


def test_the_staffed_day_meets_the_service_level_it_was_staffed_for() -> None:
    """Staffing every interval for 80 % in 20 s under Erlang A, then simulating
    that roster with random absences, delivers at least 80 % over the day and
    keeps abandons under the 5 % cap (3 seeded replications)."""
    example = _load()
    table = staffing_table(read_forecast(EXAMPLE.parent / "forecast.csv"), example.TARGETS)
    scenario = example.build_scenario(table, min(r.forecast.start for r in table))
    reps = replicate(scenario, 3, seed=11, threshold_s=20.0)
    assert reps.estimates["service_level"].mean >= 0.8
    assert reps.estimates["abandon_rate"].mean <= 0.05


def _svg(path: Path) -> ET.Element:
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # noqa: S314 - the example's own file
    assert root.tag == f"{{{SVG}}}svg"
    return root


def _points(root: ET.Element, gid: str) -> int:
    """Markers drawn on the line with this id (one per point with a value)."""
    (line,) = [g for g in root.iter(f"{{{SVG}}}g") if g.get("id") == gid]
    return len(list(line.iter(f"{{{SVG}}}use")))


def test_main_prints_plan_and_comparison_and_draws_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs end to end, prints the table, the per-interval comparison
    and the whole-day estimates, and draws the simulated day against the plan
    (a bar and a service-level point per half hour, the forecast's step line)
    and the busiest interval's staffing curve (16 agent counts), as PNG and SVG."""
    folder = tmp_path / "pictures"
    _load().main(["--replications", "2", "--out", str(folder)])
    out = capsys.readouterr().out
    assert "Staffing for 48 queue-intervals" in out
    assert "simulated SL (95 % CI)" in out
    assert "service_level" in out
    assert "Scheduled agent-hours" in out
    names = ("staffing_curve", "staffing_service_level")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{n}.{kind}" for n in names for kind in ("png", "svg")
    )
    for name in names:
        assert str(folder / f"{name}.png") in out
        png = folder / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert mpimg.imread(png).shape == (400, 800, 4)
    day = _svg(folder / "staffing_service_level.svg")
    bars = [g for g in day.iter(f"{{{SVG}}}g") if g.get("id") == "offered"]
    assert len(bars) == 24  # 08:00 to 19:30
    assert _points(day, "service-level") == 24
    assert len([g for g in day.iter(f"{{{SVG}}}g") if g.get("id") == "forecast"]) == 1
    curve = _svg(folder / "staffing_curve.svg")
    assert _points(curve, "service-level") == _points(curve, "asa") == 16


def test_the_day_report_counts_the_replications_contacts_at_the_plans_times() -> None:
    """The picture's report of a simulated day has the plan's 24 half hours (times
    of day, as the forecast counts) and counts every offered contact once."""
    example = _load()
    table = staffing_table(read_forecast(EXAMPLE.parent / "forecast.csv"), example.TARGETS)
    origin = min(r.forecast.start for r in table)
    scenario = example.build_scenario(table, origin)
    (result,) = replicate(scenario, 1, seed=3, threshold_s=20.0).results
    report = example.day_report(result, origin)
    assert [r.start for r in report.rows] == sorted({r.forecast.start for r in table})
    assert sum(r.offered for r in report.rows) == len(offered(result.records)) > 2000
