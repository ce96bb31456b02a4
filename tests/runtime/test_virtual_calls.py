"""The call center runtime end to end on the virtual backend, in virtual time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TypeVar

import anyio
import attrs
import pytest

from callcenter_sdk import Event, ManualClock, StateError, create_plugin_host, hookimpl
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    ContactAbandoned,
    ContactCallbackFailed,
    ContactCallbackRequested,
    ContactCompleted,
    ContactConnected,
    ContactExited,
    ContactOffered,
    ContactTransferred,
    Membership,
    OfferNotAnswered,
    OfferRejected,
    Queue,
)
from callcenter_sdk.cti import Customer, CustomerIdentified, CustomerQuery, OutboundRefused
from callcenter_sdk.ivr import load_flow
from callcenter_sdk.kb import Article
from callcenter_sdk.media import CallEnded, CallIncoming, EndCause, PartyScript, VirtualBackend
from callcenter_sdk.runtime import (
    AgentLegFailed,
    CallCenter,
    CallCenterConfig,
    CallTransferred,
    ContactDisposed,
    DialPlan,
    DialPlanDenied,
    IvrCompleted,
    KnowledgeSuggested,
    ScreenPopDelivered,
    Seat,
    call_center_report,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Store
from callcenter_sdk.tickets import TicketOpened, TicketStatus

E = TypeVar("E", bound=Event)
FLOW = Path(__file__).parents[2] / "examples" / "hotline" / "flow.toml"
TRUNK = "192.0.2.10"
"""The carrier's trunk: the only source whose asserted identity the rigs trust."""
QUEUES = ("internet", "tv", "billing", "general")


def _seat(name: str, *skills: str) -> Seat:
    agent = Agent(
        id=name,
        skills=dict.fromkeys(skills, 3),
        memberships=[Membership(q) for q in QUEUES if q in skills or q == "general"],
    )
    return Seat(agent=agent, device=f"sip:{name}@phones")


def _config(*seats: Seat, offer_timeout: float = 10.0, wrap_up: float = 5.0) -> CallCenterConfig:
    queues = [Queue(name=q, offer_timeout=offer_timeout, wrap_up=wrap_up) for q in QUEUES]
    return CallCenterConfig(
        flow=load_flow(FLOW), queues=queues, seats=seats, announce=False, lookup_budget=10.0
    )


def _caller(
    account: str, key: str, *, patience: float | None = None, talk_for: float | None = None
) -> PartyScript:
    """A caller who types their account and a menu key, then behaves as scripted."""
    return PartyScript(
        press=[(0.5, account + "#"), (1.5, key)], patience=patience, talk_for=talk_for
    )


@attrs.define
class Rig:
    """A call center on a virtual backend, with every event it published."""

    center: CallCenter
    backend: VirtualBackend
    seen: list[Event]

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.seen if isinstance(e, kind)]


@asynccontextmanager
async def _rig(
    store: Store, config: CallCenterConfig, ready: Sequence[str], *plugins: object
) -> AsyncIterator[Rig]:
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock, trusted=(TRUNK,))
    host = create_plugin_host(plugins=plugins)
    center_cm = open_call_center(
        backend, config, store=store, clock=clock, run_timers=False, plugins=host
    )
    async with center_cm as center:
        seen: list[Event] = []
        center.subscribe(lambda _seq, event: seen.append(event))
        for agent_id in ready:
            await center.set_ready(agent_id, actor=agent_id)
        center.directory.save(
            Customer(number="100200", name="Ada Lovelace", phones=["+33 1 23 45 67 89"])
        )
        center.knowledge.add(
            Article(
                question="My internet connection is slow",
                solution="Restart the box",
                diagnostics=["Which lights are on?"],
                tags={"internet"},
            )
        )
        yield Rig(center, backend, seen)


async def test_a_call_flows_from_ivr_to_agent_with_pop_ticket_and_advice(store: Store) -> None:
    """A known caller goes through the IVR into the internet queue, the agent's
    phone rings with a screen pop naming the customer, the legs are bridged, a
    ticket is opened with KB suggestions, the caller hangs up, the agent leg is
    hung up, the ACD completes the contact and the disposition resolves the ticket;
    every event is in the store's log and the report counts one answered call."""
    config = _config(_seat("alice", "internet"), _seat("bob", "tv"), wrap_up=60.0)
    async with _rig(store, config, ["alice", "bob"]) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=2.0))
        caller = rig.backend.inject_call(
            "sip:+33123456789@carrier", "sip:hotline@center", _caller("100200", "1", talk_for=30.0)
        )
        await run_virtual(rig.center, rig.backend, 25.0)

        connected = rig.of(ContactConnected)
        assert [(e.contact_id, e.agent_id) for e in connected] == [(caller, "alice")]
        (ivr,) = rig.of(IvrCompleted)
        assert (ivr.outcome, ivr.queue, ivr.topic) == ("queue", "internet", "internet")
        (pop,) = rig.of(ScreenPopDelivered)
        assert (pop.agent_id, pop.customer, pop.name) == ("alice", "100200", "Ada Lovelace")
        assert rig.of(CustomerIdentified)
        (advice,) = rig.of(KnowledgeSuggested)
        assert advice.questions == ("Which lights are on?",)
        (opened,) = rig.of(TicketOpened)
        assert advice.ticket_id == opened.ticket_id
        assert opened.customer_id is not None
        (agent_leg,) = [c for c in rig.backend.calls if c != caller]
        assert f"leg:{agent_leg}" in rig.backend.hearing(caller)

        await run_virtual(rig.center, rig.backend, 30.0)  # the caller talks 30 s then hangs up
        (done,) = rig.of(ContactCompleted)
        assert done.agent_id == "alice"
        assert done.talk_time == pytest.approx(30.0)
        ends = {e.call_id: e.cause for e in rig.of(CallEnded)}
        assert ends == {caller: EndCause.REMOTE_HANGUP, agent_leg: EndCause.LOCAL_HANGUP}
        assert rig.center.engine.agent_status("alice").state is AgentState.WRAP_UP
        await rig.center.dispose(caller, "solved", actor="alice")
        await rig.center.end_wrap_up("alice", actor="alice")
        assert rig.center.engine.agent_status("alice").state is AgentState.READY
        assert rig.center.tickets.get(opened.ticket_id).status is TicketStatus.RESOLVED

        report = await call_center_report(rig.center)
        assert (report.kpi.offered, report.kpi.answered, report.kpi.abandoned) == (1, 1, 0)
        assert (report.calls, report.tickets, report.screen_pops) == (1, 1, 1)
        assert report.dispositions == {"solved": 1}
        stored = [logged.event for logged in rig.center.log.read()]
        assert stored[-len(rig.seen) :] == rig.seen  # + the logins made before we subscribed
        assert report.events == len(stored)
        kinds = {e.kind for e in rig.seen}
        assert {"media.call_incoming", "acd.contact_connected", "cti.customer_identified"} <= kinds
        assert ContactDisposed.kind in kinds


async def test_a_caller_is_identified_by_the_number_their_trunk_asserts(store: Store) -> None:
    """An anonymous From with the customer's national number in P-Asserted-Identity:
    the typed account is unknown, yet the screen pop names the customer found by
    phone, and the ACD contact carries the number in E.164."""
    config = _config(_seat("alice", "internet"))
    async with _rig(store, config, ["alice"]) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        caller = rig.backend.inject_call(
            "sip:anonymous@carrier",
            "sip:hotline@center",
            _caller("999999", "1", talk_for=5.0),
            asserted_identity="<sip:01.23.45.67.89@carrier;user=phone>",
            source=TRUNK,
        )
        contacts: list[str] = []
        rig.center.subscribe(
            lambda _s, e: (
                contacts.append(rig.center.contact(caller).caller_id)  # type: ignore[union-attr]
                if isinstance(e, ContactConnected)
                else None
            )
        )
        await run_virtual(rig.center, rig.backend, 20.0)
        (pop,) = rig.of(ScreenPopDelivered)
        assert (pop.customer, pop.name) == ("100200", "Ada Lovelace")
        assert (pop.caller_id, pop.caller_verified) == ("+33123456789", True)
        assert contacts == ["+33123456789"]


async def test_an_identity_asserted_from_an_untrusted_address_is_not_believed(
    store: Store,
) -> None:
    """Spoofing: the same anonymous call with the customer's number in
    P-Asserted-Identity, but sent from an address that is not the trunk: the
    header is ignored, the caller stays anonymous and unidentified. A caller who
    forges the customer's number in From instead is matched to the customer, but
    the screen pop says the number is unverified."""
    config = _config(_seat("alice", "internet"))
    async with _rig(store, config, ["alice"]) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        rig.backend.inject_call(
            "sip:anonymous@attacker",
            "sip:hotline@center",
            _caller("999999", "1", talk_for=5.0),
            asserted_identity="<sip:01.23.45.67.89@carrier;user=phone>",
            source="198.51.100.7",
        )
        await run_virtual(rig.center, rig.backend, 20.0)
        rig.backend.inject_call(
            "sip:+33123456789@attacker",
            "sip:hotline@center",
            _caller("999999", "1", talk_for=5.0),
            source="198.51.100.7",
        )
        await run_virtual(rig.center, rig.backend, 20.0)
        anonymous, forged = rig.of(ScreenPopDelivered)
        assert (anonymous.customer, anonymous.caller_verified) == ("", False)
        assert (forged.customer, forged.caller_id) == ("100200", "+33123456789")
        assert forged.caller_verified is False


class SlowCrm:
    """A CRM plugin that takes half a wall-clock second to answer (a slow network)."""

    @hookimpl
    def callcenter_lookup_customer(self, query: CustomerQuery) -> Customer | None:
        """Block this lookup thread, then name every caller."""
        time.sleep(0.5)
        return Customer(number="CRM-7", name="Grace Hopper")


async def test_a_slow_lookup_takes_no_virtual_time(store: Store) -> None:
    """A lookup plugin that blocks for 0.5 wall seconds, within the budget:
    virtual time does not move while it runs, so the 2 s virtual offer timer
    never fires, alice is offered the call once, with one screen pop naming the
    CRM's customer, and answers."""
    config = _config(_seat("alice", "internet"), offer_timeout=2.0)
    async with _rig(store, config, ["alice"], SlowCrm()) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        caller = rig.backend.inject_call(
            "sip:+33999@x", "sip:hotline@c", _caller("5555", "1", talk_for=5.0)
        )
        await run_virtual(rig.center, rig.backend, 20.0)
        (pop,) = rig.of(ScreenPopDelivered)
        assert (pop.customer, pop.name) == ("CRM-7", "Grace Hopper")
        assert len(rig.of(ContactOffered)) == 1
        assert not rig.of(OfferNotAnswered)
        (connected,) = rig.of(ContactConnected)
        assert (connected.contact_id, connected.agent_id) == (caller, "alice")


async def test_a_caller_who_gives_up_in_the_queue_is_an_abandon_with_the_exact_wait(
    store: Store,
) -> None:
    """With no agent ready, a caller hanging up 40 s after dialling is abandoned
    after exactly the time since entering the queue; nobody was rung."""
    config = _config(_seat("alice", "internet"))
    async with _rig(store, config, []) as rig:
        rig.backend.inject_call(
            "sip:+33999@x", "sip:hotline@c", _caller("5555", "1", patience=40.0)
        )
        entered: list[float] = []
        rig.center.subscribe(
            lambda _s, e: entered.append(e.at) if e.kind == "acd.contact_entered_queue" else None
        )
        await run_virtual(rig.center, rig.backend, 60.0)
        (abandon,) = rig.of(ContactAbandoned)
        (incoming,) = rig.of(CallIncoming)
        assert abandon.at == pytest.approx(incoming.at + 40.0)
        assert abandon.waited == pytest.approx(abandon.at - entered[0])
        assert not abandon.ringing
        assert not rig.of(ContactOffered)
        report = await call_center_report(rig.center)
        assert (report.kpi.offered, report.kpi.answered, report.kpi.abandoned) == (1, 0, 1)


async def test_no_answer_and_busy_phones_pass_the_call_to_the_next_agent(store: Store) -> None:
    """Alice's phone never answers (the ACD's offer timer cancels it), Bob's is
    busy (486: rejected at once); Carol answers. Each failed ring is an event
    and the call ends up connected to Carol."""
    seats = [_seat(n, "internet") for n in ("alice", "bob", "carol")]
    async with _rig(store, _config(*seats, offer_timeout=8.0), ["alice", "bob", "carol"]) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=None))
        rig.backend.add_phone("sip:bob@phones", PartyScript(answer_after=1.0, reject=486))
        rig.backend.add_phone("sip:carol@phones", PartyScript(answer_after=1.0))
        caller = rig.backend.inject_call("sip:+331@x", "sip:hotline@c", _caller("77777", "1"))
        await run_virtual(rig.center, rig.backend, 60.0)
        offered = [e.agent_id for e in rig.of(ContactOffered)]
        assert sorted(offered) == ["alice", "bob", "carol"]
        assert offered[-1] == "carol"
        assert [e.agent_id for e in rig.of(OfferNotAnswered)] == ["alice"]
        assert [(e.agent_id, e.reason) for e in rig.of(OfferRejected)] == [("bob", "busy")]
        assert [e.agent_id for e in rig.of(AgentLegFailed)] == ["bob"]
        (connected,) = rig.of(ContactConnected)
        assert (connected.contact_id, connected.agent_id) == (caller, "carol")
        assert len(rig.backend.calls) == 2  # the caller and Carol's leg; the others are gone


async def test_the_agent_hanging_up_ends_the_caller_and_transfer_requeues(store: Store) -> None:
    """A connected caller transferred to billing is offered to the billing agent
    (the first agent's leg is hung up); when that agent hangs up, the caller's
    leg is ended by the runtime and the contact completes."""
    seats = [_seat("alice", "internet"), _seat("bob", "billing", "internet")]
    async with _rig(store, _config(*seats), ["alice"]) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        rig.backend.add_phone("sip:bob@phones", PartyScript(answer_after=1.0, talk_for=20.0))
        caller = rig.backend.inject_call("sip:+332@x", "sip:hotline@c", _caller("4242", "1"))
        await run_virtual(rig.center, rig.backend, 20.0)
        assert [e.agent_id for e in rig.of(ContactConnected)] == ["alice"]
        await rig.center.set_ready(
            "bob", actor="bob"
        )  # transfers keep the skills the IVR asked for
        await rig.center.transfer(caller, "billing", actor="alice")
        await run_virtual(rig.center, rig.backend, 5.0)
        (moved,) = rig.of(ContactTransferred)
        assert (moved.from_queue, moved.to_queue) == ("internet", "billing")
        assert [e.agent_id for e in rig.of(ContactConnected)] == ["alice", "bob"]
        await run_virtual(rig.center, rig.backend, 30.0)
        (done,) = rig.of(ContactCompleted)
        assert done.agent_id == "bob"
        ended = {e.call_id: e.cause for e in rig.of(CallEnded)}
        assert ended[caller] is EndCause.LOCAL_HANGUP
        assert rig.backend.calls == ()


async def test_waiting_callers_hear_announcements_between_hold_music(store: Store) -> None:
    """With announcements every 20 s and nobody ready, a waiting caller hears hold
    music, then their position and wait (the shipped prompts), then hold music again."""
    queues = [Queue(name=q, announce_every=20.0) for q in QUEUES]
    config = attrs.evolve(_config(_seat("alice", "internet")), queues=queues, announce=True)
    async with _rig(store, config, []) as rig:
        caller = rig.backend.inject_call("sip:+333@x", "sip:hotline@c", _caller("1234", "1"))
        await run_virtual(rig.center, rig.backend, 15.0)
        assert any(h.startswith("hold:") for h in rig.backend.hearing(caller))
        heard: set[str] = set()
        for _ in range(40):  # half-second steps through the first announcement
            await run_virtual(rig.center, rig.backend, 0.5)
            heard |= rig.backend.hearing(caller)
        files = {Path(h.removeprefix("file:")).stem for h in heard if h.startswith("file:")}
        assert {"you_are_next", "estimated_wait"} <= files
        assert any(h.startswith("hold:") for h in rig.backend.hearing(caller))
        assert not any(h.startswith("file:") for h in rig.backend.hearing(caller))


async def test_a_flow_naming_an_unknown_queue_hangs_up_that_call_only(store: Store) -> None:
    """A caller routed to a queue the configuration lacks is hung up (logged);
    the next caller, routed to a known queue, is answered as usual."""
    alice = Agent(id="alice", skills={"internet": 3}, memberships=[Membership("internet")])
    config = attrs.evolve(
        _config(Seat(agent=alice, device="sip:alice@phones")),
        queues=[Queue(name="internet", wrap_up=0.0)],
    )
    async with _rig(store, config, ["alice"]) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        lost = rig.backend.inject_call("sip:+334@x", "sip:hotline@c", _caller("1111", "0"))
        kept = rig.backend.inject_call("sip:+335@x", "sip:hotline@c", _caller("2222", "1"), after=1)
        await run_virtual(rig.center, rig.backend, 30.0)
        ended = {e.call_id: e.cause for e in rig.of(CallEnded)}
        assert ended[lost] is EndCause.LOCAL_HANGUP
        assert [e.contact_id for e in rig.of(ContactConnected)] == [kept]


PLAN = DialPlan(allowed=[r"\+331\d{8}"], gateway="sip:{number}@carrier")


@asynccontextmanager
async def talking(store: Store, *ready: str) -> AsyncIterator[tuple[Rig, str, str]]:
    """Alice (internet) talking to a caller, Bob (tv) ready: ``(rig, caller, alice's leg)``."""
    config = attrs.evolve(_config(_seat("alice", "internet"), _seat("bob", "tv")), dial_plan=PLAN)
    async with _rig(store, config, ["alice", *ready]) as rig:
        for phone in ("sip:alice@phones", "sip:bob@phones", "sip:+33123456789@carrier"):
            rig.backend.add_phone(phone, PartyScript(answer_after=1.0))
        caller = rig.backend.inject_call(
            "sip:+336@x", "sip:hotline@c", _caller("100200", "1", talk_for=120.0)
        )
        # The screen pop's lookup runs in a thread on wall time: step until connected.
        with anyio.fail_after(60):
            while not rig.of(ContactConnected):
                await run_virtual(rig.center, rig.backend, 0.5)
                await anyio.sleep(0.01)
        await run_virtual(rig.center, rig.backend, 0.5)
        (alice_leg,) = [c for c in rig.backend.calls if c != caller]
        assert rig.backend.hearing(caller) == {f"leg:{alice_leg}"}
        yield rig, caller, alice_leg


async def test_an_attended_transfer_to_another_agent_joins_caller_and_target(
    store: Store,
) -> None:
    """Alice consults Bob through the ACD's transfer to an agent: Bob is offered the
    contact (from Alice) and his phone rings, the caller hears hold music while Alice
    and Bob talk; on completion the caller hears Bob, Alice's leg is gone and she
    wraps up (acd.contact_transferred to Bob), the contact continues with Bob and
    completes with him when the caller hangs up."""
    async with talking(store, "bob") as (rig, caller, alice_leg):
        await rig.center.attended_transfer(caller, actor="alice", to_agent="bob")
        await run_virtual(rig.center, rig.backend, 3.0)
        offered = [e for e in rig.of(ContactOffered) if e.agent_id == "bob"]
        assert [e.transfer_from for e in offered] == ["alice"]
        (bob_leg,) = [c for c in rig.backend.calls if c not in (caller, alice_leg)]
        assert any(h.startswith("hold:") for h in rig.backend.hearing(caller))
        assert rig.backend.hearing(alice_leg) == {f"leg:{bob_leg}"}
        await rig.center.complete_transfer(caller, actor="alice")
        await run_virtual(rig.center, rig.backend, 1.0)
        assert rig.backend.hearing(caller) == {f"leg:{bob_leg}"}
        assert alice_leg not in rig.backend.calls
        (moved,) = rig.of(ContactTransferred)
        assert (moved.agent_id, moved.to_agent) == ("alice", "bob")
        assert rig.center.engine.agent_status("alice").state is AgentState.WRAP_UP
        (ours,) = rig.of(CallTransferred)
        assert (ours.agent_id, ours.target, ours.attended, ours.outcome) == (
            "alice", "bob", True, "completed",
        )  # fmt: skip
        assert not rig.of(ContactCompleted)
        await run_virtual(rig.center, rig.backend, 150.0)  # the caller hangs up
        assert rig.backend.calls == ()
        (done,) = rig.of(ContactCompleted)
        assert done.agent_id == "bob"
        assert len(rig.of(TicketOpened)) == 1


async def test_a_colleague_who_never_answers_ends_the_consultation(store: Store) -> None:
    """Bob's phone rings past the queue's offer timeout: the ACD rescinds the transfer
    offer, the runtime hangs his leg up and gives the caller back to Alice."""
    async with talking(store, "bob") as (rig, caller, alice_leg):
        rig.backend.add_phone("sip:bob@phones", PartyScript(answer_after=None))
        await rig.center.attended_transfer(caller, actor="alice", to_agent="bob")
        await run_virtual(rig.center, rig.backend, 15.0)
        assert rig.backend.hearing(caller) == {f"leg:{alice_leg}"}
        assert set(rig.backend.calls) == {caller, alice_leg}
        assert [e.outcome for e in rig.of(CallTransferred)] == ["failed"]
        assert rig.center.consultation(caller) is None
        assert not rig.of(ContactTransferred)


async def test_a_cancelled_consultation_gives_the_caller_back(store: Store) -> None:
    """Alice consults an allowed external number, then cancels: the external leg
    is hung up and the caller hears Alice again, still connected to her."""
    async with talking(store) as (rig, caller, alice_leg):
        await rig.center.attended_transfer(caller, actor="alice", number="01 23 45 67 89")
        await run_virtual(rig.center, rig.backend, 3.0)
        (outside,) = [c for c in rig.backend.calls if c not in (caller, alice_leg)]
        await rig.center.cancel_transfer(caller, actor="alice")
        assert rig.backend.hearing(caller) == {f"leg:{alice_leg}"}
        await run_virtual(rig.center, rig.backend, 1.0)
        assert outside not in rig.backend.calls
        assert [e.outcome for e in rig.of(CallTransferred)] == ["cancelled"]
        assert not rig.of(ContactCompleted)
        with pytest.raises(StateError):
            await rig.center.complete_transfer(caller, actor="alice")


async def test_a_caller_handed_to_an_outside_number_stays_until_one_side_hangs_up(
    store: Store,
) -> None:
    """Alice consults an allowed outside number and completes: her part of the
    contact completes, the caller and the outside party stay joined, and when the
    caller hangs up the runtime hangs the outside leg up."""
    async with talking(store) as (rig, caller, alice_leg):
        await rig.center.attended_transfer(caller, actor="alice", number="01 23 45 67 89")
        await run_virtual(rig.center, rig.backend, 3.0)
        (outside,) = [c for c in rig.backend.calls if c not in (caller, alice_leg)]
        await rig.center.complete_transfer(caller, actor="alice")
        await run_virtual(rig.center, rig.backend, 1.0)
        assert rig.backend.hearing(caller) == {f"leg:{outside}"}
        (done,) = rig.of(ContactCompleted)
        assert done.agent_id == "alice"
        assert not rig.center.idle
        await run_virtual(rig.center, rig.backend, 150.0)  # the caller hangs up
        assert rig.backend.calls == ()
        ends = {e.call_id: e.cause for e in rig.of(CallEnded)}
        assert ends[outside] is EndCause.LOCAL_HANGUP
        assert rig.center.idle


async def test_the_dial_plan_refuses_numbers_it_does_not_allow(store: Store) -> None:
    """A premium number is refused with a clear error for both kinds of transfer,
    and nothing happens to the call; an allowed number is blind-transferred (REFER):
    the caller's leg ends, Alice's too, and the contact completes."""
    async with talking(store) as (rig, caller, alice_leg):
        for attempt in (
            rig.center.blind_transfer(caller, "08 99 12 34 56", actor="alice"),
            rig.center.attended_transfer(caller, actor="alice", number="08 99 12 34 56"),
        ):
            with pytest.raises(DialPlanDenied, match=r"\+33899123456.*denied range"):
                await attempt
        assert rig.backend.hearing(caller) == {f"leg:{alice_leg}"}
        assert not rig.of(CallTransferred)
        await rig.center.blind_transfer(caller, "+33 1 23 45 67 89", actor="alice")
        await run_virtual(rig.center, rig.backend, 1.0)
        assert rig.backend.calls == ()
        (reason,) = [e.reason for e in rig.of(CallEnded) if e.call_id == caller]
        assert reason == "transferred"
        (done,) = rig.of(ContactCompleted)
        assert done.agent_id == "alice"
        assert [(e.target, e.outcome) for e in rig.of(CallTransferred)] == [
            ("+33 1 23 45 67 89", "requested")
        ]


def _callback_rig(store: Store) -> AbstractAsyncContextManager[Rig]:
    config = attrs.evolve(_config(_seat("alice", "internet")), callback_key="1", dial_plan=PLAN)
    return _rig(store, config, [])


async def test_a_waiting_caller_is_called_back_keeping_their_place(store: Store) -> None:
    """With nobody ready, a caller hears the callback offer, presses 1 in the queue,
    hears the confirmation and is hung up; a later caller keeps waiting. When Alice
    becomes ready she is offered the callback first (the place was kept): her phone
    rings, then the runtime calls the customer's number and bridges them."""
    async with _callback_rig(store) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        rig.backend.add_phone("sip:+33123456789@carrier", PartyScript(answer_after=2.0))
        press = [(0.5, "100200#"), (1.5, "1"), (8.0, "1")]
        first = rig.backend.inject_call(
            "sip:+33123456789@carrier", "sip:hotline@c", PartyScript(press=press)
        )
        second = rig.backend.inject_call(
            "sip:+33600000001@x", "sip:hotline@c", _caller("5555", "1"), after=4.0
        )
        heard: set[str] = set()
        for _ in range(60):
            await run_virtual(rig.center, rig.backend, 0.5)
            if first in rig.backend.calls:
                heard |= rig.backend.hearing(first)
        prompts = {Path(h.removeprefix("file:")).stem for h in heard if h.startswith("file:")}
        assert {"callback_offer", "callback_confirmed"} <= prompts
        (asked,) = rig.of(ContactCallbackRequested)
        assert (asked.contact_id, asked.number, asked.position) == (first, "+33123456789", 1)
        (gone,) = [e for e in rig.of(CallEnded) if e.call_id == first]
        assert gone.cause is EndCause.LOCAL_HANGUP
        assert not rig.of(ContactAbandoned)
        assert second in rig.backend.calls  # still waiting on the line

        await rig.center.set_ready("alice", actor="alice")
        await run_virtual(rig.center, rig.backend, 10.0)
        assert [e.contact_id for e in rig.of(ContactConnected)] == [first]
        (agent_leg, customer_leg) = [c for c in rig.backend.calls if c != second]
        assert rig.backend.hearing(customer_leg) == {f"leg:{agent_leg}"}
        assert rig.of(TicketOpened)


async def test_a_busy_customer_makes_the_callback_fail_and_frees_the_agent(
    store: Store,
) -> None:
    """The called-back customer's line is busy: the callback fails with reason
    "busy", the agent's leg is hung up and Alice is free for the next caller."""
    async with _callback_rig(store) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        rig.backend.add_phone("sip:+33123456789@carrier", PartyScript(answer_after=1.0, reject=486))
        press = [(0.5, "100200#"), (1.5, "1"), (8.0, "1")]
        rig.backend.inject_call(
            "sip:+33123456789@carrier", "sip:hotline@c", PartyScript(press=press)
        )
        await run_virtual(rig.center, rig.backend, 30.0)
        assert rig.of(ContactCallbackRequested)
        await rig.center.set_ready("alice", actor="alice")
        await run_virtual(rig.center, rig.backend, 10.0)
        (failed,) = rig.of(ContactCallbackFailed)
        assert (failed.reason, failed.agent_id) == ("busy", "alice")
        assert rig.backend.calls == ()
        assert rig.center.engine.agent_status("alice").state is AgentState.READY


async def test_a_caller_asserting_a_premium_number_is_never_called_back(store: Store) -> None:
    """Toll fraud: a caller whose (unverifiable) number is a satellite range, outside
    the dial plan, presses the callback key. Nothing is promised: they hear an
    apology instead of the confirmation, keep their place on the line, the refusal
    is an OutboundRefused event, and no leg is ever placed towards their number;
    when Alice becomes ready she takes them as an ordinary waiting caller."""
    async with _callback_rig(store) as rig:
        rig.backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        press = [(0.5, "100200#"), (1.5, "1"), (8.0, "1")]
        fraud = rig.backend.inject_call(
            "sip:+88212345678@evil", "sip:hotline@c", PartyScript(press=press, talk_for=30.0)
        )
        heard: set[str] = set()
        for _ in range(40):
            await run_virtual(rig.center, rig.backend, 0.5)
            heard |= rig.backend.hearing(fraud) if fraud in rig.backend.calls else set()
        prompts = {Path(h.removeprefix("file:")).stem for h in heard if h.startswith("file:")}
        assert "callback_refused" in prompts
        assert "callback_confirmed" not in prompts
        assert not rig.of(ContactCallbackRequested)
        (refused,) = rig.of(OutboundRefused)
        assert (refused.number, refused.purpose, refused.reason) == (
            "+88212345678", "callback", "denied",
        )  # fmt: skip
        assert refused.contact_id == fraud
        assert fraud in rig.backend.calls  # still waiting, on the line
        await rig.center.set_ready("alice", actor="alice")
        await run_virtual(rig.center, rig.backend, 5.0)
        assert [e.contact_id for e in rig.of(ContactConnected)] == [fraud]
        legs = {e.call_id for e in rig.of(CallEnded)} | set(rig.backend.calls)
        assert len(legs) == 2  # the caller's and Alice's: nothing dialled towards +882


async def test_a_queue_without_a_max_length_is_capped_by_the_center(store: Store) -> None:
    """queue_cap=2 and nobody ready: two callers wait, the third finds the queue full
    (acd.contact_exited, reason full) and is hung up instead of waiting without bound."""
    config = attrs.evolve(_config(_seat("alice", "internet")), queue_cap=2)
    async with _rig(store, config, []) as rig:
        calls = [
            rig.backend.inject_call(
                f"sip:+3360000000{i}@x", "sip:hotline@c", _caller("5555", "1"), after=float(i)
            )
            for i in range(3)
        ]
        await run_virtual(rig.center, rig.backend, 30.0)
        (exited,) = rig.of(ContactExited)
        assert (exited.contact_id, exited.reason.value) == (calls[2], "full")
        assert set(rig.backend.calls) == set(calls[:2])


async def test_lookups_beyond_the_bound_are_skipped_not_queued(store: Store) -> None:
    """max_lookups=1 and a slow CRM: two callers reach the queue at the same instant;
    the first is looked up (the pop names the CRM's customer), the second is not
    (an unknown caller on the pop) instead of waiting for a lookup thread."""
    config = attrs.evolve(_config(_seat("alice", "internet"), _seat("bob", "internet")),
                          max_lookups=1)  # fmt: skip
    async with _rig(store, config, ["alice", "bob"], SlowCrm()) as rig:
        for agent in ("alice", "bob"):
            rig.backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=1.0))
        for number in ("+33611111111", "+33622222222"):
            rig.backend.inject_call(
                f"sip:{number}@x", "sip:hotline@c", _caller("5555", "1", talk_for=5.0)
            )
        await run_virtual(rig.center, rig.backend, 20.0)
        names = sorted(pop.name for pop in rig.of(ScreenPopDelivered))
        assert names == ["", "Grace Hopper"]
