"""A campaign in virtual time: the real ACD engine, the dialer's core and simulated callees.

:func:`simulate_campaign` drives the same pieces a live dialer uses — the
:class:`~callcenter_sdk.acd.Engine` routing answered calls to agents, a
:class:`Pacer`, the :class:`LeadScheduler` and its compliance filter — with a
:class:`OutcomeModel` standing in for the telephone network (answer, machine,
busy, no-answer and invalid rates; ring, greeting and talk times). Time is a
:class:`~callcenter_sdk.ManualClock` moved from happening to happening, so an
8-hour campaign runs in seconds and the same seed gives the same run.

A live answer enters the campaign's ACD queue when the person's greeting
ends (when answering-machine detection decides it is a person). If no agent
takes it within the campaign's ``connect_limit_s``, the dialer drops it: the
information message is played and the call ends. Every number passes the
outbound policy before it is dialled, as live (the campaign's own, or
:data:`SIMULATION_POLICY` when none is given): a refused lead places no call
and its refusal is an event. Drop rates are then measured
from the run's contact records with :func:`callcenter_sdk.kpi.drop_rate`,
occupancy from the agents' state intervals with
:func:`callcenter_sdk.kpi.occupancy`: the KPI module's definitions, not the
dialer's own counters.

.. versionadded:: 0.1
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from .._clock import ManualClock
from .._errors import ValidationError
from .._events import Event, EventStream
from ..acd import (
    Agent,
    AgentState,
    AgentStateChanged,
    Connect,
    Contact,
    Direction,
    Engine,
    Membership,
    Offer,
    Queue,
    SkillRequirement,
)
from ..cti import OutboundGuard, OutboundPolicy
from ..kpi import AgentInterval, ContactRecord, DropRate, DropRegime, drop_rate, occupancy
from ..sim import Distribution, Fixed, LogNormal
from ._compliance import Compliance, DoNotCallList
from ._events import CallDropped, CallPlaced, CallResulted, LeadDisposed
from ._model import Attempt, CallResult, Campaign, DialMode, Lead, owner_skill
from ._outbound import CAP_PAUSE_S, SIMULATION_POLICY, admit
from ._pacing import Pacer, PacingSnapshot, create_pacer
from ._scheduler import LeadScheduler

__all__ = ["CampaignRun", "OutcomeModel", "simulate_campaign"]

_DIAL, _PICKUP, _GREETED, _DEADLINE, _RESULT, _HANGUP, _ENDED, _TICK = range(8)


_RING = LogNormal(12.0, 6.0)
_GREETING = LogNormal(2.0, 0.8)
_DETECT = Fixed(3.0)
_BUSY = Fixed(4.0)
_INVALID = Fixed(2.0)
_TALK = LogNormal(150.0, 90.0)


def _weights(value: Mapping[str, float]) -> Mapping[str, float]:
    if any(w < 0 for w in value.values()):
        raise ValidationError("disposition weights must be >= 0")
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class OutcomeModel:
    """How the called numbers behave, for simulated campaigns.

    The shares of live answers, machines, busy lines and invalid numbers are
    drawn per dial; the rest ring out (no answer). A live person whose pick-up
    comes after the campaign's ring timeout counts as no answer too.

    Attributes:
        live: Share of dials a person answers.
        machine: Share an answering machine answers.
        busy: Share that are busy.
        invalid: Share of invalid numbers (network failure tones).
        ring: Seconds from dial to a pick-up (person or machine).
        greeting: Seconds a person's greeting lasts ("Hello? ...").
        detect_machine: Seconds the dialer needs to detect a machine after pick-up.
        busy_after: Seconds until the busy signal.
        invalid_after: Seconds until the network reports an invalid number.
        talk: Conversation time with an agent.
        dispositions: Weights of the campaign's disposition codes chosen after
            a conversation (the first code of the campaign when empty).
        callback_after_s: Seconds after the call a requested callback is due.
        callback_owned: Share of callbacks kept by the agent (the rest are open).
    """

    live: float = 0.30
    machine: float = 0.15
    busy: float = 0.08
    invalid: float = 0.04
    ring: Distribution = _RING
    greeting: Distribution = _GREETING
    detect_machine: Distribution = _DETECT
    busy_after: Distribution = _BUSY
    invalid_after: Distribution = _INVALID
    talk: Distribution = _TALK
    dispositions: Mapping[str, float] = attrs.field(factory=dict, converter=_weights)
    callback_after_s: float = 3600.0
    callback_owned: float = 0.5

    def __attrs_post_init__(self) -> None:
        shares = (self.live, self.machine, self.busy, self.invalid)
        if any(s < 0 for s in shares) or sum(shares) > 1 + 1e-9:
            raise ValidationError(f"outcome shares must be >= 0 and sum to <= 1, got {shares}")


@attrs.frozen(kw_only=True)
class CampaignRun:
    """What a simulated campaign produced.

    Attributes:
        campaign: The campaign run.
        start: When dialling started (seconds since the epoch).
        end: When dialling stopped.
        attempts: Every dial with its contact record, in dial order.
        intervals: Every agent's state intervals.
        scheduler: The lead scheduler after the run (lead statuses, histories).
        events: How many events were published.
    """

    campaign: Campaign
    start: float
    end: float
    attempts: list[Attempt]
    intervals: list[AgentInterval]
    scheduler: LeadScheduler
    events: int

    @property
    def records(self) -> list[ContactRecord]:
        """The contact records of every attempt."""
        return [a.record for a in self.attempts]

    def drop_rate(self, regime: DropRegime | str | None = None) -> DropRate:
        """The drop rate by the KPI module's definition (the campaign's regime by default)."""
        c = self.campaign
        kind = c.regime if regime is None else DropRegime(regime)
        return drop_rate(
            self.records,
            kind,
            now=self.end + 1.0,
            campaign=c.name,
            connect_limit_s=c.connect_limit_s,
            amd_false_positive_rate=c.amd_false_positive_rate if kind is DropRegime.OFCOM else None,
        )

    def occupancy(self) -> float | None:
        """Agent occupancy over the dialling period (handling over handling + available)."""
        return occupancy(self.intervals, start=self.start, end=self.end)


@attrs.define
class _Call:
    call_id: str
    lead: Lead
    placed_at: float
    owner: str | None
    result: CallResult | None = None
    picked_at: float | None = None
    greeted_at: float | None = None
    answered_at: float | None = None
    agent: str | None = None
    ended_at: float | None = None
    talk_s: float = 0.0
    disposition: str | None = None
    converted: bool | None = None


class _Run:
    def __init__(
        self,
        campaign: Campaign,
        leads: Iterable[Lead],
        *,
        agents: Sequence[str],
        model: OutcomeModel,
        start: float,
        duration: float,
        wrap_up_s: float,
        seed: int,
        do_not_call: DoNotCallList | None,
        pacer: Pacer | None,
        tick_s: float,
        events: EventStream | None,
        outbound: OutboundPolicy,
    ) -> None:
        self.c = campaign
        self.model = model
        self.rng = random.Random(seed)
        self.clock = ManualClock(start)
        self.start, self.end = start, start + duration
        self.wrap_up_s = wrap_up_s
        self.tick_s = tick_s
        self.events = events if events is not None else EventStream()
        self.events.subscribe(self._on_event)
        self.engine = Engine(clock=self.clock, events=self.events)
        self.engine.add_queue(Queue(name=campaign.name, wrap_up=wrap_up_s, offer_timeout=30.0))
        self.scheduler = LeadScheduler(Compliance(campaign, do_not_call), leads, now=start)
        self.pacer = pacer if pacer is not None else create_pacer(campaign)
        self.guard = OutboundGuard(outbound, clock=self.clock, events=self.events)
        self.paused_until = float("-inf")  # the outbound policy's hourly cap was reached
        self.heap: list[tuple[float, int, int, Any]] = []
        self.seq = 0
        self.calls: dict[str, _Call] = {}
        self.attempts: list[Attempt] = []
        self.in_flight = 0
        self.held = 0
        self.state: dict[str, AgentState] = {}
        self.since: dict[str, tuple[float, AgentState, str]] = {}
        self.wrap_until: dict[str, float] = {}
        self.intervals: list[AgentInterval] = []
        self.became_ready: list[str] = []
        self.agent_ids = list(agents)
        self.codes = list(model.dispositions) or list(campaign.dispositions)[:1]
        self.weights = list(model.dispositions.values()) or [1.0]

    # ------------------------------------------------------------ plumbing

    def push(self, when: float, what: int, arg: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, what, arg))

    def publish(self, event: Event) -> None:
        self.events.publish(event)

    def _on_event(self, _seq: int, event: Event) -> None:
        if not isinstance(event, AgentStateChanged):
            return
        aid, at = event.agent_id, event.at
        prev = self.since.get(aid)
        if prev is not None and at > prev[0]:
            self.intervals.append(
                AgentInterval(agent=aid, state=prev[1].value, start=prev[0], end=at, reason=prev[2])
            )
        self.since[aid] = (at, event.state, event.reason)
        self.state[aid] = event.state
        if event.state is AgentState.WRAP_UP:
            self.wrap_until[aid] = at + self.wrap_up_s
        elif event.state is AgentState.READY:
            self.became_ready.append(aid)

    def carry_out(self, actions: list[Any]) -> None:
        while actions:
            action = actions.pop(0)
            if isinstance(action, Offer):
                actions.extend(self.engine.accept(action.offer_id))
            elif isinstance(action, Connect):
                self._connected(action.contact_id, action.agent_id)

    # ---------------------------------------------------------------- setup

    def setup(self) -> None:
        for aid in self.agent_ids:
            self.engine.add_agent(
                Agent(id=aid, skills={owner_skill(aid): 1}, memberships=(Membership(self.c.name),))
            )
            self.engine.login(aid)
            self.carry_out(self.engine.set_ready(aid))
        self.push(self.start, _TICK, None)

    # --------------------------------------------------------------- dialling

    def pace(self) -> None:
        now = self.clock.now()
        ready_agents, self.became_ready = self.became_ready, []
        if now >= self.end or now < self.paused_until:
            return
        for aid in ready_agents:
            if self.state.get(aid) is AgentState.READY:
                self._agent_dial(aid, now)
        n = self.pacer.calls_to_place(self.snapshot(now))
        placed = 0
        while placed < n and now >= self.paused_until:
            lead = self.scheduler.next_lead(now)
            if lead is None:
                break
            if self.place(lead, now, owner=None):
                placed += 1

    def _agent_dial(self, aid: str, now: float) -> None:
        preview = self.c.mode is DialMode.PREVIEW
        if not preview and not self.scheduler.due_callback(aid, now):
            return
        lead = self.scheduler.next_lead(now, agent=aid)
        if lead is None:
            return
        self.carry_out(self.engine.set_not_ready(aid, "preview"))
        self.push(now + (self.c.preview_s if preview else 0.0), _DIAL, (lead, aid))

    def snapshot(self, now: float) -> PacingSnapshot:
        ready = talking = 0
        wraps: list[float] = []
        for aid, state in self.state.items():
            if state is AgentState.READY:
                ready += 1
            elif state is AgentState.WRAP_UP:
                wraps.append(max(0.0, self.wrap_until.get(aid, now) - now))
            elif state in (AgentState.BUSY, AgentState.RESERVED):
                talking += 1
        return PacingSnapshot(
            now=now,
            ready=ready,
            wrap_remaining=wraps,
            talking=talking,
            in_flight=self.in_flight,
            waiting=self.engine.waiting_count(self.c.name),
            wrap_up_s=self.wrap_up_s,
            held=self.held,
        )

    def place(self, lead: Lead, now: float, *, owner: str | None) -> bool:
        denied = admit(self.guard, self.scheduler, lead, now)
        if denied is not None:
            if denied.reason == "hourly-cap":
                self.paused_until = now + CAP_PAUSE_S  # the ticks go on meanwhile
            if owner is not None:
                self.carry_out(self.engine.set_ready(owner))
            return False
        self.seq += 1
        call = _Call(call_id=f"{self.c.name}-{self.seq}", lead=lead, placed_at=now, owner=owner)
        self.calls[call.call_id] = call
        self.in_flight += 1
        self.held += owner is not None
        self.publish(
            CallPlaced(
                at=now,
                call_id=call.call_id,
                lead_id=lead.lead_id,
                campaign=self.c.name,
                phone=lead.phone,
                agent_id=owner or "",
            )
        )
        m, rng = self.model, self.rng
        u = rng.random()
        timeout = self.c.ring_timeout_s
        if u < m.live or u < m.live + m.machine:
            ring = m.ring.sample(rng)
            if ring >= timeout:
                self.push(now + timeout, _RESULT, (call.call_id, CallResult.NO_ANSWER))
            elif u < m.live:
                self.push(now + ring, _PICKUP, call.call_id)
            else:
                call.picked_at = now + ring
                self.push(
                    now + ring + m.detect_machine.sample(rng),
                    _RESULT,
                    (call.call_id, CallResult.MACHINE),
                )
        elif u < m.live + m.machine + m.busy:
            self.push(now + m.busy_after.sample(rng), _RESULT, (call.call_id, CallResult.BUSY))
        elif u < m.live + m.machine + m.busy + m.invalid:
            self.push(
                now + m.invalid_after.sample(rng), _RESULT, (call.call_id, CallResult.INVALID)
            )
        else:
            self.push(now + timeout, _RESULT, (call.call_id, CallResult.NO_ANSWER))
        return True

    # ---------------------------------------------------------------- results

    def step(self, what: int, arg: Any) -> None:
        now = self.clock.now()
        if what == _TICK:
            if now < self.end:
                self.push(now + self.tick_s, _TICK, None)
        elif what == _DIAL:
            lead, aid = arg
            self.place(lead, now, owner=aid)
        elif what == _PICKUP:
            call = self.calls[arg]
            call.picked_at = now
            self.push(now + self.model.greeting.sample(self.rng), _GREETED, arg)
        elif what == _GREETED:
            self._greeted(self.calls[arg], now)
        elif what == _DEADLINE:
            self._deadline(self.calls[arg], now)
        elif what == _RESULT:
            call_id, result = arg
            self._unanswered(self.calls[call_id], result, now)
        elif what == _HANGUP:
            self._hangup(self.calls[arg], now)
        elif what == _ENDED:
            self._finish(self.calls[arg])
        self.pace()

    def _greeted(self, call: _Call, now: float) -> None:
        call.greeted_at = now
        self.in_flight -= 1
        self.held -= call.owner is not None
        requirements: tuple[SkillRequirement, ...] = ()
        if call.owner is not None:
            requirements = (SkillRequirement(owner_skill(call.owner)),)
            self.carry_out(self.engine.set_ready(call.owner))
        contact = Contact(
            id=call.call_id,
            direction=Direction.OUTBOUND,
            dialled=call.lead.phone,
            priority=call.lead.priority,
            requirements=requirements,
        )
        self.carry_out(self.engine.arrive(contact, self.c.name))
        if call.answered_at is None:
            self.push(now + self.c.connect_limit_s, _DEADLINE, call.call_id)

    def _connected(self, call_id: str, agent_id: str) -> None:
        call = self.calls[call_id]
        now = self.clock.now()
        call.answered_at, call.agent = now, agent_id
        self._result(call, CallResult.CONNECTED, now)
        call.talk_s = self.model.talk.sample(self.rng)
        self.push(now + call.talk_s, _HANGUP, call_id)

    def _deadline(self, call: _Call, now: float) -> None:
        if call.answered_at is not None:
            return
        self.carry_out(self.engine.hangup(call.call_id))
        self._result(call, CallResult.DROPPED, now)
        info = self.c.information
        seconds = info.seconds if info is not None else 0.0
        message = info.text if info is not None else f"This call was from {self.c.name}."
        self.publish(
            CallDropped(at=now, call_id=call.call_id, campaign=self.c.name, message=message)
        )
        self.push(now + seconds, _ENDED, call.call_id)

    def _unanswered(self, call: _Call, result: CallResult, now: float) -> None:
        self.in_flight -= 1
        self.held -= call.owner is not None
        self._result(call, result, now)
        if call.owner is not None:
            self.carry_out(self.engine.set_ready(call.owner))
        self._finish(call, now)

    def _result(self, call: _Call, result: CallResult, now: float) -> None:
        call.result = result
        answer_s = None if call.greeted_at is None else call.greeted_at - call.placed_at
        self.pacer.observe(result, answer_s=answer_s, placed_at=call.placed_at)
        self.scheduler.dialled(call.lead.lead_id, result, now)
        self.publish(
            CallResulted(
                at=now,
                call_id=call.call_id,
                lead_id=call.lead.lead_id,
                campaign=self.c.name,
                result=result,
            )
        )

    def _hangup(self, call: _Call, now: float) -> None:
        self.carry_out(self.engine.hangup(call.call_id))
        agent = call.agent or ""
        self.pacer.observe_talk(call.talk_s)
        code = self.rng.choices(self.codes, self.weights)[0]
        d = self.c.disposition(code)
        callback_at = now + self.model.callback_after_s if d.callback else None
        owner = agent if d.callback and self.rng.random() < self.model.callback_owned else None
        self.scheduler.dispose(
            call.lead.lead_id, code, now, callback_at=callback_at, callback_agent=owner
        )
        call.disposition, call.converted = code, d.converted
        self.publish(
            LeadDisposed(
                at=now,
                lead_id=call.lead.lead_id,
                campaign=self.c.name,
                agent_id=agent,
                code=code,
                converted=d.converted,
                callback_at=callback_at,
                callback_agent=owner or "",
            )
        )
        self._finish(call, now)

    def _finish(self, call: _Call, now: float | None = None) -> None:
        call.ended_at = self.clock.now() if now is None else now
        result = call.result
        assert result is not None  # noqa: S101 - every finished call has a result
        record = ContactRecord(
            contact_id=call.call_id,
            direction="outbound",
            outcome=result.outcome.value,
            arrived_at=call.placed_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            queue=self.c.name,
            campaign=self.c.name,
            agent=call.agent,
            customer=call.lead.customer or call.lead.phone,
            talk_s=call.talk_s,
            wrap_s=self.wrap_up_s if call.answered_at is not None else 0.0,
            disposition=call.disposition,
            live_answer=result.live,
            greeting_ended_at=call.greeted_at,
            converted=call.converted,
            right_party=(
                self.c.disposition(call.disposition).right_party
                if call.disposition is not None
                else None
            ),
        )
        self.attempts.append(
            Attempt(
                lead_id=call.lead.lead_id,
                list_id=call.lead.list_id,
                phone=call.lead.phone,
                result=result,
                record=record,
            )
        )
        del self.calls[call.call_id]

    # ------------------------------------------------------------------ loop

    def run(self) -> CampaignRun:
        self.setup()
        clock, engine, heap = self.clock, self.engine, self.heap
        while True:
            due = engine.next_deadline()
            if heap and (due is None or heap[0][0] < due):
                when, _, what, arg = heapq.heappop(heap)
                clock.set(max(when, clock.now()))
                self.step(what, arg)
            elif due is not None:
                clock.set(max(due, clock.now()))
                self.carry_out(engine.tick())
                self.pace()
            else:
                break
        last = max(clock.now(), self.end)
        for aid, (since, state, reason) in self.since.items():
            if last > since:
                self.intervals.append(
                    AgentInterval(
                        agent=aid, state=state.value, start=since, end=last, reason=reason
                    )
                )
        self.attempts.sort(key=lambda a: a.record.arrived_at)
        return CampaignRun(
            campaign=self.c,
            start=self.start,
            end=self.end,
            attempts=self.attempts,
            intervals=self.intervals,
            scheduler=self.scheduler,
            events=self.events.last_seq,
        )


def simulate_campaign(
    campaign: Campaign,
    leads: Iterable[Lead],
    *,
    agents: int | Sequence[str],
    start: float,
    duration: float,
    model: OutcomeModel | None = None,
    wrap_up_s: float = 15.0,
    seed: int = 0,
    do_not_call: DoNotCallList | None = None,
    pacer: Pacer | None = None,
    tick_s: float = 1.0,
    events: EventStream | None = None,
    outbound: OutboundPolicy | None = None,
) -> CampaignRun:
    """Run ``campaign`` over ``leads`` with ``agents`` agents in virtual time.

    Args:
        campaign: Dial mode, caps, windows, dispositions.
        leads: The campaign's leads.
        agents: The agents logged in and ready from ``start``: their ids (an
            org's agents of the campaign, say: attempts and intervals then
            name them), or how many (named ``agent-1``, ``agent-2``, ...).
        start: When dialling starts, in seconds since the epoch (calling
            windows are checked in each lead's local time at that clock).
        duration: Seconds of dialling; calls in progress then finish.
        model: How numbers answer (:class:`OutcomeModel` defaults otherwise).
        wrap_up_s: Seconds of wrap-up after each conversation.
        seed: Makes the run reproducible.
        do_not_call: The do-not-call lists to honour.
        pacer: A pacer to use instead of the campaign mode's default.
        tick_s: How often the pacer is consulted besides after every happening.
        events: Where to publish the ACD's and the dialer's events (and
            the outbound policy's refusals).
        outbound: The outbound policy every number passes before it is
            dialled: this one, else the campaign's own (``[outbound]``), else
            :data:`SIMULATION_POLICY` (every number outside the denied
            premium and satellite ranges, no caps). Its caps count in the
            run's virtual time.

    .. versionchanged:: 0.2
       Numbers pass an outbound policy; ``outbound``.
    """
    ids = [f"agent-{n}" for n in range(1, agents + 1)] if isinstance(agents, int) else list(agents)
    if len(set(ids)) != len(ids) or not all(ids):
        raise ValidationError(f"simulate_campaign needs distinct, non-empty agent ids, got {ids!r}")
    if not ids or duration <= 0 or tick_s <= 0 or wrap_up_s < 0:
        raise ValidationError("simulate_campaign needs agents >= 1, duration > 0, tick_s > 0")
    if not campaign.dispositions:
        raise ValidationError(f"campaign {campaign.name!r} needs dispositions for its agents")
    return _Run(
        campaign,
        leads,
        agents=ids,
        model=model or OutcomeModel(),
        start=start,
        duration=duration,
        wrap_up_s=wrap_up_s,
        seed=seed,
        do_not_call=do_not_call,
        pacer=pacer,
        tick_s=tick_s,
        events=events,
        outbound=next(p for p in (outbound, campaign.outbound, SIMULATION_POLICY) if p is not None),
    ).run()
