"""Leader takeover between node processes on PostgreSQL: kill -9, and a stall longer than the lease.

Three processes run ``tests/cluster/node.py`` (an :class:`Elector` over one
PostgreSQL schema) and print their leadership changes; the tests wait on those
lines with timeouts, never on sleeps, and check the rows each leader wrote
through the fence.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from callcenter_sdk.store import Store, temporary_store

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

NODE = Path(__file__).with_name("node.py")
DOMAIN = "voice"
TTL = 2.0
PERIOD = TTL / 3
SLACK = 1.5
"""Seconds allowed on top of ttl + renew period for process scheduling on a busy machine."""


class Cluster:
    """Node processes and every line they printed, with the time each line arrived."""

    def __init__(self, url: str, schema: str, *, hold: float = 0.0) -> None:
        self.url = url
        self.schema = schema
        self.hold = hold
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self.readers: list[threading.Thread] = []
        self.lines: list[tuple[float, str]] = []
        self.changed = threading.Condition()

    def start(self, name: str) -> None:
        """Start node ``name``; its output is collected by a reader thread."""
        process = subprocess.Popen(
            [
                sys.executable,
                str(NODE),
                self.url,
                self.schema,
                DOMAIN,
                name,
                str(TTL),
                str(self.hold),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes[name] = process
        reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        reader.start()
        self.readers.append(reader)

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self.changed:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.changed.notify_all()

    def wait_for(
        self, pattern: str, timeout: float, *, after: int = 0
    ) -> tuple[float, re.Match[str]]:
        """The arrival time and match of the first line from ``after`` on matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for arrived, line in self.lines[after:]:
                    found = regex.fullmatch(line)
                    if found:
                        return arrived, found
                left = deadline - time.monotonic()
                if left <= 0:
                    output = "\n".join(line for _, line in self.lines)
                    pytest.fail(f"no line matching {pattern!r} in {timeout} s; output:\n{output}")
                self.changed.wait(left)

    def mark(self) -> int:
        """The index of the next line to arrive."""
        with self.changed:
            return len(self.lines)

    def close(self) -> None:
        """Kill every node this cluster started (by pid) and reap it."""
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
            process.wait(timeout=30)
        for reader in self.readers:
            reader.join(timeout=30)
        for process in self.processes.values():
            assert process.stdout is not None
            process.stdout.close()


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh PostgreSQL schema with the probe table the nodes write under the fence."""
    with temporary_store(postgresql_url) as store:
        with store.transaction("create probe table") as session:
            session.execute(
                text(
                    "CREATE TABLE cluster_probe (id bigserial PRIMARY KEY, node text,"
                    " epoch bigint, written_at double precision)"
                )
            )
        yield store


@contextmanager
def _running(database: Store, url: str, *, hold: float = 0.0) -> Iterator[Cluster]:
    """Three node processes on the database's schema, all running their elector."""
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    nodes = Cluster(url, schema, hold=hold)
    try:
        for name in ("node-a", "node-b", "node-c"):
            nodes.start(name)
        for name in ("node-a", "node-b", "node-c"):
            nodes.wait_for(f"ready {name}", 60)
        yield nodes
    finally:
        nodes.close()


@pytest.fixture
def cluster(database: Store, postgresql_url: str) -> Iterator[Cluster]:
    """Three node processes on the database's schema, all running their elector."""
    with _running(database, postgresql_url) as nodes:
        yield nodes


def _leader(cluster: Cluster, epoch: int, timeout: float, *, after: int = 0) -> tuple[float, str]:
    arrived, found = cluster.wait_for(rf"gained (\S+) {epoch}", timeout, after=after)
    return arrived, found.group(1)


def _writers_by_epoch(store: Store) -> dict[int, set[str]]:
    with store.reading("probe rows") as session:
        rows = session.execute(text("SELECT DISTINCT epoch, node FROM cluster_probe")).all()
    found: dict[int, set[str]] = {}
    for epoch, node in rows:
        found.setdefault(epoch, set()).add(node)
    return found


def _written(store: Store, epoch: int) -> tuple[float, float, int]:
    with store.reading("probe times") as session:
        first, last, count = session.execute(
            text(
                "SELECT min(written_at), max(written_at), count(*) FROM cluster_probe"
                " WHERE epoch = :epoch"
            ),
            {"epoch": epoch},
        ).one()
    return first, last, count


def test_kill_9_of_the_leader_hands_over_within_ttl_and_a_renew_period(
    cluster: Cluster, database: Store
) -> None:
    """Three nodes elect one leader; kill -9 of it makes another node leader at the next epoch
    within ttl + renew period (plus scheduling slack), and each epoch's fenced rows are from
    exactly one node."""
    _, first = _leader(cluster, 1, 60)
    cluster.wait_for(f"wrote {first} 1", 30)
    mark = cluster.mark()
    killed = time.monotonic()
    cluster.processes[first].kill()
    gained, second = _leader(cluster, 2, TTL + PERIOD + 30, after=mark)
    takeover = gained - killed
    print(f"takeover after kill -9: {takeover:.3f} s")
    assert second != first
    assert takeover < TTL + PERIOD + SLACK
    cluster.wait_for(f"wrote {second} 2", 30)
    assert _writers_by_epoch(database) == {1: {first}, 2: {second}}


def test_a_stalled_leader_is_replaced_and_its_fenced_write_refused_on_resume(
    cluster: Cluster, database: Store
) -> None:
    """SIGSTOP of the leader for longer than the ttl: another node takes over at the next epoch;
    after SIGCONT the old leader's writer tries its fenced write with the old lease and is
    refused, the old elector steps down, and every row of the old epoch was written before the
    first row of the new one."""
    _, first = _leader(cluster, 1, 60)
    cluster.wait_for(f"wrote {first} 1", 30)
    mark = cluster.mark()
    stopped = time.monotonic()
    os.kill(cluster.processes[first].pid, signal.SIGSTOP)
    gained, second = _leader(cluster, 2, TTL + PERIOD + 30, after=mark)
    takeover = gained - stopped
    print(f"takeover after SIGSTOP: {takeover:.3f} s")
    assert second != first
    assert takeover < TTL + PERIOD + SLACK
    cluster.wait_for(f"wrote {second} 2", 30)
    resumed = cluster.mark()
    os.kill(cluster.processes[first].pid, signal.SIGCONT)
    cluster.wait_for(f"refused {first} 1", 30, after=resumed)
    cluster.wait_for(f"lost {first} 1 .*", 30, after=resumed)
    assert _writers_by_epoch(database) == {1: {first}, 2: {second}}
    _, old_last, _ = _written(database, 1)
    new_first, _, _ = _written(database, 2)
    assert old_last < new_first
    assert not any(
        re.fullmatch(rf"(gained|wrote) {first} .*", line) for _, line in cluster.lines[resumed:]
    ), "the old leader took no new term and wrote nothing after resuming"


def test_a_leader_stopped_inside_a_fenced_transaction_does_not_hold_off_the_takeover(
    database: Store, postgresql_url: str
) -> None:
    """SIGSTOP of the leader while its fenced transaction holds the lease row (idle in
    transaction on the server): the server ends that transaction after half the ttl, another
    node takes over within ttl + renew period, and on SIGCONT the old leader's writes fail or
    are refused: its stalled batch never committed."""
    with _running(database, postgresql_url, hold=TTL / 4) as cluster:
        _, first = _leader(cluster, 1, 60)
        _, holding = cluster.wait_for(rf"holding {first} 1 (\d+)", 30)
        stopped = time.monotonic()
        os.kill(cluster.processes[first].pid, signal.SIGSTOP)
        backend = int(holding.group(1))
        assert _session_state(database, backend) == "idle in transaction"
        _, _, committed = _written(database, 1)  # the writes that finished before the stop
        mark = cluster.mark()
        gained, second = _leader(cluster, 2, TTL + PERIOD + 30, after=mark)
        takeover = gained - stopped
        print(f"takeover after SIGSTOP inside a fenced transaction: {takeover:.3f} s")
        assert second != first
        assert takeover < TTL + PERIOD + SLACK
        assert _session_state(database, backend) is None, "the server ended the stalled session"
        cluster.wait_for(f"wrote {second} 2", 30)
        resumed = cluster.mark()
        os.kill(cluster.processes[first].pid, signal.SIGCONT)
        cluster.wait_for(f"refused {first} 1", 30, after=resumed)
        writers = _writers_by_epoch(database)
        assert writers[2] == {second}
        assert writers.get(1, {first}) == {first}
        _, old_last, after = _written(database, 1)
        assert after == committed, "the stalled batch never committed"
        new_first, _, _ = _written(database, 2)
        assert after == 0 or old_last < new_first


def _session_state(store: Store, backend: int) -> str | None:
    with store.engine.connect() as conn:
        state = conn.execute(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
        ).scalar_one_or_none()
    return None if state is None else str(state)
