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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .._errors import ConfigError

__all__ = ["FORMATS", "Table", "render", "write_parquet"]


class _Row(Protocol):
    @property
    def start(self) -> float | None: ...

    @property
    def keys(self) -> Mapping[str, str]: ...

    def as_dict(self) -> dict[str, Any]: ...


class Table(Protocol):
    """What :func:`render` writes.

    A :class:`~callcenter_sdk.reports.Report` or a
    :class:`~callcenter_sdk.reports.ConversationReport`.
    """

    @property
    def by(self) -> tuple[str, ...]: ...

    @property
    def interval(self) -> str | None: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def counts(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> Sequence[_Row]: ...


FORMATS = ("table", "csv", "json", "parquet")
"""The formats :func:`render` and ``callcenter report --format`` know."""


def _when(start: float | None) -> str | None:
    if start is None:
        return None
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(report: Table) -> list[dict[str, Any]]:
    return [{**row.as_dict(), "start": _when(row.start)} for row in report.rows]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def render(report: Table, fmt: str = "table") -> str:
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
    columns, cells = table_cells(report)
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines) + "\n"


def table_cells(report: Table) -> tuple[list[str], list[list[str]]]:
    """The report's column names and its rows as text, as the ``table`` format shows them.

    .. versionadded:: 0.2
    """
    rows = _records(report)
    columns = list(report.columns) if report.interval else list(report.columns)[1:]
    return columns, [[_cell(r[c]) for c in columns] for r in rows]


def write_parquet(report: Table, path: str | Path) -> None:
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
    # typed columns, so an empty report is a file with the same schema as a full one
    schema = pa.schema([(c, _arrow_type(pa, report, c)) for c in columns])
    table = pa.table({c: [r[c] for r in rows] for c in columns}, schema=schema)
    pq.write_table(table, str(path))


def _arrow_type(pa: Any, report: Table, column: str) -> Any:
    if column == "start" or column in report.by:
        return pa.string()
    if column in report.counts:
        return pa.int64()
    return pa.float64()
