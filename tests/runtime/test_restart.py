"""A call center restarted on the same store puts back what its previous run promised."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import attrs

from callcenter_sdk import Event, ManualClock
from callcenter_sdk.acd import Agent, ContactConnected, ContactEnteredQueue, Membership, Queue
from callcenter_sdk.ivr import Callback, FlowBuilder, ToQueue
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    CallInterrupted,
    DialPlan,
    Seat,
    WorkRestored,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import AgentSessions, CallbackRecord, PendingWork, Store
from callcenter_sdk.tickets import SlaPolicy, TicketDesk, TicketSlaBreached


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


def _run(
    store: Store, start: float
) -> AbstractAsyncContextManager[tuple[CallCenter, VirtualBackend]]:
    return _run_with(store, _config(), start)


@asynccontextmanager
async def _run_with(
    store: Store, config: CallCenterConfig, start: float
) -> AsyncIterator[tuple[CallCenter, VirtualBackend]]:
    clock = ManualClock(start)
    backend = VirtualBackend(clock)
    async with open_call_center(
        backend, config, store=store, clock=clock, run_timers=False
    ) as center:
        yield center, backend


def _crash(center: CallCenter) -> None:
    """From now on the ledger records nothing more, as if the process had been killed.

    The orderly close that follows hangs the callers up and logs the agents
    out; a killed process would not have recorded those, so neither does this.
    (``tests/runtime/test_crash_recovery.py`` kills a real process with SIGKILL.)
    """
    center.ledger.served = lambda contact_id: None  # type: ignore[method-assign]
    center.ledger.logged_out = lambda agent_id: None  # type: ignore[method-assign]


async def _logged(center: CallCenter, kind: type[Event]) -> list[Event]:
    await center.writer.flush()
    return [logged.event for logged in center.log.read(kinds=[kind.kind])]


async def test_a_restart_rearms_open_tickets_sla_clocks(store: Store) -> None:
    """A ticket opened before the restart with a 60 s first-response SLA: the
    restarted center, with nothing else happening, still breaches it on time."""
    async with _run(store, 1_000.0) as (center, backend):
        TicketDesk(center.tickets, backend.clock).open(
            subject="Line down", ticket_id="T-1", sla=SlaPolicy(first_response=60, resolution=600)
        )
    async with _run(store, 1_010.0) as (center, backend):
        seen: list[Event] = []
        center.subscribe(lambda _seq, event: seen.append(event))
        await run_virtual(center, backend, 120.0)
        breached = [e for e in seen if isinstance(e, TicketSlaBreached)]
        assert [(e.ticket_id, e.at) for e in breached][:1] == [("T-1", 1_060.0)]


async def test_callers_waiting_when_the_center_stopped_are_closed_once(store: Store) -> None:
    """Two callers wait (nobody ready) when the center stops: the restarted center
    closes each once as interrupted, with how long they waited, and says so in its
    work_restored event; a second restart finds nothing left to close."""
    async with _run(store, 1_000.0) as (center, backend):
        calls = [
            backend.inject_call(f"sip:+3361234560{i}@x", "sip:support@c", PartyScript())
            for i in range(2)
        ]
        await run_virtual(center, backend, 5.0)
        assert len(center.engine.live_contacts()) == 2
        _crash(center)
    async with _run(store, 1_100.0) as (center, _backend):
        interrupted = await _logged(center, CallInterrupted)
        restored = (await _logged(center, WorkRestored))[-1]
    assert sorted(e.contact_id for e in interrupted) == sorted(calls)  # type: ignore[attr-defined]
    assert all(e.waited >= 95.0 for e in interrupted)  # type: ignore[attr-defined]
    assert restored.interrupted == 2  # type: ignore[attr-defined]
    async with _run(store, 1_200.0) as (center, _backend):
        assert len(await _logged(center, CallInterrupted)) == 2  # the same two, none new


async def test_open_agent_sessions_continue_across_a_restart(store: Store) -> None:
    """Alice's session opened by the first run is the one the second run continues:
    one session, logged in at the first start, open until the center closes."""
    async with _run(store, 1_000.0) as (center, _backend):
        _crash(center)
    async with _run(store, 2_000.0) as (center, _backend):
        await center.settle()
        (session,) = AgentSessions(store).history("alice")
        assert (session.started_at, session.ended_at) == (1_000.0, None)
    (session,) = AgentSessions(store).history("alice")
    assert session.ended_at == 2_000.0


async def test_a_callback_scheduled_for_later_is_called_when_it_falls_due(store: Store) -> None:
    """A callback stored for 60 s from now ("call me back at three") does not enter
    the queue at start; when it falls due, Alice (ready) is rung, the customer is
    called back on their number, and the callback is made: it never comes back."""
    PendingWork(store).put_callbacks(
        CallbackRecord(
            callback_id="cb-1",
            phone="+33142685300",
            queue="support",
            requested_at=900.0,
            due_at=1_060.0,
        )
    )
    async with _run(store, 1_000.0) as (center, backend):
        seen: list[Event] = []
        center.subscribe(lambda _seq, event: seen.append(event))
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        backend.add_phone("sip:+33142685300@carrier", PartyScript(answer_after=2.0, talk_for=5.0))
        await center.set_ready("alice", actor="alice")
        await run_virtual(center, backend, 50.0)
        assert not center.engine.live_contacts()
        await run_virtual(center, backend, 30.0)
        (entered,) = [e for e in seen if isinstance(e, ContactEnteredQueue)]
        assert entered.at == 1_060.0
        (connected,) = [e for e in seen if isinstance(e, ContactConnected)]
        assert connected.contact_id.startswith("cb-1/")
        assert connected.agent_id == "alice"
    assert PendingWork(store).callbacks(now=2_000.0) == []


def _ivr_callback_config() -> CallCenterConfig:
    """Callers are offered a callback at once (key 1); another key sends them to the queue."""
    flow = (
        FlowBuilder("support", start="offer")
        .node(
            "offer",
            Callback(queue="support", declined="queue", confirm_prompts=["callback_confirmed"]),
        )
        .node("queue", ToQueue(queue="support"))
        .build()
    )
    return attrs.evolve(_config(), flow=flow)


async def test_a_callback_accepted_in_the_ivr_is_stored_then_called_back(store: Store) -> None:
    """The IVR's callback node: the caller presses 1, the callback is stored before
    they hear the confirmation, they are hung up; Alice is rung and the customer is
    called back on their number, once. (The runtime used to drop the request.)"""
    async with _run_with(store, _ivr_callback_config(), 1_000.0) as (center, backend):
        seen: list[Event] = []
        center.subscribe(lambda _seq, event: seen.append(event))
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        backend.add_phone("sip:+33142685300@carrier", PartyScript(answer_after=2.0, talk_for=5.0))
        caller = backend.inject_call(
            "sip:+33142685300@trunk", "sip:support@c", PartyScript(press=[(1.0, "1")])
        )
        await run_virtual(center, backend, 30.0)
        (stored,) = PendingWork(store).callbacks(now=2_000.0)
        assert stored.phone == "+33142685300"
        assert caller not in backend.calls  # confirmed, then hung up
        await center.set_ready("alice", actor="alice")
        await run_virtual(center, backend, 30.0)
        (connected,) = [e for e in seen if isinstance(e, ContactConnected)]
        assert connected.agent_id == "alice"
        assert connected.contact_id.startswith(f"{caller}@")
        assert PendingWork(store).callbacks(now=3_000.0) == []


async def test_an_ivr_callback_the_policy_refuses_waits_in_the_queue_instead(
    store: Store,
) -> None:
    """A caller whose number is a satellite range accepts the IVR's callback offer:
    nothing is stored or promised; the flow stops before its confirmation, the caller
    hears the apology and waits in the callback's queue, and Alice takes the call."""
    async with _run_with(store, _ivr_callback_config(), 1_000.0) as (center, backend):
        seen: list[Event] = []
        center.subscribe(lambda _seq, event: seen.append(event))
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=1.0))
        caller = backend.inject_call(
            "sip:+88212345678@evil", "sip:support@c", PartyScript(press=[(1.0, "1")], talk_for=5.0)
        )
        heard: set[str] = set()
        for _ in range(20):
            await run_virtual(center, backend, 0.5)
            heard |= backend.hearing(caller) if caller in backend.calls else set()
        prompts = {Path(h.removeprefix("file:")).stem for h in heard if h.startswith("file:")}
        assert "callback_refused" in prompts
        assert "callback_confirmed" not in prompts
        assert PendingWork(store).callbacks(now=2_000.0) == []
        assert caller in backend.calls
        await center.set_ready("alice", actor="alice")
        await run_virtual(center, backend, 10.0)
        (connected,) = [e for e in seen if isinstance(e, ContactConnected)]
        assert (connected.contact_id, connected.agent_id) == (caller, "alice")
