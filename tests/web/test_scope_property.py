"""No event reaches a person outside their scope, and none is withheld from one inside it.

Hypothesis draws org trees (with their people) and programs of contact
lifecycles: contacts enter queues, ring and reach agents, are identified,
noted, transferred, disposed (sometimes by a supervisor); agents change
state, supervisors listen in, operations are refused, the store fails. The
program knows the truth the events do not carry (which agent handles a
contact now, which campaign its queue serves); the oracle asks
:func:`callcenter_sdk.org.can` on that truth for every person, and the web
layer's answer (:class:`ScopeTracker` reading the events alone, then
:func:`may_see`) must be the same for every event and person.
"""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_sdk import Event
from callcenter_sdk.acd import (
    AgentState,
    AgentStateChanged,
    ContactConnected,
    ContactEnteredQueue,
    ContactOffered,
    ContactTransferred,
)
from callcenter_sdk.cti import CustomerIdentified
from callcenter_sdk.media import CallEnded, EndCause
from callcenter_sdk.org import Action, Org, Placement, Role, can
from callcenter_sdk.runtime import ContactDisposed, MonitoringStarted, PermissionRefused
from callcenter_sdk.store import StoreDegraded
from callcenter_sdk.testing import org_trees
from callcenter_sdk.tickets import TicketContactLinked, TicketNoteAdded
from callcenter_sdk.web import ScopeTracker, may_see

GHOST = "ag.ghost"
"""An agent id the org does not know (a seat configured for someone who left)."""
FREE_QUEUE = "q-free"
"""A queue that serves no campaign."""
SEE = (Action.VIEW_CONTACTS,)
CUSTOMER = (Action.VIEW_CONTACTS, Action.VIEW_CUSTOMER_RECORDS)

Truth = tuple[tuple[Placement, tuple[Action, ...]], ...]


@attrs.define
class _World:
    """The program's truth: each contact's queue and handling agent."""

    org: Org
    center: str
    queues: dict[str, str | None]
    agents: list[str]
    queue: dict[str, str] = attrs.Factory(dict)
    agent: dict[str, str] = attrs.Factory(dict)
    tickets: dict[str, str] = attrs.Factory(dict)

    def work(self, contact: str, actions: tuple[Action, ...]) -> Truth:
        """Where a contact's event sits: its agent (and its campaign), else its campaign."""
        campaign = self.queues[self.queue[contact]]
        agent = self.agent.get(contact)
        if agent is not None:
            return self.of_agent(agent, campaign, actions)
        if campaign is None:
            return ((Placement(center=self.center), actions),)
        return ((Placement(campaign=campaign), actions),)

    def of_agent(self, agent: str, campaign: str | None, actions: tuple[Action, ...]) -> Truth:
        if agent == GHOST:
            return ((Placement(center=self.center), actions),)
        home = ((Placement(person=agent), actions),)
        if campaign is None:
            return home
        return (*home, (Placement(person=agent, campaign=campaign), actions))


def _sees(org: Org, person: str, truth: Truth) -> bool:
    return any(all(can(org, person, a, place) for a in actions) for place, actions in truth)


def _step(  # noqa: PLR0911, PLR0912 - one branch per kind of step
    world: _World, step: tuple[int, int, int, int], n: int
) -> tuple[Event, Truth]:
    kind, i, j, k = step
    at = float(n)
    contacts = sorted(world.queue)
    queues = sorted(world.queues)
    agent = world.agents[j % len(world.agents)]
    person = world.org.people[k % len(world.org.people)].id
    contact = contacts[i % len(contacts)] if contacts else None
    if kind == 0 or contact is None:  # a new contact enters a queue
        contact, queue = f"c{n}", queues[i % len(queues)]
        world.queue[contact] = queue
        truth = world.work(contact, SEE)
        event: Event = ContactEnteredQueue(
            at=at,
            contact_id=contact,
            queue=queue,
            channel="voice",
            direction="inbound",
            caller_id="+33142685399",
            entered_at=at,
        )
        return event, truth
    queue = world.queue[contact]
    campaign = world.queues[queue]
    if kind == 1:  # it rings an agent: the offer is that agent's
        offer = ContactOffered(
            at=at, contact_id=contact, queue=queue, agent_id=agent, offer_id=f"o{n}", expires_at=at
        )
        return offer, world.of_agent(agent, campaign, SEE)
    if kind == 2:  # the agent answers: the contact is theirs from now on
        world.agent[contact] = agent
        connected = ContactConnected(
            at=at, contact_id=contact, queue=queue, agent_id=agent, waited=1.0
        )
        return connected, world.work(contact, SEE)
    if kind == 3 or (kind in (7, 8) and contact not in world.agent):
        identified = CustomerIdentified(at=at, contact_id=contact, customer="100200", plugin="p")
        return identified, world.work(contact, CUSTOMER)
    if kind == 4:  # its ticket is linked, then noted: the note names no contact
        ticket = f"t{i % 7}-{contact}"
        world.tickets[ticket] = contact
        linked = TicketContactLinked(at=at, ticket_id=ticket, contact_id=contact)
        return linked, world.work(contact, SEE)
    if kind == 5:
        tickets = sorted(t for t, c in world.tickets.items() if c == contact)
        ticket = tickets[0] if tickets else "t-unlinked"  # a ticket never tied to a contact
        note = TicketNoteAdded(at=at, ticket_id=ticket, author=person, internal=True)
        if not tickets:
            return note, ((Placement(center=world.center), SEE),)
        return note, world.work(contact, SEE)
    if kind == 6:  # its leg hangs up: the media event names the call only
        return CallEnded(at=at, call_id=contact, cause=EndCause.REMOTE_HANGUP), world.work(
            contact, SEE
        )
    if kind == 7:  # disposed by whoever: the handler's, and theirs
        disposed = ContactDisposed(
            at=at, contact_id=contact, agent_id=person, disposition="solved", ticket_id=""
        )
        truth = world.work(contact, SEE)
        if person != world.agent[contact]:
            truth = (*truth, (Placement(person=person), SEE))
        return disposed, truth
    if (
        kind == 8 and contact in world.agent
    ):  # transferred to a queue: the old agent's, the new queue's
        to_queue = queues[k % len(queues)]
        before = world.work(contact, SEE)
        handler = world.agent.pop(contact)
        world.queue[contact] = to_queue
        target = world.queues[to_queue]
        truth = before if target is None else (*before, (Placement(campaign=target), SEE))
        moved = ContactTransferred(
            at=at,
            contact_id=contact,
            agent_id=handler,
            from_queue=queue,
            to_queue=to_queue,
            talk_time=1.0,
            hold_time=0.0,
        )
        return moved, truth
    if kind == 9:
        changed = AgentStateChanged(
            at=at, agent_id=agent, state=AgentState.READY, previous=AgentState.NOT_READY
        )
        return changed, world.of_agent(agent, None, (Action.VIEW_KPIS,))
    if kind == 10:
        listening = MonitoringStarted(
            at=at, supervisor=person, agent_id=agent, mode="listen", call_id=f"m{n}"
        )
        truth = (
            *world.of_agent(agent, None, (Action.LISTEN,)),
            (Placement(person=person), (Action.LISTEN,)),
        )
        return listening, truth
    if kind == 11:
        refused = PermissionRefused(
            at=at, actor=person, operation="dispose", target="contact c1", reason="no"
        )
        return refused, ((Placement(person=person), (Action.MANAGE_PEOPLE,)),)
    degraded = StoreDegraded(at=at, error="disk full", buffered=3)
    return degraded, ((Placement(center=world.center), (Action.CONFIGURE_ROUTING,)),)


CHECKED = {"events": 0, "people": 0, "shown": 0, "withheld": 0}

STEPS = st.tuples(st.integers(0, 12), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))


@settings(max_examples=80)
@given(
    org=org_trees(max_centers=1, max_floors=2, max_campaigns=2, max_teams=2, max_agents=3),
    steps=st.lists(STEPS, min_size=130, max_size=160),
)
def _no_leak_no_withholding(org: Org, steps: list[tuple[int, int, int, int]]) -> None:
    (center,) = (c.id for c in org.centers)
    queues: dict[str, str | None] = {f"q-{c.id}": c.id for c in org.campaigns}
    queues[FREE_QUEUE] = None
    agents = [p.id for p in org.people if p.role is Role.AGENT] + [GHOST]
    world = _World(org=org, center=center, queues=queues, agents=agents)
    tracker = ScopeTracker({q: c for q, c in queues.items() if c is not None}, center=center)
    CHECKED["people"] += len(org.people)
    for n, step in enumerate(steps):
        event, truth = _step(world, step, n)
        visibility = tracker.place(event)
        CHECKED["events"] += 1
        for person in org.people:
            expected = _sees(org, person.id, truth)
            assert may_see(org, person.id, visibility) == expected, (event, person, truth)
            CHECKED["shown" if expected else "withheld"] += 1


def test_no_event_reaches_a_person_outside_their_scope_nor_is_withheld_inside_it() -> None:
    """Over at least 10,000 generated events, each judged for every person of
    its org, the web layer shows exactly the events the org lets each see;
    both answers occur many times (the oracle is not trivially one-sided)."""
    _no_leak_no_withholding()
    assert CHECKED["events"] >= 10_000
    assert CHECKED["shown"] > 10_000
    assert CHECKED["withheld"] > 10_000
