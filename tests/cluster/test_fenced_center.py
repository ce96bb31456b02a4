"""A call center running as a cluster member writes its promises under the fence of its lease."""

from __future__ import annotations

import time

import anyio
import pytest

from callcenter_sdk import ManualClock, NotFoundError
from callcenter_sdk.acd import Agent, Contact, Membership, Queue
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import CallCenterConfig, DialPlan, Elector, Seat, open_call_center
from callcenter_sdk.store import AgentSessions, LeaseLost, Leases, PendingWork, Store
from callcenter_sdk.tickets import TicketRepository

WAIT = 30
"""Seconds any one expected change may take before the test fails."""


def _config() -> CallCenterConfig:
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    agent = Agent(id="alice", skills={"support": 3}, memberships=[Membership("support")])
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support")],
        seats=[Seat(agent=agent, device="sip:alice@phones")],
        announce=False,
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], gateway="sip:{number}@carrier"),
    )


async def test_a_deposed_leaders_promises_fail_to_commit(store: Store) -> None:
    """The leader's center stores Alice's session and a callback promise through the fence; once
    another node has taken the lease (before this node's elector even noticed), the next
    callback promise is refused with LeaseLost and a session write is dropped: neither is in
    the store, so the deposed node never tells a caller a promise it did not keep."""
    leases = Leases(store)
    elector = Elector(leases, "voice", "node-a", ttl=30)
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        with anyio.fail_after(WAIT):
            await elector.wait_leader()
        async with open_call_center(
            backend, _config(), store=store, clock=clock, run_timers=False, elector=elector
        ) as center:
            await center.settle()
            assert [s.agent_id for s in AgentSessions(store).open_sessions()] == ["alice"]
            await center.ledger.promise_callback(
                Contact(id="c-1", caller_id="+33142000001"),
                number="+33142000001",
                queue="support",
                entered_at=990.0,
                waiting=False,
            )
            assert [c.callback_id for c in PendingWork(store).callbacks()] == ["c-1"]

            thief = Leases(store, clock=lambda: time.time() + 3600)
            taken = await anyio.to_thread.run_sync(thief.acquire, "voice", "node-b", 3600)
            assert taken is not None
            assert taken.epoch == 2

            with pytest.raises(LeaseLost):
                await center.ledger.promise_callback(
                    Contact(id="c-2", caller_id="+33142000002"),
                    number="+33142000002",
                    queue="support",
                    entered_at=995.0,
                    waiting=False,
                )
            dropped = center.ledger.dropped
            center.ledger.logged_out("alice")
            with anyio.fail_after(WAIT):
                await center.ledger.drained()
            assert center.ledger.dropped == dropped + 1
        assert [c.callback_id for c in PendingWork(store).callbacks()] == ["c-1"]
        assert [s.agent_id for s in AgentSessions(store).open_sessions()] == ["alice"]
        tg.cancel_scope.cancel()


async def test_a_node_that_does_not_lead_cannot_open_a_center(store: Store) -> None:
    """Opening a cluster member's center while another node holds the lease fails at once with
    LeaseLost saying this node does not lead; nothing (no agent session) was written."""
    other = await anyio.to_thread.run_sync(Leases(store).acquire, "voice", "node-b", 3600)
    assert other is not None
    elector = Elector(Leases(store), "voice", "node-a", ttl=30)
    clock = ManualClock(1_000.0)
    with pytest.raises(LeaseLost, match="node-a does not lead"):
        async with open_call_center(
            VirtualBackend(clock), _config(), store=store, clock=clock, elector=elector
        ):
            pass
    assert AgentSessions(store).open_sessions() == []


async def test_a_deposed_leaders_tickets_are_refused(store: Store) -> None:
    """What a leader decides besides its promises is fenced too: once another node took the
    lease, opening a ticket (as the ledger does for a call, after the database came back) is
    refused with LeaseLost and dropped from the ledger, and so is opening one directly; the
    ticket opened while it led is in the store, the later ones are not. (A cut-off leader
    held such writes back during a partition and committed them at the heal, after the new
    term had written: the chaos suite's stale-commit check found it.)"""
    leases = Leases(store)
    elector = Elector(leases, "voice", "node-a", ttl=30)
    clock = ManualClock(1_000.0)
    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        with anyio.fail_after(WAIT):
            await elector.wait_leader()
        async with open_call_center(
            VirtualBackend(clock), _config(), store=store, clock=clock, run_timers=False,
            elector=elector,
        ) as center:  # fmt: skip
            center._paperwork.write_ticket("t-led", subject="Before")
            with anyio.fail_after(WAIT):
                await center.ledger.drained()
            assert TicketRepository(store).get("t-led").subject == "Before"

            thief = Leases(store, clock=lambda: time.time() + 3600)
            assert await anyio.to_thread.run_sync(thief.acquire, "voice", "node-b", 3600)
            dropped = center.ledger.dropped
            center._paperwork.write_ticket("t-deposed", subject="After")
            with anyio.fail_after(WAIT):
                await center.ledger.drained()
            assert center.ledger.dropped == dropped + 1
            with pytest.raises(LeaseLost):
                await anyio.to_thread.run_sync(
                    lambda: center.desk.open(subject="Directly", ticket_id="t-direct")
                )
        for refused in ("t-deposed", "t-direct"):
            with pytest.raises(NotFoundError):
                TicketRepository(store).get(refused)
        tg.cancel_scope.cancel()
