"""Kill the running call center with SIGKILL at random points; restart it; count what was lost.

Each trial runs ``recovery_center.py`` (a call center on the virtual backend,
in its own process) on a fresh store: first taking callers who ask to be
called back while one agent answers others (tickets opened), killed with
SIGKILL after a random number of committed promises; then serving the kept
callbacks with another agent, killed again at a random point, and restarted
until no callback waits. Then it checks, from what each process said it had
committed:

* ``lost``: callbacks promised to a caller and never called back;
* ``duplicated``: callbacks whose customer was reached more than once;
* ``order_preserved``: within each serving run, callbacks were called back
  in the order the callers had entered the queue;
* ``tickets_lost``: tickets opened and missing from the store afterwards.

``restart_s`` is the time from a serving process's start to the moment its
center has restored its promises and takes calls; the baseline is the same
start on an empty store (``fresh_start_s``), and the ratio compares them.

Run: ``.venv/bin/python benchmarks/bench_recovery.py [--trials N] [--postgresql]``;
the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from callcenter_sdk import NotFoundError
from callcenter_sdk.store import create_engine, create_store
from callcenter_sdk.tickets import TicketRepository

WORKER = Path(__file__).with_name("recovery_center.py")
POSTGRESQL_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RUN_LIMIT_S = 120.0
"""No process of the loop may run longer than this (a hung center fails the trial)."""


@contextmanager
def _database(url: str | None) -> Iterator[tuple[str, str]]:
    """A fresh database for one trial: (url, schema or "-"), removed afterwards."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="cc-crash-") as folder:
            yield f"sqlite:///{Path(folder) / 'center.sqlite3'}", "-"
        return
    schema = f"crash_{uuid.uuid4().hex[:12]}"
    try:
        yield url, schema
    finally:
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def _run(
    mode: str, url: str, schema: str, seed: int, kill_after: int | None
) -> tuple[list[dict[str, Any]], bool]:
    """Run the worker; SIGKILL it once it printed ``kill_after`` lines (never if None).

    Returns what it printed and whether it was killed (it may finish first).
    """
    argv = [sys.executable, str(WORKER), mode, url, schema, str(seed)]
    lines: list[dict[str, Any]] = []
    with subprocess.Popen(  # noqa: S603 - our own script
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + RUN_LIMIT_S
        for raw in proc.stdout:
            lines.append(json.loads(raw))
            if kill_after is not None and len(lines) >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{mode} ran past {RUN_LIMIT_S} s")
        proc.wait()
    return lines, proc.returncode == -signal.SIGKILL


def trial(url: str | None, seed: int) -> dict[str, Any]:
    """One crash trial on a fresh database; return what was promised, made and lost."""
    rng = random.Random(seed)
    with _database(url) as (db, schema):
        take, killed = _run("take", db, schema, seed, kill_after=rng.randint(3, 40))
        kills = int(killed)
        promised = {line["promised"]: line["entered"] for line in take if "promised" in line}
        tickets = [line["ticket"] for line in take if "ticket" in line]
        called: list[str] = [line["called"] for line in take if "called" in line]
        runs: list[list[str]] = []
        restarts: list[float] = []
        planned = rng.randint(0, 2)
        for attempt in range(planned + 6):
            kill_after = rng.randint(1, 12) if attempt < planned else None
            served, killed = _run("serve", db, schema, seed, kill_after=kill_after)
            kills += int(killed)
            restarts += [line["ready"] for line in served if "ready" in line]
            run = [line["called"] for line in served if "called" in line]
            tickets += [line["ticket"] for line in served if "ticket" in line]
            called += run
            runs.append(run)
            if any(line.get("idle") for line in served):
                break
        store = create_store(db, schema=None if schema == "-" else schema, upgrade=False)
        repository = TicketRepository(store)
        missing = 0
        for ticket_id in tickets:
            try:
                repository.get(ticket_id)
            except NotFoundError:
                missing += 1
        store.close()
    counts = Counter(called)
    ordered = all(
        [promised.get(i, 0.0) for i in run] == sorted(promised.get(i, 0.0) for i in run)
        for run in runs
    )
    return {
        "promised": len(promised),
        "lost": len(set(promised) - set(called)),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "ordered": ordered,
        "tickets": len(tickets),
        "tickets_lost": missing,
        "restarts": restarts,
        "kills": kills,
    }


def fresh_start_s(url: str | None) -> float:
    """The baseline: a serving process's start on an empty store."""
    with _database(url) as (db, schema):
        create_store(db, schema=None if schema == "-" else schema).close()
        served, _killed = _run("serve", db, schema, 0, kill_after=None)
    return float(next(line["ready"] for line in served if "ready" in line))


def crash_loop(url: str | None, trials: int, seed: int = 1) -> dict[str, Any]:
    """Run ``trials`` crash trials; return the figures the benchmark prints."""
    results = [trial(url, seed + i) for i in range(trials)]
    restarts = sorted(r for result in results for r in result["restarts"])
    p99 = restarts[min(len(restarts) - 1, int(0.99 * len(restarts)))] if restarts else 0.0
    baseline = fresh_start_s(url)
    return {
        "database": "sqlite" if url is None else "postgresql",
        "trials": trials,
        "kills": sum(r["kills"] for r in results),
        "promised_callbacks": sum(r["promised"] for r in results),
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "order_preserved": all(r["ordered"] for r in results),
        "tickets": sum(r["tickets"] for r in results),
        "tickets_lost": sum(r["tickets_lost"] for r in results),
        "restarts": len(restarts),
        "restart_s_p50": statistics.median(restarts) if restarts else 0.0,
        "restart_s_p99": p99,
        "fresh_start_s": baseline,
        "restart_vs_fresh": (p99 / baseline) if baseline else None,
    }


def main() -> None:
    """Run the crash loop and print its figures, the JSON summary last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgresql", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    figures = {"sqlite": crash_loop(None, args.trials, args.seed)}
    if args.postgresql:
        figures["postgresql"] = crash_loop(POSTGRESQL_URL, args.trials, args.seed)
    for name, result in figures.items():
        print(
            f"{name}: {result['trials']} trials, {result['kills']} kills (SIGKILL), "
            f"{result['promised_callbacks']} callbacks "
            f"promised, {result['lost']} lost, {result['duplicated']} duplicated, order "
            f"preserved: {result['order_preserved']}; {result['tickets']} tickets, "
            f"{result['tickets_lost']} lost; restart p99 {result['restart_s_p99']:.2f} s "
            f"({result['restart_vs_fresh']:.2f}x a fresh start)"
        )
    sqlite = figures["sqlite"]
    summary = {k: v for k, v in sqlite.items() if k != "database"}
    summary["trials"] = sum(f["trials"] for f in figures.values())
    keys = ("kills", "restarts", "promised_callbacks", "lost", "duplicated", "tickets")
    for key in (*keys, "tickets_lost"):
        summary[key] = sum(f[key] for f in figures.values())
    summary["order_preserved"] = all(f["order_preserved"] for f in figures.values())
    summary["restart_s_p99"] = max(f["restart_s_p99"] for f in figures.values())
    summary["restart_s_p50"] = max(f["restart_s_p50"] for f in figures.values())
    summary["by_database"] = figures
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
