"""A campaign in virtual time: the dialer's campaign core, the real ACD engine, simulated callees.

:func:`simulate_campaign` drives the same :class:`~callcenter_sdk.dialer.CampaignCore`
the live :class:`~callcenter_sdk.dialer.Dialer` drives — pacing, the outbound
policy, ring timeouts, the connect limit and drops, the ACD engine routing
answered calls to agents, results and dispositions — with an
:class:`OutcomeModel` standing in for the telephone network (answer,
machine, busy, no-answer and invalid rates; ring, greeting and talk times)
and simulated agents who answer at once, talk, dispose and dial their own
callbacks (every record, in preview). Time is the shared
:class:`~callcenter_sdk.sim._loop.VirtualLoop`'s: an 8-hour campaign runs in
seconds and the same seed gives the same run.

A live answer enters the campaign's ACD queue when the person's greeting
ends (when answering-machine detection decides it is a person). If no agent
takes it within the campaign's ``connect_limit_s``, the core drops it: the
information message is played and the call ends. Every number passes the
outbound policy before it is dialled, as live (the campaign's own, or
:data:`~callcenter_sdk.dialer.SIMULATION_POLICY` when none is given): a
refused lead places no call and its refusal is an event. Drop rates are then
measured from the run's contact records with :func:`callcenter_sdk.kpi.drop_rate`,
occupancy from the agents' state intervals with
:func:`callcenter_sdk.kpi.occupancy`: the KPI module's definitions, not the
dialer's own counters.

.. versionadded:: 0.1
.. versionchanged:: 0.2
   Moved from :mod:`callcenter_sdk.dialer` to :mod:`callcenter_sdk.sim`; the
   campaign logic is the dialer's :class:`~callcenter_sdk.dialer.CampaignCore`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import attrs

from .._clock import ManualClock
from .._errors import ValidationError
from .._events import Event, EventStream
from ..acd import Agent, AgentState, AgentStateChanged, Engine, Membership, Queue
from ..cti import OutboundDenied, OutboundGuard, OutboundPolicy
from ..dialer import (
    SIMULATION_POLICY,
    Bridge,
    CallResult,
    Campaign,
    CampaignAction,
    CampaignCore,
    CampaignRun,
    Compliance,
    Dial,
    DialMode,
    DoNotCallList,
    Hangup,
    Lead,
    LeadScheduler,
    Pacer,
    RingAgent,
    campaign_check,
    owner_skill,
)
from ..kpi import AgentInterval
from ._distributions import Distribution, Fixed, LogNormal
from ._loop import CoreFunctions, VirtualLoop

__all__ = ["OutcomeModel", "simulate_campaign"]


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


class _Run:
    """The simulated world around the campaign core: the network, the agents, the clock."""

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
        self.loop = VirtualLoop(self.clock)
        self.start, self.end = start, start + duration
        self.tick_s = tick_s
        self.events = events if events is not None else EventStream()
        self.events.subscribe(self._on_event)
        self.engine = Engine(clock=self.clock, events=self.events)
        self.engine.add_queue(Queue(name=campaign.name, wrap_up=wrap_up_s, offer_timeout=30.0))
        self.core = CampaignCore(
            engine=self.engine,
            clock=self.clock,
            campaign=campaign,
            scheduler=LeadScheduler(Compliance(campaign, do_not_call), leads, now=start),
            check=campaign_check(
                OutboundGuard(outbound, clock=self.clock, events=self.events), campaign
            ),
            pacer=pacer,
            events=self.events,
            wrap_up_s=wrap_up_s,
        )
        self.loop.drive(CoreFunctions(self.core.next_deadline, self.tick))
        self.since: dict[str, tuple[float, AgentState, str]] = {}
        self.intervals: list[AgentInterval] = []
        self.became_ready: list[str] = []
        self.agent_ids = list(agents)
        self.codes = list(model.dispositions) or list(campaign.dispositions)[:1]
        self.weights = list(model.dispositions.values()) or [1.0]

    # ------------------------------------------------------------ the core

    def tick(self) -> None:
        self.execute(self.core.tick())
        self.pace()

    def execute(self, actions: Sequence[CampaignAction]) -> None:
        """Carry out the core's actions on the simulated network, at once."""
        todo = list(actions)
        for action in todo:
            if isinstance(action, Dial):
                self.place(action)
            elif isinstance(action, RingAgent):  # the agent answers at once
                leg = f"agent:{action.offer_id}"
                todo += self.core.agent_rung(action, leg)
                todo += self.core.answered(leg)
            elif isinstance(action, Bridge):
                talk = self.model.talk.sample(self.rng)
                self.loop.call_at(self.clock.now() + talk, self.hang_up, action.call_id)
            elif isinstance(action, Hangup):  # the network confirms a hang-up at once
                todo += self.core.ended(action.leg)

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
        if event.state is AgentState.READY:
            self.became_ready.append(aid)

    # ---------------------------------------------------------------- setup

    def setup(self) -> None:
        for aid in self.agent_ids:
            self.engine.add_agent(
                Agent(id=aid, skills={owner_skill(aid): 1}, memberships=(Membership(self.c.name),))
            )
            self.engine.login(aid)
            self.execute(self.core.free_agent(aid))
        self.loop.call_at(self.start, self.poll, None)

    # --------------------------------------------------------------- dialling

    def poll(self, _: None) -> None:
        """The pacer is asked every ``tick_s`` too, not only when something happens."""
        now = self.clock.now()
        if now < self.end:
            self.loop.call_at(now + self.tick_s, self.poll, None)
        self.pace()

    def pace(self) -> None:
        now = self.clock.now()
        ready_agents, self.became_ready = self.became_ready, []
        if now >= self.end or now < self.core.paused_until:
            return
        for aid in ready_agents:
            if self.since[aid][1] is AgentState.READY:
                self.take_record(aid, now)
        self.execute(self.core.pace())

    def take_record(self, aid: str, now: float) -> None:
        """A free agent takes their own callback due now (any record, in preview)."""
        preview = self.c.mode is DialMode.PREVIEW
        scheduler = self.core.scheduler
        if not preview and not scheduler.due_callback(aid, now):
            return
        lead = scheduler.next_lead(now, agent=aid)
        if lead is None:
            return
        self.execute(self.core.hold_agent(aid))
        self.loop.call_at(now + (self.c.preview_s if preview else 0.0), self.dial, (lead, aid))

    def dial(self, arg: tuple[Lead, str]) -> None:
        lead, aid = arg
        try:
            actions = self.core.dial(lead, agent=aid)
        except OutboundDenied:
            actions = self.core.free_agent(aid)
        self.execute(actions)
        self.pace()

    def place(self, dial: Dial) -> None:
        """Dial: the model draws what the number does, and when."""
        call_id = f"{self.c.name}-{self.loop.number()}"
        self.core.placed(dial, call_id)
        m, rng, now, call_at = self.model, self.rng, self.clock.now(), self.loop.call_at
        u = rng.random()
        if u < m.live + m.machine:
            ring = m.ring.sample(rng)
            if ring >= self.c.ring_timeout_s:
                return  # rings out: the core's ring timeout ends it
            if u < m.live:
                call_at(now + ring, self.person_answers, call_id)
            else:
                call_at(now + ring, self.machine_answers, call_id)
                detect = ring + m.detect_machine.sample(rng)
                call_at(now + detect, self.machine_detected, call_id)
        elif u < m.live + m.machine + m.busy:
            call_at(now + m.busy_after.sample(rng), self.fails, (call_id, CallResult.BUSY))
        elif u < m.live + m.machine + m.busy + m.invalid:
            call_at(now + m.invalid_after.sample(rng), self.fails, (call_id, CallResult.INVALID))

    # ---------------------------------------------------------- the network

    def person_answers(self, call_id: str) -> None:
        self.execute(self.core.answered(call_id))
        greeting = self.model.greeting.sample(self.rng)
        self.loop.call_at(self.clock.now() + greeting, self.greeted, call_id)
        self.pace()

    def greeted(self, call_id: str) -> None:
        self.execute(self.core.greeted(call_id))
        self.pace()

    def machine_answers(self, call_id: str) -> None:
        self.execute(self.core.answered(call_id))  # nothing to pace on: it still rings for us

    def machine_detected(self, call_id: str) -> None:
        self.execute(self.core.machine(call_id))
        self.pace()

    def fails(self, arg: tuple[str, CallResult]) -> None:
        call_id, result = arg
        self.execute(self.core.ended(call_id, result))
        self.pace()

    def hang_up(self, call_id: str) -> None:
        """The customer ends the conversation; the agent disposes of it at once."""
        self.execute(self.core.ended(call_id))
        code = self.rng.choices(self.codes, self.weights)[0]
        d = self.c.disposition(code)
        now = self.clock.now()
        callback_at = now + self.model.callback_after_s if d.callback else None
        owned = d.callback and self.rng.random() < self.model.callback_owned
        self.core.dispose(call_id, code, callback_at=callback_at, callback_owned=owned)
        self.pace()

    # ------------------------------------------------------------------ loop

    def run(self) -> CampaignRun:
        self.setup()
        self.loop.run()
        last = max(self.clock.now(), self.end)
        for aid, (since, state, reason) in self.since.items():
            if last > since:
                self.intervals.append(
                    AgentInterval(
                        agent=aid, state=state.value, start=since, end=last, reason=reason
                    )
                )
        return CampaignRun(
            campaign=self.c,
            start=self.start,
            end=self.end,
            attempts=sorted(self.core.attempts, key=lambda a: a.record.arrived_at),
            intervals=self.intervals,
            scheduler=self.core.scheduler,
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
            :data:`~callcenter_sdk.dialer.SIMULATION_POLICY` (every number outside the denied
            premium and satellite ranges, no caps). Its caps count in the
            run's virtual time.

    .. versionchanged:: 0.2
       Numbers pass an outbound policy; ``outbound``. Moved from
       :mod:`callcenter_sdk.dialer`.
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
