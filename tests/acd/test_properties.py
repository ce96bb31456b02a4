"""The ACD's promises, proven over random operation sequences (hypothesis stateful).

Each machine runs the public :class:`callcenter_sdk.testing.EngineMachine`,
which checks after every step: no contact lost or duplicated, never offered
to an agent who is not ready or at capacity, no agent double-booked, FIFO
among equal priority in a queue, each contact ending exactly once, and only
legal agent transitions.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.kpi import Channel
from callcenter_sdk.testing import EngineMachine


class LongestIdleMachine(EngineMachine):
    """The default strategy under random load."""


class RingAllMachine(EngineMachine):
    """Ring-all: several offers per contact, the first answer wins."""

    strategy = "ring-all"


class _Chaos:
    """A plugin that cycles through raising, lying, repeating itself and answering well."""

    index_key: acd.IndexKey | None = None
    ring = False

    def __init__(self) -> None:
        self._moods = itertools.cycle(["raise", "stranger", "twice", "good", "empty"])

    def select(self, request: acd.RoutingRequest) -> Sequence[str]:
        mood = next(self._moods)
        if mood == "raise":
            raise RuntimeError("chaos")
        if mood == "stranger":
            return ["nobody"]
        if mood == "twice":
            return [request.candidates[0].agent_id] * 2
        if mood == "empty":
            return []
        return [request.candidates[-1].agent_id]


def _chaos(options: Mapping[str, object]) -> acd.RoutingStrategy:
    return _Chaos()


class ChaosMachine(EngineMachine):
    """A misbehaving plugin never breaks a promise: the fallback decides."""

    strategy = "chaos"
    strategies = MappingProxyType({**acd.BUILTIN_STRATEGIES, "chaos": _chaos})


class RoundRobinMachine(EngineMachine):
    """Round-robin with memory, an index scanned from a moving start."""

    strategy = "round-robin"


class RingProgressivelyMachine(EngineMachine):
    """ring-progressively: one more member rings per delay while the earlier ones ring."""

    strategy = "ring-progressively"
    queue_settings = MappingProxyType({"ring_progressively_delay": 2})

    @initialize(ready=st.lists(st.booleans(), min_size=3, max_size=3))
    def a_second_shift(self, ready: list[bool]) -> None:
        """Three more agents in every base queue, so that steps find members to add."""
        for i, is_ready in enumerate(ready):
            agent = acd.Agent(
                id=f"p{i}",
                memberships=[acd.Membership(q, i % 2) for q in ("main", "side", "strict")],
                capacity=acd.Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 2}),
            )
            self.add_agent(agent, ready=is_ready)


_ALL_QUEUES = ("main", "side", "strict", "ranked", "tiered", "skipping", "progressive")
_NO_AGENT, _GRACE = 8.0, 3.0


class MembershipMachine(EngineMachine):
    """Live membership, per-queue pauses, busy lines and penalty ranges under random load.

    Two more queues join the base machine's: ``ranked`` (penalty rules
    widening the range, auto-pause, no ring-in-use, a max length counting
    ringing contacts) and ``tiered`` (FreeSWITCH tier rules and a members
    limit under which penalties are ignored). Checked on top of the base
    promises: no offer to a member paused in that queue or outside the
    contact's penalty range (unless the queue ignores penalties), and every
    queue's logged-in and available counts equal what its members show.

    Since issue #15's item 5 a sixth queue, ``skipping``, has tier rules that
    skip levels with nobody available, a no-agent timeout with a grace, exit
    keys, a retry pause between offer rounds and a max wait that cuts the
    ringing; callers press keys and completions say who hung up. Checked
    besides: a resting caller is never offered (nor counted in FIFO), a key
    of the queue takes the caller out (any other does nothing), a no-agent
    exit happens only with no member available and after the timeout plus
    the grace, a completion carries its
    ``ended_by``, and an on-demand agent is ready until they accept a
    contact, then paused.

    Since issue #15's last items a seventh queue, ``progressive``, rings
    progressively (every 2 s), sends callers away under leave conditions
    (in use, wrap-up, penalty) and raises members' penalties by its
    rules; callers bring raise values. Checked besides (with the base
    machine's leave and round checks): an offer goes to a member whose
    penalty, raised for the caller, is within the caller's range.
    """

    policy = acd.RoutingPolicy(
        max_missed_offers=3, missed_offer_delay=0, reject_delay=2, busy_delay=1
    )

    def __init__(self) -> None:
        super().__init__()
        self.add_queue(
            "ranked",
            channels=(Channel.VOICE, Channel.CHAT),
            penalty_rules=[acd.PenaltyRule(after=6, max_penalty=1, relative_max=True)],
            autopause="queue",
            autopause_busy=True,
            ring_in_use=False,
            max_length=3,
            max_wait=30,
            offer_timeout=5,
        )
        self.add_queue(
            "tiered",
            channels=(Channel.VOICE, Channel.CHAT),
            tier_rules=acd.TierRules(wait=4),
            penalty_members_limit=1,
            wrap_up=1,
            autopause="all",
            autopause_delay=5,
        )
        self.add_queue(
            "skipping",
            channels=(Channel.VOICE, Channel.CHAT),
            tier_rules=acd.TierRules(wait=5, no_agent_no_wait=True),
            no_agent_timeout=_NO_AGENT,
            no_agent_grace=_GRACE,
            exit_keys="1#",
            offer_timeout=4,
            retry=3,
            max_wait=24,
            max_wait_cuts_offer=True,
            abandoned_resume=10,
            join_empty_conditions=["unavailable", "wrapup"],
        )
        self.add_queue(
            "progressive",
            strategy="ring-progressively",
            ring_progressively_delay=2,
            channels=(Channel.VOICE, Channel.CHAT),
            offer_timeout=5,
            wrap_up=2,
            max_wait=20,
            leave_empty_conditions=["inuse", "wrapup", "penalty"],
            penalty_rules=[
                acd.PenaltyRule(after=3, raise_penalty=1),
                acd.PenaltyRule(after=6, max_penalty=1, relative_max=True),
                acd.PenaltyRule(after=9, raise_penalty=1, relative_raise=True),
            ],
        )
        self.ended_by: dict[str, acd.EndedBy] = {}
        self.jumped: dict[str, tuple[float, float]] = {}

    def _check_event(self, seq: int, event: cc.Event) -> None:
        no_agent = (isinstance(event, acd.ContactExited) and event.reason == "no-agent") or (
            isinstance(event, acd.ContactOverflowed) and event.reason == "no-agent"
        )
        if no_agent:
            assert isinstance(event, acd.ContactExited | acd.ContactOverflowed)
            if self.engine.queue_status(event.queue).available:
                self._problem(f"{event.contact_id} left {event.queue} for no agent with one")
            if event.waited < _NO_AGENT + _GRACE - 1e-9:
                self._problem(f"{event.contact_id} left for no agent after {event.waited} s")
        if isinstance(event, acd.ContactCompleted):
            expected = self.ended_by.pop(event.contact_id, acd.EndedBy.UNKNOWN)
            if event.ended_by is not expected:
                self._problem(f"{event.contact_id} ended by {event.ended_by}, not {expected}")
        if isinstance(event, acd.MemberChanged) and event.agent_id in self.agents:
            # Kept in step as each change is published: an offer may follow in the same input.
            agent = self.agents[event.agent_id]
            mine = [m for m in agent.memberships if m.queue != event.queue]
            if event.change is not acd.MemberChange.REMOVED:
                mine.append(acd.Membership(event.queue, event.penalty))
            self.agents[event.agent_id] = attrs.evolve(agent, memberships=mine)
        super()._check_event(seq, event)

    def _sync(self, agent_id: str) -> None:
        mine = [
            acd.Membership(q, m.penalty)
            for q in _ALL_QUEUES
            for m in self.engine.members(q)
            if m.agent_id == agent_id
        ]
        self.agents[agent_id] = attrs.evolve(self.agents[agent_id], memberships=mine)

    def _check_offer(self, event: acd.ContactOffered) -> None:
        super()._check_offer(event)
        if event.transfer_from:
            return
        members = {m.agent_id: m for m in self.engine.members(event.queue)}
        member = members.get(event.agent_id)
        if member is None:
            return  # reported by the base check
        if member.paused:
            self._problem(f"offer to {event.agent_id} paused in {event.queue}")
        contact = self.engine.contact_status(event.contact_id)
        if contact.resting:
            self._problem(f"{event.contact_id} offered while resting between rounds")
        flat = event.queue == "tiered" and len(members) <= 1
        low = -1 if contact.min_penalty is None else contact.min_penalty
        high = 1 << 62 if contact.max_penalty is None else contact.max_penalty
        lift = -1 if contact.raise_penalty is None else contact.raise_penalty
        penalty = max(member.penalty, lift)
        if not flat and not low <= penalty <= high:
            self._problem(f"offer to {event.agent_id} outside {contact} in {event.queue}")

    def _check_fifo(
        self, event: acd.ContactOffered, agent: acd.Agent, before: dict[Channel, int]
    ) -> None:
        """The base FIFO check, skipping earlier contacts whose range excludes the agent."""
        engine = self.engine
        members = engine.members(event.queue)
        penalty = next(m.penalty for m in members if m.agent_id == event.agent_id)
        flat = event.queue == "tiered" and len(members) <= 1
        mine = self.priorities[event.contact_id]
        entered = self._order_of(event.contact_id)
        for other in engine.waiting_contacts(event.queue):
            status = engine.contact_status(other)
            if self.priorities[other] != mine or self._order_of(other) >= entered:
                continue
            if status.resting:
                continue  # between two rounds of offers: nobody may take it
            low = -1 if status.min_penalty is None else status.min_penalty
            high = 1 << 62 if status.max_penalty is None else status.max_penalty
            lift = -1 if status.raise_penalty is None else status.raise_penalty
            if not flat and not low <= max(penalty, lift) <= high:
                continue
            ch = self.channels[other]
            free = before.get(ch, 0) < agent.capacity.limits.get(ch, 0) and not any(
                n and ch in agent.capacity.blocks.get(u, ()) for u, n in before.items()
            )
            if free and agent.satisfies(status.requirements):
                self._problem(
                    f"FIFO: {event.contact_id} offered to {event.agent_id} before {other}"
                )

    @precondition(lambda self: bool(self.agents))
    @rule(
        data=st.data(),
        op=st.sampled_from(["add", "remove", "penalty", "pause", "unpause"]),
        queue=st.sampled_from(_ALL_QUEUES),
        penalty=st.integers(0, 3),
    )
    def membership(self, data: st.DataObject, op: str, queue: str, penalty: int) -> None:
        """An agent joins or leaves a queue, changes penalty, pauses or unpauses there."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        member = any(m.agent_id == agent_id for m in self.engine.members(queue))
        try:
            if op == "add":
                self.engine.add_member(agent_id, queue, penalty)
            elif op == "remove":
                self.engine.remove_member(agent_id, queue)
            elif op == "penalty":
                self.engine.set_penalty(agent_id, queue, penalty)
            elif op == "pause":
                self.engine.pause_member(agent_id, queue, "coaching")
            else:
                self.engine.unpause_member(agent_id, queue)
        except cc.StateError:
            assert member == (op == "add"), (op, agent_id, queue)
            return
        assert member != (op == "add"), (op, agent_id, queue)
        self._sync(agent_id)

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data(), queue=st.sampled_from(_ALL_QUEUES))
    def reload(self, data: st.DataObject, queue: str) -> None:
        """A configuration reload replaces a queue's members in one change."""
        chosen = data.draw(st.lists(st.sampled_from(self._agent_ids()), unique=True))
        wanted = {a: data.draw(st.integers(0, 3)) for a in chosen}
        self.engine.reload_members(queue, wanted)
        got = {m.agent_id: m.penalty for m in self.engine.members(queue)}
        assert got == wanted, (got, wanted)
        for agent_id in self.agents:
            self._sync(agent_id)

    @precondition(lambda self: bool(self.offers))
    @rule(data=st.data())
    def line_busy(self, data: st.DataObject) -> None:
        """An agent's phone answers busy."""
        self.engine.busy(data.draw(st.sampled_from(sorted(self.offers))))

    @rule(
        queue=st.sampled_from(_ALL_QUEUES),
        low=st.sampled_from([None, 0, 1]),
        high=st.sampled_from([None, 0, 1, 2]),
        channel=st.sampled_from([Channel.VOICE, Channel.CHAT]),
        widen=st.booleans(),
        caller=st.sampled_from(["", "+331", "+332"]),
        lift=st.sampled_from([None, None, 1, 2]),
    )
    def arrive_ranged(
        self,
        *,
        queue: str,
        low: int | None,
        high: int | None,
        channel: Channel,
        widen: bool,
        caller: str,
        lift: int | None,
    ) -> None:
        """A contact arrives with a penalty range and a raise value (maybe its own rules)."""
        self.next_contact += 1
        cid = f"c{self.next_contact}"
        self.channels[cid] = channel
        self.priorities[cid] = 0
        self.entered.add(cid)
        rules = [acd.PenaltyRule(after=3, max_penalty=3)] if widen else []
        contact = acd.Contact(
            id=cid,
            channel=channel,
            caller_id=caller,
            min_penalty=low,
            max_penalty=high,
            penalty_rules=rules,
            raise_penalty=lift,
        )
        self.engine.arrive(contact, queue)

    @precondition(
        lambda self: bool(self._live(acd.ContactPhase.WAITING, acd.ContactPhase.OFFERING))
    )
    @rule(data=st.data(), key=st.sampled_from(["1", "5", "#"]))
    def key_press(self, data: st.DataObject, key: str) -> None:
        """A waiting or ringing caller presses a key: one of the queue's takes them out."""
        phases = (acd.ContactPhase.WAITING, acd.ContactPhase.OFFERING)
        contact_id = data.draw(st.sampled_from(self._live(*phases)))
        status = self.engine.contact_status(contact_id)
        self.engine.key_pressed(contact_id, key)
        leaves = status.queue == "skipping" and key in "1#" and not status.callback
        assert (contact_id not in self.engine.live_contacts()) == leaves, (status, key)

    @precondition(lambda self: bool(self._live(acd.ContactPhase.CONNECTED)))
    @rule(data=st.data(), by=st.sampled_from(list(acd.EndedBy)))
    def hang_up_by(self, data: st.DataObject, by: acd.EndedBy) -> None:
        """The caller or the agent ends a connected contact."""
        contact_id = data.draw(st.sampled_from(self._live(acd.ContactPhase.CONNECTED)))
        self.ended_by[contact_id] = by
        self.engine.hangup(contact_id, ended_by=by)

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data(), penalty=st.integers(0, 3))
    def join_progressive(self, data: st.DataObject, penalty: int) -> None:
        """An agent joins the progressive queue (its callers need members to ring)."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        if any(m.agent_id == agent_id for m in self.engine.members("progressive")):
            return
        self.engine.add_member(agent_id, "progressive", penalty)
        self._sync(agent_id)

    @precondition(lambda self: bool(self.engine.members("progressive")))
    @rule(
        low=st.sampled_from([None, 1, 2]),
        high=st.sampled_from([None, 2, 3]),
        lift=st.sampled_from([None, 1, 2, 3]),
        channel=st.sampled_from([Channel.VOICE, Channel.CHAT]),
    )
    def arrive_raised(
        self, low: int | None, high: int | None, lift: int | None, channel: Channel
    ) -> None:
        """A caller of the progressive queue whose range only raised members may fit."""
        self.next_contact += 1
        cid = f"c{self.next_contact}"
        self.channels[cid] = channel
        self.priorities[cid] = 0
        self.entered.add(cid)
        contact = acd.Contact(
            id=cid, channel=channel, min_penalty=low, max_penalty=high, raise_penalty=lift
        )
        self.engine.arrive(contact, "progressive")

    @rule(queue=st.sampled_from(_ALL_QUEUES), position=st.integers(1, 4))
    def arrive_at_position(self, queue: str, position: int) -> None:
        """A caller asks for a place in the queue (app_queue's position option)."""
        self.next_contact += 1
        cid = f"c{self.next_contact}"
        self.channels[cid] = Channel.VOICE
        self.priorities[cid] = 0
        self.entered.add(cid)
        before = self.engine.waiting_contacts(queue)
        self.engine.arrive(acd.Contact(id=cid), queue, position=position)
        after = self.engine.waiting_contacts(queue)
        if cid not in after:
            return
        place = after.index(cid)
        assert place <= max(position - 1, len(before)), (position, after)
        if place + 1 < len(after):  # it went before that contact: FIFO counts it so
            since, seq = self._order_of(after[place + 1])
            below = seq - 1.0
            if place > 0:  # between its neighbours, as several callers may jump to one place
                prev, nxt = after[place - 1], after[place + 1]
                prev_since, prev_seq = self._order_of(prev)
                if prev_since == since and self.priorities[prev] == self.priorities[nxt]:
                    below = max(below, prev_seq)
            self.jumped[cid] = (since, (below + seq) / 2)

    def _order_of(self, contact_id: str) -> tuple[float, float]:
        """A contact's place by arrival, or the place it asked for (arrive_at_position)."""
        return self.jumped.get(contact_id) or self.entry_order[contact_id]

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data())
    def ready_on_demand(self, data: st.DataObject) -> None:
        """A logged-in agent becomes available for one contact (On Demand)."""
        agent_id = data.draw(st.sampled_from(self._agent_ids()))
        if self.engine.agent_status(agent_id).presence is acd.AgentState.OFFLINE:
            return
        taken = len(self.engine.agent_status(agent_id).contacts)
        self.engine.set_ready(agent_id, on_demand=True)
        status = self.engine.agent_status(agent_id)
        if len(status.contacts) > taken:  # took a waiting contact at once
            assert (status.presence, status.reason) == (acd.AgentState.NOT_READY, "on-demand")

    @invariant()
    def on_demand_agents_are_ready_until_they_take_a_contact(self) -> None:
        """An on-demand agent is ready (or resting a moment after a missed offer)."""
        for agent_id in self.agents:
            status = self.engine.agent_status(agent_id)
            if status.on_demand:
                resting = status.reason == "missed-offer-delay"
                assert status.presence is acd.AgentState.READY or resting, status

    @invariant()
    def queue_counts_match_the_members(self) -> None:
        """Each queue's logged-in and available counts are what its members show."""
        for q in _ALL_QUEUES:
            logged = available = 0
            for m in self.engine.members(q):
                status = self.engine.agent_status(m.agent_id)
                logged += status.presence is not acd.AgentState.OFFLINE
                rests = status.reason == "missed-offer-delay"
                on = status.presence is acd.AgentState.READY or (
                    status.presence is acd.AgentState.NOT_READY and rests
                )
                available += on and not m.paused
            status_q = self.engine.queue_status(q)
            assert (status_q.logged_in, status_q.available) == (logged, available), q


_SETTINGS = settings(
    max_examples=1000,
    stateful_step_count=16,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestLongestIdle = LongestIdleMachine.TestCase
TestLongestIdle.settings = _SETTINGS
TestRingAll = RingAllMachine.TestCase
TestRingAll.settings = settings(_SETTINGS, max_examples=200)
TestChaos = ChaosMachine.TestCase
TestChaos.settings = settings(_SETTINGS, max_examples=150)
TestRoundRobin = RoundRobinMachine.TestCase
TestRoundRobin.settings = settings(_SETTINGS, max_examples=100)
TestMembership = MembershipMachine.TestCase
TestMembership.settings = _SETTINGS  # 1,000 examples: the live-membership and issue #15 inputs
TestRingProgressively = RingProgressivelyMachine.TestCase
TestRingProgressively.settings = _SETTINGS
