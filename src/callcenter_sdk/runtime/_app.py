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
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import attrs

from .._clock import Clock
from .._errors import CallCenterError, MediaError, NotFoundError, StateError, ValidationError
from .._events import Event, EventStream
from .._plugins import PluginHost, create_plugin_host
from ..acd import (
    Action,
    AgentState,
    Announce,
    Connect,
    Contact,
    Divert,
    Engine,
    Offer,
    Release,
    Rescind,
)
from ..cti import CustomerDirectory, CustomerQuery, ScreenPop, screen_pop, to_e164
from ..ivr import IvrDriver, IvrResult, TransferToQueue, VoicemailLeft, announcement, find_prompt
from ..kb import KnowledgeBase
from ..media import (
    AudioFile,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallIncoming,
    Consultation,
    ConsultationState,
    DtmfReceived,
    EndCause,
    MediaBackend,
    PromptFinished,
    consult,
)
from ..store import ContactRecords, EventLog, Store
from ..tickets import TicketDesk, TicketOrigin, TicketRepository, resolve
from ._config import CallCenterConfig, Seat
from ._events import (
    AgentLegFailed,
    CallTransferred,
    ContactDisposed,
    IvrCompleted,
    KnowledgeSuggested,
    ScreenPopDelivered,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

__all__ = ["CallCenter", "open_call_center"]

_log = logging.getLogger(__name__)

_SIP_USER = re.compile(r"sips?:([^@;>]+)@")

_RECOVERABLE = (NotFoundError, MediaError)
"""A leg vanished or a worker refused: the leg's CallEnded (or the ACD's timer) cleans up."""

_CONSULTING = (ConsultationState.DIALLING, ConsultationState.TALKING)

_LIVE_PHASES = frozenset({"handover", "queued", "connected", "dialling", "transferred"})
"""A caller in these phases is on the line (``callback``: waiting off the line, in the ACD)."""

_UNREACHED: dict[EndCause | None, str] = {EndCause.BUSY: "busy", EndCause.NO_ANSWER: "no-answer"}
"""How a called-back customer's leg ended, in the ACD's ``callback_failed`` reasons."""


def sip_user(uri: str) -> str:
    """The user part of a SIP URI (``sip:+331234@host`` -> ``+331234``), else the URI."""
    match = _SIP_USER.search(uri)
    return match.group(1) if match else uri


@attrs.define
class _AgentLeg:
    offer: Offer
    call_id: str | None = None
    answered: bool = False
    rescinded: bool = False

    def withdrawn(self) -> bool:
        """Whether the ACD rescinded the offer (it may happen during any await)."""
        return self.rescinded


@attrs.define
class _Consult:
    """An attended transfer in progress: who consults whom about which caller."""

    caller: _Caller
    agent_id: str
    target: str
    to_agent: str | None
    consultation: Consultation
    offer: Offer | None = None  # the ACD's transfer offer to ``to_agent``


@attrs.define
class _Caller:
    leg: str
    caller_id: str
    contact: Contact | None = None
    # ivr -> handover -> queued -> connected -> done; queued -> callback -> dialling ->
    # connected (a callback); connected -> transferred (to an external party) -> done
    phase: str = "ivr"
    gone: bool = False
    topic: str = ""
    agent_leg: _AgentLeg | None = None
    pop: ScreenPop | None = None
    identified: anyio.Event = attrs.Factory(anyio.Event)
    prompt_done: anyio.Event = attrs.Factory(anyio.Event)
    announcing: bool = False
    ticket_id: str = ""
    agent_id: str = ""
    queue: str = ""
    consult: _Consult | None = None
    contact_id: str = attrs.field(default=attrs.Factory(lambda self: self.leg, takes_self=True))
    callback: str = ""  # the number to call back, once the caller chose to be called back
    end_cause: EndCause | None = None


class CallCenter:
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
        log: The store's event log the stream is written to.
        directory: The customer directory the CTI searches.
        knowledge: The knowledge base.
        tickets: The ticket repository.
        desk: The ticket desk (opens tickets, runs their SLA clocks).
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
    ) -> None:
        self.backend = backend
        self.config = config
        self.clock = clock
        self.plugins = plugins
        self._tg = task_group
        self.events = EventStream()
        self.log = EventLog(store, durable=False, batch_size=200)
        self._log_subscription = self.log.attach(self.events)
        self.engine = Engine(
            clock=clock,
            events=self.events,
            strategies=plugins.routing_strategies(),
            policy=config.policy,
        )
        self.directory = CustomerDirectory(store)
        self.knowledge = KnowledgeBase(store)
        self.records = ContactRecords(store)
        self.tickets = TicketRepository(store)
        self.desk = TicketDesk(self.tickets, clock, events=self.events)
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
        self._wake = anyio.Event()
        self._ticket_due: float | None = None
        self._closing = False
        for queue in config.queues:
            self.engine.add_queue(queue)
        for seat in config.seats:
            self.engine.add_agent(seat.agent)
            self.engine.login(seat.agent.id)

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
        """Return once no customer lookup is in flight.

        Lookups run in threads, on wall time, within the configured budget. A
        driver of virtual time (:func:`run_virtual`) awaits this before moving
        the clock, so a lookup takes no virtual time, as a fast lookup would
        live; otherwise a slow machine would see offers time out while the
        lookup thread was still reading the directory.
        """
        while self._identifying:
            await next(iter(self._identifying.values())).wait()

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
    async def set_ready(self, agent_id: str) -> None:
        """Make an agent ready for calls."""
        await self._acd(self.engine.set_ready, agent_id)

    async def set_not_ready(self, agent_id: str, reason: str = "break") -> None:
        """Pause an agent with a reason code."""
        await self._acd(self.engine.set_not_ready, agent_id, reason)

    async def end_wrap_up(self, agent_id: str) -> None:
        """The agent finished their after-call work before the wrap-up timer."""
        await self._acd(self.engine.end_wrap_up, agent_id)

    async def transfer(self, contact_id: str, queue: str) -> None:
        """Send a connected caller back to ``queue`` (another skill); the agent leaves the call.

        The agent's leg is hung up, the caller hears hold music again and the
        ACD offers them to an agent of ``queue``.
        """
        caller, _leg, agent_call = self._talking(contact_id)
        caller.agent_leg = None
        caller.phase = "queued"
        self._agent_legs.pop(agent_call, None)
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.unbridge(caller.leg, agent_call)
            await self.backend.hangup(agent_call)
            await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        await self._acd(self.engine.transfer, contact_id, queue)

    def _talking(self, contact_id: str) -> tuple[_Caller, _AgentLeg, str]:
        caller = self._caller(contact_id)
        leg = caller.agent_leg
        if caller.phase != "connected" or leg is None or leg.call_id is None:
            raise StateError(f"contact {contact_id!r} is not connected to an agent")
        if caller.consult is not None:
            raise StateError(f"contact {contact_id!r} is in an attended transfer already")
        return caller, leg, leg.call_id

    async def blind_transfer(self, contact_id: str, number: str) -> None:
        """Transfer a connected caller to an external number (SIP REFER); the agent leaves.

        The dial plan (:attr:`CallCenterConfig.dial_plan`) decides first. Once
        the far end accepts, the caller's leg ends (reason ``transferred``) and
        the contact completes as usual; if it refuses, the caller stays with
        the agent.

        Raises:
            DialPlanDenied: The dial plan does not allow ``number``.
            ValidationError: ``number`` is not a phone number.
            StateError: The contact is not talking to an agent.
        """
        caller, _leg, _call = self._talking(contact_id)
        uri = self.config.dial_plan.resolve(number)
        await self.backend.transfer(caller.leg, uri)
        self._transferred(caller, number, attended=False, outcome="requested")

    async def attended_transfer(
        self, contact_id: str, *, to_agent: str | None = None, number: str | None = None
    ) -> None:
        """Consult another agent (or an external number) while the caller hears hold music.

        The target's phone rings (beside the caller's leg, in the same media
        worker); when it answers, the two agents talk. Then
        :meth:`complete_transfer` joins the caller and the target and drops the
        first agent, or :meth:`cancel_transfer` takes the caller back.

        An agent target goes through the ACD's ``Engine.transfer_to_agent``:
        they must be ready with a free slot, the ACD offers them the contact
        (the consultation is that offer ringing and being talked over, so it
        lasts at most the queue's ``offer_timeout``), completing accepts it
        (``acd.contact_transferred``; the first agent goes to wrap-up, the
        contact continues with the colleague), cancelling declines it.

        Raises:
            ValidationError: Neither or both of ``to_agent`` and ``number``.
            NotFoundError: ``to_agent`` has no seat.
            DialPlanDenied: The dial plan does not allow ``number``.
            StateError: The contact is not talking to an agent, or the target agent
                is not ready or has no free slot.
        """
        caller, _leg, agent_call = self._talking(contact_id)
        if (to_agent is None) == (number is None):
            raise ValidationError("attended_transfer needs exactly one of to_agent and number")
        offer: Offer | None = None
        if to_agent is not None:
            seat = self._seats.get(to_agent)
            if seat is None:
                raise NotFoundError(f"no seat for agent {to_agent!r}")
            uri, target = seat.device, to_agent
            actions = self.engine.transfer_to_agent(contact_id, to_agent)
            # The offer's ringing is the consultation's call: ours to place.
            offers = [a for a in actions if isinstance(a, Offer) and a.agent_id == to_agent]
            offer = offers[0] if offers else None
            self._wake.set()
            await self._perform([a for a in actions if a not in offers])
        else:
            assert number is not None  # noqa: S101 - checked above
            uri, target = self.config.dial_plan.resolve(number), number
        try:
            consultation = await consult(
                self.backend,
                caller=caller.leg,
                agent=agent_call,
                target_uri=uri,
                hold_music=self.config.hold_music,
                caller_id=caller.caller_id or None,
            )
        except _RECOVERABLE:
            if offer is not None:
                with contextlib.suppress(NotFoundError, StateError):
                    await self._acd(self.engine.reject, offer.offer_id, reason="media")
            raise
        record = _Consult(caller, caller.agent_id, target, to_agent, consultation, offer)
        caller.consult = record
        self._consults[consultation.target] = record
        if offer is not None:
            self._transfer_offers[offer.offer_id] = record

    async def complete_transfer(self, contact_id: str) -> None:
        """Join the caller and the consulted target; the first agent's leg hangs up.

        The first agent's part of the contact ends (wrap-up follows). An agent
        target's acceptance goes to the ACD and the contact continues with
        them; an external target and the caller stay on the line until one of
        them hangs up.

        Raises:
            StateError: No attended transfer with an answered target.
        """
        caller = self._caller(contact_id)
        record = caller.consult
        if record is None or record.consultation.state is not ConsultationState.TALKING:
            raise StateError(f"contact {contact_id!r} has no answered consultation to complete")
        leg = caller.agent_leg
        if leg is not None and leg.call_id is not None:
            self._agent_legs.pop(leg.call_id, None)
        caller.agent_leg = None
        caller.consult = None
        target_call = record.consultation.target
        self._consults.pop(target_call, None)
        offer = record.offer
        if offer is not None:  # the colleague's leg becomes the contact's agent leg
            self._transfer_offers.pop(offer.offer_id, None)
            colleague = _AgentLeg(offer, call_id=target_call, answered=True)
            self._agent_legs[target_call] = colleague
            caller.agent_leg = colleague
            self._offers[offer.offer_id] = colleague
        await record.consultation.complete()
        self._transferred(caller, record.target, attended=True, outcome="completed")
        if offer is not None:
            await self._acd(self.engine.accept, offer.offer_id, connect=False)
            return
        self._consults[target_call] = record  # an external party: ours to follow
        caller.consult = record
        caller.phase = "transferred"
        with contextlib.suppress(NotFoundError, StateError):
            await self._acd(self.engine.hangup, contact_id)

    async def cancel_transfer(self, contact_id: str) -> None:
        """Give up an attended transfer: the target's leg hangs up, the caller is back.

        Raises:
            StateError: No attended transfer in progress.
        """
        caller = self._caller(contact_id)
        record = caller.consult
        if record is None or record.consultation.state not in _CONSULTING:
            raise StateError(f"contact {contact_id!r} has no consultation to cancel")
        await self._end_consult(record, "cancelled")

    async def _end_consult(
        self, record: _Consult, outcome: str, *, rescinded: bool = False
    ) -> None:
        """The consultation is over without a transfer: the caller goes back to the agent."""
        caller = record.caller
        caller.consult = None
        self._consults.pop(record.consultation.target, None)
        if record.consultation.state in _CONSULTING:
            with contextlib.suppress(*_RECOVERABLE):
                await record.consultation.cancel()
        self._transferred(caller, record.target, attended=True, outcome=outcome)
        offer = record.offer
        pending = self._transfer_offers.pop(offer.offer_id, None) if offer is not None else None
        if offer is not None and pending is not None and not rescinded:
            with contextlib.suppress(NotFoundError, StateError):  # declining is no missed offer
                await self._acd(self.engine.reject, offer.offer_id, reason=outcome)

    def _transferred(self, caller: _Caller, target: str, *, attended: bool, outcome: str) -> None:
        self.events.publish(
            CallTransferred(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=caller.agent_id,
                target=target,
                attended=attended,
                outcome=outcome,
            )
        )

    async def _on_consult_leg(self, record: _Consult, event: CallEvent) -> None:
        consultation = record.consultation
        if isinstance(event, CallAnswered) and consultation.state is ConsultationState.DIALLING:
            try:
                await consultation.target_answered()
            except _RECOVERABLE:
                await self._hangup(consultation.target)
        elif isinstance(event, CallEnded):
            if consultation.state in _CONSULTING:  # the target refused or hung up on the agent
                talking = consultation.state is ConsultationState.TALKING
                await self._end_consult(record, "cancelled" if talking else "failed")
                return
            self._consults.pop(consultation.target, None)
            caller = record.caller
            if caller.phase == "transferred":  # the target ended the transferred call
                caller.phase = "done"
                await self._hangup(caller.leg)

    def dispose(self, contact_id: str, agent_id: str, disposition: str) -> None:
        """Record how a contact ended; a solved one resolves its ticket."""
        caller = self._callers.get(contact_id)
        ticket_id = caller.ticket_id if caller is not None else ""
        self.events.publish(
            ContactDisposed(
                at=self.clock.now(),
                contact_id=contact_id,
                agent_id=agent_id,
                disposition=disposition,
                ticket_id=ticket_id,
            )
        )
        if ticket_id and disposition in self.config.solved_dispositions:
            with contextlib.suppress(CallCenterError):
                self.desk.apply(ticket_id, resolve)
        if caller is not None and caller.phase == "done":
            self._callers.pop(contact_id, None)
            self._callers.pop(caller.leg, None)  # a callback's second leg

    # -- timers -----------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (ACD timers, ticket SLA checks)."""
        times = [t for t in (self.engine.next_deadline(), self._ticket_due) if t is not None]
        return min(times, default=None)

    async def tick(self) -> None:
        """Fire every timer due now: ACD offers, wrap-ups, announcements; ticket SLAs."""
        await self._perform(self.engine.tick())
        if self._ticket_due is not None and self._ticket_due <= self.clock.now():
            self.desk.check_due()
            self._ticket_due = self.desk.next_due()

    async def _timers(self, *, flush_every: float) -> None:
        """Live timers: sleep until the next deadline (or an input), then tick."""
        while True:
            self._wake = anyio.Event()
            deadline = self.next_deadline()
            delay = flush_every if deadline is None else deadline - self.clock.now()
            if delay > 0:
                with anyio.move_on_after(min(delay, flush_every)):
                    await self._wake.wait()
                self.log.flush()
                continue
            await self.tick()

    # -- media events -----------------------------------------------------------------------
    async def _pump(self) -> None:
        async for event in self.backend.events():
            self.events.publish(event)
            self.ivr.dispatch(event)
            if isinstance(event, CallIncoming):
                if self._closing:
                    with contextlib.suppress(*_RECOVERABLE):
                        await self.backend.hangup(event.call_id, status_code=503)
                    continue
                self._callers[event.call_id] = _Caller(event.call_id, self._caller_id(event))
                self._tg.start_soon(self._run_ivr, event, name=f"ivr {event.call_id}")
            elif isinstance(event, CallEvent):
                try:
                    await self._on_call_event(event)
                except CallCenterError:  # one call's trouble never stops the center
                    _log.exception("handling %s failed", event)

    async def _on_call_event(self, event: CallEvent) -> None:
        if event.call_id in self._consults:
            await self._on_consult_leg(self._consults[event.call_id], event)
            return
        if event.call_id in self._agent_legs:
            await self._on_agent_leg(self._agent_legs[event.call_id], event)
            return
        caller = self._callers.get(event.call_id)
        if caller is None:
            return
        if isinstance(event, PromptFinished):
            caller.prompt_done.set()
        elif isinstance(event, CallEnded):
            caller.end_cause = event.cause
            await self._caller_gone(caller)
        elif isinstance(event, DtmfReceived):
            key = self.config.callback_key
            if key and event.digit == key and caller.phase == "queued" and not caller.callback:
                caller.callback = caller.caller_id or "?"  # one request per caller
                self._tg.start_soon(self._take_callback, caller, name=f"callback {caller.leg}")
        elif isinstance(event, CallAnswered) and caller.phase == "dialling":
            await self._callback_answered(caller)

    async def _caller_gone(self, caller: _Caller) -> None:
        caller.gone = True
        caller.prompt_done.set()
        if caller.phase == "callback":  # the leg we hung up after the confirmation
            return
        if caller.phase == "dialling":  # the customer we called back did not pick up
            await self._callback_unreached(caller)
            return
        if caller.consult is not None:  # the target's leg has no one left to talk to
            await self._hangup(caller.consult.consultation.target)
        if caller.phase == "transferred":
            caller.phase = "done"
        if caller.phase == "ivr":  # the IVR reports it (an IVR abandon)
            self._callers.pop(caller.contact_id, None)
            return
        if caller.phase in ("queued", "connected"):
            caller.phase = "done"
            leg = caller.agent_leg
            if leg is not None and leg.call_id is not None:  # connected, or accepted
                await self._hangup(leg.call_id)
            with contextlib.suppress(NotFoundError):
                await self._acd(self.engine.hangup, caller.contact_id)
        if caller.phase == "done" and not caller.ticket_id:
            self._callers.pop(caller.contact_id, None)
            self._callers.pop(caller.leg, None)

    async def _on_agent_leg(self, leg: _AgentLeg, event: CallEvent) -> None:
        offer = leg.offer
        caller = self._callers.get(offer.contact_id)
        if isinstance(event, CallAnswered):
            leg.answered = True
            if leg.rescinded or offer.offer_id not in self._offers or caller is None:
                await self._hangup(event.call_id)
                return
            caller.agent_leg = leg
            try:
                await self._acd(self.engine.accept, offer.offer_id, connect=False)
            except NotFoundError:  # the offer expired a moment ago
                caller.agent_leg = None
                await self._hangup(event.call_id)
        elif isinstance(event, CallEnded):
            self._agent_legs.pop(event.call_id, None)
            self._offers.pop(offer.offer_id, None)
            if caller is not None and caller.agent_leg is leg:
                if caller.phase == "connected":  # the agent ended the conversation
                    caller.phase = "done"
                    await self._hangup(caller.leg)
                    with contextlib.suppress(NotFoundError):
                        await self._acd(self.engine.hangup, caller.contact_id)
                    return
                if caller.phase == "queued":  # accepted, but gone before the bridge
                    caller.agent_leg = None
                if caller.phase == "dialling":  # the agent gave up calling the customer back
                    await self._hangup(caller.leg)
            if not leg.answered and not leg.rescinded:
                self.events.publish(
                    AgentLegFailed(
                        at=self.clock.now(),
                        contact_id=offer.contact_id,
                        agent_id=offer.agent_id,
                        call_id=event.call_id,
                        cause=event.cause.value,
                    )
                )
                with contextlib.suppress(NotFoundError, StateError):
                    await self._acd(self.engine.reject, offer.offer_id, reason=event.cause.value)

    # -- IVR --------------------------------------------------------------------------------
    def _estimated_wait(self, queue: str) -> float | None:
        try:
            waiting = self.engine.waiting_count(queue)
            return (waiting + 1) * self.engine.average_handle_time(queue) / max(1, len(self._seats))
        except NotFoundError:
            return None

    async def _handover(self, result: IvrResult) -> None:
        action = result.action
        attributes = getattr(action, "attributes", {})
        topic = str(attributes.get("topic") or result.variables.get("topic", ""))
        queue = getattr(action, "queue", "")
        outcome = {TransferToQueue: "queue", VoicemailLeft: "voicemail"}.get(type(action), "")
        if not outcome:
            outcome = "callback" if queue else "hangup"
        by_caller = bool(getattr(action, "by_caller", False))
        self.events.publish(
            IvrCompleted(
                at=self.clock.now(),
                call_id=result.call_id,
                outcome=outcome,
                queue=queue,
                topic=topic,
                by_caller=by_caller,
                trail=result.trail,
            )
        )
        caller = self._callers.get(result.call_id)
        if caller is None:
            return
        if isinstance(action, TransferToQueue) and not caller.gone:
            caller.phase = "handover"
            caller.queue = action.queue
            caller.topic = topic
            caller.contact = action.contact(
                result.call_id,
                caller_id=str(result.variables.get("caller_id", caller.caller_id)),
                dialled=str(result.variables.get("dialled", "")),
            )
        elif isinstance(action, VoicemailLeft):
            self.desk.open(
                subject=action.ticket.get("subject", "Voicemail"),
                category=action.ticket.get("category", ""),
                description=f"voicemail {action.path} ({action.seconds:.0f} s)",
            )
            self._ticket_due = self.desk.next_due()

    def _caller_id(self, event: CallIncoming) -> str:
        """The caller's number in E.164 when it is one, else what the From URI says.

        ``caller_number`` comes from P-Asserted-Identity or the From user; a
        national number (``0123456760``) is read in the directory's region, so
        it matches the customers' phones however either was written.
        """
        number = event.caller_number or sip_user(event.from_uri)
        try:
            return to_e164(number, self.directory.region)
        except CallCenterError:
            return number

    async def _run_ivr(self, event: CallIncoming) -> None:
        caller = self._callers[event.call_id]
        data = {"caller_id": caller.caller_id, "dialled": sip_user(event.to_uri)}
        data |= {"caller_uri": event.from_uri, "dialled_uri": event.to_uri}
        # Identify by number before the IVR, so the flow can branch on who calls
        # (``customer``, ``plan``, ``segment``) and skip asking for an account.
        with contextlib.suppress(CallCenterError):
            known = self.directory.by_phone(caller.caller_id) if caller.caller_id else None
            if known is not None:
                data |= {"customer": known.number, "customer_name": known.name}
                data |= {k: str(v) for k, v in known.attributes.items()}
        try:
            await self.ivr.run_call(event.call_id, data)
        except _RECOVERABLE as exc:
            _log.warning("IVR of %s stopped: %s", event.call_id, exc)
            await self._hangup(event.call_id)
        if caller.phase != "handover" or caller.contact is None:
            self._callers.pop(event.call_id, None)
            return
        if caller.gone:  # hung up between the IVR's end and the queue: an IVR abandon
            self._callers.pop(event.call_id, None)
            return
        contact = caller.contact
        caller.phase = "queued"
        self._identifying[caller.leg] = caller.identified
        self._tg.start_soon(self._identify, caller, name=f"cti {caller.leg}")
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        try:
            await self._acd(self.engine.arrive, contact, caller.queue)
        except CallCenterError:  # e.g. the flow names a queue the configuration lacks
            _log.exception("call %s could not join queue %r", caller.leg, caller.queue)
            caller.phase = "done"
            await self._hangup(caller.leg)
            return
        if self.config.callback_key and caller.phase == "queued":
            await self._offer_callback(caller)

    # -- CTI, tickets, knowledge -------------------------------------------------------------
    async def _identify(self, caller: _Caller) -> None:
        assert caller.contact is not None  # noqa: S101 - only queued callers are identified
        contact = caller.contact
        try:
            phone: str | None = to_e164(contact.caller_id)
        except CallCenterError:
            phone = None
        account = str(contact.attributes.get("account", "")) or None
        query = CustomerQuery(contact_id=contact.id, phone=phone, number=account)
        try:
            caller.pop = await screen_pop(
                self.plugins,
                query,
                directory=self.directory,
                records=self.records,
                tickets=self.tickets,
                budget=self.config.lookup_budget,
                clock=self.clock,
                events=self.events,
            )
        finally:
            caller.identified.set()
            self._identifying.pop(caller.leg, None)

    def _open_ticket(self, caller: _Caller, agent_id: str) -> None:
        pop = caller.pop
        customer = pop.customer if pop is not None else None
        topic = caller.topic or "other"
        who = customer.name if customer is not None else (caller.caller_id or "unknown caller")
        options: dict[str, Any] = {"category": topic, "contact_id": caller.contact_id}
        if customer is not None and customer.customer_id:
            options |= {"origin": TicketOrigin.CONTACT, "customer_id": customer.customer_id}
        ticket = self.desk.open(subject=f"{topic.capitalize()} call from {who}", **options)
        caller.ticket_id = ticket.ticket_id
        self._ticket_due = self.desk.next_due()
        advice = self.knowledge.advise(self.config.topics.get(topic, topic))
        self.events.publish(
            KnowledgeSuggested(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=agent_id,
                ticket_id=ticket.ticket_id,
                articles=[s.article.article_id for s in advice.suggestions],
                questions=advice.questions,
            )
        )

    # -- ACD actions ---------------------------------------------------------------------------
    async def _acd(self, method: Callable[..., list[Action]], *args: Any, **kwargs: Any) -> None:
        actions = method(*args, **kwargs)
        self._wake.set()
        await self._perform(actions)

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

    def _pop(self, caller: _Caller, agent_id: str) -> None:
        pop = caller.pop
        customer = pop.customer if pop is not None else None
        self.events.publish(
            ScreenPopDelivered(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=agent_id,
                customer=customer.number if customer is not None else "",
                name=customer.name if customer is not None else "",
                open_tickets=len(pop.open_tickets) if pop is not None else 0,
                past_contacts=len(pop.past_contacts) if pop is not None else 0,
            )
        )

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
            self._open_ticket(caller, action.agent_id)

    # -- callbacks keeping the caller's place ---------------------------------------------------
    async def _offer_callback(self, caller: _Caller) -> None:
        """Tell a caller entering the queue that the callback key keeps their place."""
        path = find_prompt(self.config.language, "callback_offer", self.config.flow.prompt_dirs)
        await self._play_while_queued(caller, [path])

    async def _take_callback(self, caller: _Caller) -> None:
        """The caller pressed the callback key: keep their place, confirm, hang up."""
        number = caller.caller_id
        try:
            self.config.dial_plan.callback_uri(number)
            await self._acd(self.engine.keep_place_for_callback, caller.contact_id, number)
        except CallCenterError as exc:  # no usable number, or no longer waiting
            _log.info("callback for %s refused: %s", caller.contact_id, exc)
            return
        caller.phase = "callback"
        caller.callback = number
        path = find_prompt(self.config.language, "callback_confirmed", self.config.flow.prompt_dirs)
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.stop_music_on_hold(caller.leg)
            if path is not None and not caller.gone:
                caller.prompt_done = anyio.Event()
                await self.backend.play(caller.leg, AudioFile(str(path)))
                with anyio.move_on_after(30):
                    await caller.prompt_done.wait()
        if not caller.gone:
            await self._hangup(caller.leg)

    async def _call_back(self, caller: _Caller, agent_call: str) -> None:
        """The agent accepted the callback: call the customer from beside the agent's leg."""
        try:
            leg = await self.backend.originate(
                self.config.dial_plan.callback_uri(caller.callback), near=agent_call
            )
        except (*_RECOVERABLE, ValidationError) as exc:
            _log.info("calling back %s failed: %s", caller.contact_id, exc)
            caller.phase = "done"
            with contextlib.suppress(NotFoundError, StateError):
                await self._acd(self.engine.callback_failed, caller.contact_id, "failed")
            await self._hangup(agent_call)
            return
        caller.leg = leg
        caller.gone = False
        caller.phase = "dialling"
        self._callers[leg] = caller

    async def _callback_answered(self, caller: _Caller) -> None:
        leg = caller.agent_leg
        if leg is None or leg.call_id is None:
            await self._hangup(caller.leg)
            return
        try:
            await self.backend.bridge(caller.leg, leg.call_id)
            await self._acd(self.engine.connected, caller.contact_id)
        except (*_RECOVERABLE, StateError) as exc:
            _log.info("bridging callback %s failed: %s", caller.contact_id, exc)
            await self._hangup(caller.leg)
            return
        caller.phase = "connected"
        caller.agent_id = leg.offer.agent_id
        self._open_ticket(caller, leg.offer.agent_id)

    async def _callback_unreached(self, caller: _Caller) -> None:
        ended = caller.agent_leg
        caller.phase = "done"
        self._callers.pop(caller.leg, None)
        self._callers.pop(caller.contact_id, None)
        reason = _UNREACHED.get(caller.end_cause, "failed")
        with contextlib.suppress(NotFoundError, StateError):
            await self._acd(self.engine.callback_failed, caller.contact_id, reason)
        if ended is not None and ended.call_id is not None:
            await self._hangup(ended.call_id)

    async def _announce(self, action: Announce) -> None:
        """Tell a waiting caller their position and wait, then put the hold music back."""
        caller = self._callers.get(action.contact_id)
        if caller is None or caller.phase != "queued":
            return
        names = announcement(action.position, action.estimated_wait, self.config.language)
        paths = [find_prompt(self.config.language, n, self.config.flow.prompt_dirs) for n in names]
        await self._play_while_queued(caller, paths)

    async def _play_while_queued(self, caller: _Caller, paths: list[Path | None]) -> None:
        """Play prompts to a waiting caller instead of the hold music, then put it back.

        Stops at the first missing prompt or as soon as the caller is no longer
        simply waiting (an agent's phone rings, a callback was chosen).
        """
        if caller.announcing:
            return
        caller.announcing = True
        try:
            with contextlib.suppress(*_RECOVERABLE):
                await self.backend.stop_music_on_hold(caller.leg)
                for path in paths:
                    if path is None or caller.phase != "queued" or caller.agent_leg is not None:
                        break
                    caller.prompt_done = anyio.Event()
                    await self.backend.play(caller.leg, AudioFile(str(path)))
                    await caller.prompt_done.wait()
                if caller.phase == "queued" and caller.agent_leg is None:
                    await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        finally:
            caller.announcing = False

    async def _hangup(self, call_id: str) -> None:
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.hangup(call_id)

    def _caller(self, contact_id: str) -> _Caller:
        caller = self._callers.get(contact_id)
        if caller is None:
            raise NotFoundError(f"no live call {contact_id!r}")
        return caller

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
        self.log.flush()


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
        flush_every: Seconds between writes of the buffered event log (live).
    """
    async with anyio.create_task_group() as tg:
        center = CallCenter(
            backend=backend,
            config=config,
            store=store,
            clock=clock,
            plugins=plugins or create_plugin_host(),
            task_group=tg,
        )
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
            center._log_subscription.cancel()
            center.log.flush()
