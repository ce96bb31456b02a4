"""The interval report from stored aggregates, against a rebuild and against pandas.

A simulated day (96 quarter hours) on many queues is written to a SQLite
event log in batches, the interval aggregates catching up after each batch
(as ``create_event_writer(after_write=...)`` does live). Then, in the same
run: the report by 15 minutes and queue from the stored aggregates
(``report_s``), a rebuild of the aggregates from the whole event log
(``rebuild_s``), and the same table computed with pandas from the raw contact
records (``pandas_s``, the records already in memory: the most generous
baseline). ``identical`` says the report from the aggregates kept up to date
equals the one after the rebuild, row for row.

Run: ``.venv/bin/python benchmarks/bench_report.py [--events N] [--queues Q]``
(pandas from the ``bench`` extra). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from callcenter_sdk.kpi import Outcome
from callcenter_sdk.reports import IntervalAggregator, report_from_store
from callcenter_sdk.store import EventLog, create_store

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "reports"))
from days import scenario, simulated_day  # type: ignore[import-not-found]

DAY = 86_400.0


def _pandas_table(records: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "start": [r.arrived_at // 900 * 900 for r in records],  # type: ignore[attr-defined]
            "queue": [r.queue for r in records],  # type: ignore[attr-defined]
            "outcome": [r.outcome for r in records],  # type: ignore[attr-defined]
            "wait": [r.wait_s for r in records],  # type: ignore[attr-defined]
        }
    )
    frame["offered"] = frame["outcome"].isin(
        [Outcome.ANSWERED, Outcome.ABANDONED, Outcome.OVERFLOWED, Outcome.TIMED_OUT]
    )
    frame = frame[frame["offered"]]
    frame["answered"] = frame["outcome"] == Outcome.ANSWERED
    frame["within"] = frame["answered"] & (frame["wait"] <= 20.0)
    frame["answered_wait"] = frame["wait"].where(frame["answered"], 0.0)
    table = frame.groupby(["start", "queue"]).agg(
        offered=("offered", "sum"),
        answered=("answered", "sum"),
        within=("within", "sum"),
        answered_wait=("answered_wait", "sum"),
    )
    table["service_level"] = table["within"] / table["offered"]
    table["asa"] = table["answered_wait"] / table["answered"]
    return table


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queues", type=int, default=100)
    args = parser.parse_args()
    # each contact makes about 9 events; spread them over 100 queues and a day
    rate = args.events / 9 / DAY / args.queues
    agents = max(args.queues, round(args.events / 9 / DAY * 130 / 0.85))
    events, result = simulated_day(
        scenario(queues=args.queues, agents=agents, rate=rate, duration=DAY), seed=1
    )
    with tempfile.TemporaryDirectory() as folder:
        store = create_store(f"sqlite:///{folder}/bench.sqlite")
        log = EventLog(store, durable=False)
        aggregator = IntervalAggregator(store)
        batch = 20_000
        for i in range(0, len(events), batch):
            log.extend(events[i : i + batch])
            aggregator.catch_up()
        t0 = time.perf_counter()
        report = report_from_store(store, by=("queue",), interval="15min")
        report_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        aggregator.rebuild()
        rebuild_s = time.perf_counter() - t0
        rebuilt = report_from_store(store, by=("queue",), interval="15min")
        t0 = time.perf_counter()
        table = _pandas_table(result.records)
        pandas_s = time.perf_counter() - t0
        store.close()
    offered = [r for r in report.rows if r.offered]
    agree = len(offered) == len(table) and all(
        int(table.loc[(r.start, r.keys["queue"]), "offered"]) == r.offered for r in offered
    )
    print(f"{len(events)} events, {len(result.records)} records, {len(offered)} rows")
    print(f"pandas table agrees on offered per row: {agree}")
    print(
        json.dumps(
            {
                "events": len(events),
                "intervals": len({r.start for r in offered}),
                "queues": len({r.keys["queue"] for r in offered}),
                "report_s": round(report_s, 4),
                "rebuild_s": round(rebuild_s, 3),
                "pandas_s": round(pandas_s, 4),
                "identical": rebuilt == report,
                "metrics_series": None,
            }
        )
    )


if __name__ == "__main__":
    main()
