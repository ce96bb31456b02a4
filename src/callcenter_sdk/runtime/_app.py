"""The call center application: one object that wires every part together.

:func:`open_call_center` starts a :class:`CallCenter` on a media backend (the
pjsua2 pool live, the virtual backend in tests) and a store. It owns one
task group in which it reads the backend's events, runs the IVR for each
inbound call, feeds the ACD engine and carries out the actions the engine
returns: ring the agent's device (an outbound leg placed next to the
caller's, so the media worker can bridge them), stop ringing, bridge, play
announcements, release. Around the ACD it looks the caller up (CTI screen
pop), opens a ticket with its SLA timer when the agent answers, asks the
knowledge base for suggestions on the IVR topic, and records dispositions.
Every event of every part goes to one :class:`~callcenter_sdk.EventStream`
written to the store's event log: KPIs are computed from it afterwards.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import attrs

from .._clock import Clock
from .._errors import CallCenterError, StateError
from .._events import Event, EventStream
from .._plugins import PluginHost, create_plugin_host
from .._ticker import Ticker
from ..acd import (
    AgentState,
    Contact,
    ContactAbandoned,
    ContactAdopted,
    ContactCallbackFailed,
    ContactCompleted,
    ContactConnected,
    ContactExited,
    ContactTimedOut,
    ContactTransferred,
    Engine,
    Queue,
)
from ..cti import CustomerDirectory, OutboundGuard, Outcome, write_back
from ..kb import KnowledgeBase
from ..media import ConsultationState, MediaBackend, MonitorMode
from ..org import Action as OrgAction
from ..store import (
    ContactRecords,
    Documents,
    EventLog,
    EventWriter,
    LeaseLost,
    Store,
    create_event_writer,
)
from ..tickets import TicketDesk, TicketMessages, TicketRepository
from ._access import Access
from ._actions import ActionExecutor
from ._admin import Administration
from ._adoption import CallTakeover
from ._arrival import Arrival
from ._book import CallBook
from ._callbacks import Callbacks
from ._calls import Phase, hang_up, sip_user
from ._cluster import Elector
from ._cluster_media import ClusterMedia
from ._config import CallCenterConfig
from ._cti import Paperwork
from ._desk import ChannelAdapter, DeskWork
from ._dialling import Dialling
from ._engine_port import EnginePort
from ._events import ContactDisposed
from ._ledger import Ledger, loop_relay
from ._media_events import MediaEvents
from ._scripts import Scripts, ScriptStep
from ._seating import Seating
from ._supervision import Supervision
from ._takeover import Takeover
from ._term import TermStart
from ._timers import CallbackSchedule, EngineTimers, TicketClock
from ._transfers import Transfers

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

__all__ = ["CallCenter", "open_call_center", "sip_user"]  # sip_user: _calls, kept importable here

_log = logging.getLogger(__name__)

_LEFT_QUEUE = (
    ContactConnected,
    ContactAbandoned,
    ContactTimedOut,
    ContactExited,
    ContactCallbackFailed,
)
"""The ACD's events after which a contact no longer waits: its stored row is closed."""


class CallCenter:
    """A running call center: IVR, ACD, CTI, tickets and knowledge base on one backend.

    Build it with :func:`open_call_center`. Agents with a device of their own
    are logged in (not ready) at start, the others log in at a position
    (:meth:`login`); make them ready with :meth:`set_ready`. Read what
    happens with :meth:`subscribe` or from the store's event log (:attr:`log`).

    The center is composed of collaborators with explicit dependencies, each
    handed the one :class:`CallBook` of live calls: the arrival (IVR and
    handover), the paperwork (screen pop, tickets, knowledge, dispositions),
    the callbacks, the transfers, the supervision, the media events and the
    executor of the ACD's actions. One :class:`~callcenter_sdk.Ticker` fires
    every timer (the ACD's, the tickets' SLA checks, scheduled callbacks).

    Attributes:
        backend: The media backend carrying the calls.
        config: The configuration it was started with.
        clock: The time source of every part.
        events: The stream every event is published on.
        engine: The ACD engine (read-only use: status, waiting counts).
        log: The store's event log the stream is written to (read it from here).
        writer: Writes every event to the log off the event loop, holding
            them in a bounded buffer while the database is down.
        directory: The customer directory the CTI searches.
        outbound: The outbound policy's guard every number the center dials passes.
        knowledge: The knowledge base.
        tickets: The ticket repository.
        messages: The tickets' conversations (every message in and out).
        desk: The ticket desk (opens tickets, runs their SLA clocks).
        ledger: The promises (waiting contacts, callbacks, sessions) in the store;
            fenced by the lease when the center runs as a cluster member.
        access: The permission checks every person's operation passes.
        ivr: The IVR driver.
        ticker: The one real-time loop firing every timer.
        seating: Who sits where, and the phone that rings for each agent.
        admin: Campaigns stopped or started, live queue settings and seats,
            kept in the store.
    """

    def __init__(
        self,
        *,
        backend: MediaBackend,
        config: CallCenterConfig,
        store: Store,
        clock: Clock,
        plugins: PluginHost,
        task_group: TaskGroup,
        events: EventStream,
        log: EventLog,
        writer: EventWriter,
        elector: Elector | None = None,
    ) -> None:
        self.backend = backend
        self.config = config
        self.clock = clock
        self.plugins = plugins
        self.events = events
        self.writer = writer
        self.log = log
        self.engine = Engine(
            clock=clock,
            events=self.events,
            strategies=plugins.routing_strategies(),
            policy=config.policy,
        )
        # a cluster member writes its promises, and what it decides (tickets, records, its
        # answers, its settings), under the fence of its lease: a deposed leader's are
        # refused, even when its writes were held back while the database was out of reach
        promises = store if elector is None else elector.fenced()
        self.directory = CustomerDirectory(store)
        self.outbound = OutboundGuard(config.dial_plan.policy, clock=clock, events=self.events)
        self.knowledge = KnowledgeBase(store)
        self.records = ContactRecords(promises)
        self.tickets = TicketRepository(promises)
        self.messages = TicketMessages(promises)
        # the desk works in threads (off the event loop); its events reach the loop's stream
        self.desk = TicketDesk(self.tickets, clock, events=loop_relay(self.events))
        self.ledger = Ledger(promises, clock=clock, events=self.events, holder=config.node)
        # a cluster member's close hands over: the next leader seats its agents again
        self._elector = elector
        self._log_end = 0  # the log's last seq before this center published anything
        self.access = Access(config.org, clock=clock, events=self.events)
        self.ticker = Ticker(clock)
        self.seating = Seating(config.seats, config.positions)
        self.admin = Administration(
            config=config,
            engine=self.engine,
            access=self.access,
            ledger=self.ledger,
            documents=Documents(promises),
            clock=clock,
            events=self.events,
        )
        self.scripts = Scripts(
            scripts=config.scripts,
            campaign_of=self._contact_campaign,
            data_of=self._contact_data,
            access=self.access,
            clock=clock,
            events=self.events,
        )
        self._closing = False
        self._tg = task_group
        run = secrets.token_hex(3)  # makes stored ids unique across runs (leg ids repeat)

        self._book = book = CallBook()
        self._port = port = EnginePort(self.engine, wake=self.ticker.wake)
        self._ticket_clock = TicketClock(self.desk, self.ledger, clock=clock, wake=self.ticker.wake)
        self._schedule = CallbackSchedule(
            self.ledger, port, book, clock=clock, run=run, wake=self.ticker.wake
        )
        self._desk = DeskWork(
            config=config,
            book=book,
            port=port,
            ledger=self.ledger,
            tickets=self.tickets,
            access=self.access,
            clock=clock,
            events=events,
        )
        self._paperwork = Paperwork(
            config=config,
            book=book,
            access=self.access,
            ledger=self.ledger,
            plugins=plugins,
            directory=self.directory,
            records=self.records,
            tickets=self.tickets,
            desk=self.desk,
            knowledge=self.knowledge,
            ticket_clock=self._ticket_clock,
            escalated=self._desk.escalated,
            clock=clock,
            events=events,
        )
        self._callbacks = Callbacks(
            config=config,
            backend=backend,
            book=book,
            port=port,
            ledger=self.ledger,
            outbound=self.outbound,
            paperwork=self._paperwork,
            schedule=self._schedule,
            clock=clock,
        )
        self._transfers = Transfers(
            config=config,
            backend=backend,
            book=book,
            port=port,
            access=self.access,
            outbound=self.outbound,
            seating=self.seating,
            clock=clock,
            events=events,
        )
        self._supervision = Supervision(
            backend=backend, book=book, port=port, access=self.access, clock=clock, events=events
        )
        self._dialling = Dialling(
            config=config,
            backend=backend,
            port=port,
            seating=self.seating,
            access=self.access,
            outbound=self.outbound,
            clock=clock,
            events=events,
        )
        self._arrival = Arrival(
            config=config,
            backend=backend,
            book=book,
            port=port,
            ledger=self.ledger,
            directory=self.directory,
            paperwork=self._paperwork,
            callbacks=self._callbacks,
            task_group=task_group,
            clock=clock,
            events=events,
            campaign_open=self.admin.is_open,
        )
        self.ivr = self._arrival.ivr
        self._media = MediaEvents(
            config=config,
            backend=backend,
            book=book,
            port=port,
            arrival=self._arrival,
            callbacks=self._callbacks,
            transfers=self._transfers,
            supervision=self._supervision,
            dialling=self._dialling,
            task_group=task_group,
            closing=lambda: self._closing,
            run=run,
            clock=clock,
            events=events,
        )
        executor = ActionExecutor(
            config=config,
            backend=backend,
            book=book,
            port=port,
            seating=self.seating,
            paperwork=self._paperwork,
            callbacks=self._callbacks,
            transfers=self._transfers,
            desk=self._desk,
            task_group=task_group,
            clock=clock,
            events=events,
            fence=None if elector is None else writer.commit,
            leading=None if elector is None else (lambda: elector.is_leader),
        )
        port.attach(executor.perform)
        self._executor = executor
        for part in (EngineTimers(port), self._ticket_clock, self._schedule):
            self.ticker.add(part)
        self._ledger_subscription = self.events.subscribe(self._track)
        for queue in config.queues:
            cap = config.queue_cap if queue.max_length is None else queue.max_length
            self.engine.add_queue(attrs.evolve(queue, max_length=cap))  # nothing unbounded
        for seat in config.seats:
            self.engine.add_agent(seat.agent)
            if seat.device:  # the others log in at a position
                self.engine.login(seat.agent.id)

    # -- promises ---------------------------------------------------------------------------
    async def _restore(self) -> None:
        """Put back what this node promised before it stopped (see :class:`Ledger`).

        A cluster member also reads the previous term's end from the event
        log (:class:`TermStart`): it rescinds the offers left in flight before
        anything is put back, and once the waiting contacts are back in their
        queues, resumes the agents' states (ready ones take work again).
        """
        await self.admin.load()
        open_sessions = await self.ledger.open_sessions()
        term = None
        if self._elector is not None:
            term = TermStart(
                elector=self._elector,
                port=self._port,
                ledger=self.ledger,
                log=self.log,
                log_end=self._log_end,
                queues=[q.name for q in self.config.queues],
                clock=self.clock,
                events=self.events,
            )
        takeover = None if term is None else await term.begin()
        for seat in self.config.seats:
            if seat.device and seat.agent.id not in open_sessions:
                self.ledger.logged_in(seat.agent.id)
        for agent_id, position in open_sessions.items():
            if position:  # logged in at a position when the last run stopped: sit there again
                await self._sit_again(agent_id, position)
        calls = None
        if term is not None and isinstance(self.backend, ClusterMedia):
            calls = CallTakeover(
                media=self.backend,
                book=self._book,
                port=self._port,
                clock=self.clock,
                hold_music=self.config.hold_music,
                events=self.events,
            )
            await calls.read()
            await calls.adopt_bridged(term, takeover or Takeover(agents={}, offers=()))
        actions, callbacks, later = await self.ledger.restore(
            self.engine,
            rename=self._schedule.rename,
            in_hand=None if term is None else term.in_hand,
            callers=() if calls is None else calls.waiting,
            connected=() if calls is None else calls.adopted,
        )
        self._schedule.book(callbacks, later)
        for contact in self.ledger.restored:
            self._desk.restored(contact)
        for contact_id in self.ledger.adopted:  # in hand again: its row closes when it ends
            if self._desk.holds(contact_id):
                self._desk.connected_rows.add(contact_id)
        await self._ticket_clock.read()
        if calls is not None:
            await calls.requeued(self.ledger.callers)
        await self._port.perform(actions)
        if calls is not None and term is not None:
            await calls.check()
            kept = {*self.ledger.adopted, *(c.id for c in self.ledger.restored)}
            await calls.close_gone(term, kept, self.seating.device)
        if term is not None and takeover is not None:
            working = {*self.ledger.adopted.values(), *(calls.adopted.values() if calls else ())}
            await term.resume(takeover, open_sessions, working)

    async def _sit_again(self, agent_id: str, position: str) -> None:
        """Seat an agent at the position their open session names (after a crash or takeover).

        A position that is gone, taken or no longer allocated to their
        campaign closes the session instead: they log in again at the desk.
        """
        try:
            if self.seating.position_of(agent_id) == "":
                self.seating.sit(agent_id, position, org=self.access.org)
            if self.engine.agent_status(agent_id).state is AgentState.OFFLINE:
                await self._port.login(agent_id)
        except CallCenterError as exc:
            _log.warning("agent %s not seated again at %s: %s", agent_id, position, exc)
            self.ledger.logged_out(agent_id)

    def _track(self, _seq: int, event: Event) -> None:
        """Close a contact's waiting row or callback once it left its queue for good.

        A phone call's row closes when it is connected (its leg cannot outlive
        this process); written work's when it ends (:class:`ContactCompleted`),
        so work an agent had open when the node stopped comes back waiting.
        """
        if isinstance(event, ContactDisposed):
            self.scripts.forget(event.contact_id)
        if isinstance(event, ContactConnected | ContactAdopted):
            self.access.handled(event.contact_id, event.agent_id)
        elif isinstance(event, ContactTransferred) and event.to_agent:
            self.access.handled(event.contact_id, event.to_agent)
        if isinstance(event, ContactConnected) and self._desk.holds(event.contact_id):
            # written work keeps its stored row until it ends: a crash or a takeover
            # before then puts it back in its queue instead of losing it
            self._desk.connected_rows.add(event.contact_id)
        elif isinstance(event, _LEFT_QUEUE):
            caller = self._book.get(event.contact_id)
            stored = caller.stored_id if caller is not None else event.contact_id
            self.ledger.served(stored)
            is_callback = isinstance(event, ContactCallbackFailed) or (caller and caller.callback)
            if is_callback and not isinstance(event, ContactConnected):  # made() closes those
                self.ledger.failed(stored)
        elif isinstance(event, ContactCompleted) and event.contact_id in self._desk.connected_rows:
            self._desk.connected_rows.discard(event.contact_id)
            self.ledger.served(event.contact_id)

    # -- reading --------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[int, Event], object]) -> Callable[[], None]:
        """Call ``callback(seq, event)`` for every event from now on; return the unsubscriber."""
        return self.events.subscribe(callback).cancel

    @property
    def callers_in_ivr(self) -> int:
        """Calls in the IVR now."""
        return len(self.ivr.active_calls)

    @property
    def idle(self) -> bool:
        """No call is in the IVR, queued or connected (an agent may still be in wrap-up)."""
        if self.ivr.active_calls or self.engine.live_contacts():
            return False
        return not self._book.any_live()

    async def wait_idle(self, *, poll: float = 0.1) -> None:
        """Return once :attr:`idle` is true (bound it with ``anyio.move_on_after``)."""
        # idle spans the IVR, the ACD and the runtime's books: polling is the honest wait
        while not self.idle:  # noqa: ASYNC110
            await anyio.sleep(poll)

    async def settle(self) -> None:
        """Return once no customer lookup or store write is in flight.

        Lookups run in threads, on wall time, within the configured budget. A
        driver of virtual time (:func:`run_virtual`) awaits this before moving
        the clock, so a lookup takes no virtual time, as a fast lookup would
        live; otherwise a slow machine would see offers time out while the
        lookup thread was still reading the directory.
        """
        while self._book.identifying:
            await next(iter(self._book.identifying.values())).wait()
        await self._executor.fences_done()
        await self.ledger.settled()

    @property
    def in_flight(self) -> bool:
        """Whether a customer lookup, a fenced commit or a store call runs (see :meth:`settle`)."""
        return bool(self._book.identifying) or self._executor.fencing or self.ledger.in_flight

    def callers(self, phase: Phase | str) -> int:
        """How many calls are in ``phase`` (``Phase.QUEUED``: waiting or ringing an agent)."""
        return self._book.count(Phase(phase))

    def contact(self, contact_id: str) -> Contact | None:
        """The ACD contact of a live queued or connected call (its IVR choices as attributes)."""
        caller = self._book.get(contact_id)
        return caller.contact if caller is not None else None

    def ticket_id(self, contact_id: str) -> str:
        """The ticket opened for a contact still live here (or awaiting its disposition).

        Raises:
            StateError: The contact has no ticket open here.
        """
        return self._paperwork.ticket_of(contact_id)

    def consultation(self, contact_id: str) -> ConsultationState | None:
        """Where the contact's attended transfer stands (dialling, talking), ``None`` if none."""
        caller = self._book.get(contact_id)
        record = caller.consult if caller is not None else None
        return record.consultation.state if record is not None else None

    def agents_in(self, *states: AgentState) -> int:
        """How many agents are in one of ``states``."""
        return sum(1 for a in self.seating.agents if self.engine.agent_status(a).state in states)

    # -- agents' desktop --------------------------------------------------------------------
    async def login(self, agent_id: str, *, position: str, actor: str) -> None:
        """Log an agent in at ``position`` (``center:number``): its phone rings for them now.

        With an org, the position must be one of the seats the administrator
        allocated to the agent's campaign. An agent already logged in moves
        to the new position.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
            NotFoundError: No such agent or position.
            StateError: Someone else sits there.
            ValidationError: The position is not allocated to the agent's campaign.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="login")
        before = self.seating.position_of(agent_id)
        self.seating.sit(agent_id, position, org=self.access.org)
        if self.engine.agent_status(agent_id).state is AgentState.OFFLINE:
            await self._port.login(agent_id)
            self.ledger.logged_in(agent_id, position)
        elif before != position:  # moved: the session now names the new position
            self.ledger.logged_out(agent_id)
            self.ledger.logged_in(agent_id, position)

    async def logout(self, agent_id: str, *, actor: str) -> None:
        """Log an agent out, once their current contacts end; their position is free again.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="logout")
        if self.engine.agent_status(agent_id).state is not AgentState.OFFLINE:
            await self._port.logout(agent_id, when_idle=True)
        if self.engine.agent_status(agent_id).state is AgentState.OFFLINE:
            self.seating.stand(agent_id)
            self.ledger.logged_out(agent_id)

    async def allocate_seats(self, campaign: str, seats: Iterable[int], *, actor: str) -> None:
        """The administrator allocates seats (numbers in the campaign's center) to a campaign.

        Agents of that campaign may log in at those positions from now on.
        The allocation is kept in the store: a restart keeps it.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not manage that campaign's seats.
            ValidationError: A seat does not exist or belongs to another campaign;
                or the center runs without an org.
        """
        await self.admin.allocate_seats(campaign, seats, actor=actor)

    async def release_seats(self, campaign: str, seats: Iterable[int], *, actor: str) -> None:
        """The administrator takes seats back from a campaign (unknown ones are ignored).

        Nobody may log in at those positions for that campaign from now on;
        an agent sitting there keeps it until they log out. Kept in the store.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not manage that campaign's seats.
            ValidationError: The center runs without an org.
        """
        await self.admin.release_seats(campaign, seats, actor=actor)

    async def stop_campaign(self, campaign: str, *, actor: str) -> None:
        """Stop ``campaign`` taking calls: callers to its numbers and queues hear ``closed``.

        What already waits in its queues is still served; its agents may not
        click to dial for it. Kept in the store until :meth:`start_campaign`.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not manage that campaign.
            NotFoundError: No such campaign.
            ValidationError: The center runs without an org.
        """
        await self.admin.stop_campaign(campaign, actor=actor)

    async def start_campaign(self, campaign: str, *, actor: str) -> None:
        """Let a stopped campaign take calls again.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not manage that campaign.
            NotFoundError: No such campaign.
            ValidationError: The center runs without an org.
        """
        await self.admin.start_campaign(campaign, actor=actor)

    async def configure_queue(
        self, queue: str, settings: Mapping[str, float | None], *, actor: str
    ) -> Queue:
        """Change a running queue's settings (:data:`~callcenter_sdk.acd.LIVE_QUEUE_SETTINGS`).

        They apply to offers and callers from now on and are kept in the
        store across restarts. Returns the queue's configuration now.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not configure routing for the queue's campaign.
            NotFoundError: No such queue.
            ValidationError: A setting that cannot change live, or a bad value.
        """
        return await self.admin.configure_queue(queue, settings, actor=actor)

    def script(self, contact_id: str, *, actor: str) -> ScriptStep:
        """Where ``actor`` is in the script of the contact they handle (see :mod:`._scripts`).

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: The contact's campaign has no script, or it is not live here.
        """
        return self.scripts.step(contact_id, actor=actor)

    def answer_script(self, contact_id: str, answer: str, *, actor: str) -> ScriptStep:
        """Record the answer to the script's current step (a ``dialer.answer_recorded`` event).

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: No script for this contact.
            ValidationError: Not an answer the step accepts.
            StateError: The script has ended.
        """
        return self.scripts.answer(contact_id, answer, actor=actor)

    def skip_script(self, contact_id: str, *, actor: str) -> ScriptStep:
        """Go past the script's information step or optional question.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: No script for this contact.
            ValidationError: The step needs an answer.
            StateError: The script has ended.
        """
        return self.scripts.skip(contact_id, actor=actor)

    def _contact_campaign(self, contact_id: str) -> str | None:
        """The campaign a live contact is for: its number's, else its queue's."""
        caller = self._book.get(contact_id)
        if caller is not None:
            return caller.campaign or self.config.campaigns.get(caller.queue)
        work = self._desk.items.get(contact_id)
        if work is not None and isinstance(work.attributes.get("campaign"), str):
            return str(work.attributes["campaign"])
        try:
            return self.config.campaigns.get(self.engine.contact_status(contact_id).queue)
        except CallCenterError:
            return None

    def _contact_data(self, contact_id: str) -> dict[str, object]:
        """What a script's ``{field}`` may name: the contact's caller id and attributes."""
        contact = self.contact(contact_id) or self._desk.items.get(contact_id)
        if contact is None:
            return {}
        return {"caller_id": contact.caller_id, **contact.attributes}

    async def set_ready(self, agent_id: str, *, actor: str) -> None:
        """Make an agent ready for calls (``actor``: who clicks; the agent, or their lead).

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
            StateError: The agent has no phone (log in at a position first).
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="set_ready")
        if not self.seating.reachable(agent_id):
            raise StateError(f"agent {agent_id!r} has no phone: log in at a position first")
        await self._port.set_ready(agent_id)

    async def set_not_ready(self, agent_id: str, reason: str = "break", *, actor: str) -> None:
        """Pause an agent with a reason code.

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
        """
        self.access.on_agent(
            actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="set_not_ready"
        )
        await self._port.set_not_ready(agent_id, reason)

    async def reject(self, agent_id: str, *, actor: str, reason: str = "declined") -> None:
        """The agent declines the contact ringing at their desk; the ACD offers it elsewhere.

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
            StateError: Nothing rings for that agent.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="reject")
        ringing = self._book.ringing_for(agent_id)
        if not ringing:
            raise StateError(f"nothing rings for agent {agent_id!r}")
        for offer_id in ringing:
            await self._port.reject(offer_id, reason)

    async def end_wrap_up(self, agent_id: str, *, actor: str) -> None:
        """The agent finished their after-call work before the wrap-up timer.

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="end_wrap_up")
        await self._port.end_wrap_up(agent_id)

    async def accept(self, agent_id: str, *, actor: str, contact_id: str = "") -> str:
        """Take the desk work (an e-mail, a chat, an escalated ticket) offered to the agent.

        A call is accepted by answering the phone; work without a phone
        (contacts handed over with :meth:`receive`, tickets of the back-office
        queue) is accepted here: ``contact_id`` if given, else the oldest offer.
        Returns the work's contact id (``ticket:<id>`` for a ticket);
        :meth:`dispose` it when done.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
            StateError: No desk work (or not ``contact_id``) is offered to the agent.
        """
        return await self._desk.accept(agent_id, actor=actor, contact_id=contact_id)

    def work(self, contact_id: str) -> Contact | None:
        """The desk work (an e-mail, a chat, a message, a ticket) ``contact_id`` is, if held here.

        .. versionadded:: 0.2
        """
        return self._desk.items.get(contact_id)

    # -- desk work: e-mails, chats, messages -------------------------------------------------
    def add_channel(self, adapter: ChannelAdapter) -> None:
        """Answer the customers of ``adapter.channel`` through ``adapter`` (see :meth:`reply`).

        .. versionadded:: 0.2
        """
        self._desk.adapters[adapter.channel] = adapter

    async def receive(self, contact: Contact, queue: str) -> None:
        """A channel adapter hands over a customer's message as a contact of ``queue``.

        Returns once the contact is stored: acknowledge the message to its
        sender (an IMAP flag, an SMTP 250, a webhook's 200) only then. The ACD
        routes it by skills and per-channel capacity; the agent takes it with
        :meth:`accept`, answers with :meth:`reply`, and :meth:`dispose` ends it.

        .. versionadded:: 0.2

        Raises:
            ValidationError: A voice or callback contact, or an id already here.
            StoreError: It could not be stored: do not acknowledge the message.
            NotFoundError: No such queue.
        """
        await self._desk.receive(contact, queue)

    def received_message(self, contact_id: str) -> None:
        """A channel stored another customer message of the conversation ``contact_id`` carries.

        Counted for the conversation's KPIs (``runtime.message_received``);
        a contact the center no longer holds is not counted.

        .. versionadded:: 0.2
        """
        contact = self._desk.items.get(contact_id)
        if contact is not None:
            self._desk.message(contact)

    async def reply(self, contact_id: str, text: str, *, actor: str) -> str:
        """Answer the customer of a desk contact through its channel; return the message id.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            NotFoundError: No such desk work here.
            StateError: No adapter for its channel (see :meth:`add_channel`).
        """
        return await self._desk.reply(contact_id, text, actor=actor)

    def typing(self, contact_id: str, *, actor: str) -> bool:
        """The agent is writing a reply: show it to the customer where the channel can.

        Nothing is stored (it is a hint, like a chat's "typing…"). Returns
        whether the contact's channel shows it.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: No desk work with that id here.
        """
        return self._desk.typing(contact_id, actor=actor)

    async def hangup(self, contact_id: str, *, actor: str) -> None:
        """End a live call from the desktop (the agent's leg and the caller's).

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            NotFoundError: No live call has that id.
        """
        self.access.on_contact(actor, contact_id, operation="hangup")
        caller = self._book.call(contact_id)
        await hang_up(self.backend, caller.leg)

    async def click_to_dial(self, number: str, *, actor: str) -> str:
        """Call a customer from the desktop: ``actor``'s phone rings, then ``number``.

        The number passes the outbound policy first (nothing is dialled
        otherwise). The agent is paused (``click-to-dial``) while the call
        lasts, and ready again after it if they were. Returns the agent's leg.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` is not a person who may act here.
            OutboundDenied: The policy refuses the number (an event says why).
            NotFoundError: ``actor`` has no phone (no seat, no position).
            StateError: ``actor`` is offline, ringing or on a call.
        """
        if not self.admin.is_open(self._campaign_of(actor)):
            raise StateError(f"{actor}'s campaign is stopped: no calls are made for it")
        return await self._dialling.click_to_dial(number, actor=actor)

    def _campaign_of(self, person: str) -> str | None:
        """The campaign ``person`` works for in the org, if any."""
        org = self.access.org
        if org is None:
            return None
        try:
            team = org.team_of(person)
        except CallCenterError:  # not in the org: the permission checks refuse them
            return None
        return team.campaign if team is not None else None

    async def schedule_callback(
        self, contact_id: str, number: str, at: float, *, actor: str
    ) -> None:
        """Promise the customer of ``contact_id`` a call back on ``number`` at time ``at``.

        The number passes the outbound policy now, the callback is stored
        before this returns (it survives a restart), and at ``at`` it joins
        the contact's queue to be offered to an agent, who calls the customer.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            NotFoundError: The contact is not live here (nor awaiting its disposition).
            ValidationError: ``at`` is in the past or more than 90 days ahead.
            OutboundDenied: The policy refuses the number.
            StoreError: The callback could not be stored: nothing was promised.
        """
        self.access.on_contact(actor, contact_id, operation="schedule_callback")
        await self._callbacks.schedule_later(self._book.call(contact_id), number, at, actor=actor)

    # -- paperwork --------------------------------------------------------------------------
    async def dispose(
        self,
        contact_id: str,
        disposition: str,
        *,
        actor: str,
        outcome: Outcome | None = None,
    ) -> None:
        """Record how a contact ended: solved resolves its ticket, escalated escalates it.

        ``actor`` is the person disposing: the agent who handled the contact,
        or someone whose role reaches it (their supervisor). ``outcome`` (an
        order taken, an appointment set...) goes to the CRM plugins
        (``callcenter_record_outcome``) in the background, within their
        budget; the agent's wrap-up does not wait for it (see
        :func:`~callcenter_sdk.cti.write_back`).

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
        """
        ticket_id = ""
        work = self._desk.items.get(contact_id)
        if work is not None:  # the agent's part of the desk work ends with it
            self.access.on_contact(actor, contact_id, operation="dispose")
            ticket_id = str(work.attributes.get("ticket_id", ""))
            await self._desk.finish(contact_id)
        await self._paperwork.dispose(contact_id, disposition, actor=actor, ticket_id=ticket_id)
        if outcome is not None:
            write = functools.partial(
                write_back, self.plugins, outcome, clock=self.clock, events=self.events
            )
            self._tg.start_soon(write, name=f"crm {contact_id}")

    async def escalate(self, contact_id: str, reason: str, *, actor: str) -> None:
        """Hand the contact's ticket to level 2 (the technical service), saying why.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: The contact has no ticket, or it cannot be escalated now.
        """
        await self._paperwork.escalate(contact_id, reason, actor=actor)

    async def note(
        self,
        contact_id: str,
        text: str,
        *,
        actor: str,
        internal: bool = False,
        expected_version: int | None = None,
    ) -> None:
        """Write a note on the contact's ticket, signed by ``actor``.

        ``expected_version`` is the ticket version the person's screen showed:
        if someone changed the ticket since, nothing is written and
        :class:`~callcenter_sdk.ConflictError` says so (no silent overwrite).

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            ConflictError: The ticket changed since ``expected_version``.
            StateError: The contact has no ticket, or it is closed.
        """
        await self._paperwork.note(
            contact_id, text, actor=actor, internal=internal, expected_version=expected_version
        )

    # -- transfers --------------------------------------------------------------------------
    async def transfer(self, contact_id: str, queue: str, *, actor: str) -> None:
        """Send a connected caller back to ``queue`` (another skill); the agent leaves the call.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: The contact is not talking to an agent.
        """
        await self._transfers.transfer(contact_id, queue, actor=actor)

    async def blind_transfer(self, contact_id: str, number: str, *, actor: str) -> None:
        """Transfer a connected caller to an external number (SIP REFER); the agent leaves.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            DialPlanDenied: The outbound policy refuses ``number``.
            StateError: The contact is not talking to an agent.
        """
        await self._transfers.blind_transfer(contact_id, number, actor=actor)

    async def attended_transfer(
        self,
        contact_id: str,
        *,
        actor: str,
        to_agent: str | None = None,
        number: str | None = None,
    ) -> None:
        """Consult another agent (or an external number) while the caller hears hold music.

        Then :meth:`complete_transfer` joins the caller and the target, or
        :meth:`cancel_transfer` takes the caller back (see
        ``Transfers.attended_transfer`` in ``docs/runtime.md``).

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            ValidationError: Neither or both of ``to_agent`` and ``number``.
            NotFoundError: ``to_agent`` has no seat.
            DialPlanDenied: The outbound policy refuses ``number``.
            StateError: The contact is not talking to an agent, or the target agent
                is not ready or has no free slot.
        """
        await self._transfers.attended_transfer(
            contact_id, actor=actor, to_agent=to_agent, number=number
        )

    async def complete_transfer(self, contact_id: str, *, actor: str) -> None:
        """Join the caller and the consulted target; the first agent's leg hangs up.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: No attended transfer with an answered target.
        """
        await self._transfers.complete_transfer(contact_id, actor=actor)

    async def cancel_transfer(self, contact_id: str, *, actor: str) -> None:
        """Give up an attended transfer: the target's leg hangs up, the caller is back.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: No attended transfer in progress.
        """
        await self._transfers.cancel_transfer(contact_id, actor=actor)

    # -- supervision ------------------------------------------------------------------------
    async def monitor(self, agent_id: str, mode: MonitorMode, *, actor: str, device: str) -> str:
        """Ring ``actor``'s ``device`` and join it to ``agent_id``'s live call in ``mode``.

        Returns the monitoring leg's id (hang it up to stop).

        Raises:
            PermissionDenied: ``actor`` may not listen, whisper or barge on that agent.
            StateError: The agent is not on a call.
        """
        return await self._supervision.monitor(agent_id, mode, actor=actor, device=device)

    async def take_over(self, agent_id: str, *, actor: str, device: str) -> str:
        """Ring ``actor``'s ``device``; once answered they replace the agent on the call.

        The agent's leg hangs up and their part of the contact ends (wrap-up);
        the caller stays with the supervisor until one of them hangs up.
        Needs the ``BARGE`` permission on the agent and the right to handle
        the contact. Returns the supervisor's leg.

        .. versionadded:: 0.2

        Raises:
            PermissionDenied: ``actor`` may not take over that agent's call.
            StateError: The agent is not on a call.
        """
        return await self._supervision.take_over(agent_id, actor=actor, device=device)

    # -- timers -----------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (ACD timers, ticket SLAs, callbacks)."""
        return self.ticker.next_deadline()

    async def tick(self) -> None:
        """Fire every timer due now: ACD offers, wrap-ups, announcements; SLAs; callbacks."""
        await self.ticker.tick()

    async def _pump(self) -> None:
        await self._media.pump()

    async def aclose(self) -> None:
        """Stop taking calls, hang up the live ones, log everyone out and flush the log.

        A cluster member (``open_call_center(elector=)``) closes its agents'
        sessions only here, in memory: their stored sessions stay open, so the
        node that leads next seats them again at their positions.
        """
        self._closing = True
        for caller in list(self._book.calls.values()):
            await hang_up(self.backend, caller.leg)
        for leg in list(self._book.agent_legs):
            await hang_up(self.backend, leg)
        for agent_id in self.seating.agents:
            if self.engine.agent_status(agent_id).state is AgentState.OFFLINE:
                continue
            with contextlib.suppress(CallCenterError):
                self.engine.logout(agent_id)
            if self._elector is None:  # a cluster member hands over instead
                self.ledger.logged_out(agent_id)
        await self.ledger.aclose()


@contextlib.asynccontextmanager
async def open_call_center(
    backend: MediaBackend,
    config: CallCenterConfig,
    *,
    store: Store,
    clock: Clock,
    plugins: PluginHost | None = None,
    run_timers: bool = True,
    elector: Elector | None = None,
) -> AsyncIterator[CallCenter]:
    """Run a call center on ``backend`` for the duration of the block.

    Args:
        backend: Any media backend; the runtime is its only event consumer.
        config: Flow, queues, seats and options.
        store: Where events, customers, tickets and articles live.
        clock: The time source shared by every part (the backend's clock).
        plugins: The plugin host (routing strategies, CTI lookups); a fresh
            one with the built-ins and installed plugins by default.
        run_timers: Fire timers in real time. Turn off on virtual time and
            drive :meth:`CallCenter.tick` yourself (see :func:`run_virtual`).
        elector: Run as a cluster member: the center's promises (waiting
            contacts, callbacks, agents' sessions) are written through
            :meth:`Elector.fenced`, so they commit only while this node leads
            its domain; a deposed leader's are refused. Run the elector
            yourself and open the center once it leads (``docs/cluster.md``).

            .. versionadded:: 0.2

    Raises:
        LeaseLost: ``elector`` is given and this node does not lead now.
    """
    if elector is not None and elector.lease is None:
        raise LeaseLost(elector.domain, None, None, f"{elector.node} does not lead: open it later")
    events = EventStream()
    # a cluster member's log is fenced like its promises; a refused batch ends the term
    log = EventLog(store if elector is None else elector.fenced(), durable=False)
    # the previous terms' history: all of it is committed once this node holds the lease
    log_end = 0 if elector is None else await anyio.to_thread.run_sync(log.last_seq)
    lease_lost = None if elector is None else (lambda exc: elector.step_down(str(exc)))
    async with (
        create_event_writer(log, events=events, clock=clock, on_lease_lost=lease_lost) as writer,
        anyio.create_task_group() as tg,
    ):
        center = CallCenter(
            backend=backend,
            config=config,
            store=store,
            clock=clock,
            plugins=plugins or create_plugin_host(),
            task_group=tg,
            events=events,
            log=log,
            writer=writer,
            elector=elector,
        )
        center._log_end = log_end
        tg.start_soon(center.ledger.run_writes, name="ledger")
        await center._restore()
        tg.start_soon(center._pump, name="media events")
        if run_timers:
            tg.start_soon(center.ticker.run, name="timers")
        try:
            yield center
        finally:
            with anyio.CancelScope(shield=True):
                await center.aclose()
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
            center._ledger_subscription.cancel()
