"""Reading interval forecasts from CSV files.

.. versionadded:: 0.1
"""

from __future__ import annotations

import csv
import math
import os

from .._errors import ConfigError
from ._staffing import IntervalForecast

__all__ = ["read_forecast"]


def _start_seconds(text: str, file: str, row: int) -> float:
    try:
        if ":" in text:
            hours, minutes = text.split(":", 1)
            return int(hours) * 3600 + float(minutes) * 60
        return float(text)
    except ValueError:
        raise ConfigError(file, (row, "start"), "HH:MM or seconds", text) from None


def _number(record: dict[str, str], column: str, file: str, row: int) -> float:
    text = record.get(column, "")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(file, (row, column), "a number", text) from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(file, (row, column), "a finite number >= 0", text)
    return value


def read_forecast(path: str | os.PathLike[str]) -> list[IntervalForecast]:
    """Read a forecast CSV: one row per queue and interval.

    The header names the columns ``queue``, ``start`` (``HH:MM`` or seconds
    from midnight), ``volume`` (contacts expected in the interval), ``aht``
    (seconds) and optionally ``patience`` (mean seconds before a caller hangs
    up; staffing then uses Erlang A for that row) and ``interval`` (minutes,
    30 by default).

    Raises:
        ConfigError: The file cannot be read, or a cell is missing or wrong;
            the error names the file, the line and the column.
    """
    path = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ConfigError(path, (), "a readable CSV file", detail=str(exc)) from exc
    forecasts = []
    for i, rec in enumerate(rows, start=2):  # line numbers as an editor shows them
        for column in ("queue", "start", "volume", "aht"):
            if not rec.get(column):
                raise ConfigError(path, (i, column), f"a value in column {column!r}")
        aht = _number(rec, "aht", path, i)
        if aht == 0:
            raise ConfigError(path, (i, "aht"), "an AHT > 0 seconds", rec["aht"])
        forecasts.append(
            IntervalForecast(
                queue=rec["queue"],
                start=_start_seconds(rec["start"], path, i),
                volume=_number(rec, "volume", path, i),
                aht=aht,
                interval_s=_number(rec, "interval", path, i) * 60
                if rec.get("interval")
                else 1800.0,
                patience=_number(rec, "patience", path, i) if rec.get("patience") else None,
            )
        )
    return forecasts
