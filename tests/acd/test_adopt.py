"""``Engine.adopt``: a contact connected elsewhere becomes this engine's, busy at its agent."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import precondition, rule

from callcenter_sdk import Event, StateError, ValidationError
from callcenter_sdk.acd import (
    AgentState,
    AgentStateChanged,
    Capacity,
    Contact,
    ContactAdopted,
    ContactCompleted,
    ContactConnected,
    ContactOffered,
    ContactPhase,
    ContactTransferred,
    EndedBy,
    records_from_events,
)
from callcenter_sdk.kpi import Channel, Outcome
from callcenter_sdk.testing import AcdHarness, EngineMachine


def _harness() -> AcdHarness:
    h = AcdHarness()
    h.queue("chat", channels=(Channel.CHAT, Channel.VOICE), wrap_up=5)
    h.agent(
        "ann",
        queues=("chat",),
        capacity=Capacity(limits={Channel.CHAT: 2, Channel.VOICE: 1}),
        ready=False,
    )
    return h


def test_an_adopted_chat_makes_its_agent_busy_and_ends_through_the_normal_path() -> None:
    """Busy at once (no offer, no second answer); hangup completes it with talk time from
    connected_at, then wrap-up; its record keeps the original arrival and answer."""
    h = _harness()
    h.later(100)
    h.engine.adopt(
        Contact(id="chat1", channel=Channel.CHAT), "chat", "ann", entered_at=40, connected_at=70
    )
    status = h.engine.agent_status("ann")
    assert (status.state, status.contacts, status.load[Channel.CHAT]) == (
        AgentState.BUSY,
        ("chat1",),
        1,
    )
    assert h.engine.contact_status("chat1").phase is ContactPhase.CONNECTED
    assert h.capture.of(ContactOffered) == []
    assert h.capture.of(ContactConnected) == []
    (adopted,) = h.capture.of(ContactAdopted)
    assert (adopted.agent_id, adopted.entered_at, adopted.connected_at) == ("ann", 40, 70)
    h.later(20)
    h.engine.hangup("chat1", ended_by=EndedBy.AGENT)
    (done,) = h.capture.of(ContactCompleted)
    assert (done.agent_id, done.talk_time, done.queue) == ("ann", 50, "chat")
    assert h.engine.agent_status("ann").state is AgentState.WRAP_UP
    records, _ = records_from_events(h.capture.events)
    (record,) = records
    assert (record.arrived_at, record.answered_at, record.ended_at, record.outcome) == (
        40,
        70,
        120,
        Outcome.ANSWERED,
    )


def test_an_adopted_contact_counts_against_capacity() -> None:
    """A ready agent with one chat adopted takes one more chat, not two; a third adoption is
    refused, as is a call the chats in hand block."""
    h = _harness()
    h.later(10)
    h.engine.adopt(
        Contact(id="a1", channel=Channel.CHAT), "chat", "ann", entered_at=1, connected_at=2
    )
    h.engine.set_ready("ann")
    h.arrive("c2", channel=Channel.CHAT, queue="chat")
    h.arrive("c3", channel=Channel.CHAT, queue="chat")
    assert [o.contact_id for o in h.capture.of(ContactOffered)] == ["c2"]
    with pytest.raises(StateError):
        h.engine.adopt(
            Contact(id="a4", channel=Channel.CHAT), "chat", "ann", entered_at=1, connected_at=2
        )
    with pytest.raises(StateError):  # chats in hand block a call (Capacity's default blocks)
        h.engine.adopt(Contact(id="v1"), "chat", "ann", entered_at=1, connected_at=2)
    assert h.engine.agent_status("ann").load == {Channel.CHAT: 2, Channel.VOICE: 0}


@pytest.mark.parametrize(
    ("cid", "agent", "entered", "connected", "error"),
    [
        ("live", "ann", 1.0, 2.0, ValidationError),  # already in the ACD
        ("new", "ann", 5.0, 2.0, ValidationError),  # connected before it entered
        ("new", "ann", 1.0, 50.0, ValidationError),  # connected in the future
        ("new", "bob", 1.0, 2.0, StateError),  # offline
    ],
)
def test_adopt_refuses_what_cannot_be(
    cid: str, agent: str, entered: float, connected: float, error: type[Exception]
) -> None:
    """A live id, times out of order or in the future, an offline agent: refused, no change."""
    h = _harness()
    h.agent("bob", queues=("chat",), ready=False)
    h.engine.logout("bob")
    h.later(10)
    h.arrive("live", channel=Channel.CHAT, queue="chat")
    before = len(h.capture.events)
    with pytest.raises(error):
        h.engine.adopt(
            Contact(id=cid, channel=Channel.CHAT),
            "chat",
            agent,
            entered_at=entered,
            connected_at=connected,
        )
    assert len(h.capture.events) == before
    assert h.engine.agent_status("ann").load[Channel.CHAT] == 0


class AdoptMachine(EngineMachine):
    """The engine machine's random work, plus contacts adopted at random agents.

    On top of every promise of :class:`~callcenter_sdk.testing.EngineMachine`
    (no agent over capacity, each contact ends exactly once, legal state
    changes): an adoption succeeds exactly when the agent is logged in with a
    free slot for the channel, makes them busy with it (the one way from ready
    or not ready straight to busy), and an adopted contact is never offered
    from a queue (only to a colleague it is transferred to, or after a
    transfer to a queue) and never answered a second time
    (:class:`ContactConnected`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.adopted: set[str] = set()
        self.requeued: set[str] = set()
        self.h.stream.subscribe(self._check_adopted)

    def _check_adopted(self, _seq: int, event: Event) -> None:
        if (
            isinstance(event, AgentStateChanged)
            and event.state is AgentState.BUSY
            and event.previous in (AgentState.READY, AgentState.NOT_READY)
            and event.reason != "adopted"
        ):
            self._problem(f"busy without ringing first, not by an adoption: {event}")
        cid = getattr(event, "contact_id", "")
        if cid not in self.adopted:
            return
        if isinstance(event, ContactTransferred) and not event.to_agent:
            self.requeued.add(cid)
        elif isinstance(event, ContactOffered):
            if not event.transfer_from and cid not in self.requeued:
                self._problem(f"adopted {cid} offered from its queue: {event}")
        elif isinstance(event, ContactConnected) and cid not in self.requeued:
            self._problem(f"adopted {cid} answered again: {event}")

    @precondition(lambda self: bool(self.agents))
    @rule(
        data=st.data(),
        channel=st.sampled_from((Channel.VOICE, Channel.CHAT)),
        queue=st.sampled_from(("main", "side", "strict")),
        waited=st.sampled_from((0.0, 5.0, 30.0)),
        talked=st.sampled_from((0.0, 3.0, 60.0)),
    )
    def adopt(
        self, data: st.DataObject, channel: Channel, queue: str, waited: float, talked: float
    ) -> None:
        """A contact connected elsewhere is adopted at an agent (refused if it cannot be)."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        status = self.engine.agent_status(agent_id)
        capacity = self.agents[agent_id].capacity
        load = status.load
        room = load.get(channel, 0) < capacity.limits.get(channel, 0) and not any(
            n and channel in capacity.blocks.get(used, ()) for used, n in load.items()
        )
        able = status.presence is not AgentState.OFFLINE and room
        self.next_contact += 1
        cid = f"c{self.next_contact}"
        now = self.h.clock.now()
        connected = max(0.0, now - talked)
        contact = Contact(id=cid, channel=channel)
        try:
            self.engine.adopt(
                contact,
                queue,
                agent_id,
                entered_at=max(0.0, connected - waited),
                connected_at=connected,
            )
        except StateError:
            assert not able, (agent_id, status)
            return
        assert able, (agent_id, status)
        self.adopted.add(cid)
        self.entered.add(cid)
        self.channels[cid] = channel
        self.priorities[cid] = 0
        self.accepted[cid] = agent_id
        after = self.engine.agent_status(agent_id)
        assert after.state is AgentState.BUSY, after
        assert cid in after.contacts, after
        assert after.load[channel] == load.get(channel, 0) + 1, (status, after)


TestAdopt = AdoptMachine.TestCase
TestAdopt.settings = settings(
    max_examples=300,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
