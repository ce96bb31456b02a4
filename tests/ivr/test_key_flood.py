"""A caller holding a key, or a flood of RFC 2833 events, cannot grow a call's memory."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest

from callcenter_sdk import ManualClock, ValidationError
from callcenter_sdk.ivr import IvrDriver, IvrResult, TransferToQueue, load_flow
from callcenter_sdk.ivr._driver import _Call, _Gone
from callcenter_sdk.media import (
    CallEnded,
    DtmfReceived,
    EndCause,
    PartyScript,
    PromptFinished,
    VirtualBackend,
)
from callcenter_sdk.media._dtmf import DIGIT_BUFFER_LIMIT, DigitBuffer

HOTLINE = load_flow(Path(__file__).parents[2] / "examples" / "hotline" / "ivr.toml")
OPEN = dt.datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Europe/Paris")).timestamp()  # office hours
FLOOD = "0123456789" * 1000  # 10 000 keys, each telling where it was in the flood


def no_timer(seconds: float, fire: Callable[[], None]) -> Callable[[], None]:
    """A timer that never fires (the buffer is closed before it is needed)."""
    return lambda: None


async def test_the_digit_buffer_keeps_the_newest_keys(caplog: pytest.LogCaptureFixture) -> None:
    """10 000 keys nobody collects: the buffer holds the newest 64, counts the 9 936
    dropped, and logs it once (not once per key), naming the call."""
    buffer = DigitBuffer(name="call-7")
    with caplog.at_level(logging.WARNING):
        for digit in FLOOD:
            buffer.push(digit)
    assert DIGIT_BUFFER_LIMIT == 64
    assert buffer.dropped == len(FLOOD) - 64
    assert [r.getMessage() for r in caplog.records] == [
        "DTMF buffer of call call-7 full (64 keys nobody collected): dropping the oldest keys"
    ]
    buffer.close()
    got = await buffer.collect(
        max_digits=1000,
        first_digit_timeout=1.0,
        inter_digit_timeout=None,
        terminators="",
        start_timer=no_timer,
    )
    assert got == FLOOD[-64:]


def test_the_digit_buffer_limit_is_checked() -> None:
    """A buffer that could hold no key is a mistake, reported at once."""
    with pytest.raises(ValidationError, match="limit"):
        DigitBuffer(limit=0)


async def test_a_caller_flooding_keys_while_queued_keeps_only_the_newest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the IVR hands a caller to a queue nobody collects keys; 10 000 of them
    leave the 64 newest for the next collection (an agent's or a later menu's)."""
    backend = VirtualBackend(ManualClock(OPEN), prompt_seconds=lambda prompt: 2.0)
    results: list[IvrResult] = []

    async def handover(result: IvrResult) -> None:
        results.append(result)

    driver = IvrDriver(backend, HOTLINE, clock=backend.clock, handover=handover)
    script = PartyScript(press=((5.0, "2"), (6.0, "1"), (30.0, FLOOD)))
    async with anyio.create_task_group() as tg:
        await tg.start(driver.serve)
        call = backend.inject_call("sip:0601@virtual", script=script)
        with caplog.at_level(logging.WARNING):
            await backend.advance(60)
        assert [type(r.action) for r in results] == [TransferToQueue]
        got: list[str] = []

        async def collect() -> None:
            got.append(
                await backend.collect_dtmf(
                    call, max_digits=1000, first_digit_timeout=1.0, inter_digit_timeout=1.0,
                    terminators="",
                )
            )  # fmt: skip

        tg.start_soon(collect)
        await backend.advance(5)
        await backend.aclose()
    assert got == [FLOOD[-64:]]
    assert sum("dropping the oldest keys" in r.getMessage() for r in caplog.records) == 1


def test_the_ivr_keeps_at_most_64_unread_key_events() -> None:
    """The driver's per-call event queue drops key events beyond 64 unread ones (counted,
    logged once), never a prompt's end or the hang-up; the keys it counts for
    barge-in and type-ahead stop at 64 too."""
    call = _Call("c1")
    for digit in FLOOD:
        call.push(DtmfReceived(at=0.0, call_id="c1", digit=digit))
    call.push(PromptFinished(at=0.0, call_id="c1"))
    call.push(CallEnded(at=0.0, call_id="c1", cause=EndCause.REMOTE_HANGUP))
    assert call.receive.statistics().current_buffer_used == 64 + 2
    assert call.dropped_keys == len(FLOOD) - 64
    with pytest.raises(_Gone):
        call.drain()
    assert (call.keys, call.unread_keys, call.ended) == (64, 0, True)
    call.close()
