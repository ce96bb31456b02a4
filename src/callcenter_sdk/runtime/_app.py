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
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import attrs

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError, StateError
from .._events import Event, EventStream
from .._plugins import PluginHost, create_plugin_host
from ..acd import (
    Action,
    AgentState,
    Announce,
    Connect,
    Contact,
    ContactAbandoned,
    ContactCallbackFailed,
    ContactConnected,
    ContactExited,
    ContactTimedOut,
    ContactTransferred,
    Divert,
    Engine,
    Offer,
    Release,
    Rescind,
)
from ..cti import CustomerDirectory, OutboundGuard
from ..ivr import IvrDriver
from ..kb import KnowledgeBase
from ..media import ConsultationState, MediaBackend
from ..org import Action as OrgAction
from ..store import (
    CallbackRecord,
    ContactRecords,
    EventLog,
    EventWriter,
    Store,
    create_event_writer,
)
from ..tickets import TicketDesk, TicketRepository
from ._access import Access
from ._arrival import _Arrival
from ._callbacks import _Callbacks
from ._calls import _RECOVERABLE, _AgentLeg, _Caller, _Consult, sip_user
from ._config import CallCenterConfig, Seat
from ._cti import _Paperwork
from ._events import AgentLegFailed
from ._ledger import Ledger, loop_relay
from ._media_events import _MediaEvents
from ._supervision import _Monitoring
from ._transfers import _Transfers

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

_RETRY_S = 30.0
"""Seconds before a ticket SLA check the database failed is tried again."""

_LIVE_PHASES = frozenset({"handover", "queued", "connected", "dialling", "transferred"})
"""A caller in these phases is on the line (``callback``: waiting off the line, in the ACD)."""


class CallCenter(_MediaEvents, _Arrival, _Callbacks, _Paperwork, _Transfers):
    """A running call center: IVR, ACD, CTI, tickets and knowledge base on one backend.

    Build it with :func:`open_call_center`. Agents are logged in (not ready)
    at start; make them ready with :meth:`set_ready`. Read what happens with
    :meth:`subscribe` or from the store's event log (:attr:`log`).

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
        desk: The ticket desk (opens tickets, runs their SLA clocks).
        ledger: The promises (waiting contacts, callbacks, sessions) in the store.
        access: The permission checks every person's operation passes.
        ivr: The IVR driver.
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
    ) -> None:
        self.backend = backend
        self.config = config
        self.clock = clock
        self.plugins = plugins
        self._tg = task_group
        self.events = events
        self.writer = writer
        self.log = log
        self.engine = Engine(
            clock=clock,
            events=self.events,
            strategies=plugins.routing_strategies(),
            policy=config.policy,
        )
        self.directory = CustomerDirectory(store)
        self.outbound = OutboundGuard(config.dial_plan.policy, clock=clock, events=self.events)
        self.knowledge = KnowledgeBase(store)
        self.records = ContactRecords(store)
        self.tickets = TicketRepository(store)
        # the desk works in threads (off the event loop); its events reach the loop's stream
        self.desk = TicketDesk(self.tickets, clock, events=loop_relay(self.events))
        self.ledger = Ledger(store, clock=clock, events=self.events, holder=config.node)
        self.access = Access(config.org, clock=clock, events=self.events)
        self._ledger_subscription = self.events.subscribe(self._track)
        self.ivr = IvrDriver(
            backend,
            config.flow,
            clock=clock,
            handover=self._handover,
            estimated_wait=self._estimated_wait,
            voicemail_dir=config.voicemail_dir,
        )
        self._seats: dict[str, Seat] = {s.agent.id: s for s in config.seats}
        self._callers: dict[str, _Caller] = {}
        self._identifying: dict[str, anyio.Event] = {}  # calls whose customer lookup runs
        self._offers: dict[str, _AgentLeg] = {}
        self._agent_legs: dict[str, _AgentLeg] = {}
        self._consults: dict[str, _Consult] = {}
        self._transfer_offers: dict[str, _Consult] = {}
        self._monitors: dict[str, _Monitoring] = {}  # supervisor leg -> the call it joins
        self._wake = anyio.Event()
        self._ticket_due: float | None = None
        self._callback_due: float | None = None  # the next callback scheduled for later
        self._run = secrets.token_hex(3)  # makes stored ids unique across runs (leg ids repeat)
        self._closing = False
        for queue in config.queues:
            cap = config.queue_cap if queue.max_length is None else queue.max_length
            self.engine.add_queue(attrs.evolve(queue, max_length=cap))  # nothing unbounded
        for seat in config.seats:
            self.engine.add_agent(seat.agent)
            self.engine.login(seat.agent.id)

    # -- promises ---------------------------------------------------------------------------
    async def _restore(self) -> None:
        """Put back what this node promised before it stopped (see :class:`Ledger`)."""
        open_sessions = await self.ledger.open_sessions()
        for agent_id in self._seats:
            if agent_id not in open_sessions:
                self.ledger.logged_in(agent_id)
        actions, callbacks, later = await self.ledger.restore(self.engine, rename=self._rename)
        self._callbacks_back(callbacks, later)
        self._ticket_due = await self.ledger.read(self.desk.next_due)
        await self._perform(actions)

    def _rename(self, stored_id: str) -> str:
        """The ACD's id for a stored callback (the media backend may reuse the old leg id)."""
        return f"{stored_id}/{self._run}"

    async def _scheduled_callbacks(self) -> None:
        """A callback scheduled for later falls due: put it in its queue."""
        self._callback_due = None
        try:
            actions, callbacks, later = await self.ledger.due_callbacks(
                self.engine, rename=self._rename
            )
        except CallCenterError as exc:  # the database is down: look again later
            _log.warning("reading scheduled callbacks failed, retrying: %s", exc)
            self._callback_due = self.clock.now() + _RETRY_S
            return
        self._callbacks_back(callbacks, later)
        await self._perform(actions)

    def _callbacks_back(self, callbacks: list[CallbackRecord], later: float | None) -> None:
        for callback in callbacks:
            contact_id = self._rename(callback.callback_id)
            caller = _Caller(
                f"restored:{contact_id}",
                callback.phone,
                contact_id=contact_id,
                stored_id=callback.callback_id,
                phase="callback",
                callback=callback.phone,
                queue=callback.queue,
                gone=True,
            )
            caller.identified.set()
            self._callers[contact_id] = caller
        self._callback_due = later

    def _track(self, _seq: int, event: Event) -> None:
        """Close a contact's waiting row or callback once it left its queue for good."""
        if isinstance(event, ContactConnected):
            self.access.handled(event.contact_id, event.agent_id)
        elif isinstance(event, ContactTransferred) and event.to_agent:
            self.access.handled(event.contact_id, event.to_agent)
        if isinstance(event, _LEFT_QUEUE):
            caller = self._callers.get(event.contact_id)
            stored = caller.stored_id if caller is not None else event.contact_id
            self.ledger.served(stored)
            is_callback = isinstance(event, ContactCallbackFailed) or (caller and caller.callback)
            if is_callback and not isinstance(event, ContactConnected):  # made() closes those
                self.ledger.failed(stored)

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
        return not any(c.phase in _LIVE_PHASES for c in self._callers.values())

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
        while self._identifying:
            await next(iter(self._identifying.values())).wait()
        await self.ledger.settled()

    @property
    def in_flight(self) -> bool:
        """Whether a customer lookup or a store call is running (see :meth:`settle`)."""
        return bool(self._identifying) or self.ledger.in_flight

    def callers(self, phase: str) -> int:
        """How many callers are ``"queued"`` (waiting or ringing an agent) or ``"connected"``."""
        return sum(1 for c in self._callers.values() if c.phase == phase)

    def contact(self, contact_id: str) -> Contact | None:
        """The ACD contact of a live queued or connected call (its IVR choices as attributes)."""
        caller = self._callers.get(contact_id)
        return caller.contact if caller is not None else None

    def consultation(self, contact_id: str) -> ConsultationState | None:
        """Where the contact's attended transfer stands (dialling, talking), ``None`` if none."""
        caller = self._callers.get(contact_id)
        record = caller.consult if caller is not None else None
        return record.consultation.state if record is not None else None

    def agents_in(self, *states: AgentState) -> int:
        """How many agents are in one of ``states``."""
        return sum(1 for a in self._seats if self.engine.agent_status(a).state in states)

    # -- agents' desktop --------------------------------------------------------------------
    async def set_ready(self, agent_id: str, *, actor: str) -> None:
        """Make an agent ready for calls (``actor``: who clicks; the agent, or their lead).

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="set_ready")
        await self._acd(self.engine.set_ready, agent_id)

    async def set_not_ready(self, agent_id: str, reason: str = "break", *, actor: str) -> None:
        """Pause an agent with a reason code.

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
        """
        self.access.on_agent(
            actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="set_not_ready"
        )
        await self._acd(self.engine.set_not_ready, agent_id, reason)

    async def reject(self, agent_id: str, *, actor: str, reason: str = "declined") -> None:
        """The agent declines the contact ringing at their desk; the ACD offers it elsewhere.

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
            StateError: Nothing rings for that agent.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="reject")
        ringing = [
            leg.offer.offer_id
            for leg in self._offers.values()
            if leg.offer.agent_id == agent_id and not leg.answered
        ]
        if not ringing:
            raise StateError(f"nothing rings for agent {agent_id!r}")
        for offer_id in ringing:
            await self._acd(self.engine.reject, offer_id, reason=reason)

    async def end_wrap_up(self, agent_id: str, *, actor: str) -> None:
        """The agent finished their after-call work before the wrap-up timer.

        Raises:
            PermissionDenied: ``actor`` may not change that agent's state.
        """
        self.access.on_agent(actor, OrgAction.CHANGE_AGENT_STATE, agent_id, operation="end_wrap_up")
        await self._acd(self.engine.end_wrap_up, agent_id)

    # -- timers -----------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (ACD timers, ticket SLA checks)."""
        deadlines = (self.engine.next_deadline(), self._ticket_due, self._callback_due)
        return min((t for t in deadlines if t is not None), default=None)

    async def tick(self) -> None:
        """Fire every timer due now: ACD offers, wrap-ups, announcements; ticket SLAs."""
        await self._perform(self.engine.tick())
        if self._callback_due is not None and self._callback_due <= self.clock.now():
            await self._scheduled_callbacks()
        if self._ticket_due is not None and self._ticket_due <= self.clock.now():
            try:
                await self.ledger.read(self.desk.check_due)
                self._ticket_due = await self.ledger.read(self.desk.next_due)
            except CallCenterError as exc:  # the database is down: check again later
                _log.warning("ticket SLA check failed, retrying in %.0f s: %s", _RETRY_S, exc)
                self._ticket_due = self.clock.now() + _RETRY_S

    async def _timers(self, *, flush_every: float) -> None:
        """Live timers: sleep until the next deadline (or an input), then tick."""
        while True:
            self._wake = anyio.Event()
            deadline = self.next_deadline()
            delay = flush_every if deadline is None else deadline - self.clock.now()
            if delay > 0:
                with anyio.move_on_after(min(delay, flush_every)):
                    await self._wake.wait()
                continue
            await self.tick()

    # -- ACD actions ---------------------------------------------------------------------------
    async def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Offer):
                await self._offer(action)
            elif isinstance(action, Rescind):
                consulting = self._transfer_offers.get(action.offer_id)
                if consulting is not None:  # the colleague's ring timed out, or the caller left
                    end = functools.partial(self._end_consult, consulting, "failed", rescinded=True)
                    self._tg.start_soon(end)
                leg = self._offers.pop(action.offer_id, None)
                if leg is not None:
                    leg.rescinded = True
                    if leg.call_id is not None:
                        await self._hangup(leg.call_id)
            elif isinstance(action, Connect):
                await self._connect(action)
            elif isinstance(action, Announce):
                if self.config.announce:
                    self._tg.start_soon(self._announce, action)
            elif isinstance(action, Release | Divert):
                caller = self._callers.get(action.contact_id)
                if caller is not None:
                    caller.phase = "done"
                    await self._hangup(caller.leg)

    async def _offer(self, offer: Offer) -> None:
        leg = _AgentLeg(offer)
        self._offers[offer.offer_id] = leg
        caller = self._callers.get(offer.contact_id)
        seat = self._seats[offer.agent_id]
        if caller is not None:
            with anyio.move_on_after(self.config.lookup_budget):
                await caller.identified.wait()
            self._pop(caller, offer.agent_id)
        if leg.rescinded:
            return
        try:
            caller_id = caller.caller_id if caller is not None else None
            near = None if offer.callback else offer.contact_id  # a callback's caller is gone
            call_id = await self.backend.originate(seat.device, caller_id=caller_id, near=near)
        except _RECOVERABLE as exc:
            self._offers.pop(offer.offer_id, None)
            self.events.publish(
                AgentLegFailed(
                    at=self.clock.now(),
                    contact_id=offer.contact_id,
                    agent_id=offer.agent_id,
                    cause=f"media: {exc}",
                )
            )
            if not leg.withdrawn():
                with contextlib.suppress(NotFoundError, StateError):
                    await self._acd(self.engine.reject, offer.offer_id, reason="media")
            return
        leg.call_id = call_id
        self._agent_legs[call_id] = leg
        if leg.withdrawn():
            await self._hangup(call_id)

    async def _connect(self, action: Connect) -> None:
        caller = self._callers.get(action.contact_id)
        leg = caller.agent_leg if caller is not None else None
        if caller is None or leg is None or leg.call_id is None:
            return
        if caller.phase == "callback":
            await self._call_back(caller, leg.call_id)
            return
        try:
            await self.backend.stop_music_on_hold(caller.leg)
            if caller.announcing:
                await self.backend.stop_playing(caller.leg)
            await self.backend.bridge(caller.leg, leg.call_id)
        except _RECOVERABLE as exc:  # a leg is gone: its CallEnded settles the contact
            _log.info("bridging %s failed: %s", action.contact_id, exc)
            return
        try:
            await self._acd(self.engine.connected, action.contact_id)
        except (NotFoundError, StateError):
            return
        caller.phase = "connected"
        caller.agent_id = action.agent_id
        if not caller.ticket_id:  # a transferred contact keeps its ticket
            await self._open_ticket(caller, action.agent_id)

    async def aclose(self) -> None:
        """Stop taking calls, hang up the live ones, log everyone out and flush the log."""
        self._closing = True
        for caller in list(self._callers.values()):
            await self._hangup(caller.leg)
        for leg in list(self._agent_legs):
            await self._hangup(leg)
        for agent_id in self._seats:
            with contextlib.suppress(CallCenterError):
                self.engine.logout(agent_id)
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
    flush_every: float = 1.0,
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
        flush_every: The longest the live timer loop sleeps without an input.
            Events are written by the center's :class:`~callcenter_sdk.store.EventWriter`
            as they come (in batches, in a thread), whatever this is.
    """
    events = EventStream()
    log = EventLog(store, durable=False)
    async with (
        create_event_writer(log, events=events, clock=clock) as writer,
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
        )
        tg.start_soon(center.ledger.run_writes, name="ledger")
        await center._restore()
        tg.start_soon(center._pump, name="media events")
        if run_timers:
            tg.start_soon(lambda: center._timers(flush_every=flush_every), name="timers")
        try:
            yield center
        finally:
            with anyio.CancelScope(shield=True):
                await center.aclose()
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
            center._ledger_subscription.cancel()
