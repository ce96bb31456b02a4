"""What a new leader reads back from the event log: agents' states and offers in flight.

A cluster leader commits every offer to the shared event log, under the fence
of its term, before the phone rings (``docs/cluster.md``). So when it dies or
stalls, the log holds every offer that may have rung and each agent's last
state. The node that takes over reads them with :func:`read_takeover`, a pure
function over the events in log order, and

* ends each **offer in flight** (offered, no outcome in the log) with an
  :class:`~callcenter_sdk.acd.OfferRescinded` of reason ``"takeover"``: no
  missed offer is charged to the agent, and the contact, put back in its
  queue at its original place by the ledger (written work; a voice caller's
  leg ended with the old leader's media and is closed as interrupted), is
  offered again at most once at a time;
* gives each agent whose session is still open the state they had, as
  :class:`Resume` says (see :func:`resume_state`);
* gives back to its agent the written work they had in hand (a chat open at
  the desk), whose waiting row stays until it ends: :class:`InHandReader`
  reads, for each such row, which agent the log last connected it to, and
  the ledger adopts it at that agent (``Engine.adopt``) when their session
  continues, instead of queueing it again.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .._events import Event
from ..acd import (
    AgentPresenceChanged,
    AgentState,
    AgentStateChanged,
    ContactAdopted,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactOffered,
    ContactTransferred,
    OfferAccepted,
    OfferBusy,
    OfferNotAnswered,
    OfferRejected,
    OfferRescinded,
)
from ..acd._routing import MISS_DELAY

__all__: list[str] = []

TAKEOVER = "takeover"
"""The reason of the offers a new leader rescinds, and of the pause of agents who were working."""

KINDS = (
    AgentStateChanged.kind,
    AgentPresenceChanged.kind,
    ContactOffered.kind,
    OfferAccepted.kind,
    OfferRejected.kind,
    OfferBusy.kind,  # an OfferRejected of its own kind
    OfferNotAnswered.kind,
    OfferRescinded.kind,
)
"""The event kinds :func:`read_takeover` needs (read only these from the log)."""

_WORKING = (AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP)

CONTACT_KINDS = (
    ContactEnteredQueue.kind,
    ContactConnected.kind,
    ContactAdopted.kind,
    ContactTransferred.kind,
    ContactCompleted.kind,
    OfferAccepted.kind,
)
"""The event kinds :class:`InHandReader` needs: where each contact last went."""


@attrs.frozen
class Resume:
    """The state an agent comes back in after a takeover.

    Attributes:
        state: ``READY`` or ``NOT_READY``.
        reason: The pause code when not ready.
    """

    state: AgentState
    reason: str = ""


@attrs.frozen
class Takeover:
    """What the log says the previous term left.

    Attributes:
        agents: Each agent's state to resume, by agent id (agents the log
            shows only offline are left out).
        offers: The offers in flight, in the order they were made.
        working: The state to resume each agent in when the new leader
            adopts their work in hand: their presence when it came (or a
            pause asked since), by agent id.
    """

    agents: dict[str, Resume]
    offers: tuple[ContactOffered, ...]
    working: dict[str, Resume] = attrs.Factory(dict)


@attrs.frozen
class InHand:
    """A contact the log shows connected to an agent and not ended.

    Attributes:
        contact_id: The contact.
        queue: The queue it was answered from.
        agent_id: The agent who has it.
        connected_at: Since when (log time): the answer, an adoption's
            original answer, or the hand-over of a transfer to them.
        entered_at: When it entered its queue, where the log says (else
            ``connected_at``).
    """

    contact_id: str
    queue: str
    agent_id: str
    connected_at: float
    entered_at: float


class InHandReader:
    """Where each of some stored contacts last went, walking the log newest first.

    A contact's newest event among :data:`CONTACT_KINDS` says it all: an
    answer (``acd.contact_connected``, ``acd.contact_adopted``, a transfer to
    an agent) not followed by anything means it is in that agent's hand; an
    offer accepted and nothing since means the agent was being connected
    (:attr:`accepted`: a call bridged since is theirs, its answer died with
    the previous leader); an
    entry in a queue (first, again after a takeover, or after a transfer)
    means it waits; a completion means it ended, though its waiting row
    outlived it (the old leader died before the row was closed).

    Feed the events newest first until :meth:`feed` returns ``True`` (every
    contact placed); one not placed by then (the read stopped at its bound)
    waits.

    Args:
        contacts: The contacts to place (the ids the events know them by).
        every: Place every contact met instead (``contacts`` unused): :meth:`feed`
            never says all are placed; the walk's bound ends it.
    """

    def __init__(self, contacts: Iterable[str], *, every: bool = False) -> None:
        self._every = every
        self._placed: set[str] = set()
        self._pending = set(contacts)
        self.in_hand: dict[str, InHand] = {}
        """The contacts connected to an agent, by contact id."""
        self.ended: set[str] = set()
        """The contacts completed."""
        self.accepted: dict[str, InHand] = {}
        """The contacts whose agent accepted them, not yet connected (at the acceptance)."""

    def feed(self, event: Event) -> bool:
        """Take the next older event; ``True`` once every contact is placed."""
        cid = getattr(event, "contact_id", None)
        if self._every:
            if cid is None or cid in self._placed:
                return False
        elif cid not in self._pending:
            return not self._pending
        if isinstance(event, ContactConnected):
            at = event.at
            self.in_hand[cid] = InHand(cid, event.queue, event.agent_id, at, at - event.waited)
        elif isinstance(event, ContactAdopted):
            self.in_hand[cid] = InHand(
                cid, event.queue, event.agent_id, event.connected_at, event.entered_at
            )
        elif isinstance(event, ContactTransferred) and event.to_agent:
            at = event.at
            self.in_hand[cid] = InHand(cid, event.to_queue, event.to_agent, at, at)
        elif isinstance(event, OfferAccepted):
            self.accepted[cid] = InHand(cid, event.queue, event.agent_id, event.at, event.at)
        elif isinstance(event, ContactCompleted):
            self.ended.add(cid)
        elif not isinstance(event, ContactEnteredQueue | ContactTransferred):
            return not self._pending and not self._every
        self._pending.discard(cid)
        self._placed.add(cid)
        return not self._pending and not self._every


@attrs.define
class _Agent:
    state: AgentState
    reason: str
    presence: AgentState | None = None  # when last idle, or asked since with work in hand
    presence_reason: str = ""


def working_state(presence: AgentState | None, asked: str) -> Resume:
    """The state an agent resumes in when the new leader adopts their work in hand.

    Their presence when it came goes on: ready stays ready (for more work,
    within their capacity), a pause keeps its code (one asked since too);
    the engine's short rest after a missed offer is over (ready). With no
    idle state in the log read (``presence`` ``None``), not ready with
    reason ``"takeover"``, as :func:`resume_state` gives any working agent.
    """
    if presence is AgentState.NOT_READY and asked != MISS_DELAY:
        return Resume(AgentState.NOT_READY, asked)
    if presence is None:
        return Resume(AgentState.NOT_READY, TAKEOVER)
    return Resume(AgentState.READY)


def resume_state(state: AgentState, reason: str, presence: AgentState | None, asked: str) -> Resume:
    """The state an agent resumes in, from their last state and their presence then.

    ``presence`` is ``not_ready`` (with ``asked``, its reason) when the
    agent was paused with work in hand: paused before it came, or a pause
    asked since. Then they come back paused with that reason. Otherwise:

    * ``ready`` comes back ready; ``not_ready`` comes back not ready with
      the same reason (a pause code survives the takeover), except the
      engine's short rest after a missed offer (``"missed-offer-delay"``,
      whose timer ended with the old leader): ready;
    * ``reserved`` (an offer was ringing; the takeover rescinds it) comes
      back ready, as the agent was when it was offered;
    * ``busy`` and ``wrap_up`` come back not ready, reason ``"takeover"``:
      the contact in hand ended with the old leader (a voice leg) or is no
      longer theirs in the new leader's engine, and the agent finishes its
      paperwork before clicking Ready.
    """
    if presence is AgentState.NOT_READY and asked != MISS_DELAY:
        return Resume(AgentState.NOT_READY, asked)
    if state is AgentState.READY:
        return Resume(AgentState.READY)
    if state is AgentState.NOT_READY:
        return (
            Resume(AgentState.NOT_READY, reason)
            if reason != MISS_DELAY
            else Resume(AgentState.READY)
        )
    if state is AgentState.RESERVED:
        return Resume(AgentState.READY)
    return Resume(AgentState.NOT_READY, TAKEOVER)


class History:
    """Finds how far back a new leader must read the log, walking it newest first.

    :func:`read_takeover` needs, for each agent whose session continues, the
    events since their last idle state (``ready`` or ``not_ready``: what
    came before it no longer matters), and every offer still in flight.
    An offer in flight rings an agent with work in hand, so it comes after
    that agent's last idle state; ``horizon`` (the longest offer time-out
    and the nodes' clock skew before now) is read past as well, a margin:
    an offer made before it expired long ago.
    Feed the events newest first; once :meth:`feed` returns ``True`` the
    events fed so far, put back in log order, are enough.

    Args:
        agents: The agents whose session continues.
        horizon: No offer made before this time (log time) is in flight.
    """

    def __init__(self, agents: Iterable[str], horizon: float) -> None:
        self._pending = set(agents)
        self._horizon = horizon
        self.idle_at: dict[str, float] = {}
        """When each agent found was last idle (log time)."""

    @property
    def work_since(self) -> float | None:
        """No contact still in a continuing agent's hand was answered before this (log time).

        An agent with a contact connected is busy until it ends, never idle,
        so what they hold came after their last idle state; ``None`` until
        every agent's last idle state is found.
        """
        if self._pending or not self.idle_at:
            return None
        return min(self.idle_at.values())

    def feed(self, event: Event) -> bool:
        """Take the next older event; ``True`` once nothing older is needed."""
        if (
            isinstance(event, AgentStateChanged)
            and event.state in (AgentState.READY, AgentState.NOT_READY)
            and event.agent_id in self._pending
        ):
            self._pending.discard(event.agent_id)
            self.idle_at[event.agent_id] = event.at
        return not self._pending and event.at < self._horizon


def read_takeover(events: Iterable[Event]) -> Takeover:
    """Read the agents' states and the offers in flight from ``events``, in log order.

    An agent's ``offline`` state is skipped: a session that is still open
    was closed only in the memory of a node that handed over (its clean
    stop), so the state before it is theirs. Offer ids repeat across terms
    (each leader's engine numbers its own); each outcome ends the offer of
    that id in flight at that point of the log, so read the whole history
    of a term at once, in order.
    """
    agents: dict[str, _Agent] = {}
    offers: dict[str, ContactOffered] = {}
    for event in events:
        if isinstance(event, AgentStateChanged):
            if event.state is AgentState.OFFLINE:
                continue
            known = agents.get(event.agent_id)
            if event.state not in _WORKING:  # idle: the state is the presence
                agents[event.agent_id] = _Agent(
                    event.state, event.reason, event.state, event.reason
                )
            elif known is None:
                agents[event.agent_id] = _Agent(event.state, event.reason)
            else:  # work begins or goes on: the presence before it (or asked since) holds
                known.state, known.reason = event.state, event.reason
        elif isinstance(event, AgentPresenceChanged):
            known = agents.get(event.agent_id)
            if known is not None:
                known.presence = event.presence
                known.presence_reason = event.reason
        elif isinstance(event, ContactOffered):
            offers[event.offer_id] = event
        elif isinstance(event, OfferAccepted | OfferRejected | OfferNotAnswered | OfferRescinded):
            offered = offers.get(event.offer_id)
            if offered is not None and offered.contact_id == event.contact_id:
                del offers[event.offer_id]
    return Takeover(
        agents={
            agent_id: resume_state(a.state, a.reason, a.presence, a.presence_reason)
            for agent_id, a in agents.items()
        },
        offers=tuple(offers.values()),
        working={
            agent_id: working_state(a.presence, a.presence_reason) for agent_id, a in agents.items()
        },
    )
