"""Media events, prompts and DTMF collection: plain values with stable kinds."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import callcenter_sdk as cc
from callcenter_sdk.media import (
    CallEnded,
    CallIncoming,
    DtmfReceived,
    EndCause,
    Tone,
    WorkerLost,
)
from callcenter_sdk.media._dtmf import DigitBuffer

KINDS = {
    "media.call_incoming",
    "media.call_ringing",
    "media.call_answered",
    "media.call_media_active",
    "media.call_ended",
    "media.dtmf",
    "media.prompt_finished",
    "media.recording_finished",
    "media.worker_started",
    "media.worker_lost",
}


def test_media_event_kinds_are_registered() -> None:
    """Every media event kind the store and the wire rely on is registered."""
    assert set(cc.event_kinds()) >= KINDS


@pytest.mark.parametrize(
    "event",
    [
        CallIncoming(
            at=1.0, call_id="w0.1:1", from_uri="<sip:a@x>", to_uri="<sip:b@y>", worker="w0.1"
        ),
        CallIncoming(
            at=1.0,
            call_id="w0.1:2",
            from_uri="<sip:a@x>",
            to_uri="<sip:b@y>",
            worker="w0.1",
            caller_number="+4420",
            caller_verified=True,
            source="2001:db8::7",
        ),
        CallEnded(at=2.0, call_id="w0.1:1", cause=EndCause.BUSY, status_code=486, reason="Busy"),
        DtmfReceived(at=3.0, call_id="w0.1:1", digit="#"),
        WorkerLost(at=4.0, worker="w0.1", exit_code=-9, lost_calls=["w0.1:1", "w0.1:2"]),
    ],
)
def test_media_events_round_trip_as_data_and_pickles(event: cc.Event) -> None:
    """Media events survive event_to_dict/event_from_dict (the store) and pickle (the pipe)."""
    assert cc.event_from_dict(cc.event_to_dict(event)) == event
    assert pickle.loads(pickle.dumps(event)) == event  # noqa: S301 - our own bytes


def test_a_call_incoming_stored_before_caller_verification_reads_back_unverified() -> None:
    """An event stored before ``caller_verified`` and ``source`` existed reads back
    with the number unverified and no source."""
    stored = {"kind": "media.call_incoming", "at": 1.0, "call_id": "w0.1:1",
              "from_uri": "<sip:a@x>", "to_uri": "<sip:b@y>", "worker": "w0.1",
              "caller_number": "+4420"}  # fmt: skip
    event = cc.event_from_dict(stored)
    assert isinstance(event, CallIncoming)
    assert (event.caller_number, event.caller_verified, event.source) == ("+4420", False, "")


def test_cause_is_converted_from_its_stored_string() -> None:
    """A stored cause string comes back as the EndCause member."""
    ended = CallEnded(at=0.0, call_id="c", cause="worker_lost")
    assert ended.cause is EndCause.WORKER_LOST


@pytest.mark.parametrize("freqs", [(), (0,), (4000,), (1, 2, 3)])
def test_tone_frequencies_are_checked(freqs: tuple[int, ...]) -> None:
    """A tone has one or two audible frequencies below the 8 kHz bridge's Nyquist limit."""
    with pytest.raises(cc.ValidationError):
        Tone(freqs)


def _never(seconds: float, fire: Callable[[], None]) -> Callable[[], None]:
    return lambda: None


@given(
    pressed=st.text(alphabet="0123456789*#", max_size=12),
    max_digits=st.integers(min_value=1, max_value=10),
)
def test_collection_stops_at_max_digits_or_terminator(pressed: str, max_digits: int) -> None:
    """Type-ahead digits are consumed up to the terminator or max_digits, whichever is first."""

    async def run() -> str:
        buffer = DigitBuffer()
        for digit in pressed:
            buffer.push(digit)
        buffer.close()  # the call ends after the last digit
        return await buffer.collect(
            max_digits=max_digits,
            first_digit_timeout=5,
            inter_digit_timeout=None,
            terminators="#",
            start_timer=_never,
        )

    expected = pressed.split("#", 1)[0][:max_digits]
    assert anyio.run(run) == expected


async def test_collection_times_out_with_what_it_has() -> None:
    """When the inter-digit timer fires with no new digit, collection returns the digits so far."""
    buffer = DigitBuffer()
    buffer.push("4")
    send, timers = anyio.create_memory_object_stream[Callable[[], None]](10)

    def start_timer(seconds: float, fire: Callable[[], None]) -> Callable[[], None]:
        send.send_nowait(fire)
        return lambda: None

    result: list[str] = []

    async def collect() -> None:
        result.append(
            await buffer.collect(
                max_digits=4,
                first_digit_timeout=5,
                inter_digit_timeout=2,
                terminators="#",
                start_timer=start_timer,
            )
        )

    with send, timers:
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect)
            await timers.receive()  # waiting for a second digit
            buffer.push("2")
            fire = await timers.receive()  # waiting for a third
            fire()
    assert result == ["42"]
