"""The leader ends the calls of a media node that died, as the pool does for a dead worker.

Two nodes in one process on one store (SQLite and PostgreSQL), as in
``test_cluster_media.py``: node ``a`` leads and runs the center on a
:class:`~callcenter_sdk.runtime._cluster_media.ClusterMedia`; node ``b`` runs
its media agent in a scope of its own, so the test stops it without a clean
leave (its process "killed") and then ages its heartbeat past the ttl by
writing it on a clock two minutes behind the database's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import attrs
import pytest

from callcenter_sdk import ManualClock, MediaError, NotFoundError, WallClock
from callcenter_sdk.acd import AgentState
from callcenter_sdk.media import CallEnded, EndCause, PartyScript, VirtualBackend, WorkerLost
from callcenter_sdk.runtime import CallCenter, Elector, open_call_center
from callcenter_sdk.runtime._cluster_media import ClusterMedia, open_cluster_media
from callcenter_sdk.runtime._media_node import MediaAgent
from callcenter_sdk.store import EventLog, Heartbeat, Leases, MediaRows, NodeRole, Nodes, Store

from .test_cluster_media import DOMAIN, PHONE, _pace, config, until

TTL = 30.0


@attrs.define
class NodeB:
    """Node b: its media, its agent, and the scope its agent runs in (a process, for the test)."""

    backend: VirtualBackend
    agent: MediaAgent
    scope: anyio.CancelScope


def beat(store: Store, node: str, *, join: bool = False, behind: float = 0.0) -> None:
    """Node ``node``'s heartbeat, valid for ``TTL`` s from ``behind`` s before now."""
    clock = (lambda: time.time() - behind) if behind else None
    heartbeat = Heartbeat(domain=DOMAIN, node=node, role=NodeRole.STANDBY)
    Nodes(store, clock=clock).beat(heartbeat, TTL, join=join)


@attrs.define
class Cluster:
    """The two nodes' parts the tests use."""

    store: Store
    task_group: anyio.abc.TaskGroup
    backends: list[VirtualBackend]

    async def start_b(self) -> NodeB:
        """Start node b's process: fresh media (leg ids from 1), its agent, its first heartbeat."""
        backend = VirtualBackend(ManualClock(time.time()))
        backend.add_phone(PHONE, PartyScript(answer_after=0.5))
        agent = MediaAgent(backend, MediaRows(self.store, DOMAIN), "b", poll=0.2)
        scope = anyio.CancelScope()

        async def run(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            with scope:
                await agent.run(task_status=task_status)

        await self.task_group.start(run)
        beat(self.store, "b", join=True)
        self.backends.append(backend)
        return NodeB(backend, agent, scope)


@asynccontextmanager
async def two_nodes(store: Store) -> AsyncIterator[tuple[CallCenter, ClusterMedia, Cluster, NodeB]]:
    """Node a leading with the center on ClusterMedia; node b started."""
    rows = MediaRows(store, DOMAIN)
    a_backend = VirtualBackend(ManualClock(time.time()))
    a_agent = MediaAgent(a_backend, rows, "a", poll=0.2)
    elector = Elector(Leases(store), DOMAIN, "a", ttl=30.0)
    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        lease = await elector.wait_leader()
        await tg.start(a_agent.run)
        beat(store, "a", join=True)
        cluster = Cluster(store, tg, [a_backend])
        tg.start_soon(_pace, cluster.backends)
        b = await cluster.start_b()
        async with (
            open_cluster_media(a_agent, rows, elector, epoch=lease.epoch, poll=0.2) as media,
            open_call_center(
                media, config(), store=store, clock=WallClock(), elector=elector
            ) as center,
        ):
            yield center, media, cluster, b
        tg.cancel_scope.cancel()


async def bridged_on_b(center: CallCenter, b: NodeB) -> tuple[str, str]:
    """A caller on node b bridged to Alice there: the two legs' ids on b."""
    await center.set_ready("alice", actor="alice")
    caller = b.backend.inject_call("sip:carla@customer", "sip:support@center", PartyScript())
    await until(lambda: center.engine.agent_status("alice").state is AgentState.BUSY)
    (alice_leg,) = set(b.backend.calls) - {caller}
    assert b.backend.hearing(caller) == {f"leg:{alice_leg}"}
    return caller, alice_leg


async def lost_records(center: CallCenter, store: Store) -> list[WorkerLost]:
    """The ``media.worker_lost`` records of the event log."""
    await center.writer.flush()
    return [e.event for e in EventLog(store).read() if isinstance(e.event, WorkerLost)]


@pytest.mark.parametrize("how", ["killed", "left"])
async def test_the_calls_of_a_dead_node_end_once_and_free_their_agent(
    store: Store, how: str
) -> None:
    """Node b holds a caller bridged to Alice; its process stops without ending them. Once its
    heartbeat is past its ttl (killed) or it left, the leader publishes one ``WorkerLost``
    naming node b and both legs, each leg ends as a dead worker's does, the contact is closed
    once (completed by Alice), Alice is free again, a command for a lost leg fails at once,
    and the event log holds one record of the loss."""
    async with two_nodes(store) as (center, media, _, b):
        kinds: list[tuple[str, str]] = []
        center.events.subscribe(
            lambda _seq, event: kinds.append((type(event).kind, getattr(event, "agent_id", "")))
        )
        ended: list[CallEnded] = []
        center.events.subscribe(
            lambda _seq, event: ended.append(event) if isinstance(event, CallEnded) else None
        )
        caller, alice_leg = await bridged_on_b(center, b)

        b.scope.cancel()  # b's process stops: no end of call is written for its legs
        if how == "killed":
            beat(store, "b", behind=TTL + 90)  # its last heartbeat, now past its ttl
        else:
            Nodes(store).leave(DOMAIN, "b")
        await until(lambda: center.engine.agent_status("alice").state is not AgentState.BUSY)
        await until(lambda: center.engine.agent_status("alice").state is AgentState.READY)

        legs = {f"b/{caller}", f"b/{alice_leg}"}
        assert {e.call_id for e in ended} == legs
        assert all(e.cause is EndCause.WORKER_LOST for e in ended)
        (lost,) = await lost_records(center, store)
        assert lost.worker == "b"
        assert set(lost.lost_calls) == legs
        contact = [k for k in kinds if k[0].startswith("acd.contact_")]
        assert contact == [
            ("acd.contact_entered_queue", ""),
            ("acd.contact_offered", "alice"),
            ("acd.contact_connected", "alice"),
            ("acd.contact_completed", "alice"),
        ]
        with pytest.raises(NotFoundError, match="media node was lost"):
            await media.hangup(f"b/{caller}")


async def test_a_node_started_again_is_used_again_and_its_reused_leg_ids_are_new_calls(
    store: Store,
) -> None:
    """After node b's process died and its calls were ended, b starts again (a new heartbeat,
    fresh media whose leg ids start over): a new caller on it, whose leg has the id of the
    lost caller's, goes through the queue and is bridged to Alice there; nothing of the old
    call is ended again and the log still holds one loss."""
    async with two_nodes(store) as (center, _, cluster, b):
        first_caller, _ = await bridged_on_b(center, b)
        b.scope.cancel()
        beat(store, "b", behind=TTL + 90)
        await until(lambda: center.engine.agent_status("alice").state is AgentState.READY)

        again = await cluster.start_b()
        caller = again.backend.inject_call("sip:dan@customer", "sip:support@center", PartyScript())
        assert caller == first_caller  # the same leg id, a new call
        await until(lambda: center.engine.agent_status("alice").state is AgentState.BUSY)
        assert len(again.backend.calls) == 2
        (alice_leg,) = set(again.backend.calls) - {caller}
        assert again.backend.hearing(caller) == {f"leg:{alice_leg}"}
        assert len(await lost_records(center, store)) == 1


async def test_a_node_started_again_within_its_ttl_loses_its_former_calls(
    store: Store,
) -> None:
    """Node b's process stops with a caller bridged to Alice and starts again at once, its
    heartbeat never expiring: the leader sees b's new start time and ends the former
    process's legs, once (one ``WorkerLost`` for both), and Alice is free again."""
    async with two_nodes(store) as (center, _, cluster, b):
        caller, alice_leg = await bridged_on_b(center, b)
        b.scope.cancel()
        await cluster.start_b()
        await until(lambda: center.engine.agent_status("alice").state is AgentState.READY)
        (lost,) = await lost_records(center, store)
        assert lost.worker == "b"
        assert set(lost.lost_calls) == {f"b/{caller}", f"b/{alice_leg}"}


async def test_a_command_its_node_took_before_dying_fails_once_the_node_is_down(
    store: Store,
) -> None:
    """Node b claims a command for one of its legs (a hang-up) and dies before carrying it
    out: a claimed command cannot be withdrawn, so nothing but the node's loss can end the
    wait (before, it lasted as long as the term, and the media events' pump waiting on it
    with it). Once b's heartbeat is past its ttl the command fails with a ``MediaError``
    naming b, the leader still ends b's legs with one ``WorkerLost``, and Alice is free
    again."""
    async with two_nodes(store) as (center, media, _, b):
        caller, _ = await bridged_on_b(center, b)
        b.scope.cancel()  # b's process stops: it claims nothing more
        outcome: list[BaseException | None] = []

        async def hang_up() -> None:
            try:
                await media.hangup(f"b/{caller}")
            except MediaError as exc:
                outcome.append(exc)
            else:
                outcome.append(None)

        rows = MediaRows(store, DOMAIN)
        claimed: list[str] = []

        def claim() -> bool:
            claimed.extend(command.op for command in rows.claim("b", at=time.time()))
            return bool(claimed)

        with anyio.fail_after(120):  # a bound for a hang, far above the ttl poll's 0.2 s
            async with anyio.create_task_group() as tg:
                tg.start_soon(hang_up)
                await until(claim)
                assert claimed == ["hangup"]
                beat(store, "b", behind=TTL + 90)  # b died with the command claimed
        (error,) = outcome
        assert isinstance(error, MediaError)
        assert "media node b is down" in str(error)
        await until(lambda: center.engine.agent_status("alice").state is AgentState.READY)
        (lost,) = await lost_records(center, store)
        assert lost.worker == "b"
