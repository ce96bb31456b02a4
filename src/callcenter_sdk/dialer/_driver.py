"""The live dialer: the pure core driven against a media backend and the ACD engine.

:class:`Dialer` places calls with :meth:`MediaBackend.originate
<callcenter_sdk.media.MediaBackend.originate>` (the pjsua2 worker pool for
real SIP, the :class:`~callcenter_sdk.media.VirtualBackend` in tests), feeds
answered calls to the campaign's ACD queue, rings the chosen agent's phone
*near* the customer's leg and bridges the two. A live person with no agent
within ``connect_limit_s`` hears the campaign's information message and is
released: a drop, recorded as such.

Like the ACD engine it keeps no timers of its own: the caller feeds it media
events (:meth:`Dialer.handle`) and calls :meth:`Dialer.tick` at
:meth:`Dialer.next_deadline` (or every second); :meth:`Dialer.run` does both
in real time with anyio. Media backends cannot tell a machine from a person:
an optional ``machine_detector`` does; otherwise every answer counts as live,
its greeting ending at the answer.

No number is dialled without an outbound policy: every lead passes the
``guard`` (an :class:`~callcenter_sdk.cti.OutboundGuard`, usually
:func:`campaign_guard` of the campaign file's ``[outbound]`` table) just
before it is dialled. A refused lead is never dialled: a number in a range
that may not be dialled takes the lead out of the campaign (``refused``,
:attr:`Refusal.OUTBOUND_POLICY`), a number over a cap is due again later.

After a restart, replay the campaign's stored attempts into the new
dialer's pacer (:func:`restore_pacer`) before it dials, so the drop budget
of the current regulatory period counts the drops of the earlier run.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError, StateError
from .._events import Event, EventStream
from ..acd import (
    AgentState,
    Connect,
    Contact,
    Direction,
    Divert,
    Engine,
    Offer,
    Queue,
    Release,
    Rescind,
    SkillRequirement,
)
from ..cti import OutboundDenied, OutboundGuard
from ..kpi import ContactRecord
from ..media import CallAnswered, CallEnded, EndCause, MediaBackend, MediaEvent, Prompt
from ._events import CallDropped, CallPlaced, CallResulted, LeadDisposed
from ._model import Attempt, CallResult, Campaign, Lead, owner_skill
from ._outbound import CAP_PAUSE_S, admit
from ._pacing import Pacer, PacingSnapshot, PreviewPacer, create_pacer
from ._scheduler import Callback, LeadScheduler

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

__all__ = ["Dialer"]

_log = logging.getLogger(__name__)
_RING, _DROP, _RELEASE = range(3)
_INVALID_CODES = frozenset({404, 410, 484, 485, 604})


def sip_uri(lead: Lead) -> str:
    """The default SIP URI of a lead: its E.164 number at the local gateway."""
    return f"sip:{lead.phone}@127.0.0.1"


@attrs.define
class _Live:
    lead: Lead
    leg: str
    placed_at: float
    result: CallResult | None = None
    greeted_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    agent: str | None = None
    agent_leg: str | None = None
    offer: str | None = None
    in_acd: bool = False
    owner: str | None = None


class Dialer:
    """Runs one campaign live against a media backend and the ACD engine.

    Args:
        backend: Places and bridges the calls.
        engine: The ACD engine; the campaign's queue (named after the
            campaign) is added when missing. Agents are logged in and made
            ready by the caller, as for inbound work.
        clock: The engine's clock.
        campaign: Mode, caps and compliance rules.
        scheduler: The campaign's leads.
        guard: The outbound policy every number passes before it is dialled
            (:func:`campaign_guard` builds it from the campaign's own
            ``[outbound]`` table; a runtime may share its center-wide one).
            Refusals are published on the guard's event stream.
        agent_uris: Each agent's phone, rung when the ACD offers them a call.
        number_uri: The SIP URI to dial for a lead.
        pacer: The pacer (the campaign mode's by default).
        events: Where the dialer's events go (the engine's stream by default).
        information_prompt: What is played on a dropped call (a WAV file of
            the campaign's information message, or a tone in tests).
        caller_id: The number presented to the people called.
        on_attempt: Called with each finished :class:`Attempt` (to record it
            in the store, for instance).
        machine_detector: Answering-machine detection: awaited with the lead
            and the answered leg, true for a machine (the call is then ended
            as ``MACHINE`` and never reaches an agent); see
            :func:`amd_detector` for one that listens to the leg. Under
            :meth:`run` each detection runs in its own task. A detector that
            raises is logged and the answer counts as a person. Without one,
            every answer counts as a person. The 2-second connect limit
            starts when the detector has answered.

    .. versionchanged:: 0.2
       ``guard`` is required: no campaign dials without an outbound policy.
    """

    def __init__(
        self,
        *,
        backend: MediaBackend,
        engine: Engine,
        clock: Clock,
        campaign: Campaign,
        scheduler: LeadScheduler,
        guard: OutboundGuard,
        agent_uris: Mapping[str, str],
        number_uri: Callable[[Lead], str] = sip_uri,
        pacer: Pacer | None = None,
        events: EventStream | None = None,
        information_prompt: Prompt | None = None,
        caller_id: str | None = None,
        on_attempt: Callable[[Attempt], object] | None = None,
        machine_detector: Callable[[Lead, str], Awaitable[bool]] | None = None,
    ) -> None:
        self._backend, self._engine, self._clock = backend, engine, clock
        self._c = campaign
        self._scheduler = scheduler
        self._guard = guard
        self._paused_until = float("-inf")  # the hourly cap was reached
        self._agent_uris = dict(agent_uris)
        self._number_uri = number_uri
        self._pacer = pacer if pacer is not None else create_pacer(campaign)
        self._events = events if events is not None else engine.events
        self._prompt = information_prompt
        self._caller_id = caller_id
        self._on_attempt = on_attempt
        self._detector = machine_detector
        self._tg: TaskGroup | None = None  # run()'s, for detections in parallel
        if campaign.name not in engine.queue_names():
            engine.add_queue(Queue(name=campaign.name))
        self._calls: dict[str, _Live] = {}
        self._agent_legs: dict[str, str] = {}
        self._awaiting: dict[str, _Live] = {}
        self._timers: list[tuple[float, int, int, str]] = []
        self._seq = itertools.count()
        self.attempts: list[Attempt] = []

    # ---------------------------------------------------------------- queries

    @property
    def scheduler(self) -> LeadScheduler:
        """The campaign's lead scheduler (an agent's desktop picks preview leads from it)."""
        return self._scheduler

    @property
    def guard(self) -> OutboundGuard:
        """The outbound policy's guard every dial passes."""
        return self._guard

    @property
    def pacer(self) -> Pacer:
        """The pacer in use."""
        return self._pacer

    @property
    def live_calls(self) -> int:
        """Calls placed and not finished."""
        return len(self._calls)

    def awaiting_disposition(self) -> list[str]:
        """Calls whose conversation ended and whose agent has not disposed them yet."""
        return list(self._awaiting)

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (the engine's deadlines included)."""
        times = [t[0] for t in self._timers[:1]]
        if self._paused_until > self._clock.now():  # pacing resumes after the hourly cap
            times.append(self._paused_until)
        due = self._engine.next_deadline()
        if due is not None:
            times.append(due)
        return min(times) if times else None

    def snapshot(self) -> PacingSnapshot:
        """What the pacer sees now: the engine's agents and the calls in flight."""
        now = self._clock.now()
        ready = talking = 0
        wraps: list[float] = []
        for agent_id in self._engine.agent_ids():
            status = self._engine.agent_status(agent_id)
            if status.state is AgentState.READY:
                ready += 1
            elif status.state is AgentState.WRAP_UP and status.wrap_up_until is not None:
                wraps.append(max(0.0, status.wrap_up_until - now))
            elif status.state in (AgentState.BUSY, AgentState.RESERVED):
                talking += 1
        ringing = [c for c in self._calls.values() if c.greeted_at is None]
        return PacingSnapshot(
            now=now,
            ready=ready,
            wrap_remaining=wraps,
            talking=talking,
            in_flight=len(ringing),
            waiting=self._engine.waiting_count(self._c.name),
            held=sum(1 for c in ringing if c.owner is not None),
        )

    # ---------------------------------------------------------------- dialling

    async def pace(self) -> int:
        """Place as many calls as the pacer asks for now; return how many were placed.

        A lead the outbound policy refuses is settled and the next one is
        tried; once the center's hourly cap refuses, nothing is placed for
        :data:`CAP_PAUSE_S` seconds.
        """
        placed = 0
        if self._clock.now() < self._paused_until:
            return placed
        wanted = self._pacer.calls_to_place(self.snapshot())
        while placed < wanted:
            lead = self._scheduler.next_lead(self._clock.now())
            if lead is None:
                break
            try:
                await self.dial(lead)
            except OutboundDenied as denied:
                if denied.reason == "hourly-cap":
                    break
                continue
            placed += 1
        return placed

    async def dial(self, lead: Lead, *, agent: str | None = None) -> str:
        """Dial ``lead`` now (handed out by the scheduler); return the customer's leg id.

        Preview agents call this after reading the record, and agents dialling
        their own callbacks; ``agent`` names them. The agent is then held (not
        ready, reason ``preview``) until the call is answered, and the answered
        call requires their :func:`owner_skill`, so it reaches them and no one
        else; a call that fails makes them ready again.

        The number passes the outbound policy first: a refused lead is not
        dialled, the agent (if any) is not held, and the lead is settled
        (taken out of the campaign, or due again later for a cap).

        Raises:
            OutboundDenied: The outbound policy refuses the number; an
                :class:`~callcenter_sdk.cti.OutboundRefused` event was published.
            TransitionError: ``agent`` is offline.
        """
        now = self._clock.now()
        denied = admit(self._guard, self._scheduler, lead, now)
        if denied is not None:
            if denied.reason == "hourly-cap":
                self._paused_until = now + CAP_PAUSE_S
            raise denied
        if agent is not None:
            await self._carry_out(self._engine.set_not_ready(agent, "preview"))
        try:
            leg = await self._backend.originate(self._number_uri(lead), caller_id=self._caller_id)
        except CallCenterError:
            self._scheduler.release(lead.lead_id, now)
            await self._free_owner(agent)
            raise
        call = _Live(lead=lead, leg=leg, placed_at=now, owner=agent)
        self._calls[leg] = call
        self._timer(now + self._c.ring_timeout_s, _RING, leg)
        self._publish(
            CallPlaced(
                at=now,
                call_id=leg,
                lead_id=lead.lead_id,
                campaign=self._c.name,
                phone=lead.phone,
                agent_id=agent or "",
            )
        )
        return leg

    # ------------------------------------------------------------------ input

    async def handle(self, event: MediaEvent) -> None:
        """React to one media event of the backend (others' legs are ignored)."""
        if isinstance(event, CallAnswered):
            if event.call_id in self._calls:
                call = self._calls[event.call_id]
                if self._detector is not None and self._tg is not None:
                    # detection listens for seconds: other calls' events go on meanwhile
                    self._tg.start_soon(self._answered, call, name=f"amd {call.leg}")
                else:
                    await self._answered(call)
            elif event.call_id in self._agent_legs:
                await self._agent_answered(event.call_id)
        elif isinstance(event, CallEnded):
            if event.call_id in self._calls:
                await self._customer_ended(self._calls[event.call_id], event)
            elif event.call_id in self._agent_legs:
                await self._agent_ended(event.call_id)

    async def tick(self) -> None:
        """Fire what is due (ring timeouts, drops, the engine's timers), then pace."""
        now = self._clock.now()
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, leg = heapq.heappop(self._timers)
            call = self._calls.get(leg)
            if call is None:
                continue
            if kind == _RING and call.greeted_at is None:
                await self._hangup(leg)
                await self._finish_unanswered(call, CallResult.NO_ANSWER)
            elif kind == _DROP and call.answered_at is None and call.result is None:
                await self._drop(call)
            elif kind == _RELEASE:
                await self._hangup(leg)
        due = self._engine.next_deadline()
        if due is not None and due <= now:
            await self._carry_out(self._engine.tick())
        await self.pace()

    async def run(self, *, until: float, tick_s: float = 1.0) -> None:
        """Dial in real time until the clock reaches ``until``, then let calls finish.

        Reads the backend's event stream and ticks at every deadline or every
        ``tick_s`` seconds, whichever comes first.
        """
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg

                async def consume() -> None:
                    async for event in self._backend.events():
                        await self.handle(event)

                tg.start_soon(consume)
                while self._clock.now() < until or self._calls:
                    if self._clock.now() < until:
                        await self.tick()
                    else:
                        await self._tick_without_pacing()
                    due = self.next_deadline()
                    wait = tick_s if due is None else min(tick_s, max(0.0, due - self._clock.now()))
                    await anyio.sleep(wait)
                tg.cancel_scope.cancel()
        finally:
            self._tg = None

    async def _tick_without_pacing(self) -> None:
        pacer, self._pacer = self._pacer, PreviewPacer()  # places nothing
        try:
            await self.tick()
        finally:
            self._pacer = pacer

    # ------------------------------------------------------------- customers

    async def _answered(self, call: _Live) -> None:
        if self._detector is not None:
            try:
                machine = await self._detector(call.lead, call.leg)
            except Exception:  # noqa: BLE001 - a failing detector must not lose the call
                _log.exception("machine detection failed on %s: taken as a person", call.leg)
                machine = False
            if call.result is not None or self._calls.get(call.leg) is not call:
                return  # the person hung up while the detector listened
            if machine:
                await self._hangup(call.leg)
                await self._finish_unanswered(call, CallResult.MACHINE)
                return
        now = self._clock.now()
        call.greeted_at = now
        call.in_acd = True
        needs: tuple[SkillRequirement, ...] = ()
        if call.owner is not None:
            needs = (SkillRequirement(owner_skill(call.owner)),)
            await self._free_owner(call.owner)
        contact = Contact(
            id=call.leg, direction=Direction.OUTBOUND, dialled=call.lead.phone,
            priority=call.lead.priority, requirements=needs,
        )  # fmt: skip
        self._timer(now + self._c.connect_limit_s, _DROP, call.leg)
        await self._carry_out(self._engine.arrive(contact, self._c.name))

    async def _drop(self, call: _Live) -> None:
        now = self._clock.now()
        if call.in_acd:
            call.in_acd = False
            await self._carry_out(self._engine.hangup(call.leg))
        self._result(call, CallResult.DROPPED)
        info = self._c.information
        message = info.text if info is not None else f"This call was from {self._c.name}."
        seconds = info.seconds if info is not None else 0.0
        if self._prompt is not None:
            await self._backend.play(call.leg, self._prompt)
        self._publish(CallDropped(at=now, call_id=call.leg, campaign=self._c.name, message=message))
        self._timer(now + seconds, _RELEASE, call.leg)

    async def _customer_ended(self, call: _Live, event: CallEnded) -> None:
        if call.result is None:
            if call.greeted_at is None:
                await self._finish_unanswered(call, _result_of(event))
                return
            # The person hung up while waiting for an agent: still a live answer not connected.
            if call.in_acd:
                call.in_acd = False
                await self._carry_out(self._engine.hangup(call.leg))
            self._result(call, CallResult.DROPPED)
        if call.agent_leg is not None and call.answered_at is not None:
            await self._end_conversation(call)
            return
        self._close(call)

    async def _finish_unanswered(self, call: _Live, result: CallResult) -> None:
        self._result(call, result)
        self._close(call)
        await self._free_owner(call.owner)

    async def _free_owner(self, agent: str | None) -> None:
        """Make an agent who dialled ready again (no-op if they went offline meanwhile)."""
        if (
            agent is not None
            and self._engine.agent_status(agent).presence is not AgentState.OFFLINE
        ):
            await self._carry_out(self._engine.set_ready(agent))

    async def _end_conversation(self, call: _Live) -> None:
        if call.in_acd:
            call.in_acd = False
            await self._carry_out(self._engine.hangup(call.leg))
        if call.agent_leg is not None:
            self._agent_legs.pop(call.agent_leg, None)
            await self._hangup(call.agent_leg)
        call.ended_at = self._clock.now()
        self._calls.pop(call.leg, None)
        self._awaiting[call.leg] = call
        if call.answered_at is not None:
            self._pacer.observe_talk(call.ended_at - call.answered_at)

    # ---------------------------------------------------------------- agents

    async def _carry_out(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, Offer):
                await self._ring_agent(action)
            elif isinstance(action, Rescind):
                leg = next((a for a, o in self._agent_legs.items() if o == action.offer_id), None)
                if leg is not None:
                    del self._agent_legs[leg]
                    await self._hangup(leg)
            elif isinstance(action, Connect):
                await self._connect(action)
            elif isinstance(action, Divert | Release):
                call = self._calls.get(action.contact_id)
                if call is not None and call.result is None:
                    call.in_acd = False
                    await self._drop(call)

    async def _ring_agent(self, offer: Offer) -> None:
        call = self._calls.get(offer.contact_id)
        uri = self._agent_uris.get(offer.agent_id)
        if call is None or uri is None:
            await self._carry_out(self._engine.reject(offer.offer_id, reason="no phone"))
            return
        leg = await self._backend.originate(uri, near=call.leg)
        self._agent_legs[leg] = offer.offer_id
        call.agent_leg, call.offer = leg, offer.offer_id

    async def _agent_answered(self, leg: str) -> None:
        offer_id = self._agent_legs[leg]
        try:
            actions = self._engine.accept(offer_id)
        except NotFoundError:  # rescinded meanwhile (the customer was dropped)
            del self._agent_legs[leg]
            await self._hangup(leg)
            return
        await self._carry_out(actions)

    async def _connect(self, action: Connect) -> None:
        call = self._calls.get(action.contact_id)
        if call is None or call.agent_leg is None:
            return
        await self._backend.bridge(call.leg, call.agent_leg)
        call.answered_at, call.agent = self._clock.now(), action.agent_id
        self._result(call, CallResult.CONNECTED)

    async def _agent_ended(self, leg: str) -> None:
        offer_id = self._agent_legs.pop(leg)
        call = next((c for c in self._calls.values() if c.agent_leg == leg), None)
        if call is not None and call.answered_at is not None:
            await self._hangup(call.leg)
            await self._end_conversation(call)
            return
        with contextlib.suppress(NotFoundError):  # the agent's phone never answered
            await self._carry_out(self._engine.reject(offer_id, reason="no answer"))

    # ----------------------------------------------------------- dispositions

    def dispose(
        self,
        call_id: str,
        code: str,
        *,
        callback_at: float | None = None,
        callback_owned: bool = False,
    ) -> Attempt:
        """The agent's disposition of a finished conversation; returns the finished attempt.

        Raises:
            StateError: The call is not waiting for a disposition.
            ValidationError: Unknown code or a callback without its time.
        """
        call = self._awaiting.get(call_id)
        if call is None:
            raise StateError(f"call {call_id!r} is not waiting for a disposition")
        now = self._clock.now()
        owner = call.agent if callback_owned else None
        self._scheduler.dispose(
            call.lead.lead_id, code, now, callback_at=callback_at, callback_agent=owner
        )
        del self._awaiting[call_id]
        d = self._c.disposition(code)
        self._publish(
            LeadDisposed(
                at=now,
                lead_id=call.lead.lead_id,
                campaign=self._c.name,
                agent_id=call.agent or "",
                code=code,
                converted=d.converted,
                callback_at=callback_at,
                callback_agent=owner or "",
            )
        )
        return self._attempt(call, disposition=code, converted=d.converted, right=d.right_party)

    def callback_for(self, agent_id: str) -> Lead | None:
        """The agent's own callback due now, handed out for them to preview and dial.

        Owned callbacks are not dialled by the pacer (the answered call could
        reach another agent): the agent's desktop asks for them when the agent
        is free, shows the record, then calls :meth:`dial` with ``agent``.
        """
        now = self._clock.now()
        if not self._scheduler.due_callback(agent_id, now):
            return None
        return self._scheduler.next_lead(now, agent=agent_id)

    def schedule_callback(self, callback: Callback) -> None:
        """Schedule a callback directly (a supervisor's decision)."""
        self._scheduler.schedule_callback(callback)

    # ---------------------------------------------------------------- helpers

    def _result(self, call: _Live, result: CallResult) -> None:
        now = self._clock.now()
        call.result = result
        answer_s = None if call.greeted_at is None else call.greeted_at - call.placed_at
        self._pacer.observe(result, answer_s=answer_s, placed_at=call.placed_at)
        self._scheduler.dialled(call.lead.lead_id, result, now)
        self._publish(
            CallResulted(
                at=now,
                call_id=call.leg,
                lead_id=call.lead.lead_id,
                campaign=self._c.name,
                result=result,
            )
        )

    def _close(self, call: _Live) -> None:
        call.ended_at = self._clock.now()
        self._calls.pop(call.leg, None)
        self._attempt(call, disposition=None, converted=None, right=None)

    def _attempt(
        self, call: _Live, *, disposition: str | None, converted: bool | None, right: bool | None
    ) -> Attempt:
        result = call.result if call.result is not None else CallResult.NO_ANSWER
        end = call.ended_at if call.ended_at is not None else self._clock.now()
        record = ContactRecord(
            contact_id=call.leg,
            direction="outbound",
            outcome=result.outcome.value,
            arrived_at=call.placed_at,
            answered_at=call.answered_at,
            ended_at=max(end, call.answered_at or call.placed_at),
            queue=self._c.name,
            campaign=self._c.name,
            agent=call.agent,
            customer=call.lead.customer or call.lead.phone,
            talk_s=(end - call.answered_at) if call.answered_at is not None else 0.0,
            disposition=disposition,
            live_answer=result.live,
            greeting_ended_at=call.greeted_at,
            converted=converted,
            right_party=right,
        )
        attempt = Attempt(
            lead_id=call.lead.lead_id,
            list_id=call.lead.list_id,
            phone=call.lead.phone,
            result=result,
            record=record,
        )
        self.attempts.append(attempt)
        if self._on_attempt is not None:
            self._on_attempt(attempt)
        return attempt

    async def _hangup(self, leg: str) -> None:
        with contextlib.suppress(NotFoundError):  # already gone
            await self._backend.hangup(leg)

    def _timer(self, when: float, kind: int, leg: str) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), kind, leg))

    def _publish(self, event: Event) -> None:
        self._events.publish(event)


def _result_of(event: CallEnded) -> CallResult:
    """The dial result of a customer leg that ended before being answered."""
    if event.cause is EndCause.BUSY:
        return CallResult.BUSY
    if event.status_code in _INVALID_CODES or event.cause is EndCause.FAILED:
        return CallResult.INVALID
    if event.cause is EndCause.REJECTED:
        return CallResult.BUSY
    return CallResult.NO_ANSWER
