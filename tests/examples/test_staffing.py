"""The staffing example: forecast → Erlang A staffing → simulated day."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from callcenter_sdk.kpi import read_forecast, staffing_table
from callcenter_sdk.sim import replicate

EXAMPLE = Path(__file__).parents[2] / "examples" / "staffing" / "main.py"


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


def test_main_prints_plan_and_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    """The example runs end to end and prints the table, the per-interval
    comparison and the whole-day estimates."""
    _load().main(["--replications", "2"])
    out = capsys.readouterr().out
    assert "Staffing for 48 queue-intervals" in out
    assert "simulated SL (95 % CI)" in out
    assert "service_level" in out
    assert "Scheduled agent-hours" in out
