"""The composed runtime's newer operations on the virtual backend: back office,
take-over, positions (hot-desking) and several clients in one center."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from callcenter_sdk import (
    ManualClock,
    PermissionDenied,
    StateError,
    TransitionError,
    ValidationError,
    create_plugin_host,
    hookimpl,
)
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    Capacity,
    Contact,
    ContactConnected,
    Membership,
    Queue,
)
from callcenter_sdk.cti import DialConnected, OutboundDenied, Outcome, OutcomeKind, OutcomeWritten
from callcenter_sdk.ivr import Flow, FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel, group_records
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import (
    PHASE_TRANSITIONS,
    CallbackMade,
    CallbackScheduled,
    CallCenter,
    CallCenterConfig,
    CallTakenOver,
    DialPlan,
    InboundNumber,
    MonitoringStarted,
    Phase,
    Position,
    ReplySent,
    Seat,
    call_center_records,
    call_center_report,
    conversation_records,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.runtime._calls import Call
from callcenter_sdk.store import temporary_store
from callcenter_sdk.tickets import TicketEscalated, TicketStatus

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")


def _flow(queue: str) -> Flow:
    return FlowBuilder(queue, start="queue").node("queue", ToQueue(queue=queue)).build()


def _voice(agent_id: str, *queues: str, device: str | None = None) -> Seat:
    agent = Agent(
        id=agent_id, skills=dict.fromkeys(queues, 3), memberships=[Membership(q) for q in queues]
    )
    return Seat(agent=agent, device=f"sip:{agent_id}@phones" if device is None else device)


@asynccontextmanager
async def _center(
    config: CallCenterConfig,
) -> AsyncIterator[tuple[CallCenter, VirtualBackend, list[object]]]:
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    with temporary_store() as store:
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            seen: list[object] = []
            center.subscribe(lambda _seq, event: seen.append(event))
            yield center, backend, seen


def test_a_call_moves_only_along_its_legal_phases() -> None:
    """Every phase change outside PHASE_TRANSITIONS raises TransitionError; each listed
    one is accepted; DONE is final."""
    for source in Phase:
        for target in Phase:
            call = Call("leg", "+33142685300", phase=source)
            if target is source or target in PHASE_TRANSITIONS[source]:
                call.move(target)
                assert call.phase is target
            else:
                with pytest.raises(TransitionError):
                    call.move(target)
    assert PHASE_TRANSITIONS[Phase.DONE] == frozenset()


async def test_an_escalated_ticket_is_routed_to_level_2_and_worked_there() -> None:
    """Alice disposes her call as escalated: the ticket reaches level 2, joins the
    back-office queue as ticket-channel work requiring the level-2 skill, is offered to
    the technician (not to Bob, who lacks the skill) with no phone ringing, is accepted
    at the desktop, disposed solved (the ticket resolves), and the records show the
    back-office contact on the ticket channel handled by the technician."""
    l2 = Agent(
        id="tech",
        skills={"level-2": 3},
        memberships=[Membership("back-office")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.TICKET: 2}),
    )
    config = CallCenterConfig(
        flow=_flow("support"),
        queues=[
            Queue(name="support", offer_timeout=10.0, wrap_up=30.0),
            Queue(name="back-office", channels=[Channel.TICKET], offer_timeout=60.0, wrap_up=5.0),
        ],
        seats=[
            _voice("alice", "support"),
            _voice("bob", "support", "back-office"),
            Seat(agent=l2, device="sip:tech@phones"),
        ],
        announce=False,
        back_office="back-office",
    )
    async with _center(config) as (center, backend, seen):
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        for agent in ("alice", "bob", "tech"):
            await center.set_ready(agent, actor=agent)
        call = backend.inject_call(
            "sip:+33142685399@trunk", "sip:support@center", PartyScript(talk_for=5.0)
        )
        await run_virtual(center, backend, 10.0)
        ticket_id = center.ticket_id(call)
        legs_before = set(backend.calls)
        await center.dispose(call, "escalated", actor=call_agent(seen, call))
        await run_virtual(center, backend, 1.0)
        assert center.tickets.get(ticket_id).level == 2
        assert any(isinstance(e, TicketEscalated) for e in seen)
        assert set(backend.calls) <= legs_before  # no phone rang for the ticket
        with pytest.raises(StateError):
            await center.accept("bob", actor="bob")  # offered to the technician only
        work = await center.accept("tech", actor="tech")
        assert work == f"ticket:{ticket_id}"
        assert center.engine.agent_status("tech").state is AgentState.BUSY
        with pytest.raises(PermissionDenied):
            await center.dispose(work, "solved", actor="alice")
        await center.dispose(work, "solved", actor="tech")
        await run_virtual(center, backend, 10.0)
        assert center.tickets.get(ticket_id).status is TicketStatus.RESOLVED
        await center.writer.flush()
        events = [logged.event for logged in center.log.read()]
    records, _ = call_center_records(events)
    (worked,) = [r for r in records if r.contact_id == work]
    assert (worked.channel, worked.agent, worked.disposition) == (Channel.TICKET, "tech", "solved")


def call_agent(seen: list[object], contact_id: str) -> str:
    """Who the ACD connected ``contact_id`` to."""
    return next(
        e.agent_id for e in seen if isinstance(e, ContactConnected) and e.contact_id == contact_id
    )


async def test_a_supervisor_takes_over_a_call_and_the_agent_leaves_it() -> None:
    """Sup. Lambert takes over Alice's call: his phone rings, once he answers the caller
    hears him and no longer Alice, Alice's leg ends and she goes to wrap-up, the event
    names both; when the caller hangs up the supervisor's leg ends too. An agent of
    another team may not take the call over."""
    config = CallCenterConfig(
        flow=_flow("support"),
        queues=[Queue(name="support", offer_timeout=10.0, wrap_up=300.0)],
        seats=[_voice("ag.alice", "support")],
        announce=False,
        org=ACME,
    )
    async with _center(config) as (center, backend, seen):
        backend.add_phone("sip:ag.alice@phones", PartyScript(answer_after=1.0))
        backend.add_phone("sip:lambert@desk", PartyScript(answer_after=2.0))
        await center.set_ready("ag.alice", actor="ag.alice")
        call = backend.inject_call(
            "sip:+33142685399@trunk", "sip:support@center", PartyScript(talk_for=60.0)
        )
        await run_virtual(center, backend, 5.0)
        agent_leg = next(iter(backend.hearing(call))).removeprefix("leg:")
        with pytest.raises(PermissionDenied):
            await center.take_over("ag.alice", actor="ag.rose", device="sip:rose@desk")
        leg = await center.take_over("ag.alice", actor="sup.lambert", device="sip:lambert@desk")
        await run_virtual(center, backend, 5.0)
        assert backend.hearing(call) == {f"leg:{leg}"}
        assert agent_leg not in backend.calls
        assert center.engine.agent_status("ag.alice").state is AgentState.WRAP_UP
        (taken,) = [e for e in seen if isinstance(e, CallTakenOver)]
        assert (taken.contact_id, taken.agent_id, taken.supervisor) == (
            call,
            "ag.alice",
            "sup.lambert",
        )
        assert [e.mode for e in seen if isinstance(e, MonitoringStarted)] == ["take-over"]
        await run_virtual(center, backend, 60.0)
        assert call not in backend.calls
        assert leg not in backend.calls


async def test_an_agent_logs_in_at_a_position_of_their_campaign_only() -> None:
    """Alice has no phone of her own: she cannot be made ready before logging in; she
    may log in at a seat of her campaign's allocation (lyon:3) and is then rung on that
    position's phone; not at another campaign's seat (lyon:12), nor where Bruno sits;
    once the administrator allocates seat 30 to her campaign she may move there, an
    agent may not allocate seats; once seat 4 is taken back from the campaign nobody
    of it may sit there; and logging out frees the position."""
    positions = [Position("lyon", n, f"sip:pos{n}@lyon") for n in (3, 4, 12, 30)]
    config = CallCenterConfig(
        flow=_flow("support"),
        queues=[Queue(name="support", offer_timeout=10.0, wrap_up=5.0)],
        seats=[_voice("ag.alice", "support", device=""), _voice("ag.bruno", "support", device="")],
        announce=False,
        org=ACME,
        positions=positions,
    )
    async with _center(config) as (center, backend, seen):
        assert center.engine.agent_status("ag.alice").state is AgentState.OFFLINE
        with pytest.raises(StateError, match="position"):
            await center.set_ready("ag.alice", actor="ag.alice")
        with pytest.raises(PermissionDenied):
            await center.login("ag.alice", position="lyon:3", actor="ag.rose")
        with pytest.raises(ValidationError, match="not allocated"):
            await center.login("ag.alice", position="lyon:12", actor="ag.alice")
        await center.login("ag.alice", position="lyon:3", actor="ag.alice")
        with pytest.raises(StateError, match="taken"):
            await center.login("ag.bruno", position="lyon:3", actor="ag.bruno")
        backend.add_phone("sip:pos3@lyon", PartyScript(answer_after=1.0))
        await center.set_ready("ag.alice", actor="ag.alice")
        call = backend.inject_call(
            "sip:+33142685399@trunk", "sip:support@center", PartyScript(talk_for=5.0)
        )
        await run_virtual(center, backend, 3.0)
        assert any(e for e in seen if isinstance(e, ContactConnected) and e.agent_id == "ag.alice")
        assert len(backend.hearing(call)) == 1  # bridged to the position's phone
        await run_virtual(center, backend, 20.0)
        with pytest.raises(ValidationError, match="not allocated"):
            await center.login("ag.alice", position="lyon:30", actor="ag.alice")
        with pytest.raises(PermissionDenied):
            await center.allocate_seats("acme-hotline", [30], actor="ag.alice")
        await center.allocate_seats("acme-hotline", [30], actor="adm.petit")
        await center.login("ag.alice", position="lyon:30", actor="ag.alice")
        with pytest.raises(PermissionDenied):
            await center.release_seats("acme-hotline", [4], actor="ag.alice")
        await center.release_seats("acme-hotline", [4], actor="adm.petit")
        with pytest.raises(ValidationError, match="not allocated"):
            await center.login("ag.bruno", position="lyon:4", actor="ag.bruno")
        assert center.seating.position_of("ag.alice") == "lyon:30"
        await center.login("ag.bruno", position="lyon:3", actor="ag.bruno")  # free again
        await center.logout("ag.alice", actor="ag.alice")
        assert center.engine.agent_status("ag.alice").state is AgentState.OFFLINE
        assert center.seating.position_of("ag.alice") == ""


async def test_one_center_serves_two_clients_on_their_own_numbers() -> None:
    """ACME's hotline number and Globex's complaints number lead to each client's own
    IVR and queue in one running center, answered by each campaign's agents; the
    records of the day group by client organisation with the right counts."""
    config = CallCenterConfig(
        flow=_flow("support"),
        queues=[Queue(name="acme", wrap_up=5.0), Queue(name="globex", wrap_up=5.0)],
        seats=[_voice("ag.alice", "acme"), _voice("ag.rose", "globex")],
        announce=False,
        org=ACME,
        campaigns={"acme": "acme-hotline", "globex": "globex-complaints"},
        numbers=[
            InboundNumber(number="+33800100200", campaign="acme-hotline", flow=_flow("acme")),
            InboundNumber(number="3900", campaign="globex-complaints", flow=_flow("globex")),
        ],
    )
    async with _center(config) as (center, backend, seen):
        for agent in ("ag.alice", "ag.rose"):
            backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=1.0))
            await center.set_ready(agent, actor=agent)
        calls = {
            "acme": [backend.inject_call("sip:+33142685399@trunk", "sip:0800100200@center",
                                         PartyScript(talk_for=5.0)) for _ in range(2)],
            "globex": [backend.inject_call("sip:+33142685398@trunk", "sip:3900@center",
                                           PartyScript(talk_for=5.0))],
        }  # fmt: skip
        await run_virtual(center, backend, 120.0)
        handlers = {e.contact_id: e.agent_id for e in seen if isinstance(e, ContactConnected)}
        assert {handlers[c] for c in calls["acme"]} == {"ag.alice"}
        assert {handlers[c] for c in calls["globex"]} == {"ag.rose"}
        await center.writer.flush()
        events = [logged.event for logged in center.log.read()]
    records, _ = call_center_records(events, org=ACME, campaigns=config.campaigns)
    groups = group_records(records, by=("organisation",))
    assert {key: len(rows) for key, rows in groups.items()} == {("acme",): 2, ("globex",): 1}


async def test_a_disposition_with_an_outcome_reaches_the_crm_plugin() -> None:
    """Alice disposes her call as a sale with an order: the runtime hands the outcome
    to the callcenter_record_outcome plugin (in the background), whose reference
    comes back in a cti.outcome_written event; a disposition without one writes nothing."""
    written: list[Outcome] = []

    class Crm:
        @hookimpl
        def callcenter_record_outcome(self, outcome: Outcome) -> str:
            written.append(outcome)
            return f"ORD-{len(written)}"

    config = CallCenterConfig(
        flow=_flow("support"),
        queues=[Queue(name="support", wrap_up=30.0)],
        seats=[_voice("alice", "support")],
        announce=False,
    )
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    plugins = create_plugin_host(entry_points=False, plugins=[Crm()])
    with temporary_store() as store:
        async with open_call_center(
            backend, config, store=store, clock=clock, plugins=plugins, run_timers=False
        ) as center:
            seen: list[object] = []
            center.subscribe(lambda _seq, event: seen.append(event))
            backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
            await center.set_ready("alice", actor="alice")
            first = backend.inject_call(
                "sip:+33142685399@trunk", "sip:support@c", PartyScript(talk_for=5.0)
            )
            await run_virtual(center, backend, 10.0)
            order = Outcome(
                contact_id=first,
                agent_id="alice",
                campaign="shop",
                disposition="sale",
                kind=OutcomeKind.ORDER,
                at=clock.now(),
                details={"items": "fibre-1g", "amount": 39.9},
            )
            await center.dispose(first, "sale", actor="alice", outcome=order)
            await run_virtual(center, backend, 1.0)
            with anyio.fail_after(60):  # a backstop for a hang, not a timing assertion
                while not any(isinstance(e, OutcomeWritten) for e in seen):
                    await anyio.lowlevel.checkpoint()
    assert written == [order]
    (event,) = [e for e in seen if isinstance(e, OutcomeWritten)]
    assert "ORD-1" in str(event)


def _dialling_config() -> CallCenterConfig:
    return CallCenterConfig(
        flow=_flow("support"),
        queues=[Queue(name="support", offer_timeout=20.0, wrap_up=5.0)],
        seats=[_voice("alice", "support")],
        announce=False,
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], gateway="sip:{number}@trunk"),
    )


async def test_click_to_dial_rings_the_agent_then_the_customer_and_pauses_the_agent() -> None:
    """Alice (ready) clicks a French number: her phone rings, then the customer's
    through the gateway; they are bridged; she is paused "click-to-dial" while it
    lasts (the ACD offers her nothing) and ready again when the customer hangs up.
    A satellite number is refused before anything is dialled, and she stays ready."""
    async with _center(_dialling_config()) as (center, backend, seen):
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        backend.add_phone("sip:+33142685300@trunk", PartyScript(answer_after=2.0, talk_for=20.0))
        await center.set_ready("alice", actor="alice")
        legs_before = set(backend.calls)
        with pytest.raises(OutboundDenied):
            await center.click_to_dial("+88212345678", actor="alice")
        assert set(backend.calls) == legs_before
        assert center.engine.agent_status("alice").state is AgentState.READY
        leg = await center.click_to_dial("01 42 68 53 00", actor="alice")
        await run_virtual(center, backend, 5.0)
        (connected,) = [e for e in seen if isinstance(e, DialConnected)]
        assert connected.number == "+33142685300"
        assert backend.hearing(leg) == {f"leg:{connected.customer_call}"}
        status = center.engine.agent_status("alice")
        assert (status.state, status.reason) == (AgentState.NOT_READY, "click-to-dial")
        await run_virtual(center, backend, 30.0)
        assert leg not in backend.calls
        assert center.engine.agent_status("alice").state is AgentState.READY


async def test_a_scheduled_callback_is_kept_across_a_restart_and_made_when_due() -> None:
    """During a call Alice promises the customer a call back in an hour: the promise
    is stored (an event says when), survives the center being closed and opened
    again on the same store, and an hour later the callback joins the queue, Alice's
    phone rings and the customer is called and talks to her. A time in the past is
    refused, and so is a number the outbound policy does not allow."""
    config = _dialling_config()
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    seen: list[object] = []
    with temporary_store() as store:
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.subscribe(lambda _seq, event: seen.append(event))
            backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
            await center.set_ready("alice", actor="alice")
            call = backend.inject_call(
                "sip:+33142685399@trunk", "sip:support@c", PartyScript(talk_for=60.0)
            )
            await run_virtual(center, backend, 5.0)
            with pytest.raises(ValidationError):
                await center.schedule_callback(call, "+33142685399", 10.0, actor="alice")
            with pytest.raises(OutboundDenied):
                await center.schedule_callback(
                    call, "+88212345678", clock.now() + 3600, actor="alice"
                )
            due = clock.now() + 3600
            await center.schedule_callback(call, "+33142685399", due, actor="alice")
            (scheduled,) = [e for e in seen if isinstance(e, CallbackScheduled)]
            assert (scheduled.number, scheduled.due_at) == ("+33142685399", due)
        clock.set(due - 60)
        backend = VirtualBackend(clock)
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.subscribe(lambda _seq, event: seen.append(event))
            backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
            backend.add_phone(
                "sip:+33142685399@trunk", PartyScript(answer_after=2.0, talk_for=10.0)
            )
            await center.set_ready("alice", actor="alice")
            await run_virtual(center, backend, 30.0)
            assert not [e for e in seen if isinstance(e, CallbackMade)]  # not yet due
            await run_virtual(center, backend, 60.0)
    (made,) = [e for e in seen if isinstance(e, CallbackMade)]
    assert made.agent_id == "alice"


class _Outbox:
    """A channel that keeps what the center sends (the e-mail adapter's stand-in here;
    the real adapters are tested against their servers in tests/channels)."""

    channel = Channel.EMAIL

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, contact: Contact, text: str, *, agent: str) -> str:
        self.sent.append((contact.id, text, agent))
        return f"<{len(self.sent)}@center>"


def _mail_config() -> CallCenterConfig:
    alice = Agent(
        id="alice",
        skills={"mail": 3},
        memberships=[Membership("mail"), Membership("support")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.EMAIL: 2}),
    )
    return CallCenterConfig(
        flow=_flow("support"),
        queues=[
            Queue(name="support", wrap_up=5.0),
            Queue(name="mail", channels=[Channel.EMAIL], offer_timeout=120.0, wrap_up=5.0),
        ],
        seats=[Seat(agent=alice, device="sip:alice@phones")],
        announce=False,
    )


async def test_an_email_is_stored_before_it_is_acknowledged_and_survives_a_restart() -> None:
    """A channel hands over two e-mails: receive() returns once each is stored; the
    center stops before anyone takes them; opened again on the same store, both are
    back in the mail queue and offered to Alice at her desktop — no phone rings — she
    takes both at once (e-mail capacity 2), answers one through the channel and
    disposes of both; a voice contact handed to receive() is refused."""
    config = _mail_config()
    clock = ManualClock(1_000.0)
    mails = [
        Contact(id=f"mail:{n}", channel=Channel.EMAIL, caller_id=f"c{n}@example.org")
        for n in (1, 2)
    ]
    with temporary_store() as store:
        backend = VirtualBackend(clock)
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            with pytest.raises(ValidationError):
                await center.receive(Contact(id="v1"), "support")
            for mail in mails:
                await center.receive(mail, "mail")
        backend = VirtualBackend(clock)
        outbox = _Outbox()
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.add_channel(outbox)
            await center.set_ready("alice", actor="alice")
            await run_virtual(center, backend, 1.0)
            assert backend.calls == ()  # nothing rings for desk work
            taken = {await center.accept("alice", actor="alice") for _ in mails}
            assert taken == {"mail:1", "mail:2"}
            with pytest.raises(StateError):
                await center.accept("alice", actor="alice")
            message = await center.reply("mail:1", "Your line is fixed.", actor="alice")
            assert outbox.sent == [("mail:1", "Your line is fixed.", "alice")]
            for mail in mails:
                await center.dispose(mail.id, "solved", actor="alice")
            await run_virtual(center, backend, 10.0)
            assert center.engine.agent_status("alice").state is AgentState.READY
            await center.writer.flush()
            events = [logged.event for logged in center.log.read()]
    (reply,) = [e for e in events if isinstance(e, ReplySent)]
    assert (reply.contact_id, reply.channel, reply.message_id) == ("mail:1", "email", message)
    records, _ = call_center_records(events)
    assert {(r.contact_id, r.channel, r.agent) for r in records if r.answered} == {
        ("mail:1", Channel.EMAIL, "alice"),
        ("mail:2", Channel.EMAIL, "alice"),
    }


async def test_an_email_open_at_an_agents_desk_when_the_center_stops_comes_back_waiting() -> None:
    """Alice has taken two e-mails and finished one when the center stops: opened again on
    the same store, the open one is back in the mail queue (its row closes when the work
    ends, not when it is taken) and offered to her again; the finished one is not."""
    config = _mail_config()
    clock = ManualClock(1_000.0)
    with temporary_store() as store:
        backend = VirtualBackend(clock)
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.add_channel(_Outbox())
            for n in (1, 2):
                mail = Contact(id=f"mail:{n}", channel=Channel.EMAIL, caller_id=f"c{n}@x.org")
                await center.receive(mail, "mail")
            await center.set_ready("alice", actor="alice")
            await run_virtual(center, backend, 1.0)
            taken = {await center.accept("alice", actor="alice") for _ in (1, 2)}
            assert taken == {"mail:1", "mail:2"}
            await center.dispose("mail:1", "solved", actor="alice")
            await run_virtual(center, backend, 10.0)
        backend = VirtualBackend(clock)
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.add_channel(_Outbox())
            assert center.engine.waiting_contacts("mail") == ["mail:2"]
            await center.set_ready("alice", actor="alice")
            await run_virtual(center, backend, 1.0)
            assert await center.accept("alice", actor="alice") == "mail:2"
            with pytest.raises(StateError):
                await center.accept("alice", actor="alice")


async def test_a_written_conversation_has_its_first_response_messages_and_resolution() -> None:
    """An e-mail with its ticket arrives, the customer writes again, Alice takes it and
    answers 10 minutes later, and disposes it solved: the conversation folded from the
    center's log has its first response at 10 minutes, three messages and a resolution;
    the report prints an e-mail line with those figures."""
    config = _mail_config()
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    with temporary_store() as store:
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.add_channel(_Outbox())
            ticket = center.desk.open(subject="No line", ticket_id="T-1")
            mail = Contact(
                id="mail:1",
                channel=Channel.EMAIL,
                caller_id="c1@example.org",
                attributes={"ticket_id": ticket.ticket_id},
            )
            await center.receive(mail, "mail")
            center.received_message("mail:1")
            center.received_message("gone")  # not a conversation held here: not counted
            await center.set_ready("alice", actor="alice")
            await run_virtual(center, backend, 1.0)
            await center.accept("alice", actor="alice")
            await run_virtual(center, backend, 599.0)  # she reads it, looks into the line
            await center.reply("mail:1", "Fixed.", actor="alice")
            await center.dispose("mail:1", "solved", actor="alice")
            await run_virtual(center, backend, 10.0)
            report = await call_center_report(center)
            events = [logged.event for logged in center.log.read()]
    (talk,) = conversation_records(events)
    assert (talk.channel, talk.messages) == (Channel.EMAIL, 3)
    assert talk.first_response == pytest.approx(600.0)
    assert talk.resolution is not None
    assert talk.resolution >= 600.0
    figures = report.conversations["email"]
    assert (figures.conversations, figures.service_level) == (1, 1.0)
    assert any(line.startswith("email") and "3.0 messages" in line for line in report.lines())
