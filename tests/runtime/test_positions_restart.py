"""An agent logged in at a position when the center stopped without logging them out
(a crash, a cluster takeover) sits there again when the center opens on the store."""

from __future__ import annotations

from pathlib import Path

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, AgentState, Membership, Queue
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import CallCenterConfig, Position, Seat, open_call_center
from callcenter_sdk.store import AgentSessions, create_store

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")


def _config() -> CallCenterConfig:
    flow = FlowBuilder("acme", start="q").node("q", ToQueue(queue="hotline")).build()
    seats = [
        Seat(
            agent=Agent(id=a, skills={"hotline": 3}, memberships=[Membership("hotline")]),
            device="",  # they log in at a position
        )
        for a in ("ag.alice", "ag.bruno")
    ]
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="hotline")],
        seats=seats,
        announce=False,
        org=ACME,
        campaigns={"hotline": "acme-hotline"},
        positions=[Position("lyon", n, f"sip:pos{n}@lyon") for n in (1, 2, 3)],
    )


async def test_an_agent_sits_again_where_their_open_session_says(tmp_path: Path) -> None:
    """Alice logs in at lyon:1 and moves to lyon:2: her open session names lyon:2.
    A center opened on the store with her session still open (as after a kill -9)
    has her logged in (not ready) at lyon:2; Bruno, whose session names a position
    that another agent holds, is not seated and his session is closed; a clean
    logout leaves no session, so the next center has nobody seated."""
    clock = ManualClock(1_000.0)
    with create_store(f"sqlite:///{tmp_path / 'center.sqlite'}") as store:
        async with open_call_center(
            VirtualBackend(clock), _config(), store=store, clock=clock, run_timers=False
        ) as center:
            await center.login("ag.alice", position="lyon:1", actor="ag.alice")
            await center.login("ag.alice", position="lyon:2", actor="ag.alice")
            await center.ledger.drained()
            (session,) = AgentSessions(store).open_sessions()
            assert (session.agent_id, session.data) == ("ag.alice", {"position": "lyon:2"})

        # The clean close logged alice out; put back what a crash leaves instead: her
        # session open, and bruno's naming the position she holds.
        sessions = AgentSessions(store)
        assert sessions.open_sessions() == []
        sessions.start("ag.alice", clock.now(), {"position": "lyon:2"})
        sessions.start("ag.bruno", clock.now(), {"position": "lyon:2"})

        async with open_call_center(
            VirtualBackend(clock), _config(), store=store, clock=clock, run_timers=False
        ) as center:
            assert center.seating.position_of("ag.alice") == "lyon:2"
            assert center.engine.agent_status("ag.alice").state is AgentState.NOT_READY
            assert center.seating.position_of("ag.bruno") == ""
            assert center.engine.agent_status("ag.bruno").state is AgentState.OFFLINE
            await center.ledger.drained()
            assert [s.agent_id for s in AgentSessions(store).open_sessions()] == ["ag.alice"]
            await center.logout("ag.alice", actor="ag.alice")
            await center.ledger.drained()
            assert AgentSessions(store).open_sessions() == []

        async with open_call_center(
            VirtualBackend(clock), _config(), store=store, clock=clock, run_timers=False
        ) as center:
            assert center.seating.position_of("ag.alice") == ""
            assert center.engine.agent_status("ag.alice").state is AgentState.OFFLINE
