"""The endpoints the pages need beyond the API's own: the wallboard, the screen pop, seats.

Each reads the runtime's public state (its engine's status, its seating,
its ticket repository, customer directory, contact records and knowledge
base) and the event log, and shows only what the org lets the person see,
judged with :func:`~callcenter_sdk.web._scope.may_see` on every request
like the rest of the API. The desktop's event stream is the API's, counted
by the :class:`~callcenter_sdk.web._presence.DesktopWatch` while it is open.

Each endpoint's docstring ends with its OpenAPI fragment.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._errors import CallCenterError, NotFoundError, ValidationError
from .._events import Event
from ..acd import AgentState, AgentStatus, Contact, ContactEnteredQueue
from ..cti import CustomerQuery
from ..org import Action, Org, Placement, can
from ..runtime import ScreenPopDelivered
from ..tickets import MessageDirection, Ticket
from ._api import Api, Identity, _agent, _body, _start
from ._commands import live_settings
from ._errors import HttpError
from ._presence import DesktopWatch
from ._scope import Grant, Visibility, may_see
from ._wallboard import Tally

__all__ = ["Reads"]

_POPS_KEPT = 10_000
_LINES_SHOWN = 200
"""The last lines of a conversation the desk is shown."""
_ID_LIMIT = 200
_MONITOR = (Action.LISTEN, Action.WHISPER, Action.BARGE)
_TAKE_OVER = (Action.BARGE, Action.HANDLE_CONTACTS)
"""What taking an agent's call over needs (the runtime checks the same)."""


class Reads:
    """The pages' extra endpoints, over the API's identification and scope.

    Args:
        api: The API (who asks, the org now, the live feed).
        tally: Today's figures from the event log.
        watch: Counts the agents' open desktops.
    """

    def __init__(self, api: Api, *, tally: Tally, watch: DesktopWatch) -> None:
        self.api = api
        self.center = api.center
        self.tally = tally
        self.watch = watch
        self._pops: OrderedDict[str, ScreenPopDelivered] = OrderedDict()
        self._written: OrderedDict[str, str] = OrderedDict()  # desk work -> its channel

    def remember(self, _seq: int, event: Event) -> None:
        """Keep each contact's last screen pop, and desk work's channel (a ``subscribe`` callback).

        The desk tells desk work in wrap-up (after the work ended) from a call by it.
        """
        if isinstance(event, ScreenPopDelivered):
            _keep(self._pops, event.contact_id, event)
        elif isinstance(event, ContactEnteredQueue) and self.center.work(event.contact_id):
            _keep(self._written, event.contact_id, event.channel.value)

    def _may(self, who: str, placement: Placement, *actions: Action) -> bool:
        grant = Grant(placement, actions)
        return may_see(self.api.org, who, Visibility((grant,), center=self.api.center_id))

    @property
    def _seat_org(self) -> Org:
        """The org with the seats as allocated now (allocating replaces the access' org)."""
        return self.center.access.org or self.api.org

    # -- the wallboard ----------------------------------------------------------------------
    async def wallboard(self, request: Request) -> Response:
        """Queues, agents and alerts, for the wallboard.

        ---
        summary: The wallboard's figures
        tags: [reading]
        responses:
          200:
            description: >-
              now; queues: [{queue, campaign, waiting, longest_wait, answered, abandoned,
              short_abandons, service_level, service_level_interval, asa, abandon_rate,
              agents_by_state, chart}]; agents: [{agent, name, team, state, reason, since,
              contact, may (monitoring modes), take_over}]; alerts: [{kind, queue or
              agent, value}]; teams: [{team, name, campaign, floor, floor_name, supervisor,
              agents, agents_by_state, stuck}]; me: {person, device}
          401: {description: Not authenticated.}
        """
        who = (await self.api.identify(request)).person
        await self.tally.catch_up()
        org, engine, now = self.api.org, self.center.engine, self.center.clock.now()
        settings = self.tally.settings
        agents: list[dict[str, Any]] = []
        alerts: list[dict[str, Any]] = []
        states: dict[str, AgentState] = {}
        for agent in engine.agent_ids():
            if not self._may(who, Placement(person=agent), Action.VIEW_KPIS):
                continue
            status = engine.agent_status(agent)
            states[agent] = status.state
            since = self.tally.since.get(agent)
            contact = next(iter((*status.contacts, *status.wrap_up)), "")
            if contact and not self._may(who, Placement(person=agent), Action.VIEW_CONTACTS):
                contact = "…"
            team = org.team_of(agent)
            agents.append(
                {
                    "agent": agent,
                    "name": _name(org, agent),
                    "team": team.id if team is not None else "",
                    "state": status.state.value,
                    "reason": status.reason,
                    "since": since,
                    "contact": contact,
                    "may": [
                        a.value for a in _MONITOR if self._may(who, Placement(person=agent), a)
                    ],
                    "take_over": self._may(who, Placement(person=agent), *_TAKE_OVER),
                }
            )
            if self.tally.stuck(status.state, since, now):
                alerts.append({"kind": "stuck", "agent": agent, "value": status.state.value})
        queues = []
        campaigns = self.center.config.campaigns
        for queue in engine.queue_names():
            campaign = campaigns.get(queue)
            place = Placement(campaign=campaign, center=None if campaign else self.api.center_id)
            if not self._may(who, place, Action.VIEW_KPIS):
                continue
            waiting = engine.queue_status(queue)
            by_state: dict[str, int] = {}
            for agent, state in states.items():
                if self._serves(agent, queue):
                    by_state[state.value] = by_state.get(state.value, 0) + 1
            figures = self.tally.queue(queue, now)
            queues.append(
                {
                    "queue": queue,
                    "campaign": campaign,
                    "waiting": waiting.waiting,
                    "longest_wait": waiting.oldest_wait,
                    "agents_by_state": by_state,
                    **figures,
                }
            )
            level = figures["service_level"]
            if level is not None and level < settings.service_level_target:
                alerts.append({"kind": "service_level", "queue": queue, "value": level})
            if waiting.oldest_wait > settings.longest_wait_alert:
                alerts.append(
                    {"kind": "longest_wait", "queue": queue, "value": waiting.oldest_wait}
                )
        person = org.person(who)
        device = person.profile.sip_uri if person.profile and person.profile.sip_uri else ""
        return JSONResponse(
            {
                "now": now,
                "target": settings.service_level_target,
                "queues": queues,
                "agents": agents,
                "teams": _teams(org, agents, alerts),
                "alerts": alerts,
                "me": {"person": who, "device": device},
            }
        )

    def _serves(self, agent: str, queue: str) -> bool:
        try:
            memberships = self.center.seating.seat(agent).agent.memberships
        except CallCenterError:
            return False
        return any(m.queue == queue for m in memberships)

    # -- the desktop ------------------------------------------------------------------------
    async def desk_events(self, request: Request) -> Response:
        """The live events of an agent's desktop: while none is open, the agent is paused.

        The same stream as ``/api/events``; an agent left without any open
        for the grace time goes not ready with the reason ``desktop-lost``.

        ---
        summary: The desktop's live events (text/event-stream)
        tags: [events]
        responses:
          200: {description: "As /api/events."}
          401: {description: Not authenticated.}
        """
        identity = await self.api.identify(request)
        start = _start(request, self.api.feed.head)
        return EventSourceResponse(
            self._watched(identity, start),
            ping=self.api.ping,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _watched(
        self, identity: Identity, start: int
    ) -> AsyncIterator[ServerSentEvent | bytes]:
        agent = identity.person if identity.person in self.center.seating.agents else None
        if agent is not None:
            self.watch.opened(agent)
        try:
            async for message in self.api._stream(identity, start):
                yield message
        finally:
            if agent is not None:
                self.watch.closed(agent)

    async def desk(self, request: Request) -> Response:
        """The desktop's state: the person's own status and the positions they may log in at.

        ---
        summary: The agent desktop's state
        tags: [agents]
        responses:
          200:
            description: >-
              now (the center's clock); status (as in /api/agents, null for a person
              who is no agent here); current: the position they sit at ("" if none);
              positions: [{id, center, number, taken_by}] of their campaign's seats
              with a phone ("…" for a colleague they may not see); work: [{contact,
              channel, state (offered, connected or wrap_up)}], their desk work without a
              phone (chats, e-mails, messages, tickets), offers oldest first.
          401: {description: Not authenticated.}
        """
        who = (await self.api.identify(request)).person
        org = self._seat_org
        team = org.team_of(who)
        seating = self.center.seating
        sitting = {seating.position_of(a): a for a in seating.agents if seating.position_of(a)}
        shown = []
        if team is not None:
            campaign = org.campaign(team.campaign)
            center = org.floor_of_campaign(campaign.id).center
            for position in seating.positions.values():
                if position.center != center or position.number not in campaign.seats:
                    continue
                taken = sitting.get(position.id, "")
                if taken not in ("", who) and not self._may(
                    who, Placement(person=taken), Action.VIEW_KPIS
                ):
                    taken = "…"
                shown.append(
                    {
                        "id": position.id,
                        "center": position.center,
                        "number": position.number,
                        "taken_by": taken,
                    }
                )
        shown.sort(key=lambda p: (p["center"], p["number"]))
        status = self.center.engine.agent_status(who) if who in seating.agents else None
        return JSONResponse(
            {
                "now": self.center.clock.now(),
                "status": _agent(status) if status is not None else None,
                "current": seating.position_of(who) if status is not None else "",
                "positions": shown,
                "work": [] if status is None else self._desk_work(who, status),
            }
        )

    async def screen_pop(self, request: Request) -> Response:
        """The customer of a ringing or live contact: their record, past contacts, open tickets.

        Shown to those who may see the contact's screen pop (``view-contacts``
        and ``view-customer-records`` where the agent offered it sits).

        ---
        summary: Screen pop details
        tags: [contacts]
        responses:
          200:
            description: >-
              contact, agent, customer, name, caller_id, caller_verified, attributes,
              past_contacts: [{contact_id, arrived_at, channel, queue, agent, disposition}],
              open_tickets: [{ticket_id, subject, status, opened_at}]
          403: {description: The person may not see this contact's customer.}
          404: {description: No screen pop for this contact here.}
        """
        who = (await self.api.identify(request)).person
        contact = request.path_params["contact"]
        pop = self._pops.get(contact)
        if pop is None:
            raise HttpError(404, "not-found", f"no screen pop for contact {contact}")
        actions = (Action.VIEW_CONTACTS, Action.VIEW_CUSTOMER_RECORDS)
        if not self._may(who, Placement(person=pop.agent_id), *actions):
            raise HttpError(403, "permission-denied", f"{who} may not see this customer")
        answer: dict[str, Any] = {
            "contact": contact,
            "agent": pop.agent_id,
            "customer": pop.customer,
            "name": pop.name,
            "caller_id": pop.caller_id,
            "caller_verified": pop.caller_verified,
            "attributes": {},
            "past_contacts": [],
            "open_tickets": [],
        }
        if pop.customer:
            answer |= await anyio.to_thread.run_sync(self._customer, pop.customer, contact)
        return JSONResponse(answer)

    def _customer(self, number: str, contact: str) -> dict[str, Any]:
        customer = self.center.directory.by_number(number)
        if customer is None:
            return {}
        past = self.center.records.for_customer(number, limit=10)
        tickets = self.center.tickets.active(customer_id=customer.customer_id)
        return {
            "attributes": {k: str(v) for k, v in customer.attributes.items()},
            "past_contacts": [
                {
                    "contact_id": r.contact_id,
                    "arrived_at": r.arrived_at,
                    "channel": str(r.channel),
                    "queue": r.queue or "",
                    "agent": r.agent or "",
                    "disposition": r.disposition or "",
                }
                for r in past
                if r.contact_id != contact
            ],
            "open_tickets": [_ticket_line(t) for t in tickets if contact not in t.contact_ids],
        }

    async def ticket(self, request: Request) -> Response:
        """The ticket opened for a live contact, with its SLA clocks.

        ---
        summary: The contact's ticket
        tags: [contacts]
        responses:
          200:
            description: >-
              now, ticket_id, subject, status, category, opened_at, first_response_due,
              resolution_due, notes: [{author, text, internal}], version
          403: {description: The person may not see this contact.}
          404: {description: No such contact, or its ticket is not stored yet.}
          409: {description: The contact has no ticket open here.}
        """
        who = (await self.api.identify(request)).person
        contact = request.path_params["contact"]
        handler = self.center.access.handler(contact)
        if not handler:
            raise HttpError(404, "not-found", f"nobody handles contact {contact}")
        if not self._may(who, Placement(person=handler), Action.VIEW_CONTACTS):
            raise HttpError(403, "permission-denied", f"{who} may not see contact {contact}")
        ticket_id = self.center.ticket_id(contact)
        ticket = await anyio.to_thread.run_sync(self.center.tickets.get, ticket_id)
        return JSONResponse(
            {
                **_ticket_line(ticket),
                "now": self.center.clock.now(),
                "category": ticket.category,
                "first_response_due": (
                    None
                    if ticket.first_response_at is not None
                    else ticket.opened_at + ticket.sla.first_response
                ),
                "resolution_due": (
                    ticket.opened_at + ticket.paused_total + ticket.sla.resolution
                    if ticket.is_active
                    else None
                ),
                "notes": [
                    {"author": n.author, "text": n.text, "internal": n.internal}
                    for n in ticket.notes
                ],
                "version": ticket.version,
            }
        )

    async def knowledge(self, request: Request) -> Response:
        """Knowledge-base articles: by ids (``?ids=3,7``) or a search (``?q=words``).

        ---
        summary: Knowledge base
        tags: [contacts]
        parameters:
          - {name: q, in: query, required: false, schema: {type: string}}
          - {name: ids, in: query, required: false, schema: {type: string}}
        responses:
          200: {description: "articles: [{id, question, solution, diagnostics}]"}
          401: {description: Not authenticated.}
        """
        await self.api.identify(request)
        words = request.query_params.get("q", "").strip()[:200]
        raw = request.query_params.get("ids", "")
        ids = [int(i) for i in raw.split(",") if i.strip().isdigit()][:20]
        kb = self.center.knowledge

        def read() -> list[dict[str, Any]]:
            found = []
            if words:
                found = [s.article for s in kb.search(words, limit=5)]
            for article_id in ids:
                try:
                    found.append(kb.get(article_id))
                except NotFoundError:
                    continue
            return [
                {
                    "id": a.article_id,
                    "question": a.question,
                    "solution": a.solution,
                    "diagnostics": list(a.diagnostics),
                }
                for a in found
            ]

        return JSONResponse({"articles": await anyio.to_thread.run_sync(read)})

    async def accept(self, request: Request) -> Response:
        """Take desk work offered to an agent: ``contact`` if given, else the oldest offer.

        ---
        summary: Accept desk work (a chat, an e-mail, a message, an escalated ticket)
        tags: [agents]
        requestBody:
          required: false
          content:
            application/json:
              schema: {type: object, properties: {contact: {type: string}}}
        responses:
          200: {description: "{contact}: the work taken; dispose of it when done."}
          403: {description: The person may not act for this agent.}
          409: {description: No work (or not that contact) is offered to the agent.}
          422: {description: contact is not a string.}
        """
        who = (await self.api.identify(request)).person
        wanted = (await _body(request)).get("contact", "")
        if not isinstance(wanted, str) or len(wanted) > _ID_LIMIT:
            raise ValidationError("contact must be a contact id")
        contact = await self.center.accept(
            request.path_params["agent"], actor=who, contact_id=wanted
        )
        return JSONResponse({"ok": True, "contact": contact})

    async def conversation(self, request: Request) -> Response:
        """Desk work without a phone (a chat, an e-mail, a message) and its ticket's conversation.

        Shown to those who may see the contact and its customer where the
        agent handling it, or offered it, sits (where its queue's campaign
        is while it waits). The customer is as they gave themselves, and as
        the CTI directory identified them (``identified`` false: nobody in
        the customer records matches what they gave).

        ---
        summary: A written conversation and its customer
        tags: [contacts]
        responses:
          200:
            description: >-
              contact, channel, queue, agents (handling or offered), name (as given),
              party (their address or number), subject, message_id (the message
              that brought this contact), ticket_id, identified,
              customer (customer number found), customer_name; messages (the
              ticket's last 200, oldest first): [{id, from (customer, agent or
              center), author, text, at}]
          403: {description: The person may not see this contact or its customer.}
          404: {description: No such desk work here (never, or disposed of).}
        """
        who = (await self.api.identify(request)).person
        contact = request.path_params["contact"]
        work = self.center.work(contact)
        if work is None:
            raise HttpError(404, "not-found", f"no desk work {contact} here")
        queue, agents = self._placed(contact)
        places = [Placement(person=agent) for agent in agents]
        if not places:
            campaign = self.center.config.campaigns.get(queue) if queue else None
            places = [Placement(campaign=campaign, center=None if campaign else self.api.center_id)]
        actions = (Action.VIEW_CONTACTS, Action.VIEW_CUSTOMER_RECORDS)
        if not any(self._may(who, place, *actions) for place in places):
            raise HttpError(403, "permission-denied", f"{who} may not see contact {contact}")
        answer = await anyio.to_thread.run_sync(self._conversation, work)
        return JSONResponse({**answer, "queue": queue, "agents": agents})

    def _placed(self, contact: str) -> tuple[str, list[str]]:
        """The contact's queue, and the agents handling it or offered it."""
        try:
            status = self.center.engine.contact_status(contact)
        except CallCenterError:  # no longer in the ACD: its last handler
            handler = self.center.access.handler(contact)
            return "", [handler] if handler else []
        agents = [status.agent_id] if status.agent_id else []
        return status.queue, [*agents, *(a for a in status.offers if a not in agents)]

    def _conversation(self, work: Contact) -> dict[str, Any]:
        """The customer and the transcript of ``work`` (in a worker thread)."""
        party = work.caller_id
        number = str(work.attributes.get("customer_number", ""))
        customer = self.center.directory.find(
            CustomerQuery(
                contact_id=work.id,
                email=party if "@" in party else None,
                phone=party if party.startswith("+") else None,
                number=number or None,
            )
        )
        ticket_id = str(work.attributes.get("ticket_id", ""))
        lines = self.center.messages.of_ticket(ticket_id) if ticket_id else []
        return {
            "contact": work.id,
            "channel": work.channel.value,
            "name": str(work.attributes.get("name", "")),
            "party": party,
            "subject": str(work.attributes.get("subject", "")),
            "message_id": str(work.attributes.get("message_id", "")),
            "ticket_id": ticket_id,
            "identified": customer is not None,
            "customer": customer.number if customer is not None else "",
            "customer_name": customer.name if customer is not None else "",
            "messages": [
                {
                    "id": m.message_id,
                    "from": "customer"
                    if m.direction is MessageDirection.INBOUND
                    else ("center" if m.automatic else "agent"),
                    "author": m.author,
                    "text": m.text,
                    "at": m.at,
                }
                for m in lines[-_LINES_SHOWN:]
            ],
        }

    def _desk_work(self, who: str, status: AgentStatus) -> list[dict[str, str]]:
        """The desk work offered to ``who`` (oldest first), held, and in wrap-up."""
        contacts, offered, wrap_up = status.contacts, bool(status.offers), status.wrap_up
        engine = self.center.engine
        candidates = [(c, "offered") for c in engine.live_contacts()] if offered else []
        candidates += [(c, "connected") for c in contacts]
        shown: list[dict[str, str]] = []
        for contact, state in candidates:
            work = self.center.work(contact)
            if work is None or (
                state == "offered" and who not in engine.contact_status(contact).offers
            ):
                continue
            shown.append({"contact": contact, "channel": work.channel.value, "state": state})
        shown += [
            {"contact": contact, "channel": self._written[contact], "state": "wrap_up"}
            for contact in wrap_up
            if contact in self._written
        ]
        return shown

    # -- administration ---------------------------------------------------------------------
    async def seats(self, request: Request) -> Response:
        """What the person administers: campaigns (seats, running or stopped, queues).

        ---
        summary: Administration (seats, campaigns, queue settings)
        tags: [campaigns]
        responses:
          200:
            description: >-
              campaigns: [{id, name, center, seats, stopped, may_seats, may_run,
              queues: [{queue, settings, may_configure}]}] for each campaign whose
              seats, running or routing the person manages; centers: {center:
              [{number, campaign, position, agent}]} for the campaigns whose seats
              they manage (position: the seat has a phone here).
          401: {description: Not authenticated.}
        """
        who = (await self.api.identify(request)).person
        org = self._seat_org
        seating = self.center.seating
        sitting = {seating.position_of(a): a for a in seating.agents if seating.position_of(a)}
        stopped = self.center.admin.stopped
        queues_of: dict[str, list[str]] = {}
        for queue, campaign_id in sorted(self.center.config.campaigns.items()):
            queues_of.setdefault(campaign_id, []).append(queue)
        campaigns, centers = [], {}
        for campaign in org.campaigns:
            may = {action: can(org, who, action, campaign) for action in _ADMINISTERING}
            if not any(may.values()):
                continue
            center = org.floor_of_campaign(campaign.id).center
            queues = [
                {
                    "queue": queue,
                    "settings": live_settings(self.center.engine.queue_config(queue)),
                    "may_configure": may[Action.CONFIGURE_ROUTING],
                }
                for queue in queues_of.get(campaign.id, [])
                if queue in self.center.engine.queue_names()
            ]
            campaigns.append(
                {
                    "id": campaign.id,
                    "name": campaign.name or campaign.id,
                    "center": center,
                    "seats": sorted(campaign.seats),
                    "stopped": campaign.id in stopped,
                    "may_seats": may[Action.MANAGE_SEATS],
                    "may_run": may[Action.MANAGE_CAMPAIGNS],
                    "queues": queues,
                }
            )
            if may[Action.MANAGE_SEATS] and center not in centers:
                centers[center] = [
                    {
                        "number": seat.number,
                        "campaign": seat.campaign or "",
                        "position": f"{center}:{seat.number}" in seating.positions,
                        "agent": sitting.get(f"{center}:{seat.number}", ""),
                    }
                    for seat in org.seats(center)
                ]
        return JSONResponse({"campaigns": campaigns, "centers": centers})


_ADMINISTERING = (Action.MANAGE_SEATS, Action.MANAGE_CAMPAIGNS, Action.CONFIGURE_ROUTING)


def _teams(
    org: Org, agents: list[dict[str, Any]], alerts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The teams of the agents shown, each with its agents by state and stuck ones.

    Built from the agent rows already judged visible, so a floor manager sees
    every team of their floor and a supervisor their own, with nothing the
    agent rows did not already show.
    """
    stuck = {a["agent"] for a in alerts if a["kind"] == "stuck"}
    teams: dict[str, dict[str, Any]] = {}
    for row in agents:
        if not row["team"]:
            continue
        line = teams.get(row["team"])
        if line is None:
            team = org.team(row["team"])
            floor = org.floor_of_campaign(team.campaign)
            line = teams[team.id] = {
                "team": team.id,
                "name": team.name or team.id,
                "campaign": team.campaign,
                "floor": floor.id,
                "floor_name": floor.name or floor.id,
                "supervisor": _name(org, team.supervisor) if team.supervisor else "",
                "agents": 0,
                "agents_by_state": {},
                "stuck": 0,
            }
        line["agents"] += 1
        by_state = line["agents_by_state"]
        by_state[row["state"]] = by_state.get(row["state"], 0) + 1
        line["stuck"] += row["agent"] in stuck
    return sorted(teams.values(), key=lambda t: (t["floor"], t["campaign"], t["team"]))


def _keep(kept: OrderedDict[str, Any], key: str, value: Any) -> None:
    """Remember ``value`` for ``key``; the least recently written go first."""
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > _POPS_KEPT:
        kept.popitem(last=False)


def _name(org: Org, person: str) -> str:
    try:
        return org.person(person).name or person
    except CallCenterError:
        return person


def _ticket_line(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.ticket_id,
        "subject": ticket.subject,
        "status": str(ticket.status.value),
        "opened_at": ticket.opened_at,
    }
