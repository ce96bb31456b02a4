"""The live dialer over real SIP: the pjsua2 worker pool originates to a loopback callee."""

from __future__ import annotations

import datetime as dt
import importlib.util

import anyio
import pytest

from callcenter_sdk import EventStream, WallClock
from callcenter_sdk.acd import Engine, Queue
from callcenter_sdk.cti import OutboundDenied, OutboundPolicy, OutboundRefused
from callcenter_sdk.dialer import (
    CallDropped,
    CallingWindow,
    CallResult,
    Campaign,
    Compliance,
    Dialer,
    Disposition,
    InformationMessage,
    Lead,
    LeadScheduler,
    campaign_guard,
)
from callcenter_sdk.media import CallEnded, CallIncoming, MediaPool, Tone, create_media_pool

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]


def midday_zone(now: float) -> str:
    """A fixed-offset zone where ``now`` is around noon, so the calling window is open."""
    hour = dt.datetime.fromtimestamp(now, dt.UTC).hour
    offset = 12 - hour  # local = UTC + offset; Etc/GMT signs are inverted
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


async def callee(
    pool: MediaPool, ended: list[str], hung_up: anyio.Event, called: list[str]
) -> None:
    """The far end: numbers dialled as 'busy' answer 486, others pick up."""
    async for event in pool.events():
        if isinstance(event, CallIncoming):
            called.append(event.to_uri)
            if "busy" in event.to_uri:
                await pool.hangup(event.call_id, status_code=486)
            else:
                await pool.answer(event.call_id)
        elif isinstance(event, CallEnded):
            ended.append(event.call_id)
            hung_up.set()


async def test_real_sip_originate_busy_and_a_drop_with_the_message() -> None:
    """Two real SIP calls over loopback: the 'busy' number is recorded busy; the answered one,
    with no agent free, hears the information message and is released (dropped). A third
    lead, a French premium number, is refused by the outbound policy: no INVITE reaches
    the far end for it."""
    clock = WallClock()
    zone = midday_zone(clock.now())
    leads = [
        Lead(lead_id="live", phone="+33142685301", campaign="spring", timezone=zone),
        Lead(lead_id="busy", phone="+33142685302", campaign="spring", timezone=zone),
        Lead(lead_id="premium", phone="+33899123456", campaign="spring", timezone=zone),
    ]
    campaign = Campaign(
        name="spring",
        mode="preview",
        window=CallingWindow(start="00:00", end="23:59"),
        information=InformationMessage(company="ACME", callback_number="+331", seconds=1.0),
        dispositions=(Disposition(code="sale", converted=True),),
        outbound=OutboundPolicy(allowed=[r"\+33\d{9}"]),
    )
    events = EventStream(keep=True)
    engine = Engine(clock=clock, events=events)
    engine.add_queue(Queue(name="spring"))
    ended: list[str] = []
    hung_up = anyio.Event()
    called: list[str] = []
    with anyio.fail_after(60):
        async with create_media_pool(1) as far, create_media_pool(1) as pool:
            target = far.workers[0].address
            scheduler = LeadScheduler(Compliance(campaign), leads, now=clock.now())
            dialer = Dialer(
                backend=pool,
                engine=engine,
                clock=clock,
                campaign=campaign,
                scheduler=scheduler,
                guard=campaign_guard(campaign, clock=clock, events=events),
                agent_uris={},
                number_uri=lambda lead: f"sip:{lead.lead_id}@{target}",
                events=events,
                information_prompt=Tone((440,)),
            )
            async with anyio.create_task_group() as tg:
                tg.start_soon(callee, far, ended, hung_up, called)
                for _ in leads:
                    picked = scheduler.next_lead(clock.now())
                    assert picked is not None
                    if picked.lead_id == "premium":
                        with pytest.raises(OutboundDenied):
                            await dialer.dial(picked)
                    else:
                        await dialer.dial(picked)
                await dialer.run(until=clock.now(), tick_s=0.1)
                with anyio.move_on_after(10):
                    await hung_up.wait()
                tg.cancel_scope.cancel()
    results = {a.lead_id: a.result for a in dialer.attempts}
    assert results == {"live": CallResult.DROPPED, "busy": CallResult.BUSY}
    (dropped,) = events.history(CallDropped)
    assert "ACME" in dropped.message
    live = next(a for a in dialer.attempts if a.lead_id == "live").record
    assert live.greeting_ended_at is not None
    assert live.ended_at is not None
    assert live.ended_at - live.greeting_ended_at >= campaign.connect_limit_s + 1.0 - 0.05
    assert ended, "the callee saw its answered leg end"
    assert len(called) == 2
    assert not any("premium" in uri for uri in called)
    (refused,) = events.history(OutboundRefused)
    assert (refused.contact_id, refused.reason) == ("premium", "denied")
