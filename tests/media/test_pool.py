"""The pjsua2 worker pool over loopback: our own workers call each other."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import anyio
import pytest

import callcenter_sdk as cc
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    CallMediaActive,
    EndCause,
    MediaBackend,
    MediaPool,
    PromptFinished,
    RecordingFinished,
    Tone,
    WorkerLost,
    WorkerStarted,
    call_is,
    create_media_pool,
    has_tone,
)
from callcenter_sdk.media import MediaEventLog as EventLog

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]


async def _connect(
    pool: MediaPool, log: EventLog, target: str, near: str | None = None
) -> tuple[str, str]:
    """Originate to ``target`` (a pool worker), answer there; return (outbound, inbound) ids."""
    out = await pool.originate(f"sip:agent@{target}", near=near)
    incoming = await log.wait(CallIncoming, lambda e: e.worker != pool.worker_of(out).name)
    await pool.answer(incoming.call_id)
    await log.wait(CallAnswered, call_is(out))
    await log.wait(CallMediaActive, call_is(out))
    await log.wait(CallMediaActive, call_is(incoming.call_id))
    return out, incoming.call_id


async def _ports_settle(pool: MediaPool, baseline: dict[str, int]) -> dict[str, int]:
    """Wait until every worker's bridge is back to ``baseline`` ports (or give up after 10 s)."""
    with anyio.move_on_after(10):
        while True:
            now = {name: s.active_ports for name, s in (await pool.stats()).items()}
            if now == baseline:
                break
            await anyio.sleep(0.1)
    return now


async def test_two_workers_talk_dtmf_and_audio_cross(tmp_path: Path) -> None:
    """A leg from worker 0 to worker 1: RFC 2833 digits arrive in order, each side's
    tone is found in what the other side recorded, a hang-up ends both legs with the
    right causes, and no bridge port or call is left behind."""
    async with create_media_pool(2) as pool:
        assert isinstance(pool, MediaBackend)
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        assert w0.capacity >= 2
        assert w1.capacity >= 2
        baseline = {n: s.active_ports for n, s in (await pool.stats()).items()}
        out, inc = await _connect(pool, log, w1.address)
        assert pool.worker_of(out).name == w0.name
        assert pool.worker_of(inc).name == w1.name

        await pool.send_dtmf(out, "1234#")
        assert await pool.collect_dtmf(inc, max_digits=9, first_digit_timeout=20) == "1234"

        await pool.play(out, Tone((1000,)))
        await pool.play(inc, Tone((1600,)))
        heard_by_callee, heard_by_caller = tmp_path / "callee.wav", tmp_path / "caller.wav"
        await pool.start_recording(inc, str(heard_by_callee))
        await pool.start_recording(out, str(heard_by_caller))
        await anyio.sleep(1.0)  # one second of audio to analyse, whatever the machine speed
        await pool.stop_recording(inc)
        await pool.stop_recording(out)
        done = {(await log.wait(RecordingFinished)).path for _ in range(2)}
        assert done == {str(heard_by_callee), str(heard_by_caller)}
        assert has_tone(heard_by_callee, 1000)
        assert not has_tone(heard_by_callee, 1600)
        assert has_tone(heard_by_caller, 1600)
        assert not has_tone(heard_by_caller, 1000)

        await pool.hangup(inc)  # the callee (agent side) ends it
        ended_in = await log.wait(CallEnded, call_is(inc))
        ended_out = await log.wait(CallEnded, call_is(out))
        assert ended_in.cause is EndCause.LOCAL_HANGUP
        assert ended_out.cause is EndCause.REMOTE_HANGUP
        assert [w.calls for w in pool.workers] == [0, 0]
        assert await _ports_settle(pool, baseline) == baseline
        with pytest.raises(cc.NotFoundError):
            await pool.hangup(out)


async def test_bridge_joins_caller_and_agent_in_one_worker(tmp_path: Path) -> None:
    """A caller's leg and the agent leg originated `near` it share a worker; once
    bridged, the caller hears the agent's tone and the agent hears the caller's."""
    async with create_media_pool(2) as pool:
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        caller, ivr_leg = await _connect(pool, log, w1.address)  # the caller phones worker 1
        await pool.start_music_on_hold(ivr_leg)
        agent_leg, agent_phone = await _connect(pool, log, w0.address, near=ivr_leg)
        assert pool.worker_of(agent_leg) == pool.worker_of(ivr_leg)
        await pool.stop_music_on_hold(ivr_leg)
        await pool.bridge(ivr_leg, agent_leg)
        await pool.play(caller, Tone((1000,)))
        await pool.play(agent_phone, Tone((1600,)))
        caller_hears, agent_hears = tmp_path / "caller.wav", tmp_path / "agent.wav"
        conversation = tmp_path / "conversation.wav"
        await pool.start_recording(caller, str(caller_hears))
        await pool.start_recording(agent_phone, str(agent_hears))
        await pool.start_recording(ivr_leg, str(conversation))
        await anyio.sleep(1.0)
        for leg in (caller, agent_phone, ivr_leg):
            await pool.stop_recording(leg)
            await log.wait(RecordingFinished, call_is(leg))
        assert has_tone(caller_hears, 1600)
        assert has_tone(agent_hears, 1000)
        assert has_tone(conversation, 1000)
        assert has_tone(conversation, 1600)

        await pool.hangup(caller)  # the caller hangs up first
        await log.wait(CallEnded, call_is(ivr_leg))
        await pool.hangup(agent_leg)
        ended = await log.wait(CallEnded, call_is(agent_phone))
        assert ended.cause is EndCause.REMOTE_HANGUP


async def test_a_finite_tone_reports_its_end() -> None:
    """A tone with a duration ends by itself with PromptFinished."""
    async with create_media_pool(2) as pool:
        log = EventLog(pool.events())
        out, inc = await _connect(pool, log, pool.workers[1].address)
        await pool.play(inc, Tone((440,), duration=0.2))
        assert (await log.wait(PromptFinished)).call_id == inc
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(inc))


async def test_a_killed_worker_loses_only_its_calls_and_comes_back() -> None:
    """Killing a worker turns its legs into CallEnded(worker_lost) and WorkerLost,
    the other worker's leg lives on, and the slot gets a fresh worker."""
    async with create_media_pool(2, health_interval=0.5) as pool:
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        out, inc = await _connect(pool, log, w1.address)
        pool.kill_worker(w1.name)
        ended = await log.wait(CallEnded, call_is(inc))
        assert ended.cause is EndCause.WORKER_LOST
        lost = await log.wait(WorkerLost)
        assert lost.worker == w1.name
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


async def test_hold_and_resume_keep_audio_flowing(tmp_path: Path) -> None:
    """After a hold and a resume (two re-INVITEs, new media each time), the caller's
    tone reaches the callee again: media is reconnected on every media change."""
    async with create_media_pool(2) as pool:
        log = EventLog(pool.events())
        out, inc = await _connect(pool, log, pool.workers[1].address)
        await pool.play(out, Tone((1000,)))
        await pool.hold(out)
        await pool.resume(out)
        await log.wait(CallMediaActive, call_is(out))  # the resume's media is up
        heard = tmp_path / "after_resume.wav"
        await pool.start_recording(inc, str(heard))
        await anyio.sleep(1.0)
        await pool.stop_recording(inc)
        await log.wait(RecordingFinished, call_is(inc))
        assert has_tone(heard, 1000)
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(inc))


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
        out, inc = await _connect(pool, log, target.address)
        assert pool.worker_of(inc).name == target.name  # the same process, never restarted
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(inc))
        stats = await pool.stats()
        assert stats[target.name].calls == 0
        assert not log.of(WorkerLost)
