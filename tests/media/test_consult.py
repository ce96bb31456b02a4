"""Attended (consult) transfer: on the virtual backend, and over real SIP between workers."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import callcenter_sdk as cc
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    CallMediaActive,
    ConsultationState,
    EndCause,
    MediaEventLog,
    PartyScript,
    RecordingFinished,
    Tone,
    VirtualBackend,
    call_is,
    connect_workers,
    consult,
    create_media_pool,
    has_tone,
)


async def _virtual_call(backend: VirtualBackend) -> tuple[str, str]:
    """A caller bridged to an agent on the virtual backend: ``(caller, agent)``."""
    backend.add_phone("sip:agent@desk", PartyScript(answer_after=1.0))
    backend.add_phone("sip:expert@desk", PartyScript(answer_after=2.0))
    caller = backend.inject_call("sip:+331@pstn")
    await backend.advance(0.1)
    await backend.answer(caller)
    agent = await backend.originate("sip:agent@desk", near=caller)
    await backend.advance(1.5)
    await backend.bridge(caller, agent)
    return caller, agent


async def test_completing_joins_caller_and_target_and_drops_the_agent() -> None:
    """While consulting, the caller hears only hold music and the agent and the
    target hear each other; on completion the caller and the target hear each other
    and the agent's leg is gone."""
    backend = VirtualBackend()
    caller, agent = await _virtual_call(backend)
    xfer = await consult(backend, caller=caller, agent=agent, target_uri="sip:expert@desk")
    assert any(h.startswith("hold:") for h in backend.hearing(caller))
    assert f"leg:{agent}" not in backend.hearing(caller)
    with pytest.raises(cc.StateError):
        await xfer.complete()  # the target has not answered yet
    await backend.advance(2.5)
    await xfer.target_answered()
    assert backend.hearing(agent) == {f"leg:{xfer.target}"}
    assert f"leg:{agent}" in backend.hearing(xfer.target)
    await xfer.complete()
    assert xfer.state is ConsultationState.COMPLETED
    assert backend.hearing(caller) == {f"leg:{xfer.target}"}
    assert backend.hearing(xfer.target) == {f"leg:{caller}"}
    assert agent not in backend.calls
    assert set(backend.calls) == {caller, xfer.target}


async def test_cancelling_gives_the_caller_back_to_the_agent() -> None:
    """Cancelling while the target rings hangs the target's leg up and bridges the
    caller and the agent again, without the music; a second cancel is refused."""
    backend = VirtualBackend()
    caller, agent = await _virtual_call(backend)
    xfer = await consult(backend, caller=caller, agent=agent, target_uri="sip:expert@desk")
    await xfer.cancel()
    assert backend.hearing(caller) == {f"leg:{agent}"}
    assert xfer.target not in backend.calls
    with pytest.raises(cc.StateError):
        await xfer.cancel()


@pytest.mark.sip
async def test_attended_transfer_over_sip(tmp_path: Path) -> None:
    """Three SIP phones in worker 0 (caller, agent, target), their legs in worker 1:
    the agent consults the target while the caller is held, then completes; the
    target's recording holds the caller's tone (and not the agent's), and the
    agent's phone sees its call ended by the far end."""
    async with create_media_pool(2) as pool:
        log = MediaEventLog(pool.events())
        w0, w1 = pool.workers
        caller_phone, caller = await connect_workers(pool, log, w1.address)
        agent, agent_phone = await connect_workers(pool, log, w0.address, near=caller)
        await pool.bridge(caller, agent)
        await pool.play(caller_phone, Tone((1000,)))
        await pool.play(agent_phone, Tone((1600,)))

        xfer = await consult(
            pool, caller=caller, agent=agent, target_uri=f"sip:expert@{w0.address}"
        )
        assert pool.worker_of(xfer.target) == pool.worker_of(caller)
        ring = await log.wait(CallIncoming, lambda e: "expert@" in e.to_uri)
        await pool.answer(ring.call_id)
        await log.wait(CallAnswered, call_is(xfer.target))
        await log.wait(CallMediaActive, call_is(ring.call_id))
        await xfer.target_answered()
        await xfer.complete()

        agent_end = await log.wait(CallEnded, call_is(agent_phone))
        assert agent_end.cause is EndCause.REMOTE_HANGUP
        heard = tmp_path / "target.wav"
        await pool.start_recording(ring.call_id, str(heard))
        await anyio.sleep(1.0)
        await pool.stop_recording(ring.call_id)
        await log.wait(RecordingFinished, call_is(ring.call_id))
        assert has_tone(heard, 1000)
        assert not has_tone(heard, 1600)
        assert xfer.state is ConsultationState.COMPLETED
        await pool.hangup(caller_phone)
        await log.wait(CallEnded, call_is(caller))
        await pool.hangup(xfer.target)  # the application ends the other side
        await log.wait(CallEnded, call_is(ring.call_id))
