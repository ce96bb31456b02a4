"""A cluster leader commits its offers under the fence before any phone rings, and a new leader
takes over the agents' states and the offers left in flight, read back from the event log."""

from __future__ import annotations

import time
from collections.abc import Mapping

import anyio
import attrs

from callcenter_sdk import Event, ManualClock, create_plugin_host, hookimpl
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    Capacity,
    Contact,
    ContactOffered,
    Membership,
    OfferNotAnswered,
    OfferRejected,
    OfferRescinded,
    Queue,
)
from callcenter_sdk.cti import Customer, CustomerQuery
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import (
    CallCenterConfig,
    DialPlan,
    Elector,
    Seat,
    TermStarted,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import EventLog, Leases, Store, StoreDegraded

WAIT = 30
"""Seconds any one expected change may take before the test fails."""


def _config(*agents: str, email: int = 1) -> CallCenterConfig:
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    capacity = Capacity(limits={Channel.VOICE: 1, Channel.EMAIL: email})
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support")],
        seats=[
            Seat(
                agent=Agent(
                    id=name,
                    skills={"support": 3},
                    memberships=[Membership("support")],
                    capacity=capacity,
                ),
                device=f"sip:{name}@phones",
            )
            for name in agents
        ],
        announce=False,
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], gateway="sip:{number}@carrier"),
    )


class WitnessBackend(VirtualBackend):
    """The virtual backend, noting for each phone it rings whether the offer was in the log then.

    It reads the store's event log the moment ``originate`` is called, before
    the phone rings: the ``ContactOffered`` of the call must already be committed.
    """

    def __init__(self, clock: ManualClock, log: EventLog) -> None:
        super().__init__(clock)
        self.log = log
        self.rang: list[tuple[str, bool]] = []  # (device, its offer was committed)

    async def originate(
        self,
        uri: str,
        *,
        caller_id: str | None = None,
        near: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        offered = {
            e.event.contact_id  # type: ignore[attr-defined]
            for e in self.log.read(kinds=[ContactOffered.kind])
        }
        self.rang.append((uri, near in offered))
        return await super().originate(uri, caller_id=caller_id, near=near, headers=headers)


async def _lead(elector: Elector, tg: anyio.abc.TaskGroup) -> None:
    await tg.start(elector.run)
    with anyio.fail_after(WAIT):
        await elector.wait_leader()


def _steal(store: Store, node: str) -> None:
    """Take the lease of ``voice`` for ``node`` now, as if the holder's lease had expired."""
    thief = Leases(store, clock=lambda: time.time() + 3600)
    assert thief.acquire("voice", node, 3600) is not None


async def test_a_leader_commits_each_offer_before_the_phone_rings_and_a_deposed_one_rings_none(
    store: Store,
) -> None:
    """While node-a leads, the call's ContactOffered is in the store's log before Alice's phone
    is dialled. Once another node took the lease, the next call's offer is refused by the fence:
    Bob's phone is never dialled, the elector steps down at once, the writer is fenced out (not
    degraded: no StoreDegraded) and no event of that batch is in the log."""
    clock = ManualClock(1_000.0)
    backend = WitnessBackend(clock, EventLog(store))
    for name in ("alice", "bob"):
        backend.add_phone(f"sip:{name}@phones", PartyScript(answer_after=None))
    elector = Elector(Leases(store), "voice", "node-a", ttl=30)
    async with anyio.create_task_group() as tg:
        await _lead(elector, tg)
        async with open_call_center(
            backend,
            _config("alice", "bob"),
            store=store,
            clock=clock,
            run_timers=False,
            elector=elector,
        ) as center:
            await center.set_ready("alice", actor="alice")
            first = backend.inject_call("sip:+33612345601@x", "sip:support@c")
            await run_virtual(center, backend, 1.0)
            assert backend.rang == [("sip:alice@phones", True)]

            await anyio.to_thread.run_sync(_steal, store, "node-b")
            assert elector.is_leader  # it has not noticed yet: only the fence knows
            backend.inject_call("sip:+33612345602@x", "sip:support@c")
            await run_virtual(center, backend, 1.0)  # it waits: Alice's phone rings
            await center.set_ready("bob", actor="bob")  # the engine offers it to Bob
            with anyio.fail_after(WAIT):
                while center.writer.fenced_out is None:
                    await run_virtual(center, backend, 0.1)
            assert elector.epoch is None  # stepped down
            assert not center.writer.degraded
            assert [device for device, _ in backend.rang] == ["sip:alice@phones"]
        tg.cancel_scope.cancel()
    logged = [e.event for e in EventLog(store).read()]
    offered = [e.contact_id for e in logged if isinstance(e, ContactOffered)]
    assert offered == [first]
    assert not [e for e in logged if isinstance(e, StoreDegraded)]


def _live_offers(logged: list[Event]) -> tuple[dict[str, int], dict[str, int], int]:
    """Replay the log: the most live offers any contact had, any agent had, and how many
    contacts have one at the end (an offer lives from ContactOffered to its outcome)."""
    live: dict[str, ContactOffered] = {}
    most_by_contact: dict[str, int] = {}
    most_by_agent: dict[str, int] = {}
    for event in logged:
        if isinstance(event, ContactOffered):
            live[event.offer_id] = event
        elif isinstance(event, OfferRescinded | OfferRejected | OfferNotAnswered):
            live.pop(event.offer_id, None)
        elif getattr(event, "offer_id", None) in live and event.kind == "acd.offer_accepted":
            live.pop(event.offer_id)  # type: ignore[attr-defined]
        by_contact: dict[str, int] = {}
        by_agent: dict[str, int] = {}
        for offer in live.values():
            by_contact[offer.contact_id] = by_contact.get(offer.contact_id, 0) + 1
            by_agent[offer.agent_id] = by_agent.get(offer.agent_id, 0) + 1
        for key, count in by_contact.items():
            most_by_contact[key] = max(most_by_contact.get(key, 0), count)
        for key, count in by_agent.items():
            most_by_agent[key] = max(most_by_agent.get(key, 0), count)
    return most_by_contact, most_by_agent, len({o.contact_id for o in live.values()})


async def test_a_new_leader_resumes_agents_states_and_resolves_the_offers_left_in_flight(
    store: Store,
) -> None:
    """Node-a offers three emails to three of its four ready agents (one email each at most),
    Carol is on a lunch break; then node-a stalls and node-b takes the lease. Node-b rescinds the
    three offers in flight (reason takeover, no missed offer charged), puts the emails back in
    their original order, resumes the four agents ready and Carol on lunch, and offers the
    emails again: replayed from the log, no contact ever had two live offers, no agent more than
    their one email, and at the end each email has exactly one live offer. Node-a's writes after
    the takeover are fenced out: none is committed."""
    leases = Leases(store)
    config = _config("alice", "bob", "carol", "dan", "erin")
    ready = ("alice", "bob", "dan", "erin")
    emails = [
        Contact(id=f"mail-{i}", channel=Channel.EMAIL, caller_id=f"c{i}@example.org")
        for i in range(3)
    ]
    clock = ManualClock(1_000.0)
    async with anyio.create_task_group() as tg:
        first = Elector(leases, "voice", "node-a", ttl=30)
        await _lead(first, tg)
        async with open_call_center(
            VirtualBackend(clock), config, store=store, clock=clock, run_timers=False,
            elector=first,
        ) as old:  # fmt: skip
            await old.set_not_ready("carol", "lunch", actor="carol")
            for agent in ready:
                await old.set_ready(agent, actor=agent)
            for contact in emails:
                await old.receive(contact, "support")
                clock.advance(1.0)
            await old.settle()
            offered = [e.event for e in old.log.read(kinds=[ContactOffered.kind])]
            assert len(offered) == 3  # each committed before the desk showed it

            await old.writer.flush()
            written_before = old.writer.written
            await anyio.to_thread.run_sync(_steal, store, "node-b")
            second = Elector(leases, "voice", "node-b", ttl=30)
            await _lead(second, tg)
            clock.advance(5.0)
            async with open_call_center(
                VirtualBackend(clock), config, store=store, clock=clock, run_timers=False,
                elector=second,
            ) as new:  # fmt: skip
                await new.settle()
                await new.writer.flush()
                carol = new.engine.agent_status("carol")
                assert (carol.state, carol.reason) == (AgentState.NOT_READY, "lunch")
                states = sorted(new.engine.agent_status(a).state for a in ready)
                assert states == [AgentState.READY] + [AgentState.RESERVED] * 3
                logged = [e.event for e in new.log.read()]
        tg.cancel_scope.cancel()
    assert not first.is_leader
    assert old.writer.fenced_out is not None
    terms = [e for e in logged if isinstance(e, TermStarted)]
    assert [(e.node, e.epoch) for e in terms] == [("node-a", 1), ("node-b", 2)]
    term = terms[1]
    assert (term.node, term.epoch, term.offers_in_flight, term.agents_resumed) == (
        "node-b",
        2,
        3,
        5,
    )
    start = logged.index(term)
    rescinded = [e for e in logged[start:] if isinstance(e, OfferRescinded)]
    assert sorted(e.contact_id for e in rescinded) == ["mail-0", "mail-1", "mail-2"]
    assert {e.reason for e in rescinded} == {"takeover"}
    assert not [e for e in logged if isinstance(e, OfferNotAnswered | OfferRejected)]
    again = [e for e in logged[start:] if isinstance(e, ContactOffered)]
    assert [e.contact_id for e in again] == ["mail-0", "mail-1", "mail-2"]
    most_by_contact, most_by_agent, live = _live_offers(logged)
    assert set(most_by_contact.values()) == {1}
    assert set(most_by_agent.values()) == {1}
    assert live == 3
    assert old.writer.written == written_before, "node-a committed nothing after the takeover"
    assert old.writer.lost > 0, "what it published after (its close) was dropped"


class GatedCrm:
    """A CRM lookup plugin that answers only once the test opens its gate."""

    def __init__(self) -> None:
        self.gate = anyio.Event()

    @hookimpl
    async def callcenter_lookup_customer(self, query: CustomerQuery) -> Customer | None:
        """Wait for the gate, then know nobody."""
        await self.gate.wait()
        return None


async def test_a_term_ending_between_the_commit_and_the_ring_rings_no_one(store: Store) -> None:
    """The offer of a call is committed under the fence, then the phone waits for the caller's
    screen pop (a slow CRM); the term ends meanwhile (the elector steps down): when the lookup
    answers, Alice's phone is not dialled, since another node may lead by then."""
    clock = ManualClock(1_000.0)
    backend = WitnessBackend(clock, EventLog(store))
    backend.add_phone("sip:alice@phones", PartyScript(answer_after=None))
    crm = GatedCrm()
    config = attrs.evolve(_config("alice"), lookup_budget=WAIT)
    elector = Elector(Leases(store), "voice", "node-a", ttl=30)
    offered = anyio.Event()
    async with anyio.create_task_group() as tg:
        await _lead(elector, tg)
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False, elector=elector,
            plugins=create_plugin_host(plugins=[crm]),
        ) as center:  # fmt: skip
            center.subscribe(
                lambda _seq, event: offered.set() if isinstance(event, ContactOffered) else None
            )
            await center.set_ready("alice", actor="alice")
            backend.inject_call("sip:+33612345601@x", "sip:support@c")
            await backend.advance(0.0)
            with anyio.fail_after(WAIT):
                await offered.wait()
                await center.writer.commit()  # the offer is in the store, under the fence
            elector.step_down("the term's safe end passed")
            crm.gate.set()
            await run_virtual(center, backend, 0.0)
            assert backend.rang == []
        tg.cancel_scope.cancel()
    assert [e.event.agent_id for e in EventLog(store).read(kinds=[ContactOffered.kind])] == [  # type: ignore[attr-defined]
        "alice"
    ]
