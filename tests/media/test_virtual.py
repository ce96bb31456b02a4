"""The virtual backend: the MediaBackend protocol on virtual time with scripted parties."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import callcenter_sdk as cc
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    CallRinging,
    DtmfReceived,
    EndCause,
    MediaBackend,
    MediaEventLog,
    MonitorMode,
    PartyScript,
    PromptFinished,
    RecordingFinished,
    Tone,
    VirtualBackend,
    call_is,
)

AGENT = "sip:agent1@virtual"


def test_it_is_a_media_backend() -> None:
    """The virtual backend satisfies the same protocol as the pjsua2 pool."""
    assert isinstance(VirtualBackend(), MediaBackend)


async def test_ivr_collects_a_pressed_digit_at_its_virtual_time() -> None:
    """A caller who presses 2 one second after the answer: the IVR, awaiting
    collect_dtmf, gets "2", and the digit's event is stamped at answer + 1 s."""
    media = VirtualBackend(cc.ManualClock(100.0))
    log = MediaEventLog(media.events())
    caller = media.inject_call("sip:alice@x", script=PartyScript(press=((1.0, "2"),)), after=5)
    got: list[str] = []

    async def ivr() -> None:
        incoming = await log.wait(CallIncoming)
        await media.answer(incoming.call_id)
        await media.play(incoming.call_id, Tone((440,), duration=3.0))
        got.append(await media.collect_dtmf(incoming.call_id, first_digit_timeout=10))

    async with anyio.create_task_group() as tg:
        tg.start_soon(ivr)
        await media.advance(60)
    assert got == ["2"]
    digit = await log.wait(DtmfReceived, call_is(caller))
    assert digit.at == 106.0
    finished = await log.wait(PromptFinished, call_is(caller))
    assert finished.at == 108.0


async def test_collection_times_out_in_virtual_time() -> None:
    """With no key pressed, collect_dtmf returns "" when the virtual timeout expires,
    and no wall-clock time is waited for it."""
    media = VirtualBackend()
    caller = media.inject_call("sip:bob@x")
    await media.advance(0)
    await media.answer(caller)
    got: list[str] = []

    async def collect() -> None:
        got.append(await media.collect_dtmf(caller, first_digit_timeout=3600))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect)
            await media.advance(3599)
            assert got == []
            await media.advance(1)
    assert got == [""]
    assert media.clock.now() == 3600


async def test_queue_then_agent_bridge_and_caller_hangs_up() -> None:
    """A waiting caller hears hold music, the agent's phone rings then answers after
    4 s, both are bridged and hear each other; the caller's talk time ends the call."""
    media = VirtualBackend()
    media.add_phone(AGENT, PartyScript(answer_after=4.0))
    log = MediaEventLog(media.events())
    caller = media.inject_call("sip:carol@x", script=PartyScript(talk_for=30.0))
    await media.advance(0)
    await media.answer(caller)
    await media.start_music_on_hold(caller)
    assert media.hearing(caller) == {"hold:tone:425"}
    agent = await media.originate(AGENT, near=caller)
    await media.advance(1)
    assert (await log.wait(CallRinging, call_is(agent))).at == 0.0
    await media.advance(3)
    assert (await log.wait(CallAnswered, call_is(agent))).at == 4.0
    await media.stop_music_on_hold(caller)
    await media.bridge(caller, agent)
    await media.start_recording(caller, "call.wav")
    assert media.hearing(caller) == {f"leg:{agent}"}
    assert media.hearing(agent) == {f"leg:{caller}"}
    await media.advance(30)
    ended = await log.wait(CallEnded, call_is(caller))
    assert (ended.cause, ended.at) == (EndCause.REMOTE_HANGUP, 34.0)
    assert (await log.wait(RecordingFinished, call_is(caller))).path == "call.wav"
    assert media.hearing(agent) == frozenset()  # the agent's leg stays for the runtime to end
    await media.hangup(agent)
    assert (await log.wait(CallEnded, call_is(agent))).cause is EndCause.LOCAL_HANGUP
    assert media.calls == ()


@pytest.mark.parametrize(
    ("script", "cause"),
    [
        (PartyScript(answer_after=2.0, reject=486), EndCause.BUSY),
        (PartyScript(answer_after=2.0, reject=603), EndCause.REJECTED),
    ],
)
async def test_busy_and_declining_phones(script: PartyScript, cause: EndCause) -> None:
    """A phone that refuses ends the agent leg with the cause the ACD needs."""
    media = VirtualBackend()
    media.add_phone(AGENT, script)
    log = MediaEventLog(media.events())
    agent = await media.originate(AGENT)
    await media.advance(5)
    ended = await log.wait(CallEnded, call_is(agent))
    assert (ended.cause, ended.at) == (cause, 2.0)


async def test_unknown_number_and_unanswered_phone() -> None:
    """An undeclared URI is rejected (404); a phone that never answers rings until
    we give up, which ends the leg as our own hang-up."""
    media = VirtualBackend()
    media.add_phone(AGENT, PartyScript(answer_after=None))
    log = MediaEventLog(media.events())
    nobody = await media.originate("sip:nobody@virtual")
    ringing = await media.originate(AGENT)
    await media.advance(20)
    assert (await log.wait(CallEnded, call_is(nobody))).status_code == 404
    assert ringing in media.calls
    await media.hangup(ringing)
    assert (await log.wait(CallEnded, call_is(ringing))).cause is EndCause.LOCAL_HANGUP


@settings(max_examples=30, deadline=None)
@given(
    patience=st.floats(min_value=0.5, max_value=600),
    agent_after=st.floats(min_value=0.5, max_value=600),
)
def test_a_caller_abandons_exactly_when_patience_runs_out(
    patience: float, agent_after: float
) -> None:
    """A caller with patience P who is not bridged by then hangs up at exactly P
    (an abandon); one bridged earlier stays. The wait is exact in virtual time."""

    async def scenario() -> tuple[bool, float | None]:
        media = VirtualBackend()
        media.add_phone(AGENT)
        log = MediaEventLog(media.events())
        caller = media.inject_call("sip:dave@x", script=PartyScript(patience=patience))
        await media.advance(0)
        await media.answer(caller)
        await media.advance(agent_after)
        if caller in media.calls:
            agent = await media.originate(AGENT, near=caller)
            await media.advance(0)
            await media.bridge(caller, agent)
            await media.advance(1000)
            return True, None
        ended = await log.wait(CallEnded, call_is(caller))
        assert ended.cause is EndCause.REMOTE_HANGUP
        return False, ended.at

    bridged, ended_at = anyio.run(scenario)
    if agent_after < patience:
        assert bridged
    else:
        assert ended_at == pytest.approx(patience)


async def test_commands_on_unknown_or_unanswered_calls_fail_clearly() -> None:
    """Unknown ids raise NotFoundError; media on an unanswered leg raises MediaError."""
    media = VirtualBackend()
    with pytest.raises(cc.NotFoundError):
        await media.hangup("virtual:99")
    caller = media.inject_call("sip:erin@x")
    await media.advance(0)
    with pytest.raises(cc.MediaError):
        await media.play(caller, Tone((440,)))
    with pytest.raises(cc.ValidationError):
        await media.send_dtmf(caller, "12x")
    await media.aclose()


async def test_supervisor_modes_change_who_hears_whom() -> None:
    """Listen: the supervisor hears both sides, nobody hears it; whisper: the agent
    hears it; barge: the caller too; stopping takes it out again."""
    media = VirtualBackend()
    media.add_phone(AGENT)
    media.add_phone("sip:boss@virtual")
    caller = media.inject_call("sip:frank@x")
    await media.advance(0)
    await media.answer(caller)
    agent = await media.originate(AGENT, near=caller)
    boss = await media.originate("sip:boss@virtual", near=agent)
    await media.advance(0)
    await media.bridge(caller, agent)
    await media.monitor(boss, agent, MonitorMode.LISTEN)
    assert media.hearing(boss) == {f"leg:{agent}", f"leg:{caller}"}
    assert f"leg:{boss}" not in media.hearing(agent) | media.hearing(caller)
    await media.monitor(boss, agent, MonitorMode.WHISPER)
    assert f"leg:{boss}" in media.hearing(agent)
    assert f"leg:{boss}" not in media.hearing(caller)
    await media.monitor(boss, agent, MonitorMode.BARGE)
    assert f"leg:{boss}" in media.hearing(caller)
    await media.stop_monitoring(boss)
    assert media.hearing(boss) == frozenset()
    assert media.hearing(caller) == {f"leg:{agent}"}
