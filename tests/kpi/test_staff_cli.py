"""The ``callcenter staff`` command prints what ``staffing_table`` computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcenter_sdk.cli import main
from callcenter_sdk.kpi import IntervalForecast, StaffingTargets, staffing_table


def test_one_interval_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """One interval from flags: the worked example's 14 raw and 20 scheduled agents."""
    flags = "--volume 100 --aht 180 --sl 0.8 --within 20 --shrinkage 0.3 --format json"
    code = main(["staff", *flags.split()])
    assert code == 0
    (row,) = json.loads(capsys.readouterr().out)
    expected = staffing_table(
        [IntervalForecast(queue="default", start=0, volume=100, aht=180)],
        StaffingTargets(service_level=0.8, within=20, shrinkage=0.3),
    )[0].staffing
    assert (row["raw"], row["scheduled"], row["model"]) == (
        expected.raw,
        expected.scheduled,
        "erlang_c",
    )
    assert (row["raw"], row["scheduled"]) == (14, 20)


def test_forecast_file_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV forecast gives one line per interval, Erlang A where a patience is given."""
    path = tmp_path / "day.csv"
    path.write_text(
        "queue,start,volume,aht,patience,interval\n"
        "sales,09:00,120,240,,30\n"
        "support,09:00,300,420,90,30\n"
        "support,09:30,0,420,90,30\n"
    )
    code = main(
        ["staff", "--forecast", str(path), "--sl", "0.8", "--within", "20", "--format", "csv"]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("queue,start,volume,aht,load,model,raw,scheduled")
    assert len(lines) == 4
    assert ",erlang_c," in lines[1]
    assert ",erlang_a," in lines[2]
    assert lines[3].split(",")[6] == "0"  # no traffic, no agents
    assert main(["staff", "--forecast", str(path), "--sl", "0.8", "--within", "20"]) == 0
    assert "total scheduled" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "queue,start,volume,aht\nq,9:00,abc,100\n",
            "bad.csv:2: column 'volume': expected a number",
        ),
        (
            "queue,start,volume,aht\nq,nine,10,100\n",
            "bad.csv:2: column 'start': expected a start time",
        ),
        ("queue,start,volume\nq,9:00,10\n", "bad.csv:1: expected a header with the aht column"),
        ("queue,start,volume,aht\nq,9:00,10,0\n", "AHT > 0"),
    ],
)
def test_bad_forecasts_name_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    """A bad cell is reported with its file, line and column, and exit code 2."""
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["staff", "--forecast", str(path), "--sl", "0.8", "--within", "20"]) == 2
    assert message in capsys.readouterr().err


def test_missing_input_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a forecast or without any target the command explains what is missing."""
    assert main(["staff", "--sl", "0.8", "--within", "20"]) == 2
    assert "--volume and --aht" in capsys.readouterr().err
    assert main(["staff", "--volume", "10", "--aht", "100"]) == 2
    assert "at least one target" in capsys.readouterr().err
