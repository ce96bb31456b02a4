"""Test helpers for the ACD: an engine harness, event capture, strategies and a state machine.

:class:`EngineMachine` is a hypothesis ``RuleBasedStateMachine`` that drives
an :class:`~callcenter_sdk.acd.Engine` with random arrivals, agent moves,
answers, hang-ups, transfers and time, and checks the ACD's promises after
every step. Subclass it with your own ``strategy`` (and ``strategies``) to
property-test a routing plugin against the same promises::

    class StickyMachine(EngineMachine):
        strategy = "sticky-agent"

        def routing_strategies(self):  # a fresh plugin memory for every run
            return host.routing_strategies()

    TestSticky = StickyMachine.TestCase

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from .._clock import ManualClock
from .._errors import StateError, TransitionError, ValidationError
from .._events import Event, EventStream
from ..acd import (
    LEGAL_TRANSITIONS,
    Action,
    Agent,
    AgentState,
    AgentStateChanged,
    Capacity,
    Channel,
    Contact,
    ContactAbandoned,
    ContactCallbackFailed,
    ContactCallbackRequested,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactOffered,
    ContactOverflowed,
    ContactPhase,
    ContactTimedOut,
    ContactTransferred,
    EmptyCondition,
    Engine,
    Membership,
    OfferAccepted,
    OfferNotAnswered,
    OfferRejected,
    OfferRescinded,
    Overflow,
    OverflowTarget,
    Queue,
    RelaxStep,
    RoutingPolicy,
    SkillRequirement,
    StrategyFactory,
    records_from_events,
)

__all__ = ["AcdHarness", "EngineMachine", "EventCapture", "acd_agents", "acd_contacts"]

E = TypeVar("E", bound=Event)

FINAL_EVENTS: tuple[type[Event], ...] = (
    ContactCompleted,
    ContactAbandoned,
    ContactCallbackFailed,
    ContactTimedOut,
    ContactExited,
)


def _require(condition: bool, detail: object = None) -> None:
    if not condition:
        raise AssertionError(detail)


def is_final(event: Event) -> bool:
    """Whether ``event`` ends a contact's life in the ACD."""
    if isinstance(event, ContactOverflowed):
        return event.final
    return isinstance(event, FINAL_EVENTS)


class EventCapture:
    """Records every event published on a stream, for assertions.

    Args:
        stream: The stream to listen to.
    """

    def __init__(self, stream: EventStream) -> None:
        self.events: list[Event] = []
        self._subscription = stream.subscribe(lambda _seq, event: self.events.append(event))

    def of(self, kind: type[E]) -> list[E]:
        """The captured events of class ``kind``, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    def kinds(self) -> list[str]:
        """The ``kind`` of every captured event, in order."""
        return [type(e).kind for e in self.events]

    def clear(self) -> None:
        """Forget what was captured so far."""
        self.events.clear()

    def close(self) -> None:
        """Stop capturing."""
        self._subscription.cancel()


class AcdHarness:
    """An engine on a :class:`~callcenter_sdk.ManualClock` with an event capture.

    Args:
        policy: The engine's routing policy.
        strategies: Strategy factories by name (the built-ins by default).
        perf_counter: Passed to the engine, to simulate slow plugins.
    """

    def __init__(
        self,
        policy: RoutingPolicy | None = None,
        strategies: Mapping[str, StrategyFactory] | None = None,
        perf_counter: Callable[[], float] | None = None,
    ) -> None:
        self.clock = ManualClock()
        self.stream = EventStream()
        self.capture = EventCapture(self.stream)
        extra: dict[str, Any] = {} if perf_counter is None else {"perf_counter": perf_counter}
        self.engine = Engine(
            clock=self.clock,
            events=self.stream,
            strategies=strategies,
            policy=policy,
            **extra,
        )

    def queue(self, name: str = "q", **settings: Any) -> Queue:
        """Add a queue named ``name`` with ``settings`` (see :class:`~callcenter_sdk.acd.Queue`)."""
        queue = Queue(name=name, **settings)
        self.engine.add_queue(queue)
        return queue

    def agent(
        self,
        agent_id: str,
        queues: Iterable[str] = ("q",),
        *,
        ready: bool = True,
        skills: Mapping[str, int] | None = None,
        penalty: int = 0,
        capacity: Capacity | None = None,
    ) -> list[Action]:
        """Add an agent to ``queues``, log them in and (by default) make them ready."""
        self.engine.add_agent(
            Agent(
                id=agent_id,
                skills=dict(skills or {}),
                memberships=[Membership(q, penalty) for q in queues],
                capacity=capacity or Capacity(),
            )
        )
        out = self.engine.login(agent_id)
        if ready:
            out += self.engine.set_ready(agent_id)
        return out

    def arrive(self, contact_id: str, queue: str = "q", **fields: Any) -> list[Action]:
        """A contact ``contact_id`` arrives in ``queue`` (fields as in Contact)."""
        return self.engine.arrive(Contact(id=contact_id, **fields), queue)

    def later(self, seconds: float) -> list[Action]:
        """Advance the clock by ``seconds``, stopping at each timer deadline on the way.

        Timers fire at their own time (as they would live), so events are
        stamped exactly: a wrap-up ending at 26 s is reported at 26 s.
        """
        target = self.clock.now() + seconds
        out: list[Action] = []
        deadline = self.engine.next_deadline()
        while deadline is not None and deadline <= target:
            self.clock.set(max(deadline, self.clock.now()))
            out += self.engine.tick()
            deadline = self.engine.next_deadline()
        self.clock.set(target)
        out += self.engine.tick()
        return out

    def state(self, agent_id: str) -> AgentState:
        """The agent's state."""
        return self.engine.agent_status(agent_id).state


@st.composite
def acd_contacts(
    draw: st.DrawFn,
    *,
    ids: st.SearchStrategy[str] | None = None,
    channels: Sequence[Channel] = (Channel.VOICE,),
    skills: Sequence[str] = (),
    max_priority: int = 3,
) -> Contact:
    """Contacts on ``channels`` needing some of ``skills``, maybe relaxing over time."""
    contact_id = draw(ids if ids is not None else st.uuids().map(str))
    reqs: list[SkillRequirement] = []
    if skills:
        needs = st.builds(SkillRequirement, st.sampled_from(skills), st.integers(1, 5))
        reqs = draw(st.lists(needs, max_size=2))
    relax: list[RelaxStep] = []
    relaxes: bool = draw(st.booleans())
    if reqs and relaxes:
        relax.append(RelaxStep(after=draw(st.integers(1, 20)), requirements=()))
    return Contact(
        id=contact_id,
        channel=draw(st.sampled_from(channels)),
        priority=draw(st.integers(0, max_priority)),
        requirements=reqs,
        relax=relax,
        caller_id=draw(st.sampled_from(["+3311", "+3322", "+3333"])),
    )


@st.composite
def acd_agents(
    draw: st.DrawFn,
    *,
    ids: st.SearchStrategy[str] | None = None,
    queues: Sequence[str] = ("q",),
    skills: Sequence[str] = (),
    channels: Sequence[Channel] = (Channel.VOICE,),
) -> Agent:
    """Agents in some of ``queues`` with some of ``skills`` and a capacity on ``channels``."""
    agent_id = draw(ids if ids is not None else st.uuids().map(str))
    chosen = draw(st.lists(st.sampled_from(queues), min_size=1, unique=True))
    memberships = [Membership(q, draw(st.integers(0, 2))) for q in chosen]
    agent_skills = draw(
        st.dictionaries(st.sampled_from(skills), st.integers(1, 5)) if skills else st.just({})
    )
    limits = {ch: draw(st.integers(1, 3)) if ch is Channel.CHAT else 1 for ch in channels}
    return Agent(
        id=agent_id,
        skills=agent_skills,
        memberships=memberships,
        capacity=Capacity(limits=limits),
    )


_QUEUES = ("main", "side", "strict")
_SKILLS = ("billing", "french")
_CHANNELS = (Channel.VOICE, Channel.CHAT)
_MACHINE_AGENTS = acd_agents(
    ids=st.sampled_from([f"a{i}" for i in range(5)]),
    queues=_QUEUES,
    skills=_SKILLS,
    channels=_CHANNELS,
)


class EngineMachine(RuleBasedStateMachine):
    """Random operations on an engine, with the ACD's promises checked after each.

    Checked, for every step: no contact is lost or duplicated (the engine's
    live contacts are exactly those that entered and have not ended); each
    contact ends at most once and nothing happens to it afterwards; an offer
    goes only to a ready member with a free slot who meets the contact's
    requirements; no agent exceeds a channel limit or holds two contacts
    against the blending rules; a contact is never connected to two agents;
    among waiting contacts of equal priority in a queue, an offer never skips
    an earlier one the agent could take (FIFO, by arrival time, including
    contacts restored with their original arrival time); every agent state change is
    legal and starts from the previous state; a contact kept in the queue for
    a callback keeps its place among the waiting contacts and never ends as
    an abandon.

    Since issue #15: in a queue with leave conditions a caller leaves
    (``leave-empty``) only when every member is in one of them for that
    caller, and no waiting caller is left in such a queue after a step;
    the offers of one round all ring at once, except under
    ``ring-progressively``, where each more one rings at least
    ``ring_progressively_delay`` after the one before.

    Class attributes let subclasses plug in the strategy under test.

    .. versionchanged:: 0.2
       The leave-condition and round checks.
    """

    strategy: ClassVar[str] = "longest-idle"
    strategies: ClassVar[Mapping[str, StrategyFactory] | None] = None
    policy: ClassVar[RoutingPolicy] = RoutingPolicy(max_missed_offers=2, missed_offer_delay=3)
    queue_settings: ClassVar[Mapping[str, Any]] = {}
    """Extra :class:`~callcenter_sdk.acd.Queue` settings for the three base queues
    (for example a strategy's own setting, such as ``ring_progressively_delay``)."""

    def __init__(self) -> None:
        super().__init__()
        self.h = AcdHarness(policy=self.policy, strategies=self.routing_strategies())
        self.engine = self.h.engine
        self.problems: list[str] = []
        self.entered: set[str] = set()
        self.ended: dict[str, int] = {}
        self.offers: dict[str, tuple[str, str]] = {}
        self.accepted: dict[str, str] = {}
        self.agent_states: dict[str, AgentState] = {}
        self.agents: dict[str, Agent] = {}
        self.next_contact = 0
        self.channels: dict[str, Channel] = {}
        self.priorities: dict[str, int] = {}
        self.entry_order: dict[str, tuple[float, int]] = {}
        self.callbacks: set[str] = set()
        self.transfers: dict[str, str] = {}  # transfer offer id -> agent handing over
        self.queues: dict[str, Queue] = {}
        self.rounds: dict[str, float] = {}  # contact id -> when it was last offered
        self.h.stream.subscribe(self._check_event)
        extra = dict(self.queue_settings)
        self.add_queue("side", strategy=self.strategy, channels=_CHANNELS, wrap_up=2, **extra)
        self.add_queue(
            "main",
            **extra,
            strategy=self.strategy,
            channels=_CHANNELS,
            aging_rate=0.5,
            max_wait=40,
            overflow=Overflow(target=OverflowTarget.QUEUE, queue="side"),
            offer_timeout=8,
        )
        self.add_queue(
            "strict",
            **extra,
            strategy=self.strategy,
            channels=_CHANNELS,
            max_length=2,
            max_wait=25,
            join_when_empty="no-agent-logged-in",
            leave_when_empty="no-agent-available",
            overflow=Overflow(target=OverflowTarget.CALLBACK),
            announce_every=10,
            wrap_up=1,
            relax=[RelaxStep(after=15, requirements=())],
        )

    def add_queue(self, name: str, **settings: Any) -> Queue:
        """Add a queue to the engine under test, known to the checks (its leave conditions)."""
        queue = self.h.queue(name, **settings)
        self.queues[name] = queue
        return queue

    # -- checks run inside the engine, as each event is published -----------

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def _check_round(self, event: ContactOffered) -> None:
        """Offers of one round ring at once, or at least a delay apart (progressive)."""
        if event.transfer_from:
            return
        cid = event.contact_id
        ringing = any(
            c == cid and o not in self.transfers and o != event.offer_id
            for o, (c, _) in self.offers.items()
        )
        last = self.rounds.get(cid)
        self.rounds[cid] = event.at
        if not ringing or last is None:
            return
        queue = self.queues.get(event.queue)
        if queue is not None and queue.strategy == "ring-progressively":
            if event.at - last < queue.ring_progressively_delay - 1e-9:
                self._problem(f"{cid} rung again at {event.at}, {last} before: {event}")
        elif event.at != last:
            self._problem(f"{cid} offered at {event.at} while its round from {last} rings")

    def empty_for(
        self,
        queue: str,
        low: int | None = None,
        high: int | None = None,
        lift: int | None = None,
    ) -> bool:
        """Whether every member of ``queue`` is in one of its leave conditions for a caller.

        Read from the public snapshots (members, agent status) alone: the
        machine's own statement of app_queue's rule, against which the
        engine's leave decisions are checked.
        """
        conditions = self.queues[queue].leave_empty_conditions
        offline = conditions & {
            EmptyCondition.UNAVAILABLE,
            EmptyCondition.INVALID,
            EmptyCondition.UNKNOWN,
        }
        lo = -1 if low is None else low
        hi = 1 << 62 if high is None else high
        for m in self.engine.members(queue):
            status = self.engine.agent_status(m.agent_id)
            if status.presence is AgentState.OFFLINE:
                if offline:
                    continue
            elif EmptyCondition.PAUSED in conditions:
                resting = status.reason == "missed-offer-delay"
                available = status.presence is AgentState.READY or resting
                if m.paused or not available:
                    continue
            penalty = m.penalty if lift is None else max(m.penalty, lift)
            if EmptyCondition.PENALTY in conditions and not lo <= penalty <= hi:
                continue
            if EmptyCondition.IN_USE in conditions and status.state is AgentState.BUSY:
                continue
            if EmptyCondition.RINGING in conditions and status.offers:
                continue
            if EmptyCondition.WRAP_UP in conditions and status.wrap_up:
                continue
            return False
        return True

    def _check_leave_empty(self, event: ContactExited | ContactOverflowed) -> None:
        queue = self.queues.get(event.queue)
        if event.reason != "leave-empty" or queue is None or not queue.leave_empty_conditions:
            return
        c = self.engine.contact_status(event.contact_id)
        if not self.empty_for(event.queue, c.min_penalty, c.max_penalty, c.raise_penalty):
            self._problem(f"{event.contact_id} left {event.queue} with a member available")

    def _check_event(self, seq: int, event: Event) -> None:
        cid = getattr(event, "contact_id", None)
        if cid is not None and cid in self.ended:
            self._problem(f"event {event.kind} for contact {cid} after it ended")
        if isinstance(event, ContactEnteredQueue):
            self.entered.add(event.contact_id)
            self.entry_order[event.contact_id] = (event.since, seq)
            self.accepted.pop(event.contact_id, None)
        elif isinstance(event, ContactOffered):
            self.offers[event.offer_id] = (event.contact_id, event.agent_id)
            self._check_round(event)
            self._check_offer(event)
        elif isinstance(event, OfferAccepted):
            self.offers.pop(event.offer_id, None)
            holder = self.accepted.get(event.contact_id)
            if holder != self.transfers.pop(event.offer_id, None):
                self._problem(f"{event.contact_id} accepted by {event.agent_id} and {holder}")
            self.accepted[event.contact_id] = event.agent_id
        elif isinstance(event, OfferRejected | OfferNotAnswered | OfferRescinded):
            self.offers.pop(event.offer_id, None)
            self.transfers.pop(event.offer_id, None)
        elif isinstance(event, AgentStateChanged):
            self._check_transition(event)
        elif isinstance(event, ContactTransferred):
            if not event.to_agent:
                self.accepted.pop(event.contact_id, None)
        elif isinstance(event, ContactCallbackRequested | ContactConnected | ContactAbandoned):
            self._check_callback(event)
        elif isinstance(event, ContactExited | ContactOverflowed):
            self._check_leave_empty(event)
        if cid is not None and is_final(event):
            self.ended[cid] = self.ended.get(cid, 0) + 1

    def _check_callback(
        self, event: ContactCallbackRequested | ContactConnected | ContactAbandoned
    ) -> None:
        if isinstance(event, ContactCallbackRequested):
            self.callbacks.add(event.contact_id)
        elif isinstance(event, ContactConnected):
            self.callbacks.discard(event.contact_id)
        elif event.contact_id in self.callbacks:
            self._problem(f"callback {event.contact_id} ended as an abandon")

    def _check_transition(self, event: AgentStateChanged) -> None:
        before = self.agent_states.get(event.agent_id, AgentState.OFFLINE)
        if event.previous is not before:
            self._problem(f"{event.agent_id}: previous {event.previous} but was {before}")
        if event.state not in LEGAL_TRANSITIONS[before]:
            self._problem(f"{event.agent_id}: illegal {before} -> {event.state}")
        self.agent_states[event.agent_id] = event.state

    def _check_offer(self, event: ContactOffered) -> None:
        engine = self.engine
        status = engine.agent_status(event.agent_id)
        contact = engine.contact_status(event.contact_id)
        agent = self.agents[event.agent_id]
        channel = self.channels[event.contact_id]
        before = dict(status.load)
        before[channel] -= 1
        if status.presence is not AgentState.READY:
            self._problem(f"offer to {event.agent_id} whose presence is {status.presence}")
        if before[channel] >= agent.capacity.limits.get(channel, 0):
            self._problem(f"offer to {event.agent_id} at capacity on {channel}")
        for used, n in before.items():
            if n and channel in agent.capacity.blocks.get(used, ()):
                self._problem(f"offer of {channel} to {event.agent_id} busy on {used}")
        if event.transfer_from:
            # A colleague chosen by name: no membership, skill or FIFO rule applies.
            if self.accepted.get(event.contact_id) != event.transfer_from:
                self._problem(f"transfer of {event.contact_id} from a stranger {event}")
            self.transfers[event.offer_id] = event.transfer_from
            return
        if event.queue not in {m.queue for m in agent.memberships}:
            self._problem(f"offer to {event.agent_id}, not a member of {event.queue}")
        if not agent.satisfies(contact.requirements):
            self._problem(f"offer to {event.agent_id} lacking {contact.requirements}")
        self._check_fifo(event, agent, before)

    def _check_fifo(self, event: ContactOffered, agent: Agent, before: dict[Channel, int]) -> None:
        engine = self.engine
        mine = self.priorities[event.contact_id]
        entered = self.entry_order[event.contact_id]
        for other in engine.waiting_contacts(event.queue):
            st_other = engine.contact_status(other)
            if self.priorities[other] != mine or self.entry_order[other] >= entered:
                continue
            ch = self.channels[other]
            free = before.get(ch, 0) < agent.capacity.limits.get(ch, 0) and not any(
                n and ch in agent.capacity.blocks.get(u, ()) for u, n in before.items()
            )
            if free and agent.satisfies(st_other.requirements):
                self._problem(
                    f"FIFO: {event.contact_id} offered to {event.agent_id} before {other}"
                )

    # -- rules ----------------------------------------------------------------

    def routing_strategies(self) -> Mapping[str, StrategyFactory] | None:
        """The strategy factories of one run: :attr:`strategies` unless overridden.

        hypothesis replays runs and expects the same steps to lead to the same
        state. A plugin that remembers across contacts (the memory of a sticky
        agent) must not carry that memory from one run to the next: override
        this to build its factories afresh, for example by calling the plugin
        host's ``routing_strategies()`` here.
        """
        return self.strategies

    @initialize(
        team=st.lists(
            _MACHINE_AGENTS,
            max_size=3,
            unique_by=lambda agent: agent.id,
        )
    )
    def start_with_a_team(self, team: list[Agent]) -> None:
        """Start with up to three ready agents, so contention happens early."""
        for agent in team:
            self.add_agent(agent, ready=True)

    @rule(agent=_MACHINE_AGENTS, ready=st.booleans())
    def add_agent(self, agent: Agent, ready: bool) -> None:
        """Hire an agent (ignored if the id exists) and log them in."""
        if agent.id in self.agents:
            return
        self.agents[agent.id] = agent
        self.engine.add_agent(agent)
        self.engine.login(agent.id)
        if ready:
            self.engine.set_ready(agent.id)

    @rule(
        contact=acd_contacts(channels=_CHANNELS, skills=_SKILLS, ids=st.just("new")),
        queue=st.sampled_from(_QUEUES),
        waited=st.sampled_from([None, None, 0, 4, 12, 50]),
        callback=st.sampled_from(["", "", "+33199"]),
    )
    def arrive(self, contact: Contact, queue: str, waited: float | None, callback: str) -> None:
        """A contact arrives, or is restored having waited ``waited`` s (maybe as a callback)."""
        self.next_contact += 1
        cid = f"c{self.next_contact}"
        self.channels[cid] = contact.channel
        self.priorities[cid] = contact.priority
        self.entered.add(cid)  # even if the queue refuses it, it must end exactly once
        fresh = Contact(
            id=cid,
            channel=contact.channel,
            priority=contact.priority,
            requirements=contact.requirements,
            relax=contact.relax,
            caller_id=contact.caller_id,
        )
        if waited is None:
            self.engine.arrive(fresh, queue)
            return
        since = max(0.0, self.h.clock.now() - waited)
        self.engine.arrive(fresh, queue, entered_at=since, callback=callback)
        if cid in self.engine.live_contacts():
            status = self.engine.contact_status(cid)
            _require(status.entered_at == since, status)
            phase = status.phase
            waits = phase in (ContactPhase.WAITING, ContactPhase.OFFERING)
            _require(not waits or status.callback == callback, status)

    def _agent_ids(self) -> list[str]:
        return sorted(self.agents)

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data(), ready=st.booleans())
    def presence(self, data: st.DataObject, ready: bool) -> None:
        """An agent goes ready or not ready (logging in first if needed)."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        if self.engine.agent_status(agent_id).presence is AgentState.OFFLINE:
            self.engine.login(agent_id)
        if ready:
            self.engine.set_ready(agent_id)
        else:
            self.engine.set_not_ready(agent_id, "break")

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data(), when_idle=st.booleans())
    def logout(self, data: st.DataObject, when_idle: bool) -> None:
        """An agent logs out now (refused while holding contacts) or after the work in hand."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        status = self.engine.agent_status(agent_id)
        try:
            self.engine.logout(agent_id, when_idle=when_idle)
        except TransitionError:
            busy = (status.offers or status.contacts) and not when_idle
            if not (busy or status.presence is AgentState.OFFLINE):
                raise
            return
        after = self.engine.agent_status(agent_id)
        work = bool(status.offers or status.contacts or (when_idle and status.wrap_up))
        _require(after.logout_pending == work, (status, after))
        _require((after.presence is AgentState.OFFLINE) != work, (status, after))

    @precondition(lambda self: bool(self.offers))
    @rule(data=st.data(), answer=st.sampled_from(["accept", "accept-later", "reject"]))
    def answer(self, data: st.DataObject, answer: str) -> None:
        """An agent answers one of the ringing offers."""
        offer_id = data.draw(st.sampled_from(sorted(self.offers)))
        if answer == "reject":
            self.engine.reject(offer_id, reason="busy")
        else:
            self.engine.accept(offer_id, connect=answer == "accept")

    def _live(self, *phases: ContactPhase) -> list[str]:
        return sorted(
            c for c in self.engine.live_contacts() if self.engine.contact_status(c).phase in phases
        )

    @precondition(lambda self: bool(self.engine.live_contacts()))
    @rule(data=st.data())
    def hangup(self, data: st.DataObject) -> None:
        """Someone hangs up a live contact."""
        self.engine.hangup(data.draw(st.sampled_from(sorted(self.engine.live_contacts()))))

    @precondition(lambda self: bool(self.engine.live_contacts()))
    @rule(data=st.data(), op=st.sampled_from(["connected", "hold", "resume", "transfer"]))
    def talk(self, data: st.DataObject, op: str) -> None:
        """Bridge, hold, resume or transfer a contact (if in the right phase)."""
        contact_id = data.draw(st.sampled_from(sorted(self.engine.live_contacts())))
        try:
            if op == "connected":
                self.engine.connected(contact_id)
            elif op == "transfer":
                self.engine.transfer(contact_id, data.draw(st.sampled_from(_QUEUES)))
            else:
                getattr(self.engine, op)(contact_id)
        except StateError:
            phase = self.engine.contact_status(contact_id).phase
            expected = ContactPhase.CONNECTING if op == "connected" else ContactPhase.CONNECTED
            if phase is expected:
                raise

    @precondition(lambda self: bool(self._live(ContactPhase.WAITING, ContactPhase.OFFERING)))
    @rule(data=st.data())
    def keep_place_for_callback(self, data: st.DataObject) -> None:
        """A waiting (or ringing) caller asks to be called back, keeping their place."""
        engine = self.engine
        contact_id = data.draw(
            st.sampled_from(self._live(ContactPhase.WAITING, ContactPhase.OFFERING))
        )
        status = engine.contact_status(contact_id)
        if status.callback:
            try:
                engine.keep_place_for_callback(contact_id, "+33100")
            except StateError:
                return
            raise AssertionError(f"{contact_id} became a callback twice")
        before = engine.waiting_contacts(status.queue)
        engine.keep_place_for_callback(contact_id, "+33100")
        after = engine.contact_status(contact_id)
        _require(after.callback == "+33100", after)
        _require(after.queue == status.queue, (status, after))
        if status.phase is ContactPhase.WAITING:
            # Nothing else moved: the same contacts in the same order.
            _require(engine.waiting_contacts(status.queue) == before, (before, contact_id))
        else:
            _require(after.phase in (ContactPhase.WAITING, ContactPhase.OFFERING), after)

    @precondition(lambda self: bool(self._live(ContactPhase.CONNECTING)))
    @rule(data=st.data(), reached=st.booleans())
    def call_back(self, data: st.DataObject, reached: bool) -> None:
        """The runtime calls a callback's customer: they answer, or cannot be reached."""
        contact_id = data.draw(st.sampled_from(self._live(ContactPhase.CONNECTING)))
        if not self.engine.contact_status(contact_id).callback:
            try:
                self.engine.callback_failed(contact_id)
            except StateError:
                return
            raise AssertionError(f"callback_failed accepted {contact_id}, not a callback")
        if reached:
            self.engine.connected(contact_id)
        else:
            self.engine.callback_failed(contact_id, "no-answer")

    @precondition(lambda self: bool(self._live(ContactPhase.CONNECTED)))
    @rule(data=st.data())
    def transfer_to_agent(self, data: st.DataObject) -> None:
        """An agent transfers their customer to a colleague (refused unless they can take it)."""
        engine = self.engine
        contact_id = data.draw(st.sampled_from(self._live(ContactPhase.CONNECTED)))
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        status = engine.contact_status(contact_id)
        able = engine.can_take(agent_id, Contact(id=contact_id, channel=self.channels[contact_id]))
        try:
            engine.transfer_to_agent(contact_id, agent_id)
        except (StateError, ValidationError):
            _require(not able or bool(status.offers) or status.agent_id == agent_id, status)
            return
        _require(able and not status.offers and status.agent_id != agent_id, status)
        after = engine.contact_status(contact_id)
        _require((after.phase, after.agent_id) == (ContactPhase.CONNECTED, status.agent_id), after)
        _require(after.offers == (agent_id,), after)

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data(), extend=st.booleans())
    def wrap_up(self, data: st.DataObject, extend: bool) -> None:
        """An agent in wrap-up ends or extends it."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        if not self.engine.agent_status(agent_id).wrap_up:
            return
        if extend:
            self.engine.extend_wrap_up(agent_id, 5)
        else:
            self.engine.end_wrap_up(agent_id)

    @rule(seconds=st.sampled_from([0.5, 1, 3, 9, 30]))
    def wait(self, seconds: float) -> None:
        """Time passes; timers fire."""
        self.h.later(seconds)

    # -- invariants -----------------------------------------------------------

    @invariant()
    def no_problem_seen(self) -> None:
        """Nothing wrong was seen while events were published."""
        _require(not self.problems, self.problems)

    @invariant()
    def no_caller_waits_in_a_queue_empty_under_its_leave_conditions(self) -> None:
        """A waiting caller of a queue with leave conditions has a member in none of them."""
        for name, queue in self.queues.items():
            if not queue.leave_empty_conditions:
                continue
            for cid in self.engine.waiting_contacts(name):
                c = self.engine.contact_status(cid)
                if c.callback:
                    continue  # nobody on the line: a callback waits for the next agent
                empty = self.empty_for(name, c.min_penalty, c.max_penalty, c.raise_penalty)
                _require(not empty, (name, c))

    @invariant()
    def no_contact_lost_or_duplicated(self) -> None:
        """Live contacts are exactly those entered and not ended; none ended twice."""
        live = set(self.engine.live_contacts())
        _require(live == self.entered - set(self.ended), (live, self.entered, self.ended))
        _require(all(n == 1 for n in self.ended.values()), self.ended)

    @invariant()
    def no_agent_double_booked(self) -> None:
        """Loads stay within limits and every connected contact has one agent."""
        holders: dict[str, str] = {}
        for agent_id, agent in self.agents.items():
            status = self.engine.agent_status(agent_id)
            for ch, n in status.load.items():
                _require(n <= agent.capacity.limits.get(ch, 0), (agent_id, status))
            for cid in status.contacts:
                _require(cid not in holders, (cid, holders.get(cid), agent_id))
                holders[cid] = agent_id
        for cid in self._live(ContactPhase.CONNECTED, ContactPhase.CONNECTING):
            _require(cid in holders, cid)

    @invariant()
    def pending_logouts_wait_only_for_work(self) -> None:
        """An agent whose logout is pending still has work in hand, and is not ready."""
        for agent_id in self.agents:
            status = self.engine.agent_status(agent_id)
            if status.logout_pending:
                _require(bool(status.offers or status.contacts or status.wrap_up), status)
                _require(status.presence is AgentState.NOT_READY, status)

    @invariant()
    def offers_belong_to_ringing_contacts(self) -> None:
        """Every pending offer is of a live contact still being offered, to that agent."""
        for agent_id in self.agents:
            status = self.engine.agent_status(agent_id)
            for offer_id in status.offers:
                contact_id, offered_to = self.offers.get(offer_id, ("?", "?"))
                _require(offered_to == agent_id, (offer_id, offered_to, agent_id))
                contact = self.engine.contact_status(contact_id)
                phase = ContactPhase.CONNECTED if offer_id in self.transfers else None
                _require(contact.phase in (ContactPhase.OFFERING, phase), (offer_id, contact))
                _require(agent_id in contact.offers, (offer_id, contact))
        for contact_id in self._live(ContactPhase.OFFERING):
            rung = self.engine.contact_status(contact_id).offers
            _require(len(rung) == len(set(rung)), (contact_id, rung))  # one offer per agent

    def teardown(self) -> None:
        """Hang up everything: every contact must end exactly once."""
        # One at a time: an agent's pending logout may send other contacts away.
        while live := self.engine.live_contacts():
            self.engine.hangup(live[0])
        _require(not self.engine.live_contacts())
        _require(set(self.ended) == self.entered, (self.entered, self.ended))
        _require(all(n == 1 for n in self.ended.values()), self.ended)
        _require(not self.problems, self.problems)
        records, intervals = records_from_events(self.h.capture.events)
        _require(all(r.ended_at is not None for r in records), records)
        _require({r.contact_id for r in records} >= self.entered, records)
        for interval in intervals:
            _require(interval.end is not None or interval.start <= self.h.clock.now(), interval)
