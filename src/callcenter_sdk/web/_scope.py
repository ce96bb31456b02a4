"""Who may see an event: each event placed in the org's tree, judged per person.

Events name agents, contacts, queues, tickets and calls, never a place in the
org. :class:`ScopeTracker` reads the events in log order and places each one,
remembering what the events themselves taught it (which queue a contact waits
in, which agent has it, which contact a ticket or a call leg belongs to).
The result is a :class:`Visibility`: one or more :class:`Grant` (a placement
and the actions it takes to see it there). :func:`may_see` then asks
:func:`~callcenter_sdk.org.can` with the org *of the moment*, so a person
moved to another team stops seeing their old team's events at once; nothing
a client sends takes part.

The rules (``docs/web.md`` has them as a table):

* an agent's state: ``view-kpis`` on the agent (their own, their lead's
  team, their supervisor's campaign, an analyst's campaign);
* a contact's events: ``view-contacts`` on the contact, placed at the agent
  handling it when there is one and at its queue's campaign otherwise; a
  screen pop or a customer identified also needs ``view-customer-records``;
* a supervisor listening in: ``listen`` on the agent listened to (never the
  agent themself, who may not listen), and the supervisor's own;
* a refused operation (the audit trail): ``manage-people`` on the actor;
* the node's health (store outage, media workers, restored work):
  ``configure-routing`` on the center;
* what cannot be placed lower (a queue that serves no campaign, a ticket or
  call leg never tied to a contact, a plugin's own event kind) sits at the
  center: its director sees it, nobody below.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import attrs

from .._errors import CallCenterError
from .._events import Event
from ..acd import (
    AgentLogoutRequested,
    AgentStateChanged,
    ContactCallbackRequested,
    ContactEnteredQueue,
    ContactOverflowed,
    ContactTransferred,
    WrapUpExtended,
)
from ..cti import CustomerIdentified, DialConnected, DialFailed, OutboundRefused
from ..org import Action, Org, Person, Placement, can, placement_of
from ..runtime import (
    ContactDisposed,
    IvrCompleted,
    MonitoringStarted,
    PermissionRefused,
    ScreenPopDelivered,
)
from ..tickets import TicketContactLinked

__all__ = ["Grant", "Judgements", "ScopeTracker", "Visibility", "may_see"]

_KEPT = 10_000
"""Contacts, tickets and call legs remembered (the oldest are forgotten first)."""

_SYSTEM_KINDS = frozenset(
    {
        "store.degraded",
        "store.recovered",
        "media.worker_started",
        "media.worker_lost",
        "runtime.work_restored",
        "acd.plugin_fault",
    }
)
_AGENT_KINDS = (AgentStateChanged, AgentLogoutRequested, WrapUpExtended)
_CUSTOMER_KINDS = (ScreenPopDelivered, CustomerIdentified)

_SEE = (Action.VIEW_CONTACTS,)
_SEE_CUSTOMER = (Action.VIEW_CONTACTS, Action.VIEW_CUSTOMER_RECORDS)


@attrs.frozen
class Grant:
    """One way to be allowed to see an event.

    Attributes:
        placement: Where the event sits (completed against the org when judged).
        actions: Every action a person needs there.
    """

    placement: Placement
    actions: tuple[Action, ...]


@attrs.frozen(cache_hash=True)
class Visibility:
    """Who may see an event: anyone any one of its grants allows.

    Attributes:
        grants: The grants, most specific first.
        center: The center the event falls back to when a placement names
            something the org does not know (``None``: nobody then).
    """

    grants: tuple[Grant, ...]
    center: str | None = None


def may_see(org: Org, person: Person | str, visibility: Visibility) -> bool:
    """Tell whether ``person`` may see an event placed as ``visibility``, by ``org`` now.

    A placement that names an agent, campaign or team the org no longer
    knows is judged at the center instead (its director still sees it; no
    one below does). An unknown person sees nothing.
    """
    who = person if isinstance(person, str) else person.id
    try:
        org.person(who)
    except CallCenterError:
        return False
    for grant in visibility.grants:
        placement = grant.placement
        try:
            placement_of(org, placement)
        except CallCenterError:
            placement = Placement(center=visibility.center)
            if visibility.center is None:
                continue
        if all(can(org, who, action, placement) for action in grant.actions):
            return True
    return False


class Judgements:
    """:func:`may_see`, remembered for the org of the moment.

    Every live stream judges every event for its person: two hundred streams
    ask the same question of the same event, and a floor's wall screens are
    many streams of one person. The answer depends only on the org, the
    person and the event's placement; an :class:`~callcenter_sdk.org.Org` is
    immutable and replaced whole when it changes, so answers are kept for one
    org object and forgotten the moment another is asked about. Nothing the
    client sends takes part, as with :func:`may_see` itself.

    Args:
        limit: Answers kept at most (all forgotten when it is reached).

    .. versionadded:: 0.2
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._limit = limit
        self._org: Org | None = None
        self._known: dict[tuple[str, Visibility], bool] = {}

    def may_see(self, org: Org, person: str, visibility: Visibility) -> bool:
        """As :func:`may_see`, answered once per org, person and placement."""
        if org is not self._org:
            self._org, self._known = org, {}
        key = (person, visibility)
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= self._limit:
                self._known = {}
            found = self._known[key] = may_see(org, person, visibility)
        return found


class _Recent(OrderedDict[str, str]):
    """A bounded map: the least recently written keys go first."""

    def put(self, key: str, value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _KEPT:
            self.popitem(last=False)


class ScopeTracker:
    """Places events in the org's tree, learning from them as they pass.

    Feed it every event of the log, in order, with :meth:`place`: what an
    event says about a contact (its queue, its agent) places the events that
    follow and do not say it themselves (a ticket note, a leg hanging up).

    Args:
        campaigns: The campaign each queue serves (``CallCenterConfig.campaigns``).
        center: The center this call center is (where unplaceable events sit).
    """

    def __init__(self, campaigns: Mapping[str, str], *, center: str | None) -> None:
        self._campaigns = dict(campaigns)
        self.center = center
        self._queue = _Recent()  # contact -> queue
        self._agent = _Recent()  # contact -> agent handling it
        self._ticket = _Recent()  # ticket -> contact
        self._leg = _Recent()  # call leg that is no contact -> agent

    def place(self, event: Event) -> Visibility:
        """Return who may see ``event``, then learn what it tells about its contact."""
        grants = self._grants(event)
        self._learn(event)
        return Visibility(grants=grants, center=self.center)

    # -- placing ----------------------------------------------------------------------------
    def _at_center(self, actions: tuple[Action, ...]) -> tuple[Grant, ...]:
        return (Grant(Placement(center=self.center), actions),)

    def _campaign(self, queue: str | None) -> str | None:
        return self._campaigns.get(queue) if queue else None

    def _person(self, agent: str, campaign: str | None, actions: tuple[Action, ...]) -> list[Grant]:
        """An agent's work: where the agent sits, and the campaign the contact is for.

        Where the agent sits is what the runtime checks before anyone acts on
        the contact (their team lead may); the contact's campaign lets that
        campaign's people see the work of an agent blended in from elsewhere.
        """
        grants = [Grant(Placement(person=agent), actions)]
        if campaign is not None:
            grants.append(Grant(Placement(person=agent, campaign=campaign), actions))
        return grants

    def _grants(self, event: Event) -> tuple[Grant, ...]:  # noqa: PLR0911, PLR0912 - one rule a case
        if event.kind in _SYSTEM_KINDS:
            return self._at_center((Action.CONFIGURE_ROUTING,))
        if isinstance(event, _AGENT_KINDS):
            return (Grant(Placement(person=event.agent_id), (Action.VIEW_KPIS,)),)
        if isinstance(event, MonitoringStarted):
            return (
                Grant(Placement(person=event.agent_id), (Action.LISTEN,)),
                Grant(Placement(person=event.supervisor), (Action.LISTEN,)),
            )
        if isinstance(event, PermissionRefused):
            return (Grant(Placement(person=event.actor), (Action.MANAGE_PEOPLE,)),)
        if isinstance(event, DialConnected | DialFailed):
            return (Grant(Placement(person=event.agent), _SEE),)
        actions = _SEE_CUSTOMER if isinstance(event, _CUSTOMER_KINDS) else _SEE
        contact = self._contact_of(event)
        agent = self._agent_of(event, contact)
        queue = getattr(event, "queue", None) or (self._queue.get(contact) if contact else None)
        campaign = self._campaign(queue)
        if campaign is None and isinstance(dialer := getattr(event, "campaign", None), str):
            campaign = dialer or None
        if isinstance(event, OutboundRefused) and not contact and event.actor:
            return (Grant(Placement(person=event.actor), actions),)
        if not agent:
            if campaign is not None:
                return (Grant(Placement(campaign=campaign), actions),)
            return self._at_center(actions)
        grants = self._person(agent, campaign, actions)
        if isinstance(event, ContactTransferred):  # the colleague or the queue taking it over
            if event.to_agent:
                grants += self._person(event.to_agent, self._campaign(event.to_queue), actions)
            elif (target := self._campaign(event.to_queue)) is not None:
                grants.append(Grant(Placement(campaign=target), actions))
        if isinstance(event, ContactDisposed) and event.agent_id != agent:
            grants.append(Grant(Placement(person=event.agent_id), actions))  # who disposed
        return tuple(grants)

    def _contact_of(self, event: Event) -> str:
        """The contact an event is about, directly or through its ticket or call leg."""
        contact = getattr(event, "contact_id", None)
        if isinstance(contact, str) and contact:
            return contact
        ticket = getattr(event, "ticket_id", None)
        if isinstance(ticket, str) and ticket in self._ticket:
            return self._ticket[ticket]
        call = getattr(event, "call_id", None)
        if isinstance(call, str) and (call in self._queue or call in self._agent):
            return call
        return ""

    def _agent_of(self, event: Event, contact: str) -> str:
        """The agent an event belongs to: the contact's handler before the event's own field.

        A disposition's ``agent_id`` is whoever disposed (a supervisor may):
        the contact still belongs to the agent who handled it.
        """
        known = self._agent.get(contact, "") if contact else ""
        if isinstance(event, ContactDisposed) and known:
            return known
        if isinstance(event, ContactEnteredQueue | ContactCallbackRequested):
            return ""  # back in a queue: nobody's yet, whoever had it before
        own = getattr(event, "agent_id", None)
        if isinstance(own, str) and own:
            return own
        call = getattr(event, "call_id", None)
        if not contact and isinstance(call, str) and call in self._leg:
            return self._leg[call]
        return known

    # -- learning ---------------------------------------------------------------------------
    def _learn(self, event: Event) -> None:  # noqa: PLR0912 - one fact per event kind
        contact = getattr(event, "contact_id", None)
        if isinstance(event, IvrCompleted) and event.queue:
            self._queue.put(event.call_id, event.queue)
        elif isinstance(event, TicketContactLinked):
            self._ticket.put(event.ticket_id, event.contact_id)
        elif isinstance(event, DialConnected):
            self._leg.put(event.agent_call, event.agent)
            self._leg.put(event.customer_call, event.agent)
        if not isinstance(contact, str) or not contact:
            return
        ticket = getattr(event, "ticket_id", None)
        if isinstance(ticket, str) and ticket:
            self._ticket.put(ticket, contact)
        if isinstance(event, ContactEnteredQueue | ContactCallbackRequested):
            self._queue.put(contact, event.queue)
            self._agent.pop(contact, None)
        elif isinstance(event, ContactOverflowed) and event.to_queue:
            self._queue.put(contact, event.to_queue)
        elif isinstance(event, ContactTransferred):
            if event.to_queue:
                self._queue.put(contact, event.to_queue)
            if event.to_agent:
                self._agent.put(contact, event.to_agent)
            else:
                self._agent.pop(contact, None)
        elif event.kind == "acd.contact_connected":
            self._agent.put(contact, getattr(event, "agent_id", ""))
            queue = getattr(event, "queue", "")
            if queue:
                self._queue.put(contact, queue)
