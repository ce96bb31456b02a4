"""The pjsua2 worker pool over loopback: our own workers call each other."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import callcenter_sdk as cc
from callcenter_sdk.ivr import prompt_path
from callcenter_sdk.media import (
    AudioFile,
    CallEnded,
    CallMediaActive,
    DtmfMethod,
    DtmfReceived,
    EndCause,
    MediaBackend,
    MediaPool,
    MonitorMode,
    PromptFinished,
    RecordingFinished,
    Tone,
    call_is,
    connect_workers,
    create_media_pool,
    has_tone,
)
from callcenter_sdk.media import MediaEventLog as EventLog

pytestmark = pytest.mark.sip


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
    """A leg from worker 0 to worker 1: RFC 2833 digits arrive in order (a SIP INFO
    digit too, reported as such), each side's
    tone is found in what the other side recorded, a hang-up ends both legs with the
    right causes, and no bridge port or call is left behind."""
    async with create_media_pool(2) as pool:
        assert isinstance(pool, MediaBackend)
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        assert w0.capacity >= 2
        assert w1.capacity >= 2
        baseline = {n: s.active_ports for n, s in (await pool.stats()).items()}
        out, inc = await connect_workers(pool, log, w1.address)
        assert pool.worker_of(out).name == w0.name
        assert pool.worker_of(inc).name == w1.name

        await pool.send_dtmf(out, "1234#")
        assert await pool.collect_dtmf(inc, max_digits=9, first_digit_timeout=20) == "1234"
        await pool.send_dtmf(out, "9", method=DtmfMethod.SIP_INFO)
        assert await pool.collect_dtmf(inc, first_digit_timeout=20) == "9"
        received = [await log.wait(DtmfReceived, call_is(inc)) for _ in "1234#9"]
        assert [(e.digit, e.method) for e in received] == [
            *((d, DtmfMethod.RFC2833) for d in "1234#"),
            ("9", DtmfMethod.SIP_INFO),
        ]

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
        caller, ivr_leg = await connect_workers(pool, log, w1.address)  # the caller phones worker 1
        await pool.start_music_on_hold(ivr_leg)
        agent_leg, agent_phone = await connect_workers(pool, log, w0.address, near=ivr_leg)
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
        out, inc = await connect_workers(pool, log, pool.workers[1].address)
        await pool.play(inc, Tone((440,), duration=0.2))
        assert (await log.wait(PromptFinished)).call_id == inc
        await pool.hangup(out)
        await log.wait(CallEnded, call_is(inc))


async def test_hold_and_resume_keep_audio_flowing(tmp_path: Path) -> None:
    """After a hold and a resume (two re-INVITEs, new media each time), the caller's
    tone reaches the callee again: media is reconnected on every media change."""
    async with create_media_pool(2) as pool:
        log = EventLog(pool.events())
        out, inc = await connect_workers(pool, log, pool.workers[1].address)
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


async def test_supervisor_listens_whispers_and_barges(tmp_path: Path) -> None:
    """A supervisor leg beside the agent's: listening, it hears caller and agent and
    nobody hears it; whispering, only the agent hears it; barging, the caller too."""
    async with create_media_pool(2) as pool:
        log = EventLog(pool.events())
        w0, w1 = pool.workers
        caller, ivr_leg = await connect_workers(pool, log, w1.address)
        agent_leg, agent_phone = await connect_workers(pool, log, w0.address, near=ivr_leg)
        sup_leg, sup_phone = await connect_workers(pool, log, w0.address, near=agent_leg)
        await pool.bridge(ivr_leg, agent_leg)
        for leg, hz in ((caller, 1000), (agent_phone, 1600), (sup_phone, 2200)):
            await pool.play(leg, Tone((hz,)))

        async def heard(mode: MonitorMode) -> dict[str, Path]:
            await pool.monitor(sup_leg, agent_leg, mode)
            files = {leg: tmp_path / f"{mode.value}-{leg.replace(':', '_')}.wav"
                     for leg in (caller, agent_phone, sup_phone)}  # fmt: skip
            for leg, path in files.items():
                await pool.start_recording(leg, str(path))
            await anyio.sleep(1.0)
            for leg in files:
                await pool.stop_recording(leg)
                await log.wait(RecordingFinished, call_is(leg))
            return files

        listen = await heard(MonitorMode.LISTEN)
        assert has_tone(listen[sup_phone], 1000)
        assert has_tone(listen[sup_phone], 1600)
        assert not has_tone(listen[agent_phone], 2200)
        assert not has_tone(listen[caller], 2200)
        whisper = await heard(MonitorMode.WHISPER)
        assert has_tone(whisper[agent_phone], 2200)
        assert not has_tone(whisper[caller], 2200)
        barge = await heard(MonitorMode.BARGE)
        assert has_tone(barge[caller], 2200)
        assert has_tone(barge[agent_phone], 2200)
        await pool.stop_monitoring(sup_leg)
        for leg in (caller, agent_leg, sup_leg):
            await pool.hangup(leg)


async def test_prompts_end_on_time_whatever_the_poll() -> None:
    """A worker polling pjsua2 at most once a minute still reports a tone's end
    (timed by the worker) and a WAV prompt's end (signalled from the media clock
    thread) within seconds: neither waits for the poll to run out."""
    async with create_media_pool(2, poll_ms=60_000) as pool:
        log = EventLog(pool.events())
        out, inc = await connect_workers(pool, log, pool.workers[1].address)
        with anyio.fail_after(30):  # half the poll: a missed wake-up would take 60 s
            await pool.play(inc, Tone((440,), duration=0.2))
            assert (await log.wait(PromptFinished, call_is(inc))).call_id == inc
            await pool.play(out, AudioFile(str(prompt_path("en", "1"))))
            assert (await log.wait(PromptFinished, call_is(out))).call_id == out
            await pool.hangup(out)
            await log.wait(CallEnded, call_is(inc))
