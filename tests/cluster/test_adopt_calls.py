"""A new leader takes over the calls on a surviving node: bridged ones, and callers waiting.

Three nodes in one process on one store (SQLite and PostgreSQL), as in
``test_cluster_media.py``: each node runs its media agent (virtual media paced
on the wall clock); ``a`` and ``c`` run an elector. Node ``a`` leads first, its
center on a :class:`~callcenter_sdk.runtime._cluster_media.ClusterMedia`; the
callers dial node ``b``. Then node a dies as a killed leader does for the
calls: its center stops without a command reaching any node (its media handed
over, so its close hangs up nothing) and its elector stops renewing; node c
takes the lease after the ttl and opens its center, which takes the calls on b
over.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import attrs
import pytest
from sqlalchemy import delete, select, update

from callcenter_sdk import Event, ManualClock, WallClock
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    Capacity,
    Contact,
    Membership,
    Queue,
    records_from_events,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel, Outcome
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Elector, Seat, open_call_center
from callcenter_sdk.runtime._cluster_media import open_cluster_media
from callcenter_sdk.runtime._media_node import MediaAgent
from callcenter_sdk.store import EventLog, Leases, MediaRows, PendingWork, Store
from callcenter_sdk.store._media import MediaCommandRow
from callcenter_sdk.store._rows import EventRow, WaitingContactRow

from .test_cluster_media import DOMAIN, PHONE, _pace, until

TTL = 2.0


def config() -> CallCenterConfig:
    """One queue (30 s wrap-up) and one agent, Alice, at her phone (one call or two chats)."""
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    alice = Agent(
        id="alice",
        skills={"support": 1},
        memberships=[Membership("support")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 2}),
    )
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=30.0, wrap_up=30.0)],
        seats=[Seat(agent=alice, device=PHONE)],
        announce=False,
    )


@attrs.define
class Nodes:
    """The three nodes' media and the two electors, in one task group."""

    store: Store
    task_group: anyio.abc.TaskGroup
    b: VirtualBackend
    agents: dict[str, MediaAgent]
    electors: dict[str, Elector]
    scopes: dict[str, anyio.CancelScope]

    @asynccontextmanager
    async def center(self, node: str) -> AsyncIterator[CallCenter]:
        """Node ``node``'s center for its term (it must lead); its media handed over at the end."""
        elector = self.electors[node]
        lease = await elector.wait_leader()
        rows = MediaRows(self.store, DOMAIN)
        async with (
            open_cluster_media(
                self.agents[node], rows, elector, epoch=lease.epoch, poll=0.2
            ) as media,
            open_call_center(
                media, config(), store=self.store, clock=WallClock(), elector=elector
            ) as center,
        ):
            try:
                yield center
            finally:
                media.hand_over()  # a dead leader's close reaches no node
                await center.writer.flush()

    def kill_elector(self, node: str) -> None:
        """Stop ``node``'s elector without giving its lease up (it expires after the ttl)."""
        self.scopes[node].cancel()

    async def start_elector(self, node: str) -> None:
        """Start a fresh elector for ``node`` (its process started again)."""
        await _start_elector(self.task_group, self.store, node, self.electors, self.scopes)


async def _start_elector(
    tg: anyio.abc.TaskGroup,
    store: Store,
    name: str,
    electors: dict[str, Elector],
    scopes: dict[str, anyio.CancelScope],
) -> None:
    electors[name] = elector = Elector(Leases(store), DOMAIN, name, ttl=TTL)
    scopes[name] = scope = anyio.CancelScope()

    async def run(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        with scope:
            await elector.run(task_status=task_status)

    await tg.start(run)


@asynccontextmanager
async def nodes(store: Store) -> AsyncIterator[Nodes]:
    """Nodes a, b and c: media agents, paced virtual media; electors on a (leading) and c."""
    rows = MediaRows(store, DOMAIN)
    backends = {name: VirtualBackend(ManualClock(time.time())) for name in ("a", "b", "c")}
    for backend in backends.values():
        backend.add_phone(PHONE, PartyScript(answer_after=0.5))
    agents = {name: MediaAgent(backend, rows, name, poll=0.2) for name, backend in backends.items()}
    async with anyio.create_task_group() as tg:
        electors: dict[str, Elector] = {}
        scopes: dict[str, anyio.CancelScope] = {}
        for name in ("a", "b", "c"):
            await tg.start(agents[name].run)
            if name == "b":
                continue  # media only
            await _start_elector(tg, store, name, electors, scopes)
            if name == "a":
                await electors[name].wait_leader()
        tg.start_soon(_pace, list(backends.values()))
        yield Nodes(store, tg, backends["b"], agents, electors, scopes)
        tg.cancel_scope.cancel()


def _log(store: Store) -> list[Event]:
    return [logged.event for logged in EventLog(store).read()]


def _about(log: list[Event], contact: str) -> list[tuple[str, str]]:
    return [
        (e.kind, str(getattr(e, "agent_id", "")))
        for e in log
        if getattr(e, "contact_id", None) == contact and e.kind.startswith("acd.contact_")
    ]


@pytest.mark.parametrize("answer", ["logged", "accepted", "lost"])
async def test_a_call_bridged_on_a_surviving_node_is_adopted_and_ends_as_on_one_node(
    store: Store, answer: str
) -> None:
    """A caller on node b is bridged there to Alice by node a's center; node a dies, its
    answer of the call in the log (``logged``) or not yet written: only her acceptance is
    (``accepted``), or only the offer, committed before her phone rang (``lost``). Node c
    leads (epoch 2) with Alice busy on that call (adopted: no new offer, no second answer),
    the two legs still bridged on b; the caller hangs up: Alice's leg is hung up, the contact
    is completed once by Alice, she is in wrap-up, and its record is answered by her."""
    async with nodes(store) as cluster:
        async with cluster.center("a") as center_a:
            await center_a.set_ready("alice", actor="alice")
            caller = cluster.b.inject_call("sip:carla@customer", "sip:support@center")
            await until(lambda: center_a.engine.agent_status("alice").state is AgentState.BUSY)
            (alice_leg,) = set(cluster.b.calls) - {caller}
            await center_a.writer.flush()
            lost = {"logged": [], "accepted": ["acd.contact_connected"]}.get(
                answer, ["acd.offer_accepted", "acd.contact_connected"]
            )
            with store.transaction("lose the answer") as session:  # a's writer had not written
                session.execute(delete(EventRow).where(EventRow.kind.in_(lost)))
            cluster.kill_elector("a")
        async with cluster.center("c") as center_c:
            contact = f"b/{caller}"
            status = center_c.engine.agent_status("alice")
            assert (status.state, status.contacts) == (AgentState.BUSY, (contact,))
            assert cluster.b.hearing(caller) == {f"leg:{alice_leg}"}
            await cluster.b.hangup(caller)  # the caller's side ends the call
            await until(lambda: center_c.engine.agent_status("alice").state is AgentState.WRAP_UP)
            await until(lambda: not cluster.b.calls)  # Alice's leg hung up by the new leader
    log = _log(store)
    answered = [("acd.contact_connected", "alice")] if answer == "logged" else []
    assert _about(log, contact) == [
        ("acd.contact_entered_queue", ""),
        ("acd.contact_offered", "alice"),
        *answered,
        ("acd.contact_adopted", "alice"),
        ("acd.contact_completed", "alice"),
    ]
    (record,) = [r for r in records_from_events(log)[0] if r.contact_id == contact]
    assert (record.outcome, record.agent) == (Outcome.ANSWERED, "alice")
    assert record.answered_at is not None
    assert not [e for e in log if e.kind == "runtime.call_interrupted"]


async def test_a_call_that_ends_while_no_leader_runs_is_completed_once_at_the_takeover(
    store: Store,
) -> None:
    """A caller on node b is bridged there to Alice by node a's center; node a dies, and the
    caller hangs up before node c leads: nothing is left to adopt and no leader saw the end.
    Node c's term logs the contact completed by Alice, once, and its record is answered by
    her (before, it stayed connected in the log for ever: no end, no handle time); Alice is
    not busy in the new engine, her phone's leg left alone on b is hung up, and a second
    takeover completes nothing again."""
    async with nodes(store) as cluster:
        async with cluster.center("a") as center_a:
            await center_a.set_ready("alice", actor="alice")
            caller = cluster.b.inject_call("sip:carla@customer", "sip:support@center")
            await until(lambda: center_a.engine.agent_status("alice").state is AgentState.BUSY)
            await center_a.writer.flush()
            cluster.kill_elector("a")
        (alice_leg,) = set(cluster.b.calls) - {caller}
        await cluster.b.hangup(caller)  # while no leader runs: Alice's leg stays up alone
        rows = MediaRows(store, DOMAIN)
        await until(lambda: [c.call_id for c in rows.calls("b")] == [alice_leg])
        contact = f"b/{caller}"
        async with cluster.center("c") as center_c:
            assert center_c.engine.agent_status("alice").state is not AgentState.BUSY
            assert center_c.engine.agent_status("alice").contacts == ()
            await until(lambda: not cluster.b.calls)  # her leg hung up by the new leader
        cluster.kill_elector("c")
        await cluster.start_elector("a")
        async with cluster.center("a"):
            pass
    log = _log(store)
    assert _about(log, contact) == [
        ("acd.contact_entered_queue", ""),
        ("acd.contact_offered", "alice"),
        ("acd.contact_connected", "alice"),
        ("acd.contact_completed", "alice"),
    ]
    (record,) = [r for r in records_from_events(log)[0] if r.contact_id == contact]
    assert (record.outcome, record.agent) == (Outcome.ANSWERED, "alice")
    assert record.ended_at is not None


async def test_a_caller_waiting_on_a_surviving_node_goes_back_to_their_queue(
    store: Store,
) -> None:
    """A caller on node b waits in the queue (Alice not ready) when node a dies. Node c leads
    and puts them back at their original place (not closed as interrupted), has their hold
    music started again on b, and once Alice is ready she is offered the call, her phone is
    dialled beside it on b and bridged: the contact is connected once, by Alice."""
    async with nodes(store) as cluster:
        async with cluster.center("a") as center_a:
            caller = cluster.b.inject_call("sip:dan@customer", "sip:support@center")
            contact = f"b/{caller}"
            await until(lambda: center_a.engine.waiting_contacts("support") == [contact])
            entered = center_a.engine.contact_status(contact).entered_at
            await center_a.writer.flush()
            await center_a.ledger.drained()
            cluster.kill_elector("a")
        async with cluster.center("c") as center_c:
            assert center_c.engine.waiting_contacts("support") == [contact]
            # the stored arrival, read a moment before the first engine's own clock reading
            assert center_c.engine.contact_status(contact).entered_at == pytest.approx(entered)
            await center_c.set_ready("alice", actor="alice")
            await until(lambda: center_c.engine.agent_status("alice").state is AgentState.BUSY)
            (alice_leg,) = set(cluster.b.calls) - {caller}
            assert cluster.b.hearing(caller) == {f"leg:{alice_leg}"}
    log = _log(store)
    assert not [e for e in log if e.kind == "runtime.call_interrupted"]
    about = _about(log, contact)
    assert about.count(("acd.contact_connected", "alice")) == 1
    assert about[-1] == ("acd.contact_connected", "alice")
    with store.reading("commands") as session:
        ops = session.execute(
            select(MediaCommandRow.op, MediaCommandRow.epoch).where(
                MediaCommandRow.node == "b", MediaCommandRow.op == "start_music_on_hold"
            )
        ).all()
    assert sorted(epoch for _op, epoch in ops) == [1, 2]  # started again by the new leader


async def test_a_chat_in_hand_is_given_back_and_one_completed_whose_row_outlived_it_is_closed(
    store: Store,
) -> None:
    """Alice has chat-2 open and completed chat-1 at node a's center, whose close of chat-1's
    stored row died with it (the row is set back to waiting); node a dies. Node c leads with
    Alice busy on chat-2 (adopted, ready for one more chat) and chat-1 neither queued nor
    offered again, its row closed. Node c dies in turn and a leads again (epoch 3): chat-2 is
    still Alice's (adopted again); she disposes of it, it is completed once, its row closed."""
    async with nodes(store) as cluster:
        async with cluster.center("a") as center_a:
            await center_a.set_ready("alice", actor="alice")
            for chat in ("chat-1", "chat-2"):
                await center_a.receive(Contact(id=chat, channel=Channel.CHAT), "support")
                await center_a.accept("alice", actor="alice", contact_id=chat)
            await center_a.dispose("chat-1", "solved", actor="alice")
            await center_a.writer.flush()
            await center_a.ledger.drained()
            with store.transaction("lose the close of chat-1's row") as session:
                session.execute(
                    update(WaitingContactRow)
                    .where(WaitingContactRow.contact_id == "chat-1")
                    .values(state="waiting")
                )
            cluster.kill_elector("a")
        async with cluster.center("c") as center_c:
            status = center_c.engine.agent_status("alice")
            assert (status.state, status.presence, status.contacts) == (
                AgentState.BUSY,
                AgentState.READY,
                ("chat-2",),
            )
            assert "chat-1" not in center_c.engine.live_contacts()
            assert center_c.work("chat-2") is not None  # on her desk (the desktop lists it)
            await center_c.ledger.drained()
            assert [r.contact_id for r in PendingWork(store).waiting()] == ["chat-2"]
            await center_c.writer.flush()
            cluster.kill_elector("c")
        await cluster.start_elector("a")  # a again: the chat is still Alice's at epoch 3
        async with cluster.center("a") as center_a:
            status = center_a.engine.agent_status("alice")
            assert (status.state, status.contacts) == (AgentState.BUSY, ("chat-2",))
            await center_a.dispose("chat-2", "solved", actor="alice")
            await center_a.writer.flush()
            await center_a.ledger.drained()
            assert PendingWork(store).waiting() == []
    log = _log(store)
    restored = [e for e in log if e.kind == "runtime.work_restored"]
    assert [(getattr(e, "adopted", None), getattr(e, "ended", None)) for e in restored] == [
        (0, 0),
        (1, 1),
        (1, 0),
    ]
    assert _about(log, "chat-1").count(("acd.contact_offered", "alice")) == 1
    assert _about(log, "chat-2") == [
        ("acd.contact_entered_queue", ""),
        ("acd.contact_offered", "alice"),
        ("acd.contact_connected", "alice"),
        ("acd.contact_adopted", "alice"),
        ("acd.contact_adopted", "alice"),
        ("acd.contact_completed", "alice"),
    ]
