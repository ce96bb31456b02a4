"""Staffing a day: forecast → Erlang staffing table → simulation → planned versus simulated.

A workforce planner's loop, end to end on the library:

1. read a forecast (contacts, handle time and patience per queue and half hour);
2. compute, for each interval, how many agents meet the targets (80 % of calls
   answered within 20 s, at most 5 % abandons) under Erlang A, and how many to
   schedule once shrinkage (breaks, training, absence) is counted;
3. simulate the day on the real ACD engine with exactly that roster — absent
   agents drawn at random at the shrinkage rate — over several replications;
4. compare what was planned with what the simulated day delivered;
5. draw it (PNG and SVG, matplotlib from the ``reports`` extra): the first
   simulated day's service level and volume by half hour against the plan's
   forecast, and the staffing curve (service level and ASA against the number
   of agents, Erlang C) of the busiest interval.

Run it::

    .venv/bin/python examples/staffing/main.py --replications 10

The pictures go to ``staffing/`` in the data directory (see
:func:`callcenter_sdk.data_dir`), or to ``--out DIR``.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import attrs

from callcenter_sdk import data_dir, kpi
from callcenter_sdk.acd import Queue
from callcenter_sdk.kpi import StaffingRow, StaffingTargets, read_forecast, staffing_table
from callcenter_sdk.reports import (
    Report,
    build_report,
    cells_from_records,
    save_figure,
    service_level_chart,
    staffing_curve,
)
from callcenter_sdk.sim import (
    AgentGroup,
    Exponential,
    QueueLoad,
    Scenario,
    SimResult,
    estimate,
    forecast_arrivals,
    replicate,
    text_progress,
)

HERE = Path(__file__).parent
TARGETS = StaffingTargets(service_level=0.8, within=20.0, max_abandon=0.05, shrinkage=0.3)


def hhmm(seconds: float) -> str:
    """Render seconds from midnight as HH:MM."""
    minutes = round(seconds / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def build_scenario(table: Sequence[StaffingRow], origin: float) -> Scenario:
    """One queue per forecast queue; one group of agents per queue and interval."""
    forecasts = [row.forecast for row in table]
    queues = sorted({f.queue for f in forecasts})
    loads = []
    for name in queues:
        first = next(f for f in forecasts if f.queue == name)
        patience = first.patience
        loads.append(
            QueueLoad(
                queue=Queue(name=name, service_level_threshold=TARGETS.within or 20.0),
                arrivals=forecast_arrivals(forecasts, name, origin=origin),
                handle_time=Exponential(first.aht),
                patience=None if patience is None else Exponential(patience),
            )
        )
    groups = [
        AgentGroup(
            prefix=f"{row.forecast.queue}-{hhmm(row.forecast.start)}-",
            count=row.staffing.scheduled,
            memberships=(row.forecast.queue,),
            shift=(
                row.forecast.start - origin,
                row.forecast.start - origin + row.forecast.interval_s,
            ),
            absence=TARGETS.shrinkage,
        )
        for row in table
    ]
    end = max(f.start + f.interval_s for f in forecasts) - origin
    return Scenario(loads=tuple(loads), agents=tuple(groups), duration=end, short_abandon_s=0.0)


def interval_service_levels(
    result: SimResult, origin: float, interval_s: float
) -> dict[tuple[float, str], float]:
    """Simulated service level per (interval start, queue) of one replication."""
    groups = kpi.group_records(result.records, by=("queue",), interval_s=interval_s)
    levels = {}
    for key, records in groups.items():
        start, queue = float(str(key[0])), str(key[1])
        value = kpi.service_level(records, TARGETS.within or 20.0)
        if value is not None:
            levels[(start + origin, queue)] = value
    return levels


def day_report(result: SimResult, origin: float) -> Report:
    """One simulated day's report by half hour, at the forecast's times of day."""
    cells = cells_from_records(
        result.records,
        result.intervals,
        threshold_s=TARGETS.within or 20.0,
        short_abandon_s=0.0,
        now=result.end_time,
    )
    report = build_report(
        [cell for cell in cells if cell.level == "queue"],  # each contact once
        interval="30min",
        threshold_s=TARGETS.within or 20.0,
    )
    rows = tuple(
        attrs.evolve(row, start=(row.start or 0.0) + origin)
        for row in report.rows
        if row.offered  # the agents' last minutes after the day are no interval of it
    )
    return attrs.evolve(report, rows=rows)


def draw(
    table: Sequence[StaffingRow], result: SimResult, origin: float, folder: Path
) -> list[Path]:
    """Draw the simulated day against the plan and the busiest interval's staffing curve."""
    folder.mkdir(parents=True, exist_ok=True)
    busiest = max(table, key=lambda row: row.forecast.volume)
    f = busiest.forecast
    figures = {
        "staffing_service_level": service_level_chart(
            day_report(result, origin),
            plan=table,
            target=TARGETS.service_level,
            title="Simulated day against the plan (replication 1)",
        ),
        "staffing_curve": staffing_curve(
            f.volume / f.interval_s,
            f.aht,
            threshold_s=TARGETS.within or 20.0,
            target=TARGETS.service_level,
            title=f"Staffing curve, {f.queue} {hhmm(f.start)}",
        ),
    }
    return [
        save_figure(figure, folder / f"{name}.{kind}")
        for name, figure in figures.items()
        for kind in ("png", "svg")
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Plan, simulate and compare the day in the forecast file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecast", default=str(HERE / "forecast.csv"))
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", help="data directory (default: callcenter_sdk.data_dir())")
    parser.add_argument("--out", type=Path, help="pictures here (default: <data dir>/staffing)")
    args = parser.parse_args(argv)

    table = staffing_table(read_forecast(args.forecast), TARGETS)
    origin = min(row.forecast.start for row in table)
    interval_s = table[0].forecast.interval_s
    print(f"Staffing for {len(table)} queue-intervals (Erlang A, {TARGETS})\n")
    print(f"{'interval':8} {'queue':8} {'calls':>5} {'raw':>4} {'sched':>5} {'plan SL':>7}")
    for row in table:
        f, st = row.forecast, row.staffing
        planned = math.nan if st.service_level is None else st.service_level
        print(
            f"{hhmm(f.start):8} {f.queue:8} {f.volume:5.0f} {st.raw:4d} "
            f"{st.scheduled:5d} {100 * planned:6.1f}%"
        )

    scenario = build_scenario(table, origin)
    print(f"\nSimulating the day {args.replications} times on the ACD engine...")
    reps = replicate(
        scenario,
        args.replications,
        seed=args.seed,
        threshold_s=TARGETS.within,
        progress=text_progress("day"),
    )

    per_interval: dict[tuple[float, str], list[float]] = defaultdict(list)
    for result in reps.results:
        for key, value in interval_service_levels(result, origin, interval_s).items():
            per_interval[key].append(value)
    print(f"\n{'interval':8} {'queue':8} {'plan SL':>7}  simulated SL (95 % CI)")
    met = 0
    for row in table:
        key = (row.forecast.start, row.forecast.queue)
        planned = row.staffing.service_level or math.nan
        sim = estimate(per_interval.get(key, []))
        met += sim.mean >= (TARGETS.service_level or 0.0)
        print(
            f"{hhmm(key[0]):8} {key[1]:8} {100 * planned:6.1f}%  "
            f"{100 * sim.mean:5.1f}% ± {100 * sim.half_width:4.1f}"
        )
    print(
        f"\nIntervals meeting the {TARGETS.service_level:.0%} target on average: {met}/{len(table)}"
    )
    print("\nWhole day, simulated (mean ± 95 % CI over replications):")
    for line in reps.lines():
        print(f"  {line}")
    scheduled_hours = sum(r.staffing.scheduled * r.forecast.interval_s for r in table) / 3600
    print(f"\nScheduled agent-hours: {scheduled_hours:.0f}")
    folder = args.out or data_dir(args.data_dir).path / "staffing"
    print("\nPictures:")
    for path in draw(table, reps.results[0], origin, folder):
        print(f"  {path}")


if __name__ == "__main__":
    main()
