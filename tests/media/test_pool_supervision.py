"""Supervision of the pjsua2 worker pool: lost workers, placement, limits, hostile SIP."""

from __future__ import annotations

import os
import signal
from collections import Counter

import anyio
import pytest

import callcenter_sdk as cc
from callcenter_sdk.media import (
    CallEnded,
    CallIncoming,
    EndCause,
    WorkerLost,
    WorkerStarted,
    call_is,
    connect_workers,
    create_media_pool,
)
from callcenter_sdk.media import MediaEventLog as EventLog

pytestmark = pytest.mark.sip


async def test_a_killed_worker_loses_only_its_calls_and_comes_back() -> None:
    """Killing a worker turns its legs into CallEnded(worker_lost) and WorkerLost,
    the other worker's leg lives on, and the slot gets a fresh worker."""
    async with create_media_pool(2, health_interval=0.5) as pool:
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        out, inc = await connect_workers(pool, log, w1.address)
        pool.kill_worker(w1.name)
        ended = await log.wait(CallEnded, call_is(inc))
        assert ended.cause is EndCause.WORKER_LOST
        lost = await log.wait(WorkerLost, lambda e: e.worker == w1.name)
        assert lost.lost_calls == (inc,)
        assert lost.exit_code is not None
        assert lost.exit_code != 0
        fresh = await log.wait(WorkerStarted, lambda e: e.worker not in (w0.name, w1.name))
        assert fresh.worker.startswith("w1.")
        assert [w.name for w in pool.workers] == [w0.name, fresh.worker]
        assert pool.worker_of(out).name == w0.name  # untouched
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(out))
        pids = [w.pid for w in pool.workers]
    for pid in pids:  # a closed pool leaves no process behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_new_legs_go_to_the_least_loaded_worker() -> None:
    """Four outbound legs from a two-worker pool are placed two and two."""
    async with create_media_pool(1) as agents, create_media_pool(2) as pool:
        agent_log, log = EventLog(agents.events()), EventLog(pool.events())
        target = agents.workers[0].address
        legs = [await pool.originate(f"sip:agent@{target}") for _ in range(4)]
        placed = sorted(pool.worker_of(leg).name for leg in legs)
        assert placed == sorted([w.name for w in pool.workers] * 2)
        for _ in legs:  # the far end rings; hang up before answering
            await agent_log.wait(CallIncoming)
        for leg in legs:
            await pool.hangup(leg)
        for leg in legs:
            assert (await log.wait(CallEnded, call_is(leg))).cause is EndCause.LOCAL_HANGUP
        for _ in legs:
            ended = await agent_log.wait(CallEnded)
            assert ended.cause is EndCause.CANCELLED


async def test_a_full_worker_refuses_more_legs() -> None:
    """Once every leg of every worker is taken, originate fails with MediaError."""
    async with (
        create_media_pool(1) as agents,
        create_media_pool(1, max_calls_per_worker=2) as pool,
    ):
        agent_log = EventLog(agents.events())
        target = agents.workers[0].address
        legs = [await pool.originate(f"sip:agent@{target}") for _ in range(2)]
        with pytest.raises(cc.MediaError, match="free leg"):
            await pool.originate(f"sip:agent@{target}")
        for _ in legs:
            await agent_log.wait(CallIncoming)
        for leg in legs:
            await pool.hangup(leg)


async def test_rate_guard_spaces_new_legs() -> None:
    """With one new leg per second allowed, a second originate waits its turn."""
    async with (
        create_media_pool(1) as agents,
        create_media_pool(1, max_new_calls_per_second=1) as pool,
    ):
        agent_log = EventLog(agents.events())
        target = agents.workers[0].address
        start = anyio.current_time()
        legs = [await pool.originate(f"sip:agent@{target}") for _ in range(2)]
        assert anyio.current_time() - start >= 1.0
        for _ in legs:
            await agent_log.wait(CallIncoming)
        for leg in legs:
            await pool.hangup(leg)


HOSTILE = [
    b"\x00\xff garbage that is not SIP at all\r\n\r\n",
    (
        b"FOO sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\n"
        b"Call-ID: a\r\nCSeq: 1 FOO\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
        b"Content-Length: 0\r\n\r\n"
    ),
    (
        b"INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: broken\r\nCSeq: banana\r\n"
        b"Content-Length: 9999\r\n\r\nv=0"
    ),
    b"INVITE sip:x@127.0.0.1 SIP/2.0\r\n" + b"X-Long: " + b"A" * 3000 + b"\r\n\r\n",
]


async def test_malformed_sip_never_kills_a_worker() -> None:
    """Garbage, an unknown method, broken headers and an oversized header sent to a
    worker leave it alive, with no stuck call, and it still connects a real call."""
    async with create_media_pool(2) as pool:
        log = EventLog(pool.events())
        target = pool.workers[1]
        host, port = target.address.rsplit(":", 1)
        async with await anyio.create_udp_socket(local_host="127.0.0.1") as sock:
            for _ in range(5):
                for datagram in HOSTILE:
                    await sock.sendto(datagram, host, int(port))
        out, inc = await connect_workers(pool, log, target.address)
        assert pool.worker_of(inc).name == target.name  # the same process, never restarted
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(inc))
        stats = await pool.stats()
        assert stats[target.name].calls == 0
        assert not log.of(WorkerLost)


async def test_a_hung_worker_is_killed_and_replaced() -> None:
    """A worker that stops answering (SIGSTOP) fails its health check: it is killed,
    its call is reported lost, and a fresh worker takes its slot; nothing hangs."""
    # 5 s: a busy machine never makes a live worker miss its health check
    async with create_media_pool(2, health_interval=0.3, command_timeout=5.0) as pool:
        log = EventLog(pool.events())
        _, w1 = pool.workers
        out, inc = await connect_workers(pool, log, w1.address)
        os.kill(w1.pid, signal.SIGSTOP)
        lost = await log.wait(WorkerLost, lambda e: e.worker == w1.name)
        assert lost.lost_calls == (inc,)
        assert (await log.wait(CallEnded, call_is(inc))).cause is EndCause.WORKER_LOST
        fresh = await log.wait(
            WorkerStarted, lambda e: e.worker.startswith("w1.") and e.worker != w1.name
        )
        assert [w.name for w in pool.workers][1] == fresh.worker
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(out))
    with pytest.raises(ProcessLookupError):
        os.kill(w1.pid, 0)


def _invite(target: str, n: int) -> bytes:
    return (
        f"INVITE sip:ivr@{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-burst-{n}\r\nMax-Forwards: 70\r\n"
        f"From: <sip:burst@127.0.0.1>;tag=b{n}\r\nTo: <sip:ivr@{target}>\r\n"
        f"Call-ID: burst-{n}\r\nCSeq: 1 INVITE\r\nContact: <sip:burst@127.0.0.1:9>\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


async def test_a_worker_refuses_inbound_calls_above_its_rate() -> None:
    """Ten INVITEs at once straight at a worker allowed 2 new calls per second
    (3 with its 1.5x margin): three ring, the rest are refused (503 from the rate
    guard, 486 once the build's 4 slots are taken), and the worker lives on."""
    async with (
        create_media_pool(1, max_new_calls_per_second=2) as pool,
        await anyio.create_udp_socket(local_host="127.0.0.1") as sock,
    ):
        log = EventLog(pool.events())
        target = pool.workers[0].address
        host, port = target.rsplit(":", 1)
        for n in range(10):
            await sock.sendto(_invite(target, n), host, int(port))
        finals: dict[bytes, int] = {}
        with anyio.fail_after(30):
            while len(finals) < 10:
                data = (await sock.receive())[0]
                status = int(data.split(b" ", 2)[1])
                call_id = next(
                    line for line in data.split(b"\r\n") if line.lower().startswith(b"call-id")
                )
                if status >= 180:
                    finals[call_id] = status
        refused = Counter(code for code in finals.values() if code != 180)
        assert sum(refused.values()) == 7  # three ring, no more
        assert refused[503] >= 1  # the rate guard (the build's 4-call cap says 486)
        assert set(refused) <= {486, 503}
        rung = [await log.wait(CallIncoming) for _ in range(3)]
        for event in rung:
            await pool.hangup(event.call_id, status_code=486)
        for event in rung:
            await log.wait(CallEnded, call_is(event.call_id))
        assert not log.of(WorkerLost)
