"""``ClusterMedia``: the leader's center drives a call that lives on another node's media.

Two nodes in one process on one store (SQLite and PostgreSQL): node ``a``
leads (an :class:`~callcenter_sdk.runtime.Elector`) and runs the center on a
:class:`~callcenter_sdk.runtime._cluster_media.ClusterMedia`; node ``b`` only
runs its media agent. Each node's media is a virtual backend whose time follows
the wall clock (as ``serve --virtual`` paces it); the center runs on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import attrs
import pytest

from callcenter_sdk import ManualClock, MediaError, WallClock
from callcenter_sdk.acd import Agent, AgentState, Membership, Queue
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Elector, Seat, open_call_center
from callcenter_sdk.runtime._cluster_media import ClusterMedia, open_cluster_media
from callcenter_sdk.runtime._media_node import MediaAgent
from callcenter_sdk.store import EventLog, Leases, MediaRows, Store
from callcenter_sdk.store._media import MediaCommandRow

DOMAIN = "hotline"
PHONE = "sip:alice@phones"


async def until(predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate()`` holds (checked often), failing after 30 s."""
    with anyio.fail_after(30):
        while not predicate():  # noqa: ASYNC110 - the center's state offers no event here
            await anyio.sleep(0.02)


def config() -> CallCenterConfig:
    """One queue and one agent, Alice, at her phone."""
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    alice = Agent(id="alice", skills={"support": 1}, memberships=[Membership("support")])
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=30.0)],
        seats=[Seat(agent=alice, device=PHONE)],
        announce=False,
    )


@attrs.define
class Node:
    """A node's virtual media and its agent."""

    backend: VirtualBackend
    agent: MediaAgent


async def _pace(backends: list[VirtualBackend]) -> None:
    last = time.monotonic()
    while True:
        await anyio.sleep(0.02)
        now = time.monotonic()
        for backend in backends:
            await backend.advance(now - last)
        last = now


@asynccontextmanager
async def cluster(
    store: Store, *, early: str | None = None, take_within: float = 10.0
) -> AsyncIterator[tuple[CallCenter, ClusterMedia, Node, Node]]:
    """Nodes a (leading, its center on ClusterMedia) and b (its media agent only).

    ``early``: a caller (From URI) dials node b before the term starts, and
    rings there until the leader's center takes it.
    """
    rows = MediaRows(store, DOMAIN)
    nodes: list[Node] = []
    for name in ("a", "b"):
        backend = VirtualBackend(ManualClock(time.time()))
        backend.add_phone(PHONE, PartyScript(answer_after=0.5))
        nodes.append(Node(backend, MediaAgent(backend, rows, name, poll=0.2)))
    a, b = nodes
    elector = Elector(Leases(store), DOMAIN, "a", ttl=30.0)
    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        lease = await elector.wait_leader()
        for node in nodes:
            await tg.start(node.agent.run)
        tg.start_soon(_pace, [a.backend, b.backend])
        if early is not None:
            b.backend.inject_call(early, "sip:support@center")
            await until(lambda: bool(b.agent.calls))
        async with (
            open_cluster_media(
                a.agent, rows, elector, epoch=lease.epoch, poll=0.2, take_within=take_within
            ) as media,
            open_call_center(
                media, config(), store=store, clock=WallClock(), elector=elector
            ) as center,
        ):
            yield center, media, a, b
        tg.cancel_scope.cancel()


async def test_a_call_on_another_nodes_media_goes_through_the_ivr_and_is_bridged_by_the_leader(
    store: Store,
) -> None:
    """A caller reaching node b (not the leader) is answered, queued and offered to Alice by
    the leader's center: her phone is dialled by node b, beside the caller, and the two legs
    are bridged there; the leader's own node holds no leg. Alice is busy on it; when the
    caller hangs up, both legs end, the contact is completed once by Alice, she is free again
    and node b has no live call left."""
    async with cluster(store) as (center, media, a, b):
        kinds: list[tuple[str, str]] = []
        center.events.subscribe(
            lambda _seq, event: kinds.append((type(event).kind, getattr(event, "agent_id", "")))
        )
        await center.set_ready("alice", actor="alice")
        caller = b.backend.inject_call("sip:carla@customer", "sip:support@center", PartyScript())
        await until(lambda: center.engine.agent_status("alice").state is AgentState.BUSY)
        legs = b.backend.calls
        assert len(legs) == 2
        assert caller in legs
        (alice_leg,) = set(legs) - {caller}
        assert b.backend.hearing(caller) == {f"leg:{alice_leg}"}
        assert not a.backend.calls
        rows = {c.call_id: (c.state, c.bridged_with) for c in b.agent.calls.values()}
        assert rows == {caller: ("bridged", alice_leg), alice_leg: ("bridged", caller)}
        assert media.node == "a"

        await b.backend.hangup(caller)  # the caller's side ends the call
        await until(lambda: center.engine.agent_status("alice").state is not AgentState.BUSY)
        await until(lambda: not b.backend.calls)
        assert center.engine.agent_status("alice").state is AgentState.READY
        await until(lambda: not MediaRows(store, DOMAIN).calls())
        contact = [k for k in kinds if k[0].startswith("acd.contact_")]
        assert contact == [
            ("acd.contact_entered_queue", ""),
            ("acd.contact_offered", "alice"),
            ("acd.contact_connected", "alice"),
            ("acd.contact_completed", "alice"),
        ]


async def test_a_caller_ringing_on_a_node_when_the_term_starts_is_taken_by_the_leader(
    store: Store,
) -> None:
    """A caller who reached node b while no center ran (a takeover's gap) rings there; when the
    term starts, the leader's center takes the call as an arrival, once: it is answered,
    queued and bridged to Alice on node b."""
    async with cluster(store, early="sip:early@customer") as (center, _, _, b):
        (caller,) = b.backend.calls
        await center.set_ready("alice", actor="alice")
        await until(lambda: center.engine.agent_status("alice").state is AgentState.BUSY)
        assert len(b.backend.calls) == 2
        (alice_leg,) = set(b.backend.calls) - {caller}
        assert b.backend.hearing(caller) == {f"leg:{alice_leg}"}
        await center.writer.flush()
        kinds = [type(logged.event).kind for logged in EventLog(store).read()]
        assert kinds.count("media.call_incoming") == 1
        assert kinds.count("acd.contact_entered_queue") == 1


async def test_a_command_for_a_node_that_never_takes_it_fails_and_is_withdrawn(
    store: Store,
) -> None:
    """A command for a node whose media does not run (no agent takes it) fails with
    ``MediaError`` once the node had its time to take it, and is withdrawn: the node, started
    later, never carries it out."""
    async with cluster(store, take_within=0.5) as (_, media, _, _):
        with pytest.raises(MediaError, match="did not take"):
            await media.answer("c/virtual:1")
        rows = MediaRows(store, DOMAIN)
        assert rows.claim("c", at=time.time()) == []


async def test_a_call_on_the_leaders_own_node_is_bridged_there_and_its_rows_say_so(
    store: Store,
) -> None:
    """A caller reaching the leader's own node a is bridged to Alice there, straight on a's
    media (no command row), and a's live calls record the bridged pair as b's would, so the
    next leader finds it if a only stepped down."""
    async with cluster(store) as (center, _, a, b):
        await center.set_ready("alice", actor="alice")
        caller = a.backend.inject_call("sip:carla@customer", "sip:support@center", PartyScript())
        await until(lambda: center.engine.agent_status("alice").state is AgentState.BUSY)
        (alice_leg,) = set(a.backend.calls) - {caller}
        assert not b.backend.calls
        rows = MediaRows(store, DOMAIN)
        expected = {caller: ("bridged", alice_leg), alice_leg: ("bridged", caller)}
        await until(
            lambda: {c.call_id: (c.state, c.bridged_with) for c in rows.calls("a")} == expected
        )
        with store.reading("commands") as session:
            assert session.query(MediaCommandRow).count() == 0
