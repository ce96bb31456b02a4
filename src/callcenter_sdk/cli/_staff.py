"""``callcenter staff``: print the staffing table of a forecast (Erlang C or A).

Either one interval from the command line::

    callcenter staff --volume 100 --aht 180 --interval 30 --sl 0.8 --within 20

or a CSV forecast with a header row and the columns ``queue``, ``start``
(``HH:MM`` or seconds), ``volume``, ``aht`` and optionally ``patience`` (mean
seconds before hanging up; selects Erlang A for that row) and ``interval``
(minutes)::

    callcenter staff --forecast day.csv --sl 0.8 --within 20 --shrinkage 0.3
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence

from .._errors import ConfigError
from ..kpi import (
    IntervalForecast,
    StaffingRow,
    StaffingTargets,
    read_forecast,
    staffing_table,
)
from ..kpi._forecast import checked_forecast
from ._main import COMMANDS, Command
from ._tables import print_table

_COLUMNS = ("queue", "start", "volume", "aht", "load", "model", "raw", "scheduled")
_FIGURES = ("service_level", "asa", "p_abandon", "occupancy")


def _configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("forecast (a CSV file, or one interval)")
    source.add_argument(
        "--forecast", metavar="CSV", help="CSV: queue,start,volume,aht[,patience][,interval]"
    )
    source.add_argument("--volume", help="contacts expected in the interval")
    source.add_argument("--aht", help="average handle time, seconds")
    source.add_argument("--patience", help="mean patience, seconds (Erlang A)")
    source.add_argument("--queue", default="default", help="queue name for one interval")
    source.add_argument("--interval", default="30", help="interval length, minutes (30)")
    targets = parser.add_argument_group("targets")
    targets.add_argument("--sl", type=float, help="service level to reach, e.g. 0.8")
    targets.add_argument("--within", type=float, help="service-level threshold, seconds, e.g. 20")
    targets.add_argument("--max-asa", type=float, help="highest average speed of answer, seconds")
    targets.add_argument("--max-abandon", type=float, help="highest abandon rate (Erlang A)")
    targets.add_argument("--max-occupancy", type=float, help="highest occupancy, e.g. 0.85")
    targets.add_argument(
        "--shrinkage", type=float, default=0.0, help="share of paid time off the phones"
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def _forecasts(args: argparse.Namespace) -> list[IntervalForecast]:
    if args.forecast:
        return read_forecast(args.forecast)
    if args.volume is None or args.aht is None:
        raise ConfigError("<command line>", ("--volume",), "--forecast FILE, or --volume and --aht")

    def error(option: str, expected: str, got: object) -> ConfigError:
        return ConfigError("<command line>", (f"--{option}",), expected, got)

    cells = {
        "queue": args.queue,
        "start": "0",
        "volume": args.volume,
        "aht": args.aht,
        "interval": args.interval,
        "patience": args.patience or "",
    }
    return [checked_forecast(cells, error)]


def _hhmm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _values(row: StaffingRow) -> dict[str, object]:
    fc, st = row.forecast, row.staffing
    return {
        "queue": fc.queue,
        "start": _hhmm(fc.start),
        "volume": fc.volume,
        "aht": fc.aht,
        "load": round(st.load, 3),
        "model": st.model,
        "raw": st.raw,
        "scheduled": st.scheduled,
        "service_level": None if st.service_level is None else round(st.service_level, 4),
        "asa": round(st.asa, 2) if math.isfinite(st.asa) else None,
        "p_abandon": round(st.p_abandon, 4),
        "occupancy": round(st.occupancy, 4),
    }


def _print_table(rows: Sequence[dict[str, object]]) -> None:
    headers = [*_COLUMNS, *_FIGURES]
    print_table(headers, [["" if r[h] is None else str(r[h]) for h in headers] for r in rows])


def _run(args: argparse.Namespace) -> int:
    targets = StaffingTargets(
        service_level=args.sl,
        within=args.within,
        max_asa=args.max_asa,
        max_abandon=args.max_abandon,
        max_occupancy=args.max_occupancy,
        shrinkage=args.shrinkage,
    )
    staffing = staffing_table(_forecasts(args), targets)
    rows = [_values(r) for r in staffing]
    if args.format == "json":
        print(json.dumps(rows))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=[*_COLUMNS, *_FIGURES])
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_table(rows)
        print(_totals(staffing))
    return 0


def _totals(rows: Sequence[StaffingRow]) -> str:
    """Scheduled agents summed per interval length, and in agent-hours over all.

    Agent-intervals of 15 and 30 minutes are not the same unit, so they are
    never added together.
    """
    by_length: dict[float, int] = {}
    for row in rows:
        length = row.forecast.interval_s
        by_length[length] = by_length.get(length, 0) + row.staffing.scheduled
    parts = [
        f"{n} agent-intervals of {length / 60:g} min" for length, n in sorted(by_length.items())
    ]
    hours = sum(n * length / 3600 for length, n in by_length.items())
    return f"total scheduled: {', '.join(parts)} ({hours:g} agent-hours)"


COMMANDS["staff"] = Command(
    "staff", "print the agents a forecast needs (Erlang C/A)", _configure, _run
)
