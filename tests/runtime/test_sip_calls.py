"""The call center runtime over real SIP: pjsua2 pools on loopback, one call end to end."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import anyio
import attrs
import pytest

from callcenter_sdk import Event, PermissionDenied, WallClock
from callcenter_sdk.acd import (
    Agent,
    ContactCallbackRequested,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactOffered,
    ContactTransferred,
    Membership,
    OfferNotAnswered,
    OfferRejected,
    Queue,
)
from callcenter_sdk.cti import Customer, OutboundRefused
from callcenter_sdk.ivr import load_flow
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    CallMediaActive,
    ConsultationState,
    EndCause,
    MediaEventLog,
    MediaPool,
    MonitorMode,
    RecordingFinished,
    Tone,
    call_is,
    create_media_pool,
    create_redirect_front,
    free_udp_port,
    has_tone,
    write_tone_wav,
)
from callcenter_sdk.org import loads_org
from callcenter_sdk.runtime import (
    CallbackMade,
    CallCenterConfig,
    CallTransferred,
    DialPlan,
    IvrCompleted,
    MonitoringStarted,
    ScreenPopDelivered,
    Seat,
    open_call_center,
)
from callcenter_sdk.store import temporary_store

from .sip_center import billing_center

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

FLOW = Path(__file__).parents[2] / "examples" / "hotline" / "flow.toml"


class _Watch:
    """Every event a call center publishes, and an ``anyio.Event`` per kind to wait for."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self._flags: dict[type[Event], anyio.Event] = {}

    def __call__(self, _seq: int, event: Event) -> None:
        self.seen.append(event)
        for kind, flag in self._flags.items():
            if isinstance(event, kind):
                flag.set()

    def event(self, kind: type[Event]) -> anyio.Event:
        """Set once an event of ``kind`` is published (ask before it can happen)."""
        return self._flags.setdefault(kind, anyio.Event())


def _callback_center(prompts: Path, desk: str, allowed: str) -> CallCenterConfig:
    """Alice's billing center offering callbacks on key 1, dialling ``allowed`` numbers
    through the gateway at ``desk``; its callback prompts are short tones in ``prompts``."""
    base = billing_center(desk, "alice")
    (prompts / "en").mkdir()
    for name in ("callback_offer", "callback_confirmed", "callback_refused"):
        write_tone_wav(prompts / "en" / f"{name}.wav", 700, 0.4)  # short: a quick test
    return attrs.evolve(
        base,
        flow=attrs.evolve(base.flow, prompt_dirs=(prompts, *base.flow.prompt_dirs)),
        callback_key="1",
        dial_plan=DialPlan(allowed=[allowed], gateway=f"sip:{{number}}@{desk}"),
    )


async def _call_billing(
    phones: MediaPool, log: MediaEventLog, address: str, caller_id: str | None = None
) -> str:
    """A caller dials the front door, types account 4242 and "3" (billing), then
    plays a 1 kHz tone; return their leg."""
    caller = await phones.originate(f"sip:hotline@{address}", caller_id=caller_id)
    await log.wait(CallAnswered, call_is(caller))
    await anyio.sleep(0.5)
    await phones.send_dtmf(caller, "4242#")
    await anyio.sleep(1.0)
    await phones.send_dtmf(caller, "3")
    await phones.play(caller, Tone((1000,)))
    return caller


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
            config = billing_center(phones.workers[0].address, "alice")
            log = MediaEventLog(phones.events())
            center_cm = open_call_center(center_pool, config, store=store, clock=WallClock())
            async with center_cm as center:
                watch = _Watch()
                seen, connected = watch.seen, watch.event(ContactConnected)
                completed = watch.event(ContactCompleted)
                center.subscribe(watch)
                center.directory.save(
                    Customer(number="100100", name="Alice Martin", phones=["01 23 45 60 10"])
                )
                await center.set_ready("alice", actor="alice")
                with anyio.fail_after(60):
                    caller = await _call_billing(phones, log, front.address, "0123456010")
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


async def test_an_agent_consults_another_and_hands_the_caller_over(tmp_path: Path) -> None:
    """Over SIP: Alice talks to a caller, consults Bob (the caller hears hold music),
    completes the transfer: Bob's phone hears the caller's tone and not Alice's,
    Alice's phone sees its call ended by the center, and the ACD hands the contact to Bob."""
    with temporary_store() as store:
        async with (
            create_media_pool(1) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            config = billing_center(phones.workers[0].address, "alice", "bob")
            log = MediaEventLog(phones.events())
            center_cm = open_call_center(center_pool, config, store=store, clock=WallClock())
            async with center_cm as center:
                watch = _Watch()
                seen, connected = watch.seen, watch.event(ContactConnected)
                center.subscribe(watch)
                await center.set_ready("alice", actor="alice")
                with anyio.fail_after(60):
                    caller = await _call_billing(phones, log, front.address)
                    alice = await log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
                    await phones.answer(alice.call_id)
                    await phones.play(alice.call_id, Tone((1600,)))
                    await connected.wait()
                    contact = next(e.contact_id for e in seen if isinstance(e, ContactConnected))
                    await center.set_ready("bob", actor="bob")
                    await center.attended_transfer(contact, actor="alice", to_agent="bob")
                    bob = await log.wait(CallIncoming, lambda e: "bob" in e.to_uri)
                    await phones.answer(bob.call_id)
                    await log.wait(CallMediaActive, call_is(bob.call_id))
                    # the runtime joins agent and target on the answer it sees
                    while center.consultation(contact) is not ConsultationState.TALKING:  # noqa: ASYNC110
                        await anyio.sleep(0.05)
                    await center.complete_transfer(contact, actor="alice")
                    alice_end = await log.wait(CallEnded, call_is(alice.call_id))
                    heard = tmp_path / "bob.wav"
                    await phones.start_recording(bob.call_id, str(heard))
                    await anyio.sleep(1.0)
                    await phones.stop_recording(bob.call_id)
                    await log.wait(RecordingFinished, call_is(bob.call_id))
                    await phones.hangup(caller)
                    await log.wait(CallEnded, call_is(bob.call_id))
    assert has_tone(heard, 1000)
    assert not has_tone(heard, 1600)
    assert alice_end.cause is EndCause.REMOTE_HANGUP
    (handed,) = [e for e in seen if isinstance(e, ContactTransferred)]
    assert (handed.agent_id, handed.to_agent) == ("alice", "bob")
    (moved,) = [e for e in seen if isinstance(e, CallTransferred)]
    assert (moved.target, moved.outcome) == ("bob", "completed")


async def test_a_waiting_sip_caller_is_called_back_on_their_number(tmp_path: Path) -> None:
    """Over SIP: a caller whose phone sends +33123456789 waits in the billing queue,
    presses 1 (RFC 2833) and is hung up after the confirmation; when Alice is ready
    her phone rings, then the center calls the customer's number through the
    gateway, and once the customer answers Alice hears the customer's tone."""
    with temporary_store() as store:
        async with (
            create_media_pool(1) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            config = _callback_center(tmp_path, desk, r"\+331\d{8}")
            log = MediaEventLog(phones.events())
            center_cm = open_call_center(center_pool, config, store=store, clock=WallClock())
            async with center_cm as center:
                watch = _Watch()
                seen, connected = watch.seen, watch.event(ContactConnected)
                queued = watch.event(ContactEnteredQueue)
                center.subscribe(watch)
                with anyio.fail_after(60):
                    caller = await _call_billing(phones, log, front.address, "+33123456789")
                    await queued.wait()
                    await phones.send_dtmf(caller, "1")
                    hung_up = await log.wait(CallEnded, call_is(caller))
                    await center.set_ready("alice", actor="alice")
                    alice = await log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
                    await phones.answer(alice.call_id)
                    customer = await log.wait(CallIncoming, lambda e: "+33123456789" in e.to_uri)
                    await phones.answer(customer.call_id)
                    await phones.play(customer.call_id, Tone((1000,)))
                    await connected.wait()
                    heard = tmp_path / "alice.wav"
                    await phones.start_recording(alice.call_id, str(heard))
                    await anyio.sleep(1.0)
                    await phones.stop_recording(alice.call_id)
                    await log.wait(RecordingFinished, call_is(alice.call_id))
                    await phones.hangup(customer.call_id)
                    await log.wait(CallEnded, call_is(alice.call_id))
    assert hung_up.cause is EndCause.REMOTE_HANGUP  # the center hung up after confirming
    (asked,) = [e for e in seen if isinstance(e, ContactCallbackRequested)]
    assert asked.number == "+33123456789"
    assert has_tone(heard, 1000)
    (done,) = [e for e in seen if isinstance(e, ContactCompleted)]
    assert (done.contact_id, done.agent_id) == (asked.contact_id, "alice")


async def test_a_sip_caller_forging_a_satellite_number_is_not_called_back(
    tmp_path: Path,
) -> None:
    """Toll fraud over real SIP: a pjsua2 caller whose number (From and
    P-Asserted-Identity, from an address the center does not trust) is a
    satellite range presses the callback key while waiting. The center does not
    promise: the caller hears the apology, stays on the line in the queue, the
    refusal is an OutboundRefused event, and no INVITE ever reaches the gateway
    for that number; when Alice is ready she takes the caller as usual."""
    with temporary_store() as store:
        async with (
            create_media_pool(1) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            config = _callback_center(tmp_path, desk, r"\+33[1-5]\d{8}")
            log = MediaEventLog(phones.events())
            center_cm = open_call_center(center_pool, config, store=store, clock=WallClock())
            async with center_cm as center:
                watch = _Watch()
                seen, connected = watch.seen, watch.event(ContactConnected)
                queued, refused = watch.event(ContactEnteredQueue), watch.event(OutboundRefused)
                center.subscribe(watch)
                with anyio.fail_after(60):
                    caller = await _call_billing(phones, log, front.address, "+88212345678")
                    await queued.wait()
                    await phones.send_dtmf(caller, "1")
                    await refused.wait()
                    await center.set_ready("alice", actor="alice")
                    alice = await log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
                    await phones.answer(alice.call_id)
                    await connected.wait()
                    ended = [e for e in log.seen if isinstance(e, CallEnded)]
                    assert caller not in {e.call_id for e in ended}  # still the same call
                    await phones.hangup(caller)
                    await log.wait(CallEnded, call_is(alice.call_id))
    (event,) = [e for e in seen if isinstance(e, OutboundRefused)]
    assert (event.number, event.purpose, event.reason) == ("+88212345678", "callback", "denied")
    assert not [e for e in seen if isinstance(e, ContactCallbackRequested)]
    dialled = [e.to_uri for e in log.seen if isinstance(e, CallIncoming)]
    assert not [uri for uri in dialled if "882" in uri]


SIPP = Path(__file__).parents[1] / "media" / "sipp"


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed (sip-tester)")
async def test_an_unanswered_and_a_busy_phone_pass_the_call_on(tmp_path: Path) -> None:
    """Two agents' phones are sipp (written by others): Alice's rings and is
    never picked up, Bob's answers 486 Busy Here. A caller queued for billing
    is offered to Alice (longest idle), whose ring the ACD gives up after the
    4 s offer timeout (the runtime CANCELs it: sipp sees CANCEL, answers 487);
    then to Bob, whose 486 is a rejection at once; then to Carol, a pjsua2
    phone that answers and is bridged. Both sipp phones finish their scenario."""
    alice_port, bob_port = free_udp_port(), free_udp_port()
    with temporary_store() as store:
        async with (
            create_media_pool(2) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            config = billing_center(desk, "alice", "bob", "carol")
            devices = {
                "alice": f"sip:alice@127.0.0.1:{alice_port}",
                "bob": f"sip:bob@127.0.0.1:{bob_port}",
                "carol": f"sip:carol@{desk}",
            }
            seats = [attrs.evolve(seat, device=devices[seat.agent.id]) for seat in config.seats]
            queues = [attrs.evolve(q, offer_timeout=4.0) for q in config.queues]
            config = attrs.evolve(config, seats=seats, queues=queues)
            log = MediaEventLog(phones.events())
            sipp: dict[str, subprocess.CompletedProcess[bytes]] = {}

            async def agent_phone(name: str, scenario: str, port: int) -> None:
                command = [
                    "timeout", "60", "sipp", "-sf", str(SIPP / scenario),
                    "-i", "127.0.0.1", "-p", str(port), "-m", "1",
                    "-nostdin", "-timeout", "50", "-timeout_error",
                ]  # fmt: skip
                sipp[name] = await anyio.run_process(command, cwd=tmp_path, check=False)

            async with (
                anyio.create_task_group() as phones_tg,
                open_call_center(center_pool, config, store=store, clock=WallClock()) as center,
            ):
                phones_tg.start_soon(agent_phone, "alice", "agent_rings_unanswered.xml", alice_port)
                phones_tg.start_soon(agent_phone, "bob", "agent_is_busy.xml", bob_port)
                await anyio.sleep(0.5)  # the sipp phones are listening
                watch = _Watch()
                seen, connected = watch.seen, watch.event(ContactConnected)
                center.subscribe(watch)
                for name in ("alice", "bob", "carol"):  # alice has been idle longest
                    await center.set_ready(name, actor=name)
                    await anyio.sleep(0.05)
                with anyio.fail_after(60):
                    caller = await _call_billing(phones, log, front.address)
                    ring = await log.wait(CallIncoming, lambda e: "carol" in e.to_uri)
                    await phones.answer(ring.call_id)
                    await connected.wait()
                    await phones.hangup(caller)
                    await log.wait(CallEnded, call_is(ring.call_id))
    assert [e.agent_id for e in seen if isinstance(e, ContactOffered)] == ["alice", "bob", "carol"]
    assert [e.agent_id for e in seen if isinstance(e, OfferNotAnswered)] == ["alice"]
    assert [e.agent_id for e in seen if isinstance(e, OfferRejected)] == ["bob"]
    (done,) = [e for e in seen if isinstance(e, ContactConnected)]
    assert done.agent_id == "carol"
    for name in ("alice", "bob"):
        assert sipp[name].returncode == 0, sipp[name].stdout.decode(errors="replace")[-2000:]


SUPERVISED = """
[[organisations]]
id = "acme"
name = "ACME"
kind = "internal"

[[centers]]
id = "lyon"
name = "Lyon"
seats = 10

[[floors]]
id = "f1"
center = "lyon"
name = "Floor 1"

[[campaigns]]
id = "billing"
organisation = "acme"
floor = "f1"
direction = "inbound"
activity = "support"
name = "Billing"

[[teams]]
id = "t1"
campaign = "billing"
supervisor = "sup"
agents = ["alice", "ana"]

[[people]]
id = "sup"
role = "supervisor"

[[people]]
id = "alice"
role = "agent"

[[people]]
id = "ana"
role = "agent"
"""


async def test_a_supervisor_listens_to_a_live_sip_call_and_an_agent_may_not(
    tmp_path: Path,
) -> None:
    """Over real SIP: a caller (playing 1 kHz) talks to Alice. Ana, an agent of the
    same team, may not listen (PermissionDenied, nothing rings); the team's
    supervisor asks to listen: their phone rings beside Alice's leg, they pick up and
    hear the caller, and their leg ends when the call does."""
    with temporary_store() as store:
        async with (
            create_media_pool(1) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            config = attrs.evolve(billing_center(desk, "alice"), org=loads_org(SUPERVISED))
            log = MediaEventLog(phones.events())
            center_cm = open_call_center(center_pool, config, store=store, clock=WallClock())
            async with center_cm as center:
                watch = _Watch()
                connected = watch.event(ContactConnected)
                joined = watch.event(MonitoringStarted)
                center.subscribe(watch)
                await center.set_ready("alice", actor="alice")
                with anyio.fail_after(60):
                    caller = await _call_billing(phones, log, front.address, "+33123456789")
                    ring = await log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
                    await phones.answer(ring.call_id)
                    await connected.wait()
                    with pytest.raises(PermissionDenied):
                        await center.monitor(
                            "alice", MonitorMode.LISTEN, actor="ana", device=f"sip:ana@{desk}"
                        )
                    await center.monitor(
                        "alice", MonitorMode.LISTEN, actor="sup", device=f"sip:sup@{desk}"
                    )
                    sup = await log.wait(CallIncoming, lambda e: "sup" in e.to_uri)
                    await phones.answer(sup.call_id)
                    heard = tmp_path / "sup.wav"
                    await joined.wait()
                    await phones.start_recording(sup.call_id, str(heard))
                    await anyio.sleep(1.0)
                    await phones.stop_recording(sup.call_id)
                    await log.wait(RecordingFinished, call_is(sup.call_id))
                    await phones.hangup(caller)
                    await log.wait(CallEnded, call_is(sup.call_id))
    assert has_tone(heard, 1000)
    assert not [e for e in log.seen if isinstance(e, CallIncoming) and "ana" in e.to_uri]
    (started,) = [e for e in watch.seen if isinstance(e, MonitoringStarted)]
    assert (started.supervisor, started.agent_id, started.mode) == ("sup", "alice", "listen")


async def test_a_caller_who_asks_the_ivr_for_a_callback_is_called_back_over_sip(
    tmp_path: Path,
) -> None:
    """Over SIP: a caller whose phone sends +33123456789 types account 4242, presses 9
    (call me back) and 1 to accept; the IVR confirms and the center hangs up; the
    callback is stored and joins the general queue; Bob's phone rings and, once he
    answers, the center dials the customer through the gateway; the customer answers,
    Bob hears their 1 kHz voice, and runtime.callback_made says so."""
    with temporary_store() as store:
        async with (
            create_media_pool(1) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            prompts = tmp_path / "prompts"
            (prompts / "en").mkdir(parents=True)
            for name in ("callback_offer", "callback_confirmed", "goodbye"):
                write_tone_wav(prompts / "en" / f"{name}.wav", 700, 0.4)  # short: a quick test
            flow = load_flow(FLOW)
            bob = Agent(id="bob", skills={"billing": 1}, memberships=[Membership("general")])
            config = CallCenterConfig(
                flow=attrs.evolve(flow, prompt_dirs=(prompts, *flow.prompt_dirs)),
                queues=[Queue(name=q) for q in ("internet", "tv", "billing", "general")],
                seats=[Seat(agent=bob, device=f"sip:bob@{desk}")],
                announce=False,
                dial_plan=DialPlan(allowed=[r"\+331\d{8}"], gateway=f"sip:{{number}}@{desk}"),
            )
            log = MediaEventLog(phones.events())
            async with open_call_center(
                center_pool, config, store=store, clock=WallClock()
            ) as center:
                watch = _Watch()
                made = watch.event(CallbackMade)
                center.subscribe(watch)
                with anyio.fail_after(90):
                    caller = await phones.originate(
                        f"sip:hotline@{front.address}", caller_id="+33123456789"
                    )
                    await log.wait(CallAnswered, call_is(caller))
                    await anyio.sleep(0.5)  # a person waits for the welcome to start
                    await phones.send_dtmf(caller, "4242#")
                    await anyio.sleep(1.0)
                    await phones.send_dtmf(caller, "9")
                    await anyio.sleep(1.0)
                    await phones.send_dtmf(caller, "1")
                    hung_up = await log.wait(CallEnded, call_is(caller))
                    await center.set_ready("bob", actor="bob")
                    ring = await log.wait(CallIncoming, lambda e: "bob" in e.to_uri)
                    await phones.answer(ring.call_id)
                    customer = await log.wait(CallIncoming, lambda e: "+33123456789" in e.to_uri)
                    await phones.answer(customer.call_id)
                    await phones.play(customer.call_id, Tone((1000,)))
                    await made.wait()
                    heard = tmp_path / "bob.wav"
                    await phones.start_recording(ring.call_id, str(heard))
                    await anyio.sleep(1.0)  # a second of conversation to record
                    await phones.stop_recording(ring.call_id)
                    await log.wait(RecordingFinished, call_is(ring.call_id))
                    await phones.hangup(customer.call_id)
                    await log.wait(CallEnded, call_is(ring.call_id))
    assert hung_up.cause is EndCause.REMOTE_HANGUP  # the center hung up after confirming
    (ivr,) = [e for e in watch.seen if isinstance(e, IvrCompleted) and e.outcome == "callback"]
    (asked,) = [e for e in watch.seen if isinstance(e, ContactCallbackRequested)]
    assert (ivr.queue, asked.queue, asked.number) == ("general", "general", "+33123456789")
    assert has_tone(heard, 1000)
