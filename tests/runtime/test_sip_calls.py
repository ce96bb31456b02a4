"""The call center runtime over real SIP: pjsua2 pools on loopback, one call end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import anyio
import pytest

from callcenter_sdk import Event, WallClock
from callcenter_sdk.acd import Agent, ContactCompleted, ContactConnected, Membership, Queue
from callcenter_sdk.cti import Customer
from callcenter_sdk.ivr import load_flow
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    EndCause,
    MediaEventLog,
    RecordingFinished,
    Tone,
    call_is,
    create_media_pool,
    create_redirect_front,
    has_tone,
)
from callcenter_sdk.runtime import (
    CallCenterConfig,
    IvrCompleted,
    ScreenPopDelivered,
    Seat,
    open_call_center,
)
from callcenter_sdk.store import temporary_store

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

FLOW = Path(__file__).parents[2] / "examples" / "hotline" / "flow.toml"


async def test_a_sip_caller_reaches_an_agent_through_ivr_and_queue(tmp_path: Path) -> None:
    """A pjsua2 caller dials the front door, types an account and "3" in DTMF,
    waits in the billing queue, the agent's SIP phone rings and answers, the
    runtime bridges them (the agent hears the caller's tone), and the caller
    hanging up makes the runtime hang up the agent's leg and complete the contact.
    The caller's phone sends its number (P-Asserted-Identity): the typed account
    is unknown, and the screen pop names the customer found by that number."""
    with temporary_store() as store:
        async with (
            create_media_pool(2) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            seat = Seat(
                agent=Agent(id="alice", skills={"billing": 2}, memberships=[Membership("billing")]),
                device=f"sip:alice@{desk}",
            )
            config = CallCenterConfig(
                flow=load_flow(FLOW),
                queues=[Queue(name=q) for q in ("internet", "tv", "billing", "general")],
                seats=[seat],
                announce=False,
            )
            log = MediaEventLog(phones.events())
            center_cm = open_call_center(center_pool, config, store=store, clock=WallClock())
            async with center_cm as center:
                seen: list[Event] = []
                connected, completed = anyio.Event(), anyio.Event()

                def see(_seq: int, event: Event) -> None:
                    seen.append(event)
                    if isinstance(event, ContactConnected):
                        connected.set()
                    elif isinstance(event, ContactCompleted):
                        completed.set()

                center.subscribe(see)
                center.directory.save(
                    Customer(number="100100", name="Alice Martin", phones=["01 23 45 60 10"])
                )
                await center.set_ready("alice")
                with anyio.fail_after(60):
                    caller = await phones.originate(
                        f"sip:hotline@{front.address}", caller_id="0123456010"
                    )
                    await log.wait(CallAnswered, call_is(caller))
                    await anyio.sleep(0.5)
                    await phones.send_dtmf(caller, "4242#")
                    await anyio.sleep(1.0)
                    await phones.send_dtmf(caller, "3")
                    await phones.play(caller, Tone((1000,)))
                    ring = await log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
                    await phones.answer(ring.call_id)
                    await connected.wait()
                    heard = tmp_path / "alice.wav"
                    await phones.start_recording(ring.call_id, str(heard))
                    await anyio.sleep(1.0)
                    await phones.stop_recording(ring.call_id)
                    await log.wait(RecordingFinished, call_is(ring.call_id))
                    await phones.hangup(caller)
                    ended = await log.wait(CallEnded, call_is(ring.call_id))
                    await completed.wait()
    assert has_tone(heard, 1000)
    assert ended.cause is EndCause.REMOTE_HANGUP  # the runtime hung the agent's leg up
    (ivr,) = [e for e in seen if isinstance(e, IvrCompleted)]
    assert (ivr.queue, ivr.topic) == ("billing", "billing")
    (pop,) = [e for e in seen if isinstance(e, ScreenPopDelivered)]
    assert (pop.customer, pop.name) == ("100100", "Alice Martin")
    (done,) = [e for e in seen if isinstance(e, ContactCompleted)]
    assert done.agent_id == "alice"
    assert done.talk_time > 1.0
