"""What a new leader reads back of the work in hand agrees with the engine that wrote the log."""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import invariant

from callcenter_sdk import Event
from callcenter_sdk.acd import (
    AgentState,
    AgentStateChanged,
    ContactAdopted,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactPhase,
)
from callcenter_sdk.kpi import Channel, Direction
from callcenter_sdk.runtime._takeover import (
    TAKEOVER,
    History,
    InHand,
    InHandReader,
    Resume,
    read_takeover,
)

from .test_takeover import AGENTS, TakeoverMachine


class InHandMachine(TakeoverMachine):
    """The takeover machine's random e-mail work; at every step the log, read back newest first
    by ``InHandReader`` until it has placed every e-mail, names exactly the contacts the engine
    has connected and to whom, the ones that ended, and leaves the rest waiting; reading back
    only to the continuing agents' earliest last idle state (``History.work_since``) finds the
    same work in hand; and an agent with work in hand resumes, once it is adopted, in the
    presence the engine shows them in."""

    def _placed(self) -> InHandReader:
        reader = InHandReader(f"m{i}" for i in range(1, self.contacts + 1))
        if self.contacts:
            for event in reversed(self.log):
                if reader.feed(event):
                    break
        return reader

    @invariant()
    def the_log_places_every_contact(self) -> None:
        reader = self._placed()
        live = set(self.engine.live_contacts())
        connected = {
            c: self.engine.contact_status(c).agent_id
            for c in live
            if self.engine.contact_status(c).phase is ContactPhase.CONNECTED
        }
        assert {c: h.agent_id for c, h in reader.in_hand.items()} == connected
        everyone = {f"m{i}" for i in range(1, self.contacts + 1)}
        assert reader.ended == everyone - live

    @invariant()
    def reading_back_to_the_agents_last_idle_state_finds_the_work_in_hand(self) -> None:
        logged_in = [
            a for a in AGENTS if self.engine.agent_status(a).state is not AgentState.OFFLINE
        ]
        history = History(logged_in, horizon=self.clock.now() - 31.0)
        for event in reversed(self.log):
            if history.feed(event):
                break
        since = history.work_since
        if since is None:  # some agent's last idle state is not in the log: no bound
            return
        reader = InHandReader(f"m{i}" for i in range(1, self.contacts + 1))
        for event in reversed(self.log):
            if event.at < since or reader.feed(event):
                break
        assert reader.in_hand == self._placed().in_hand

    @invariant()
    def an_agent_with_work_in_hand_resumes_in_their_presence(self) -> None:
        working = read_takeover(self.log).working
        for agent in AGENTS:
            status = self.engine.agent_status(agent)
            if status.state is AgentState.OFFLINE or not status.contacts:
                continue
            expected = (
                Resume(AgentState.NOT_READY, status.reason)
                if status.presence is AgentState.NOT_READY
                else Resume(AgentState.READY)
            )
            assert working[agent] == expected, agent


InHandMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_in_hand_reads_the_engine_back = InHandMachine.TestCase


def _entered(at: float, contact: str) -> ContactEnteredQueue:
    return ContactEnteredQueue(
        at=at,
        contact_id=contact,
        queue="mail",
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        entered_at=1.0,
    )


def test_a_contact_queued_again_after_a_takeover_waits_and_an_adopted_one_is_in_hand() -> None:
    """Newest first: an entry after an answer (queued again by a later term) means waiting; an
    adoption keeps the original answer's time; a completion ends it; and a working agent with
    no idle state in the events read resumes not ready (takeover)."""
    log: list[Event] = [
        *(_entered(1.0, f"m{i}") for i in (1, 2, 3)),
        ContactConnected(at=2.0, contact_id="m1", queue="mail", agent_id="a1", waited=1.0),
        ContactConnected(at=2.0, contact_id="m2", queue="mail", agent_id="a1", waited=1.0),
        ContactConnected(at=2.0, contact_id="m3", queue="mail", agent_id="a2", waited=1.0),
        AgentStateChanged(at=2.0, agent_id="a2", state="busy", previous="reserved"),
        _entered(5.0, "m1"),
        ContactAdopted(
            at=5.0, contact_id="m2", queue="mail", agent_id="a1", entered_at=1.0, connected_at=2.0
        ),
        ContactCompleted(
            at=6.0, contact_id="m3", queue="mail", agent_id="a2", talk_time=4.0, hold_time=0.0
        ),
    ]
    reader = InHandReader(["m1", "m2", "m3"])
    fed = 0
    for event in reversed(log):
        fed += 1
        if reader.feed(event):
            break
    assert fed == 3  # the three newest events place all three
    assert reader.in_hand == {"m2": InHand("m2", "mail", "a1", 2.0, 1.0)}
    assert reader.ended == {"m3"}
    assert read_takeover(log).working["a2"] == Resume(AgentState.NOT_READY, TAKEOVER)
