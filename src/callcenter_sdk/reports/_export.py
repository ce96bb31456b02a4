"""Writing a :class:`~callcenter_sdk.reports.Report`: terminal table, CSV, JSON or Parquet.

Times are written as ISO 8601 in UTC (``2026-12-11T09:30:00Z``); ratios as
fractions (0.8, not 80 %), seconds as seconds; an undefined figure is empty
(CSV, table), ``null`` (JSON) or null (Parquet), never 0.

.. versionadded:: 0.1
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from ._report import Report

__all__ = ["FORMATS", "render", "write_parquet"]

FORMATS = ("table", "csv", "json", "parquet")
"""The formats :func:`render` and ``callcenter report --format`` know."""


def _when(start: float | None) -> str | None:
    if start is None:
        return None
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(report: Report) -> list[dict[str, Any]]:
    return [{**row.as_dict(), "start": _when(row.start)} for row in report.rows]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def render(report: Report, fmt: str = "table") -> str:
    """The report as text in ``fmt`` (``table``, ``csv`` or ``json``)."""
    rows = _records(report)
    columns = list(report.columns) if report.interval else list(report.columns)[1:]
    if fmt == "json":
        return json.dumps([{c: r[c] for c in columns} for r in rows], indent=1) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    if fmt != "table":
        raise ConfigError("<command line>", ("--format",), "table, csv, json or parquet")
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines) + "\n"


def write_parquet(report: Report, path: str | Path) -> None:
    """Write the report as a Parquet file (needs pyarrow: the ``reports`` extra)."""
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional, only for this format
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError(
            "<command line>",
            ("--format",),
            "pyarrow installed for Parquet (pip install 'callcenter_sdk[reports]')",
        ) from exc
    rows = _records(report)
    columns: Sequence[str] = report.columns
    table = pa.table({c: [r[c] for r in rows] for c in columns})
    pq.write_table(table, str(path))
