"""Reading forecast CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ConfigError
from callcenter_sdk.kpi import IntervalForecast, read_forecast


def test_rows_become_interval_forecasts(tmp_path: Path) -> None:
    """Each row is one queue-interval; HH:MM starts, optional patience and
    interval length are read; missing ones take their defaults."""
    path = tmp_path / "day.csv"
    path.write_text(
        "queue,start,volume,aht,patience,interval\n"
        "sales,08:30,120,200,90,15\n"
        "support,3600,40.5,300,,\n",
        encoding="utf-8",
    )
    assert read_forecast(path) == [
        IntervalForecast(
            queue="sales", start=30600.0, volume=120.0, aht=200.0, interval_s=900.0, patience=90.0
        ),
        IntervalForecast(queue="support", start=3600.0, volume=40.5, aht=300.0),
    ]


_START = "a start time from 00:00 to 23:59, or seconds from midnight below 86400"
_LOAD = "an offered load (volume × AHT ÷ interval) of at most 100000 Erlangs"


@pytest.mark.parametrize(
    ("row", "path", "expected"),
    [
        ("sales,8h30,1,2", (2, "start"), _START),
        ("sales,25:99,1,2", (2, "start"), _START),
        ("sales,-1,1,2", (2, "start"), _START),
        ("sales,08:10,1,2", (2, "start"), "a start on the 30-minute grid"),
        ("sales,08:00,1,2,0", (2, "interval"), "an interval from 1 to 1440 minutes"),
        ("sales,08:00,1,2,1e-300", (2, "interval"), "an interval from 1 to 1440 minutes"),
        ("sales,08:00,1e9,180", (2, "volume"), _LOAD),
        ("sales,08:00,1,1e9", (2, "volume"), _LOAD),
        ("sales,08:00,many,2", (2, "volume"), "a number"),
        ("sales,08:00,-1,2", (2, "volume"), "a finite number >= 0"),
        ("sales,08:00,1,0", (2, "aht"), "an AHT > 0 seconds"),
        (",08:00,1,2", (2, "queue"), "a value in column 'queue'"),
    ],
)
def test_bad_cells_name_file_line_and_column(
    tmp_path: Path, row: str, path: tuple[int, str], expected: str
) -> None:
    """A wrong cell is reported with the file, its line (as an editor counts)
    and column, and what was expected."""
    file = tmp_path / "bad.csv"
    file.write_text(f"queue,start,volume,aht,interval\n{row}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_forecast(file)
    assert info.value.file == str(file)
    assert info.value.path == path
    assert info.value.expected == expected


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """An unreadable file is a ConfigError naming it, not an OSError traceback."""
    with pytest.raises(ConfigError, match="a readable CSV file"):
        read_forecast(tmp_path / "nope.csv")
