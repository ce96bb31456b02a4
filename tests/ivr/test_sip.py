"""End to end over real SIP: pjsua2 workers carry the call, RFC 2833 keys pick the queue."""

from __future__ import annotations

import importlib.util
import math

import anyio
import pytest

from callcenter_sdk import WallClock
from callcenter_sdk.ivr import EndCall, FlowBuilder, IvrDriver, IvrResult, Menu, ToQueue
from callcenter_sdk.media import (
    CallAnswered,
    CallMediaActive,
    MediaEvent,
    MediaEventLog,
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
