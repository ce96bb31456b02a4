"""Supervision and the back office over real SIP: pjsua2 pools on loopback.

Every party plays its own tone (caller 1 kHz, agent 1.6 kHz, supervisor 2.2 kHz)
and each phone records what it hears over the same window, so "who hears whom"
is measured on the audio that crossed the center's conference bridge.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import attrs
import pytest

from callcenter_sdk import PermissionDenied, WallClock
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    Capacity,
    ContactConnected,
    ContactOffered,
    Membership,
    Queue,
)
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import (
    CallEnded,
    CallIncoming,
    CallMediaActive,
    EndCause,
    MediaEventLog,
    MediaPool,
    MonitorMode,
    Tone,
    call_is,
    create_media_pool,
    create_redirect_front,
    has_tone,
    read_wav,
    tone_level,
)
from callcenter_sdk.org import loads_org
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    CallTakenOver,
    MonitoringStarted,
    PermissionRefused,
    Seat,
    open_call_center,
)
from callcenter_sdk.store import temporary_store
from callcenter_sdk.tickets import TicketEscalated, TicketStatus

from .sip_center import (
    AGENT_HZ,
    CALLER_HZ,
    SUPERVISOR_HZ,
    Watch,
    billing_center,
    call_billing,
    record_hearing,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

BACKSTOP = 60.0
"""Seconds a whole scenario may take before it is a failure (a loaded 2-core machine)."""

TEAMS = """
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
coach = "coach"
agents = ["alice", "ana"]

[[teams]]
id = "t2"
campaign = "billing"
supervisor = "sup2"
agents = ["bea"]

[[people]]
id = "sup"
role = "supervisor"

[[people]]
id = "coach"
role = "coach"

[[people]]
id = "sup2"
role = "supervisor"

[[people]]
id = "alice"
role = "agent"

[[people]]
id = "ana"
role = "agent"

[[people]]
id = "bea"
role = "agent"
"""
"""Alice's team t1 has supervisor ``sup`` and coach ``coach`` (who may listen and
whisper, never barge); ``sup2`` supervises another team of the same campaign."""


@attrs.frozen
class _Rig:
    """A running center on a one-worker pool behind the front door, and the phones."""

    center: CallCenter
    phones: MediaPool
    log: MediaEventLog
    watch: Watch
    front: str
    desk: str


@asynccontextmanager
async def _running(config_for: Callable[[str], CallCenterConfig]) -> AsyncIterator[_Rig]:
    """Open the center configured for the phones' ``desk`` address."""
    with temporary_store() as store:
        async with (
            create_media_pool(1) as center_pool,
            create_redirect_front(center_pool) as front,
            create_media_pool(1) as phones,
        ):
            desk = phones.workers[0].address
            log = MediaEventLog(phones.events())
            config = config_for(desk)
            async with open_call_center(center_pool, config, store=store, clock=WallClock()) as c:
                watch = Watch()
                c.subscribe(watch)
                yield _Rig(c, phones, log, watch, front.address, desk)


def _supervised(desk: str, *, wrap_up: float = 0.0) -> CallCenterConfig:
    config = attrs.evolve(billing_center(desk, "alice"), org=loads_org(TEAMS))
    return attrs.evolve(config, queues=[attrs.evolve(q, wrap_up=wrap_up) for q in config.queues])


async def _alice_talks_to_a_caller(rig: _Rig) -> tuple[str, str]:
    """A caller reaches Alice, who answers and speaks; return (caller's leg, Alice's phone)."""
    await rig.center.set_ready("alice", actor="alice")
    caller = await call_billing(rig.phones, rig.log, rig.front, "+33123456789")
    ring = await rig.log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
    await rig.phones.answer(ring.call_id)
    await rig.phones.play(ring.call_id, Tone((AGENT_HZ,)))
    await rig.watch.wait(ContactConnected)
    return caller, ring.call_id


async def _supervisor_picks_up(rig: _Rig, who: str) -> str:
    """``who``'s phone rings; they answer and speak; return their phone's leg."""
    ring = await rig.log.wait(CallIncoming, lambda e: f"{who}@" in e.to_uri)
    await rig.phones.answer(ring.call_id)
    await rig.phones.play(ring.call_id, Tone((SUPERVISOR_HZ,)))
    await rig.log.wait(CallMediaActive, call_is(ring.call_id))
    return ring.call_id


def _tones(path: Path) -> set[int]:
    """Which of the parties' tones a recording holds.

    A party heard through the bridge arrives near full level; G.711 turns a lone
    loud tone into faint spurs (2.2 kHz leaves one at 1 kHz some 45 dB down), so
    a tone far below the loudest one is not a voice heard.
    """
    rate, samples = read_wav(path)
    levels = {hz: tone_level(samples, rate, hz) for hz in (CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ)}
    loudest = max(levels.values())
    return {hz for hz, level in levels.items() if has_tone(path, hz) and level > loudest / 10}


async def _monitored(mode: MonitorMode, folder: Path) -> dict[str, set[int]]:
    """Alice talks to a caller, her supervisor joins in ``mode``: who hears which tone."""
    async with _running(_supervised) as rig:
        with anyio.fail_after(BACKSTOP):
            caller, alice = await _alice_talks_to_a_caller(rig)
            await rig.center.monitor("alice", mode, actor="sup", device=f"sip:sup@{rig.desk}")
            sup = await _supervisor_picks_up(rig, "sup")
            started = await rig.watch.wait(MonitoringStarted)
            legs = {"caller": caller, "alice": alice, "sup": sup}
            heard = await record_hearing(rig.phones, rig.log, legs, folder)
            await rig.phones.hangup(caller)
            end = await rig.log.wait(CallEnded, call_is(sup))
    assert (started.supervisor, started.agent_id, started.mode) == ("sup", "alice", mode.value)
    assert end.cause is EndCause.REMOTE_HANGUP  # the center ended the monitoring leg
    return {who: _tones(path) for who, path in heard.items()}


async def test_a_whispering_supervisor_is_heard_by_the_agent_only(tmp_path: Path) -> None:
    """Over real SIP, a supervisor whispers on Alice's live call: their phone rings
    beside Alice's leg and, once picked up, Alice hears the caller and the
    supervisor, the caller hears Alice and not the supervisor, the supervisor hears
    both; the supervisor's leg ends with the call."""
    heard = await _monitored(MonitorMode.WHISPER, tmp_path)
    assert heard == {
        "caller": {AGENT_HZ},
        "alice": {CALLER_HZ, SUPERVISOR_HZ},
        "sup": {CALLER_HZ, AGENT_HZ},
    }


async def test_a_barging_supervisor_talks_with_caller_and_agent(tmp_path: Path) -> None:
    """Over real SIP, a supervisor barges into Alice's live call: all three hear
    each other (each phone hears the two others' tones, never its own)."""
    heard = await _monitored(MonitorMode.BARGE, tmp_path)
    assert heard == {
        "caller": {AGENT_HZ, SUPERVISOR_HZ},
        "alice": {CALLER_HZ, SUPERVISOR_HZ},
        "sup": {CALLER_HZ, AGENT_HZ},
    }


async def test_a_supervisor_takes_a_sip_call_over_from_the_agent(tmp_path: Path) -> None:
    """Over real SIP, the supervisor takes over Alice's call: once they answer, the
    center sends Alice's phone a BYE, the caller hears the supervisor and no longer
    Alice, the supervisor hears the caller; Alice is in wrap-up; the take-over is in
    the store's event log; when the caller hangs up the supervisor's leg ends too."""
    async with _running(lambda desk: _supervised(desk, wrap_up=300.0)) as rig:
        with anyio.fail_after(BACKSTOP):
            caller, alice = await _alice_talks_to_a_caller(rig)
            contact = (await rig.watch.wait(ContactConnected)).contact_id
            await rig.center.take_over("alice", actor="sup", device=f"sip:sup@{rig.desk}")
            sup = await _supervisor_picks_up(rig, "sup")
            taken = await rig.watch.wait(CallTakenOver)
            alice_end = await rig.log.wait(CallEnded, call_is(alice))
            heard = await record_hearing(
                rig.phones, rig.log, {"caller": caller, "sup": sup}, tmp_path
            )
            alice_state = rig.center.engine.agent_status("alice").state
            await rig.center.writer.flush()
            logged = [entry.event for entry in rig.center.log.read()]
            await rig.phones.hangup(caller)
            sup_end = await rig.log.wait(CallEnded, call_is(sup))
    assert alice_end.cause is EndCause.REMOTE_HANGUP  # Alice's phone got the center's BYE
    assert {who: _tones(path) for who, path in heard.items()} == {
        "caller": {SUPERVISOR_HZ},
        "sup": {CALLER_HZ},
    }
    assert alice_state is AgentState.WRAP_UP
    assert (taken.contact_id, taken.agent_id, taken.supervisor) == (contact, "alice", "sup")
    (stored,) = [e for e in logged if isinstance(e, CallTakenOver)]
    assert (stored.contact_id, stored.agent_id, stored.supervisor) == (contact, "alice", "sup")
    assert sup_end.cause is EndCause.REMOTE_HANGUP  # the center hung the supervisor up


@pytest.mark.parametrize(
    ("operation", "refused"),
    [
        ("listen", "ana"),  # an agent of the same team
        ("whisper", "sup2"),  # the supervisor of another team
        ("barge", "coach"),  # the team's coach, who may listen and whisper only
        ("take-over", "sup2"),  # may handle the campaign's contacts, not barge on Alice
    ],
)
async def test_the_org_refuses_supervision_to_whom_it_does_not_allow(
    operation: str, refused: str
) -> None:
    """Over real SIP, on Alice's live call, someone the org does not allow to
    ``operation`` is refused (PermissionDenied, a runtime.permission_refused event
    naming them, their phone never rings), while Alice's supervisor, asking the
    same, is rung and joins in that mode."""
    async with _running(_supervised) as rig:

        async def ask(actor: str) -> None:
            device = f"sip:{actor}@{rig.desk}"
            if operation == "take-over":
                await rig.center.take_over("alice", actor=actor, device=device)
            else:
                mode = MonitorMode(operation)
                await rig.center.monitor("alice", mode, actor=actor, device=device)

        with anyio.fail_after(BACKSTOP):
            caller, _ = await _alice_talks_to_a_caller(rig)
            with pytest.raises(PermissionDenied):
                await ask(refused)
            await ask("sup")
            sup = await _supervisor_picks_up(rig, "sup")
            started = await rig.watch.wait(MonitoringStarted)
            await rig.phones.hangup(caller)
            await rig.log.wait(CallEnded, call_is(sup))
    (refusal,) = rig.watch.of(PermissionRefused)
    assert refusal.actor == refused
    assert operation in refusal.operation
    assert started.supervisor == "sup"
    assert started.mode == operation
    # one worker rings the phones in order: a ring for them would precede the supervisor's
    rung = [e.to_uri for e in rig.log.of(CallIncoming)]
    assert not [uri for uri in rung if f"{refused}@" in uri]


async def test_an_escalated_sip_call_is_worked_at_level_2_without_ringing(
    tmp_path: Path,
) -> None:
    """Over real SIP, Alice talks to a caller, who hangs up; Alice disposes the call
    escalated: the ticket reaches level 2 and is offered through the back-office
    queue to the level-2 technician, whose desk phone never rings (no INVITE reaches
    it); the technician accepts it at the desktop (busy), disposes it solved (wrap-up
    follows): the ticket is at level 2 and resolved."""

    def config_for(desk: str) -> CallCenterConfig:
        base = billing_center(desk, "alice")
        tech = Agent(
            id="tech",
            skills={"level-2": 3},
            memberships=[Membership("back-office")],
            capacity=Capacity(limits={Channel.VOICE: 1, Channel.TICKET: 2}),
        )
        office = Queue(
            name="back-office", channels=[Channel.TICKET], offer_timeout=300.0, wrap_up=300.0
        )
        return attrs.evolve(
            base,
            queues=[*base.queues, office],
            seats=[*base.seats, Seat(agent=tech, device=f"sip:tech@{desk}")],
            back_office="back-office",
        )

    async with _running(config_for) as rig:
        center = rig.center
        with anyio.fail_after(BACKSTOP):
            await center.set_ready("tech", actor="tech")
            caller, alice = await _alice_talks_to_a_caller(rig)
            contact = (await rig.watch.wait(ContactConnected)).contact_id
            ticket_id = center.ticket_id(contact)
            await rig.phones.hangup(caller)
            await rig.log.wait(CallEnded, call_is(alice))
            await center.dispose(contact, "escalated", actor="alice")
            offer = await rig.watch.wait(ContactOffered, lambda e: e.agent_id == "tech")
            work = await center.accept("tech", actor="tech")
            working = center.engine.agent_status("tech").state
            await center.dispose(work, "solved", actor="tech")
            after = center.engine.agent_status("tech").state
            ticket = center.tickets.get(ticket_id)
            # one worker takes the phones' calls in order: a ring for the technician
            # would come before this one
            probe = await rig.phones.originate(f"sip:probe@{rig.desk}")
            await rig.log.wait(CallIncoming, lambda e: "probe@" in e.to_uri)
            await rig.phones.hangup(probe)
    assert offer.contact_id == work == f"ticket:{ticket_id}"
    assert (working, after) == (AgentState.BUSY, AgentState.WRAP_UP)
    assert [e.ticket_id for e in rig.watch.of(TicketEscalated)] == [ticket_id]
    assert (ticket.level, ticket.status) == (2, TicketStatus.RESOLVED)
    rung = [e.to_uri for e in rig.log.of(CallIncoming)]
    assert not [uri for uri in rung if "tech@" in uri]
