"""The campaign core: one outbound campaign's calls, decided without I/O.

Everything a campaign decides lives here once, for the live :class:`Dialer`
and for :func:`callcenter_sdk.sim.simulate_campaign` alike: which leads to
dial now (the :class:`Pacer` fed back with every result), the outbound
policy every number passes, the ring timeout, the 2-second connect limit
and the drop with its information message, the ACD engine routing answered
calls to agents, the agents who dial for themselves, each call's result and
disposition, and the attempt records the KPIs are computed from.

Like the ACD engine it is sans-IO (h11's way): a driver feeds it what
happened (:meth:`~CampaignCore.placed`, :meth:`~CampaignCore.answered`,
:meth:`~CampaignCore.greeted`, :meth:`~CampaignCore.ended`, ...) and carries
out the actions it returns (:class:`Dial`, :class:`RingAgent`,
:class:`Bridge`, :class:`PlayInformation`, :class:`Hangup`). It reads the
time from the injected clock and never waits: it says when it next needs
the time (:meth:`~CampaignCore.next_deadline`) and does what is due in
:meth:`~CampaignCore.tick`. The live dialer carries the actions out on a
media backend in real time; the simulation carries them out on a simulated
telephone network in virtual time.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from .._clock import Clock
from .._errors import NotFoundError, StateError
from .._events import Event, EventStream
from ..acd import (
    Action,
    AgentState,
    AgentStateChanged,
    Connect,
    Contact,
    Direction,
    Divert,
    Engine,
    Offer,
    Release,
    Rescind,
    SkillRequirement,
    WrapUpExtended,
)
from ..kpi import ContactRecord
from ._actions import Bridge, CampaignAction, Dial, Hangup, PlayInformation, RingAgent
from ._compliance import Refusal
from ._events import CallDropped, CallPlaced, CallResulted, LeadDisposed
from ._model import Attempt, CallResult, Campaign, Lead, owner_skill
from ._pacing import Pacer, PacingSnapshot, create_pacer
from ._scheduler import Callback, LeadScheduler

if TYPE_CHECKING:  # the check is the driver's (cti is an adapter); the core reads its verdict
    from ..cti import OutboundDenied

__all__ = ["CAP_PAUSE_S", "CampaignCore"]

CAP_PAUSE_S = 60.0
"""Seconds the dialer places no call after the center's hourly cap refused one."""

_NUMBER_CAP_DELAY_S = 3600.0  # the caps count over a sliding hour
_RING, _DROP, _RELEASE = range(3)
_PREVIEW = "preview"


@attrs.define
class _Call:
    lead: Lead
    leg: str
    placed_at: float
    owner: str | None
    result: CallResult | None = None
    ringing: bool = True  # counted in flight: placed, neither greeted nor finished
    picked: bool = False
    greeted_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    agent: str | None = None
    offer: str | None = None  # the ACD's offer whose agent is being rung
    agent_leg: str | None = None
    in_acd: bool = False


class CampaignCore:
    """One campaign's calls: pacing, dials, timers, routing to agents, results.

    Args:
        engine: The ACD engine; answered calls enter the queue named after
            the campaign, which must exist.
        clock: The engine's clock.
        campaign: Mode, caps, timeouts, dispositions.
        scheduler: The campaign's leads.
        check: The outbound policy's verdict on a lead's number, asked just
            before it is dialled: the refusal, ``None`` when it may be dialled
            (:func:`campaign_check` of the center's guard).
        pacer: The pacer (the campaign mode's by default).
        events: Where the campaign's events go (the engine's stream by default).
        wrap_up_s: The wrap-up that follows each conversation, for the
            pacer's model and the records' ``wrap_s``.
        on_attempt: Called with each finished :class:`Attempt`.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        campaign: Campaign,
        scheduler: LeadScheduler,
        check: Callable[[Lead], OutboundDenied | None],
        pacer: Pacer | None = None,
        events: EventStream | None = None,
        wrap_up_s: float = 0.0,
        on_attempt: Callable[[Attempt], object] | None = None,
    ) -> None:
        self._engine, self._clock, self._c = engine, clock, campaign
        self._scheduler = scheduler
        self._check = check
        self._pacer = pacer if pacer is not None else create_pacer(campaign)
        self._events = events if events is not None else engine.events
        self._wrap_up_s = wrap_up_s
        self._on_attempt = on_attempt
        self._paused_until = float("-inf")  # the outbound policy's hourly cap was reached
        self._calls: dict[str, _Call] = {}
        self._agent_legs: dict[str, tuple[str, str]] = {}  # agent leg -> (offer, customer leg)
        self._awaiting: dict[str, _Call] = {}
        self._holding: set[str] = set()  # agents held not ready for their own dial
        self._ringing = self._held = 0  # calls in flight, those an agent dialled
        self._timers: list[tuple[float, int, int, str]] = []
        self._seq = itertools.count()
        self._attempts: list[Attempt] = []
        # The pacer's view of the agents, kept from the engine's events: reading
        # every agent's status at each pacing decision would cost more than the
        # rest of the decision.
        self._states: dict[str, AgentState] = {}
        self._wrap_until: dict[str, float] = {}
        for agent_id in engine.agent_ids():
            status = engine.agent_status(agent_id)
            self._states[agent_id] = status.state
            if status.wrap_up_until is not None:
                self._wrap_until[agent_id] = status.wrap_up_until
        engine.events.subscribe(self._on_engine_event)

    # ---------------------------------------------------------------- queries

    @property
    def campaign(self) -> Campaign:
        """The campaign."""
        return self._c

    @property
    def scheduler(self) -> LeadScheduler:
        """The campaign's lead scheduler."""
        return self._scheduler

    @property
    def pacer(self) -> Pacer:
        """The pacer in use."""
        return self._pacer

    @property
    def paused_until(self) -> float:
        """Until when nothing is dialled: the center's hourly cap refused a number."""
        return self._paused_until

    @property
    def live_calls(self) -> int:
        """Calls placed and not finished."""
        return len(self._calls)

    @property
    def attempts(self) -> list[Attempt]:
        """Every finished attempt, in the order they finished."""
        return self._attempts

    def lead_of(self, call_id: str) -> Lead | None:
        """The lead of a customer's leg still live; ``None`` for any other leg."""
        call = self._calls.get(call_id)
        return None if call is None else call.lead

    def awaiting_disposition(self) -> list[str]:
        """Calls whose conversation ended and whose agent has not disposed them yet."""
        return list(self._awaiting)

    def snapshot(self) -> PacingSnapshot:
        """What the pacer sees now: the engine's agents and the calls in flight."""
        now = self._clock.now()
        ready = talking = 0
        wraps: list[float] = []
        for agent_id, state in self._states.items():
            if state is AgentState.READY:
                ready += 1
            elif state is AgentState.WRAP_UP:
                wraps.append(max(0.0, self._wrap_until.get(agent_id, now) - now))
            elif state is AgentState.BUSY or state is AgentState.RESERVED:
                talking += 1
        return PacingSnapshot(
            now=now,
            ready=ready,
            wrap_remaining=wraps,
            talking=talking,
            in_flight=self._ringing,
            waiting=self._engine.waiting_count(self._c.name),
            wrap_up_s=self._wrap_up_s,
            held=self._held,
        )

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (the engine's deadlines included)."""
        due = self._engine.next_deadline()
        timer = self._next_timer()
        if timer is not None and (due is None or timer < due):
            return timer
        return due

    def tick(self) -> list[CampaignAction]:
        """Do the earliest thing due now: the engine's timers, a ring timeout, a drop, a release.

        One thing per call, so a driver can pace between them; call again
        while :meth:`next_deadline` is not later than now. At one instant the
        engine's timers go first.
        """
        now = self._clock.now()
        due = self._engine.next_deadline()
        timer = self._next_timer()
        if due is not None and due <= now and (timer is None or due <= timer):
            return self._carry_out(self._engine.tick())
        if timer is None or timer > now:
            return []
        _, _, kind, leg = heapq.heappop(self._timers)
        call = self._calls[leg]
        if kind == _RING:
            return [Hangup(leg=leg), *self._finish_unanswered(call, CallResult.NO_ANSWER)]
        if kind == _DROP:
            waiting = call.answered_at is None and call.result is None
            return self._drop(call) if waiting else []
        return [Hangup(leg=leg)]

    def _next_timer(self) -> float | None:
        """The earliest timer still standing; those of finished calls are dropped.

        Answering stops the ring timeout. A connect deadline stands until it
        passes, moot if the call was connected meanwhile: the driver paces
        after each timer, and seeded simulations have always consulted the
        pacer at that moment. Only a call connected the instant it was
        greeted never waited, and has none.
        """
        timers, calls = self._timers, self._calls
        while timers:
            when, _, kind, leg = timers[0]
            call = calls.get(leg)
            if call is not None and (
                kind == _RELEASE
                or (kind == _RING and not call.picked)
                or (kind == _DROP and call.answered_at != call.greeted_at)
            ):
                return when
            heapq.heappop(timers)
        return None

    def _timer(self, when: float, kind: int, leg: str) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), kind, leg))

    # --------------------------------------------------------------- dialling

    def pace(self) -> list[Dial]:
        """The calls the pacer asks for now, each lead through the outbound policy.

        A lead the policy refuses is settled and the next one is tried; once
        the center's hourly cap refuses, nothing is dialled for
        :data:`CAP_PAUSE_S` seconds. Place each :class:`Dial` returned.
        """
        now = self._clock.now()
        if now < self._paused_until:
            return []
        wanted = self._pacer.calls_to_place(self.snapshot())
        dials: list[Dial] = []
        while len(dials) < wanted:
            lead = self._scheduler.next_lead(now)
            if lead is None:
                break
            denied = self._admit(lead, now)
            if denied is None:
                dials.append(Dial(lead=lead))
                self._ringing += 1
            elif denied.reason == "hourly-cap":
                break
        return dials

    def dial(self, lead: Lead, *, agent: str | None = None) -> list[CampaignAction]:
        """An agent dials ``lead`` (from the scheduler); the last action is its :class:`Dial`.

        The number passes the outbound policy first. The agent is then held
        (not ready, reason ``preview``) until the call is answered, and the
        answered call requires their :func:`owner_skill`, so it reaches them
        and no one else; a call that fails makes them ready again.

        Raises:
            OutboundDenied: The outbound policy refuses the number (the lead
                is settled; an agent held earlier with :meth:`hold_agent`
                stays held: free them with :meth:`free_agent`).
            TransitionError: ``agent`` is offline.
        """
        denied = self._admit(lead, self._clock.now())
        if denied is not None:
            raise denied
        actions = self.hold_agent(agent) if agent is not None else []
        self._ringing += 1
        self._held += agent is not None
        actions.append(Dial(lead=lead, agent=agent))
        return actions

    def _admit(self, lead: Lead, now: float) -> OutboundDenied | None:
        """The outbound policy's verdict on ``lead``; a refused lead is settled by its reason.

        A number that may never be dialled takes the lead out of the campaign;
        one dialled too often this hour is due again in an hour; at the
        center's hourly cap the lead is due again, and nothing is dialled,
        after :data:`CAP_PAUSE_S`.
        """
        denied = self._check(lead)
        if denied is None:
            return None
        if denied.reason == "hourly-cap":
            self._paused_until = now + CAP_PAUSE_S
            self._scheduler.defer(lead.lead_id, self._paused_until)
        elif denied.reason == "number-cap":
            self._scheduler.defer(lead.lead_id, now + _NUMBER_CAP_DELAY_S)
        else:
            self._scheduler.refuse(lead.lead_id, Refusal.OUTBOUND_POLICY)
        return denied

    def placed(self, dial: Dial, call_id: str) -> None:
        """The call of ``dial`` was placed: ``call_id`` is the customer's leg."""
        now = self._clock.now()
        self._calls[call_id] = _Call(lead=dial.lead, leg=call_id, placed_at=now, owner=dial.agent)
        self._timer(now + self._c.ring_timeout_s, _RING, call_id)
        self._publish(
            CallPlaced(
                at=now,
                call_id=call_id,
                lead_id=dial.lead.lead_id,
                campaign=self._c.name,
                phone=dial.lead.phone,
                agent_id=dial.agent or "",
            )
        )

    def dial_failed(self, dial: Dial) -> list[CampaignAction]:
        """The call of ``dial`` could not be placed: the lead is due again, the agent freed."""
        self._ringing -= 1
        self._held -= dial.agent is not None
        self._scheduler.release(dial.lead.lead_id, self._clock.now())
        return self.free_agent(dial.agent) if dial.agent is not None else []

    def hold_agent(self, agent: str) -> list[CampaignAction]:
        """Hold ``agent`` not ready (reason ``preview``) while they prepare their own dial.

        Raises:
            TransitionError: The agent is offline.
        """
        if agent in self._holding:
            return []
        actions = self._carry_out(self._engine.set_not_ready(agent, _PREVIEW))
        self._holding.add(agent)
        return actions

    def free_agent(self, agent: str) -> list[CampaignAction]:
        """Make ``agent`` ready again (a no-op once they went offline)."""
        self._holding.discard(agent)
        if self._engine.agent_status(agent).presence is AgentState.OFFLINE:
            return []
        return self._carry_out(self._engine.set_ready(agent))

    # --------------------------------------------------------------- the line

    def answered(self, leg: str) -> list[CampaignAction]:
        """A leg was answered: a customer picked up (ringing stops), or an agent took the offer.

        A customer's answer is not yet a person: report :meth:`greeted` when
        the greeting ended (answering-machine detection says a person), or
        :meth:`machine`.
        """
        call = self._calls.get(leg)
        if call is not None:
            call.picked = True
            return []
        agent_leg = self._agent_legs.get(leg)
        if agent_leg is None:
            return []
        try:
            actions = self._engine.accept(agent_leg[0])
        except NotFoundError:  # rescinded meanwhile (the customer was dropped)
            del self._agent_legs[leg]
            return [Hangup(leg=leg)]
        return self._carry_out(actions)

    def greeted(self, call_id: str) -> list[CampaignAction]:
        """A person answered and their greeting ended: the call enters the campaign's queue.

        It must reach an agent within the campaign's ``connect_limit_s`` or be
        dropped. Ignored for a call that ended meanwhile.
        """
        call = self._calls.get(call_id)
        if call is None or call.result is not None or call.greeted_at is not None:
            return []
        now = self._clock.now()
        call.picked, call.greeted_at, call.in_acd = True, now, True
        self._land(call)
        actions: list[CampaignAction] = []
        needs: tuple[SkillRequirement, ...] = ()
        if call.owner is not None:
            needs = (SkillRequirement(owner_skill(call.owner)),)
            actions += self.free_agent(call.owner)
        contact = Contact(
            id=call.leg, direction=Direction.OUTBOUND, dialled=call.lead.phone,
            priority=call.lead.priority, requirements=needs,
        )  # fmt: skip
        actions += self._carry_out(self._engine.arrive(contact, self._c.name))
        self._timer(now + self._c.connect_limit_s, _DROP, call.leg)
        return actions

    def machine(self, call_id: str) -> list[CampaignAction]:
        """Answering-machine detection says a machine answered: the call ends as ``machine``."""
        call = self._calls.get(call_id)
        if call is None or call.result is not None:
            return []
        return [Hangup(leg=call_id), *self._finish_unanswered(call, CallResult.MACHINE)]

    def ended(self, leg: str, result: CallResult = CallResult.NO_ANSWER) -> list[CampaignAction]:
        """A leg ended (hung up by either side, or never answered).

        Args:
            leg: A customer's leg or an agent's.
            result: What a customer's call that was never greeted came to
                (busy, invalid, no answer); ignored otherwise.
        """
        call = self._calls.get(leg)
        if call is not None:
            return self._customer_ended(call, result)
        if leg in self._agent_legs:
            return self._agent_ended(leg)
        return []

    def _customer_ended(self, call: _Call, result: CallResult) -> list[CampaignAction]:
        actions: list[CampaignAction] = []
        if call.result is None:
            if call.greeted_at is None:
                return self._finish_unanswered(call, result)
            # The person hung up while waiting for an agent: still a live answer not connected.
            actions += self._leave_acd(call)
            self._result(call, CallResult.DROPPED)
        if call.agent_leg is not None and call.answered_at is not None:
            return actions + self._end_conversation(call)
        self._close(call)
        return actions

    def _finish_unanswered(self, call: _Call, result: CallResult) -> list[CampaignAction]:
        self._land(call)
        self._result(call, result)
        actions = self.free_agent(call.owner) if call.owner is not None else []
        self._close(call)
        return actions

    def _land(self, call: _Call) -> None:
        """The call is no longer in flight (greeted, or finished without a person)."""
        if call.ringing:
            call.ringing = False
            self._ringing -= 1
            self._held -= call.owner is not None

    def _drop(self, call: _Call) -> list[CampaignAction]:
        now = self._clock.now()
        actions = self._leave_acd(call)
        self._result(call, CallResult.DROPPED)
        info = self._c.information
        message = info.text if info is not None else f"This call was from {self._c.name}."
        actions.append(PlayInformation(call_id=call.leg, message=message))
        self._publish(CallDropped(at=now, call_id=call.leg, campaign=self._c.name, message=message))
        self._timer(now + (info.seconds if info is not None else 0.0), _RELEASE, call.leg)
        return actions

    def _leave_acd(self, call: _Call) -> list[CampaignAction]:
        if not call.in_acd:
            return []
        call.in_acd = False
        return self._carry_out(self._engine.hangup(call.leg))

    def _end_conversation(self, call: _Call) -> list[CampaignAction]:
        actions = self._leave_acd(call)
        if call.agent_leg is not None:
            self._agent_legs.pop(call.agent_leg, None)
            actions.append(Hangup(leg=call.agent_leg))
        call.ended_at = self._clock.now()
        del self._calls[call.leg]
        self._awaiting[call.leg] = call
        if call.answered_at is not None:
            self._pacer.observe_talk(call.ended_at - call.answered_at)
        return actions

    # ---------------------------------------------------------------- agents

    def agent_rung(self, ring: RingAgent, agent_leg: str) -> list[CampaignAction]:
        """The phone of ``ring``'s agent rings on ``agent_leg``."""
        call = self._calls.get(ring.call_id)
        if call is None or call.offer != ring.offer_id:  # withdrawn while it was dialled
            return [Hangup(leg=agent_leg)]
        self._agent_legs[agent_leg] = (ring.offer_id, call.leg)
        call.agent_leg = agent_leg
        return []

    def agent_unreachable(self, ring: RingAgent) -> list[CampaignAction]:
        """The phone of ``ring``'s agent cannot be rung (they have none): the offer is rejected."""
        with contextlib.suppress(NotFoundError):  # withdrawn meanwhile
            return self._carry_out(self._engine.reject(ring.offer_id, reason="no phone"))
        return []

    def _agent_ended(self, leg: str) -> list[CampaignAction]:
        offer_id, call_leg = self._agent_legs.pop(leg)
        call = self._calls.get(call_leg)
        if call is not None and call.agent_leg == leg and call.answered_at is not None:
            return [Hangup(leg=call.leg), *self._end_conversation(call)]
        with contextlib.suppress(NotFoundError):  # the agent's phone never answered
            return self._carry_out(self._engine.reject(offer_id, reason="no answer"))
        return []

    def _carry_out(self, actions: Sequence[Action]) -> list[CampaignAction]:
        """The engine's actions as the campaign's: ring, stop ringing, bridge, drop."""
        out: list[CampaignAction] = []
        todo = list(actions)
        for action in todo:
            if isinstance(action, Offer):
                call = self._calls.get(action.contact_id)
                if call is None:
                    todo += self._engine.reject(action.offer_id, reason="no phone")
                    continue
                call.offer = action.offer_id
                out.append(
                    RingAgent(offer_id=action.offer_id, agent_id=action.agent_id, call_id=call.leg)
                )
            elif isinstance(action, Rescind):
                call = self._calls.get(action.contact_id)
                if call is not None and call.offer == action.offer_id:
                    call.offer = None
                rung = self._agent_legs.items()
                leg = next((a for a, (offer, _) in rung if offer == action.offer_id), None)
                if leg is not None:
                    del self._agent_legs[leg]
                    out.append(Hangup(leg=leg))
            elif isinstance(action, Connect):
                out += self._connect(action)
            elif isinstance(action, Divert | Release):
                call = self._calls.get(action.contact_id)
                if call is not None and call.result is None:
                    call.in_acd = False
                    out += self._drop(call)
        return out

    def _connect(self, action: Connect) -> list[CampaignAction]:
        call = self._calls.get(action.contact_id)
        if call is None or call.agent_leg is None:
            return []
        call.answered_at, call.agent, call.offer = self._clock.now(), action.agent_id, None
        self._result(call, CallResult.CONNECTED)
        return [Bridge(call_id=call.leg, agent_leg=call.agent_leg)]

    def _on_engine_event(self, _seq: int, event: Event) -> None:
        if isinstance(event, AgentStateChanged):
            self._states[event.agent_id] = event.state
            if event.state is AgentState.WRAP_UP:
                until = self._engine.agent_status(event.agent_id).wrap_up_until
                self._wrap_until[event.agent_id] = event.at if until is None else until
        elif isinstance(event, WrapUpExtended):
            self._wrap_until[event.agent_id] = event.until

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
        """The agent's own callback due now, handed out for them to preview and dial."""
        now = self._clock.now()
        if not self._scheduler.due_callback(agent_id, now):
            return None
        return self._scheduler.next_lead(now, agent=agent_id)

    def schedule_callback(self, callback: Callback) -> None:
        """Schedule a callback directly (a supervisor's decision)."""
        self._scheduler.schedule_callback(callback)

    # ---------------------------------------------------------------- records

    def _result(self, call: _Call, result: CallResult) -> None:
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

    def _close(self, call: _Call) -> None:
        call.ended_at = self._clock.now()
        del self._calls[call.leg]
        self._attempt(call, disposition=None, converted=None, right=None)

    def _attempt(
        self, call: _Call, *, disposition: str | None, converted: bool | None, right: bool | None
    ) -> Attempt:
        result = call.result if call.result is not None else CallResult.NO_ANSWER
        end = call.ended_at if call.ended_at is not None else self._clock.now()
        answered = call.answered_at
        record = ContactRecord(
            contact_id=call.leg,
            direction="outbound",
            outcome=result.outcome.value,
            arrived_at=call.placed_at,
            answered_at=answered,
            ended_at=max(end, answered or call.placed_at),
            queue=self._c.name,
            campaign=self._c.name,
            agent=call.agent,
            customer=call.lead.customer or call.lead.phone,
            talk_s=(end - answered) if answered is not None else 0.0,
            wrap_s=self._wrap_up_s if answered is not None else 0.0,
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
        self._attempts.append(attempt)
        if self._on_attempt is not None:
            self._on_attempt(attempt)
        return attempt

    def _publish(self, event: Event) -> None:
        self._events.publish(event)
