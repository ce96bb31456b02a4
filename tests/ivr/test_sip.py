"""End to end over real SIP: pjsua2 workers carry the call, RFC 2833 keys pick the queue."""

from __future__ import annotations

import importlib.util
import math
import os
import stat
from pathlib import Path

import anyio
import pytest

from callcenter_sdk import WallClock
from callcenter_sdk.ivr import (
    EndCall,
    FlowBuilder,
    IvrDriver,
    IvrResult,
    Menu,
    ToQueue,
    Voicemail,
    VoicemailLeft,
)
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallMediaActive,
    MediaEvent,
    MediaEventLog,
    RecordingFinished,
    call_is,
    create_media_pool,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

FLOW = (
    FlowBuilder("sip-menu", start="menu")
    .node(
        "menu",
        Menu(
            prompts=["welcome", "choose_language"],
            options={"1": "sales", "2": "support"},
            first_digit_timeout=20,
            retries=0,
            on_failure="bye",
        ),
    )
    .node("sales", ToQueue(queue="sales"))
    .node("support", ToQueue(queue="support"))
    .node("bye", EndCall())
    .build()
)


async def test_rfc2833_keys_route_each_caller_to_the_queue_they_chose() -> None:
    """Two callers phone the IVR worker in turn; the one pressing 2 reaches support, the
    one pressing 1 sales (keys sent as RFC 2833 during the prompts, which they interrupt);
    every step is bounded in time."""
    send, receive = anyio.create_memory_object_stream[MediaEvent](math.inf)
    hand, handed_over = anyio.create_memory_object_stream[IvrResult](math.inf)
    handed: list[IvrResult] = []

    async def handover(result: IvrResult) -> None:
        hand.send_nowait(result)

    async def forward(event: MediaEvent) -> None:
        send.send_nowait(event)

    with send, receive, hand, handed_over, anyio.fail_after(120):
        async with create_media_pool(2) as pool:
            log = MediaEventLog(receive)
            driver = IvrDriver(pool, FLOW, clock=WallClock(), handover=handover, forward=forward)
            async with anyio.create_task_group() as tg:
                await tg.start(driver.serve)
                ivr_worker = pool.workers[1]
                for key in ("2", "1"):
                    caller = await pool.originate(f"sip:hotline@{ivr_worker.address}")
                    await log.wait(CallAnswered, call_is(caller), limit=30)
                    await log.wait(CallMediaActive, call_is(caller), limit=30)
                    await pool.send_dtmf(caller, key)
                    handed.append(await handed_over.receive())
                    await pool.hangup(caller)
                tg.cancel_scope.cancel()
    assert [r.action.queue for r in handed] == ["support", "sales"]  # type: ignore[union-attr]
    assert [r.variables["dialled"] for r in handed] == ["hotline", "hotline"]
    assert [r.trail for r in handed] == [("menu", "support"), ("menu", "sales")]


async def test_a_voicemail_over_sip_is_a_private_file(tmp_path: Path) -> None:
    """A real pjsua2 worker records a caller's message into a 0600 file in a 0700
    directory although the whole pool runs with umask 022: the modes are ours."""
    flow = (
        FlowBuilder("sip-voicemail", start="message")
        .node("message", Voicemail(prompts=["beep"], max_seconds=20, confirm_prompts=[]))
        .build()
    )
    voicemail = tmp_path / "voicemail"
    send, receive = anyio.create_memory_object_stream[MediaEvent](math.inf)
    hand, handed_over = anyio.create_memory_object_stream[IvrResult](math.inf)

    async def handover(result: IvrResult) -> None:
        hand.send_nowait(result)

    async def forward(event: MediaEvent) -> None:
        send.send_nowait(event)

    old_umask = os.umask(0o022)  # the workers inherit it
    try:
        with send, receive, hand, handed_over, anyio.fail_after(120):
            async with create_media_pool(2) as pool:
                log = MediaEventLog(receive)
                driver = IvrDriver(
                    pool, flow, clock=WallClock(), handover=handover, forward=forward,
                    voicemail_dir=voicemail,
                )  # fmt: skip
                async with anyio.create_task_group() as tg:
                    await tg.start(driver.serve)
                    caller = await pool.originate(f"sip:hotline@{pool.workers[1].address}")
                    await log.wait(CallMediaActive, call_is(caller), limit=30)
                    await anyio.sleep(2)  # the beep, then a moment of "speech"
                    await pool.send_dtmf(caller, "#")
                    left = (await handed_over.receive()).action
                    finished = await log.wait(RecordingFinished, limit=30)
                    await log.wait(CallEnded, call_is(caller), limit=30)  # the IVR hangs up
                    tg.cancel_scope.cancel()
    finally:
        os.umask(old_umask)
    assert isinstance(left, VoicemailLeft)
    assert finished.path == left.path
    assert Path(left.path).parent == voicemail
    assert mode_and_size(Path(left.path)) == (0o600, True)
    assert mode_and_size(voicemail)[0] == 0o700


def mode_and_size(path: Path) -> tuple[int, bool]:
    """The permission bits of ``path``, and whether it holds more than a WAV header."""
    info = path.stat()
    return stat.S_IMODE(info.st_mode), info.st_size > 44
