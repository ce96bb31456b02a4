"""Media workers are forked from one fork server that imported their code once."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from callcenter_sdk.media import (
    CallEnded,
    EndCause,
    WorkerLost,
    WorkerStarted,
    call_is,
    connect_workers,
    create_media_pool,
)
from callcenter_sdk.media import MediaEventLog as EventLog

pytestmark = pytest.mark.sip


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _kib(pid: int, kind: str) -> int:
    """``Shared`` or ``Private`` memory (clean and dirty) of a process, in KiB."""
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    found = re.findall(rf"^{kind}_(?:Clean|Dirty):\s+(\d+) kB", text, re.MULTILINE)
    return sum(map(int, found))


def _gone(pid: int) -> bool:
    """No such process, or only its exit status left (an orphan init has not reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _named(name: str) -> Callable[[WorkerLost], bool]:
    return lambda event: event.worker == name


def _successor(name: str) -> Callable[[WorkerStarted], bool]:
    """A worker started in the slot of ``name`` after it (``w1.1`` -> ``w1.2``...)."""
    slot = name.split(".", maxsplit=1)[0] + "."
    return lambda event: event.worker.startswith(slot) and event.worker != name


async def test_workers_are_forked_from_one_server_and_share_its_pages() -> None:
    """Every worker of a pool is a child of the same fork server, shares most
    of its memory with it (more shared than private), and a closed pool
    leaves neither the server nor a worker behind."""
    async with create_media_pool(3) as pool:
        server = pool.fork_server_pid
        assert server is not None
        pids = [w.pid for w in pool.workers]
        assert len(set(pids)) == 3
        assert [_parent(pid) for pid in pids] == [server] * 3
        for pid in pids:
            assert _kib(pid, "Shared") > _kib(pid, "Private")
    assert pool.fork_server_pid is None
    for pid in [server, *pids]:
        assert _gone(pid)


async def test_a_dead_fork_server_takes_its_workers_and_the_pool_starts_again() -> None:
    """Killing the fork server kills its workers (they die with it), their
    calls end as worker_lost, and the pool starts a new server and a fresh
    worker in each slot that then carries calls again."""
    async with create_media_pool(2, health_interval=0.5) as pool:
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        server = pool.fork_server_pid
        assert server is not None
        out, inc = await connect_workers(pool, log, w1.address)
        os.kill(server, signal.SIGKILL)
        for call in (out, inc):
            assert (await log.wait(CallEnded, call_is(call))).cause is EndCause.WORKER_LOST
        for old in (w0, w1):
            await log.wait(WorkerLost, _named(old.name))
            await log.wait(WorkerStarted, _successor(old.name))
        fresh = pool.fork_server_pid
        assert fresh is not None
        assert fresh != server
        assert [_parent(w.pid) for w in pool.workers] == [fresh, fresh]
        out, inc = await connect_workers(pool, log, pool.workers[1].address)
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(inc))
    for pid in (w0.pid, w1.pid, server):
        assert _gone(pid)
