"""Reading interval forecasts from CSV files.

Every value is checked before staffing starts: a start time of the day on
the interval's grid, an interval of one minute to one day, and an offered
load (volume × AHT ÷ interval) of at most :data:`MAX_LOAD` Erlangs, which
keeps the staffing search to a fraction of a second per interval.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

from .._csv import CsvError, CsvFile
from .._errors import ConfigError
from ._staffing import IntervalForecast

__all__ = ["read_forecast"]

MAX_LOAD = 100_000.0
"""The largest offered load, in Erlangs, a forecast interval may carry."""

_DAY = 86_400.0
_ErrorAt = Callable[[str, str, object], ConfigError]
"""Builds the error for a column, the expectation and the value found."""


def _start_seconds(text: str, error: _ErrorAt) -> float:
    expected = "a start time from 00:00 to 23:59, or seconds from midnight below 86400"
    try:
        if ":" in text:
            hours_text, minutes_text = text.split(":", 1)
            hours, minutes = int(hours_text), int(minutes_text)
            if not (0 <= hours <= 23 and 0 <= minutes <= 59):
                raise error("start", expected, text)
            return float(hours * 3600 + minutes * 60)
        seconds = float(text)
    except ValueError:
        raise error("start", expected, text) from None
    if not (math.isfinite(seconds) and 0 <= seconds < _DAY):
        raise error("start", expected, text)
    return seconds


def _number(text: str, column: str, error: _ErrorAt) -> float:
    try:
        value = float(text)
    except ValueError:
        raise error(column, "a number", text) from None
    if not math.isfinite(value) or value < 0:
        raise error(column, "a finite number >= 0", text)
    return value


def checked_forecast(
    cells: dict[str, str], error: _ErrorAt, *, default_interval: float = 30.0
) -> IntervalForecast:
    """One interval's forecast from its text cells, every value checked.

    ``cells`` holds ``queue``, ``start``, ``volume``, ``aht`` and optionally
    ``patience`` and ``interval`` (minutes; ``default_interval`` when empty).
    ``error(column, expected, got)`` builds the error to raise, so a CSV line
    and a command-line option are both named where they are wrong.

    Raises:
        ConfigError: A value is missing, out of range, off the interval grid,
            or the interval's load is above :data:`MAX_LOAD`.
    """
    for column in ("queue", "start", "volume", "aht"):
        if not cells.get(column, "").strip():
            raise error(column, f"a value in column {column!r}", None)
    interval_text = cells.get("interval", "").strip()
    minutes = _number(interval_text, "interval", error) if interval_text else default_interval
    if not 1 <= minutes <= 1440:
        raise error("interval", "an interval from 1 to 1440 minutes", interval_text or minutes)
    interval_s = minutes * 60
    start = _start_seconds(cells["start"].strip(), error)
    if not math.isclose(start / interval_s, round(start / interval_s), abs_tol=1e-9):
        raise error("start", f"a start on the {minutes:g}-minute grid", cells["start"])
    volume = _number(cells["volume"], "volume", error)
    aht = _number(cells["aht"], "aht", error)
    if aht == 0:
        raise error("aht", "an AHT > 0 seconds", cells["aht"])
    load = volume * aht / interval_s
    if load > MAX_LOAD:
        raise error(
            "volume",
            f"an offered load (volume × AHT ÷ interval) of at most {MAX_LOAD:.0f} Erlangs",
            f"{cells['volume']} contacts × {cells['aht']} s ÷ {interval_s:g} s = {load:.3g}",
        )
    patience_text = cells.get("patience", "").strip()
    patience = _number(patience_text, "patience", error) if patience_text else None
    return IntervalForecast(
        queue=cells["queue"].strip(),
        start=start,
        volume=volume,
        aht=aht,
        interval_s=interval_s,
        patience=patience,
    )


def read_forecast(path: str | os.PathLike[str]) -> list[IntervalForecast]:
    """Read a forecast CSV: one row per queue and interval.

    The header names the columns ``queue``, ``start`` (``HH:MM`` or seconds
    from midnight, on the interval's grid), ``volume`` (contacts expected in
    the interval), ``aht`` (seconds) and optionally ``patience`` (mean
    seconds before a caller hangs up; staffing then uses Erlang A for that
    row) and ``interval`` (minutes, 30 by default). Fields are separated by
    ``,`` or ``;``; the file is UTF-8, with or without a byte-order mark.

    .. versionchanged:: 0.2
       Start times, intervals and loads are checked; ``;`` and a BOM are read.

    Raises:
        ConfigError: The file cannot be read, has no rows, or a cell is
            missing or wrong; the error names the file, the line and the column.
    """
    forecasts = []
    with CsvFile(path, required=("queue", "start", "volume", "aht")) as rows:
        for line, cells in rows:

            def error(column: str, expected: str, got: object, line: int = line) -> ConfigError:
                return CsvError(rows.name, line, column, expected, got)

            forecasts.append(checked_forecast(cells, error))
        if not forecasts:
            raise CsvError(rows.name, 2, None, "at least one forecast row after the header")
    return forecasts
