"""The engine's books and routing core: indexes, the choice of agent or contact, offers.

:class:`Router` holds every mutable record of the engine (queues, agents,
live contacts, offers, timers) and the operations that keep the ready-agent
indexes and sub-queues right and make routing decisions. The input methods
users call live on its subclass :class:`~callcenter_sdk.acd.Engine`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._clock import Clock
from .._errors import (
    NotFoundError,
    ValidationError,
)
from .._events import EventStream
from ..kpi import Channel
from ._actions import Action, Offer, Rescind
from ._agent import LEGAL_TRANSITIONS, AgentBook
from ._events import (
    AgentState,
    AgentStateChanged,
    ContactOffered,
    OfferRescinded,
    PluginFault,
)
from ._model import EmptyCondition, EmptyRule, SkillRequirement
from ._queue import ContactBook, ContactPhase, OfferBook, QueueBook
from ._strategy import (
    BUILTIN_STRATEGIES,
    Candidate,
    IndexKey,
    RoutingRequest,
    StrategyFactory,
)
from ._unchecked import unchecked

__all__ = ["Router", "RoutingPolicy"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_BUSY = AgentState.BUSY
_NOT_READY = AgentState.NOT_READY
_OFFLINE = AgentState.OFFLINE
_READY = AgentState.READY
_RESERVED = AgentState.RESERVED
_WRAP_UP = AgentState.WRAP_UP
_CONNECTED = ContactPhase.CONNECTED
_OFFERING = ContactPhase.OFFERING
_ROTATION = IndexKey.ROTATION

_OFFER, _WRAP, _DELAY, _MAXWAIT, _RELAX, _ANNOUNCE, _PENALTY, _NOAGENT, _RETRY, _RING = range(10)
# The needs of a contact resting between offer rounds: a level no agent has.
_HELD_NEEDS = (("", 6),)
_Class = tuple[tuple[SkillRequirement, ...], int | None, int | None, int | None]
# Conditions app_queue reads from the device state; the ACD reads all three as logged out.
_OFFLINE_CONDITIONS = frozenset(
    {EmptyCondition.UNAVAILABLE, EmptyCondition.INVALID, EmptyCondition.UNKNOWN}
)
_W = ContactPhase.WAITING
_NO_AGENT_LOGGED_IN = EmptyRule.NO_AGENT_LOGGED_IN
_NO_AGENT_AVAILABLE = EmptyRule.NO_AGENT_AVAILABLE
MISS_DELAY = "missed-offer-delay"
"""The not-ready reason of an agent resting after a missed offer."""
AUTO_PAUSE = "auto-pause"
"""The pause reason of a member paused by the queue's ``autopause``."""
# The values the routing core builds on every contact, from values it made itself.
_new_state_changed = unchecked(AgentStateChanged)
_new_offered = unchecked(ContactOffered)
_new_offer = unchecked(Offer)
_new_rescinded = unchecked(OfferRescinded)
_new_rescind = unchecked(Rescind)


@attrs.frozen(kw_only=True)
class RoutingPolicy:
    """Engine-wide rules for missed offers, plugins and estimates.

    Attributes:
        max_missed_offers: Consecutive missed offers (rejected or unanswered)
            after which the agent is put not ready (reason ``missed-offers``).
        missed_offer_delay: Seconds an agent rests (not ready, reason
            ``missed-offer-delay``) after a missed offer, before being ready
            again; 0 for none.
        plugin_budget: Seconds a generic strategy may take before its answer
            is discarded as too slow.
        aht_smoothing: Weight of the newest handle time in the moving average
            used by the estimated wait.
        no_answer_delay: The rest after an offer left unanswered;
            ``None``: ``missed_offer_delay`` (FreeSWITCH's
            ``no-answer-delay-time``).
        reject_delay: The rest after a rejected offer; ``None``:
            ``missed_offer_delay`` (``reject-delay-time``).
        busy_delay: The rest after the agent's phone answered busy
            (:meth:`Engine.busy <callcenter_sdk.acd.Engine.busy>`); ``None``:
            ``missed_offer_delay`` (``busy-delay-time``).

    .. versionchanged:: 0.2
       ``no_answer_delay``, ``reject_delay`` and ``busy_delay``.
    """

    max_missed_offers: int = 3
    missed_offer_delay: float = 5.0
    plugin_budget: float = 0.005
    aht_smoothing: float = 0.1
    no_answer_delay: float | None = None
    reject_delay: float | None = None
    busy_delay: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.max_missed_offers < 1 or self.missed_offer_delay < 0 or self.plugin_budget <= 0:
            raise ValidationError(f"invalid routing policy {self!r}")
        delays = (self.no_answer_delay, self.reject_delay, self.busy_delay)
        if any(d is not None and not (math.isfinite(d) and d >= 0) for d in delays):
            raise ValidationError(f"invalid routing policy {self!r}: delays must be >= 0")
        if not 0 < self.aht_smoothing <= 1:
            raise ValidationError("aht_smoothing must be in (0, 1]")

    def delay_after(self, outcome: str) -> float:
        """Seconds of rest after a missed offer ending with ``outcome``.

        ``outcome`` is ``"no-answer"``, ``"reject"`` or ``"busy"``.
        """
        specific = {
            "no-answer": self.no_answer_delay,
            "reject": self.reject_delay,
            "busy": self.busy_delay,
        }[outcome]
        return self.missed_offer_delay if specific is None else specific


class Router:
    """Books and routing primitives under :class:`~callcenter_sdk.acd.Engine` (internal).

    See :class:`~callcenter_sdk.acd.Engine` for the constructor's arguments.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        events: EventStream | None = None,
        strategies: Mapping[str, StrategyFactory] | None = None,
        policy: RoutingPolicy | None = None,
        perf_counter: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        self._events = events if events is not None else EventStream()
        self._publish = self._events.publish
        self._factories = dict(BUILTIN_STRATEGIES if strategies is None else strategies)
        self._policy = policy or RoutingPolicy()
        self._perf = perf_counter
        self._queues: dict[str, QueueBook] = {}
        self._agents: dict[str, AgentBook] = {}
        self._by_idx: list[AgentBook] = []
        self._contacts: dict[str, ContactBook] = {}
        self._offers: dict[str, OfferBook] = {}
        # (due, sequence, kind, what it is about, token); what it is about depends
        # on the kind (an OfferBook, a ContactBook...), read without a cast on the hot path.
        self._timers: list[tuple[float, int, int, Any, int]] = []
        self._timer_seq = 0
        self._seq = 0
        self._token = 0
        self._offer_seq = 0
        self._now = clock.now()
        self._out: list[Action] = []
        # Requirement sets (with a penalty range) interned to small ints;
        # _needs[cls] is the plain form of the requirements.
        self._classes: dict[_Class, int] = {((), None, None, None): 0}
        self._needs: list[tuple[tuple[str, int], ...]] = [()]
        # Queues that began ignoring penalties since the last membership change.
        self._widened: list[QueueBook] = []
        # Queues with leave conditions whose members or waiting callers changed
        # during the current input: checked once it is over (an ordered set).
        self._leave_dirty: dict[QueueBook, None] = {}
        # Entries of every queue's ``due`` (ring-progressively steps that found nobody).
        self._due_total = 0
        # Queues with a no-agent timeout (a presence change must track their spells).
        self._no_agent_queues = 0

    def _begin(self) -> float:
        now = self._clock.now()
        if now > self._now:  # noqa: PLR1730 - no max() call on the hot path
            self._now = now
        return self._now

    def _flush(self) -> list[Action]:
        if self._leave_dirty:
            self._leave_on_conditions()
        out, self._out = self._out, []
        return out

    def _leave_on_conditions(self) -> None:
        """Send away callers of queues empty under their leave conditions (the engine's)."""

    def _watch_leave(self, a: AgentBook) -> None:
        """Mark ``a``'s queues with leave conditions for a check at the end of the input."""
        for q in a.leave_queues:
            if q.leaving:
                self._leave_dirty[q] = None

    def _nobody(
        self,
        q: QueueBook,
        conditions: frozenset[EmptyCondition],
        low: int | None = None,
        high: int | None = None,
        lift: int | None = None,
    ) -> bool:
        """Whether every member of ``q`` is in one of ``conditions`` (``O(members)``).

        app_queue's one notion of an empty queue, for ``joinempty`` and
        ``leavewhenempty`` alike: ``low``, ``high`` and ``lift`` are the
        caller's penalty range and raise value, read by the ``penalty``
        condition.
        """
        offline = bool(conditions & _OFFLINE_CONDITIONS)
        paused = EmptyCondition.PAUSED in conditions
        penalty = EmptyCondition.PENALTY in conditions and not q.flat
        in_use = EmptyCondition.IN_USE in conditions
        ringing = EmptyCondition.RINGING in conditions
        wrap = EmptyCondition.WRAP_UP in conditions
        lo = -1 if low is None else low
        hi = math.inf if high is None else high
        floor = -1 if lift is None else lift
        agents = self._by_idx
        for idx, (pen, _) in q.members.items():
            a = agents[idx]
            if a.presence is _OFFLINE:
                if offline:
                    continue
            elif paused and (not _counts_available(a.presence, a.reason) or q.name in a.paused_in):
                continue
            if penalty and not lo <= max(pen, floor) <= hi:
                continue
            if (in_use and a.state is _BUSY) or (ringing and a.offers):
                continue
            if wrap and a.wrap:
                continue
            return False
        return True

    def _agent(self, agent_id: str) -> AgentBook:
        a = self._agents.get(agent_id)
        if a is None:
            raise NotFoundError(f"unknown agent {agent_id!r}")
        return a

    def _contact(self, contact_id: str) -> ContactBook:
        c = self._contacts.get(contact_id)
        if c is None:
            raise NotFoundError(f"no live contact {contact_id!r}")
        return c

    def _queue(self, name: str) -> QueueBook:
        q = self._queues.get(name)
        if q is None:
            raise NotFoundError(f"unknown queue {name!r}")
        return q

    def _timer(self, when: float, kind: int, obj: object, token: int) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, kind, obj, token))

    def _set_presence(self, a: AgentBook, presence: AgentState, reason: str) -> None:
        old, old_reason = a.presence, a.reason
        a.presence, a.reason = presence, reason
        if presence is not _READY and reason != MISS_DELAY:
            a.on_demand = False  # any pause ends "one contact only"; set_ready says it again
        d_in = (presence is not _OFFLINE) - (old is not _OFFLINE)
        d_av = _counts_available(presence, reason) - _counts_available(old, old_reason)
        if d_in or d_av:
            self._count_presence(a, d_in, d_av)

    def _count_presence(self, a: AgentBook, d_in: int, d_av: int) -> None:
        """Move the logged-in and available counts of ``a``'s queues by ``d_in`` and ``d_av``."""
        queues = a.queues
        if d_in:
            for q in queues:
                q.logged_in += d_in
        paused = a.paused_in
        if paused:
            for q in queues:
                if q.name not in paused:
                    q.available += d_av
                    if q.no_agent:
                        self._track_agents(q)
        elif self._no_agent_queues:
            for q in queues:
                q.available += d_av
                if q.no_agent:
                    self._track_agents(q)
        else:  # the common case: one addition per queue, nothing else to check
            for q in queues:
                q.available += d_av

    def _track_agents(self, q: QueueBook) -> None:
        """Start or end ``q``'s agentless spell (the no-agent timeout) as ``available`` moved."""
        if q.available > 0:
            q.agentless_since = None
        elif q.agentless_since is None:
            q.agentless_since = self._now
            q.agentless_token += 1
            timeout = q.config.no_agent_timeout or 0.0
            self._timer(self._now + timeout, _NOAGENT, q, q.agentless_token)

    def _refresh(self, a: AgentBook, reason: str, queue: str = "") -> None:  # noqa: PLR0912 - derive() inlined
        busy = connecting = False
        held = True
        if a.connected:  # no loop set up for an agent with nothing in hand
            for c in a.connected.values():
                if c.phase is _CONNECTED:
                    busy = True
                    held = held and c.hold_since is not None
                else:
                    connecting = True
        # AgentBook.derive, inlined: this runs after every change of every agent.
        presence = a.presence
        state: AgentState
        if presence is _OFFLINE:
            state = presence
        elif busy:
            state = _BUSY
        elif a.wrap:
            state = _WRAP_UP
        elif a.offers or connecting:
            state = _RESERVED
        else:
            state = presence
        on_hold = busy and held
        if state is _NOT_READY or state is _OFFLINE:
            reason = a.reason
        unchanged = state is a.state and on_hold == a.on_hold
        if unchanged and (state is not _NOT_READY or reason == a.shown):
            return
        if state not in LEGAL_TRANSITIONS[a.state]:  # a.check(state), inlined
            a.check(state)
        if a.leave_queues:
            self._watch_leave(a)
        self._publish(
            _new_state_changed(
                at=self._now,
                agent_id=a.agent.id,
                state=state,
                previous=a.state,
                reason=reason,
                queue=queue,
                on_hold=on_hold,
            )
        )
        a.state, a.on_hold, a.shown = state, on_hold, reason

    def _reindex(self, a: AgentBook, takes: list[Channel] | None = None) -> None:
        """Make ``a``'s ready-index entries match what they can take now.

        Old entries are not removed from the sorted lists: bumping the agent's
        entry version makes them all stale in ``O(1)``, and scans sweep them.
        New entries are inserted in ``O(M log r)``. ``takes``: the channels a
        ready ``a`` can take now, when the caller has just listed them.
        """
        old = a.index
        want: dict[tuple[str, Channel], tuple[QueueBook, Channel, int, tuple[Any, ...]]] = {}
        if a.presence is _READY:
            if takes is None:
                takes = [ch for ch in a.limits if a.can_take(ch)]
            if takes:
                paused = a.paused_in
                busy = any(a.load.values())  # a.active > 0, without the property and sum
                for q, pen, order, channels in a.memberships:
                    if (paused and q.name in paused) or (busy and not q.ring_in_use):
                        continue
                    level = 0 if q.flat else pen  # q.tier_of(pen), inlined
                    for ch in channels:
                        if ch in takes:
                            want[(q.name, ch)] = (q, ch, level, q.key_for(a, order))
        if want == old:
            return
        a.version += 1  # every old entry of this agent is stale from now on
        tail = (a.idx, a.version)
        for q, ch, pen, fields in want.values():
            tier = q.add_ready(ch, pen, fields + tail)
            # Full sweep when the list doubled since the last one: amortised O(1).
            if len(tier) > 2 * q.swept.get((ch, pen), 0) + 32:
                agents = self._by_idx
                tier[:] = [k for k in tier if agents[k[-2]].version == k[-1]]
                q.swept[(ch, pen)] = len(tier)
        a.index = want

    def _require(self, c: ContactBook, reqs: tuple[SkillRequirement, ...]) -> None:
        """Set ``c``'s requirements and the interned class id of them and its penalty range."""
        c.reqs = reqs
        key = (reqs, c.low, c.high, c.lift)
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = len(self._needs)
            self._needs.append(tuple((r.skill, r.min_level) for r in reqs))
        if c.held:  # a sub-queue of its own that no agent can serve
            cls = -1 - cls
            c.cls = cls
            c.needs = _HELD_NEEDS
            return
        c.cls = cls
        c.needs = self._needs[cls]

    def _wait(self, c: ContactBook) -> None:
        self._token += 1
        q = c.queue
        q.add_waiting(c, self._token)
        if q.leaving:
            self._leave_dirty[q] = None

    def _unwait(self, c: ContactBook) -> None:
        c.queue.remove_waiting(c)

    def _serve_agent(self, a: AgentBook) -> None:
        """A freed agent takes the best waiting contacts they can, up to capacity.

        The best contact across the agent's queues has the highest effective
        priority, then the longest wait times the queue's weight, then the
        earliest arrival. Each sub-queue's head is read in O(1).
        """
        # What a ready agent can take when nothing more was for them (reindexed from it).
        takes: list[Channel] | None = None
        while a.presence is _READY:
            channels = [ch for ch in a.limits if a.can_take(ch)]
            best = self._best_for(a, channels) if channels else None
            if best is None:
                if self._due_total and channels and self._ring_due(a):
                    continue
                takes = channels
                break
            q = best.queue
            if q.index_key is _ROTATION:  # the pointer moves whoever chose
                q.rr_last = q.members[a.idx][1]
            self._offer(best, [a])
        self._reindex(a, takes)
        if a.leaving is not None:
            self._leave_if_idle(a)

    def _leave_if_idle(self, a: AgentBook) -> None:
        """Log off an agent whose logout waited for their work to end (the engine's)."""

    def _best_for(self, a: AgentBook, channels: list[Channel]) -> ContactBook | None:
        """The best waiting contact ``a`` may take on ``channels``, across their queues."""
        now = self._now
        best: ContactBook | None = None
        best_eff = best_wait = -math.inf
        paused = a.paused_in
        busy = a.active > 0
        # Whether the agent meets a sub-queue's needs, by its class id (interned
        # requirements: a class's needs never change, nor the agent's skills).
        met = a.met
        for q in a.queues:
            if not q.waiting or (busy and not q.ring_in_use) or (paused and q.name in paused):
                continue
            rate_now = q.rate * now
            # The queue's best key bounds every head's effective priority:
            # a queue whose best contact cannot beat the best found is skipped.
            if rate_now - q.order[0][0] < best_eff:
                continue
            for sub in q.subs.values():
                if sub.channel not in channels:
                    continue
                ok = met.get(sub.cls)
                if ok is None:
                    ok = met[sub.cls] = a.meets(sub.needs)
                if not ok or (sub.ranged and not q.flat and not sub.admits(q.members[a.idx][0])):
                    continue
                c = sub.head
                if c is None:  # pragma: no cover - a live sub always has a head
                    continue
                eff = rate_now - c.neg_score
                if eff < best_eff:
                    continue
                # The place's entry time and sequence (c.key), not the contact's
                # own: they differ only for a caller who asked for a position,
                # who must keep that place against callers of other sub-queues.
                key = c.key
                wait = q.weight * (now - key[1])
                if eff == best_eff and (
                    wait < best_wait
                    or (wait == best_wait and best is not None and key[2] > best.key[2])
                ):
                    continue
                best, best_eff, best_wait = c, eff, wait
        return best

    def _serve_contact(self, c: ContactBook) -> None:
        """Offer a (waiting) contact to the best ready agent(s), if any."""
        q = c.queue
        if q.skip_tiers and c.pstep < len(c.prules) and not c.contact.penalty_rules:
            self._skip_tiers(c)
        tiers = q.tiers(c.contact.channel, c.low, c.high, c.lift)
        if not tiers:
            return
        if q.index_key is None:
            self._route_generic(c, tiers)
            return
        self._ring(c, self._pick_indexed(q, tiers, c.needs, c.contact.channel))

    def _ring(self, c: ContactBook, chosen: list[AgentBook]) -> None:
        """Offer ``c`` to the agents its indexed queue chose (nothing when none was)."""
        if chosen:
            q = c.queue
            if q.index_key is _ROTATION:
                q.rr_last = q.members[chosen[0].idx][1]
            self._offer(c, chosen)

    def _skip_tiers(self, c: ContactBook) -> None:
        """Open ``c``'s next tier levels at once while its highest open one has nobody available.

        mod_callcenter's ``tier-rule-no-agent-no-wait``: a level counts as
        staffed when one of its members is logged in and not paused (busy or
        not). ``O(members)``, only for queues with that rule.
        """
        q = c.queue
        agents = self._by_idx
        staffed: set[int] = set()
        for idx, (penalty, _) in q.members.items():
            a = agents[idx]
            if _counts_available(a.presence, a.reason) and q.name not in a.paused_in:
                staffed.add(penalty)
        prules = c.prules
        before = c.pstep
        while c.pstep < len(prules):
            high = math.inf if c.high is None else c.high
            low = -1 if c.low is None else c.low
            top = max((lvl for lvl in q.levels if low <= lvl <= high), default=None)
            if top is not None and top in staffed:
                break
            c.low, c.high = prules[c.pstep].apply(c.low, c.high)
            c.lift = prules[c.pstep].raise_to(c.lift)
            c.pstep += 1
        if c.pstep == before:
            return
        waiting = c.phase is _W
        if waiting:
            self._unwait(c)
        self._require(c, c.reqs)
        if waiting:
            self._wait(c)
        if c.pstep < len(prules):
            self._timer(c.entered_at + prules[c.pstep].after, _PENALTY, c, c.enter_token)

    def _pick_indexed(
        self,
        q: QueueBook,
        tiers: list[list[tuple[Any, ...]]],
        needs: tuple[tuple[str, int], ...],
        channel: Channel,
        skip: Mapping[AgentBook, object] | None = None,
    ) -> list[AgentBook]:
        """The first eligible agent(s) of the best tier in the index order; sweeps stale entries.

        Agents in ``skip`` (those already ringing with the contact) are passed over.
        """
        agents = self._by_idx
        want = q.config.ring_size if q.ring else 1
        chosen: list[AgentBook] = []
        for tier in tiers:
            _sweep_front(tier, agents)
            positions: Iterable[int] = range(len(tier))
            if q.index_key is _ROTATION:
                start = bisect.bisect_right(tier, (q.rr_last, math.inf))
                positions = itertools.chain(range(start, len(tier)), range(start))
            stale: list[int] = []
            for i in positions:
                key = tier[i]
                a = agents[key[-2]]
                if a.version != key[-1]:
                    stale.append(i)
                elif a.meets(needs) and a.can_take(channel) and not (skip and a in skip):
                    chosen.append(a)
                    if len(chosen) >= want:
                        break
            if stale:
                for i in sorted(stale, reverse=True):
                    del tier[i]
            if chosen:
                break
        return chosen

    def _candidate(self, a: AgentBook, q: QueueBook, lift: int | None = None) -> Candidate:
        penalty, order = q.members[a.idx]
        if lift is not None and penalty < lift and not q.flat:
            penalty = lift  # the strategy sees the raised penalty, as app_queue's metric does
        return Candidate(
            agent_id=a.agent.id,
            penalty=penalty,
            order=order,
            idle_since=a.idle_since,
            active=a.active,
            handled=a.handled,
            talk_time=a.talk_time,
            skills=a.agent.skills,
        )

    def _route_generic(self, c: ContactBook, tiers: list[list[tuple[Any, ...]]]) -> None:
        q = c.queue
        needs = c.needs
        limit = q.config.candidate_limit
        agents = self._by_idx
        candidates: list[Candidate] = []
        for tier in tiers:
            _sweep_front(tier, agents)
            stale: list[int] = []
            for i, key in enumerate(tier):
                a = agents[key[-2]]
                if a.version != key[-1]:
                    stale.append(i)
                elif a.meets(needs):
                    candidates.append(self._candidate(a, q, c.lift))
                    if len(candidates) >= limit:
                        break
            for i in reversed(stale):
                del tier[i]
            if len(candidates) >= limit:
                break
        if not candidates:
            return
        channel = c.contact.channel

        sub_range = (-1 if c.low is None else c.low, 1 << 62 if c.high is None else c.high)
        floor = -1 if c.lift is None else c.lift

        def lookup(agent_id: str) -> Candidate | None:
            a = self._agents.get(agent_id)
            if a is None or a.idx not in q.members or q.name in a.paused_in:
                return None
            if not a.can_take(channel) or not a.meets(needs):
                return None
            if a.active and not q.ring_in_use:
                return None
            if not q.flat and not sub_range[0] <= max(q.members[a.idx][0], floor) <= sub_range[1]:
                return None
            return self._candidate(a, q, c.lift)

        request = RoutingRequest(
            contact=c.contact,
            queue=q.name,
            now=self._now,
            candidates=tuple(candidates),
            lookup=lookup,
            ring_size=q.config.ring_size if q.ring else 1,
        )
        chosen = self._ask_strategy(q, c, request)
        if chosen is None:
            chosen = [candidates[0].agent_id]
        self._offer(c, [self._agents[x] for x in chosen])

    def _ask_strategy(
        self, q: QueueBook, c: ContactBook, request: RoutingRequest
    ) -> list[str] | None:
        """Run a generic strategy under guard; ``None`` means use the fallback."""
        start = self._perf()
        try:
            answer = q.strategy.select(request)
        except Exception as exc:  # noqa: BLE001 - any plugin failure falls back
            self._fault(q, c, "raised", repr(exc))
            return None
        elapsed = self._perf() - start
        if elapsed > self._policy.plugin_budget:
            self._fault(q, c, "slow", f"took {elapsed * 1000:.3f} ms")
            return None
        known = {cand.agent_id for cand in request.candidates}
        ok = (
            isinstance(answer, list | tuple)
            and 0 < len(answer) <= request.ring_size
            and len(set(answer)) == len(answer)
            and all(
                isinstance(x, str) and (x in known or request.lookup(x) is not None) for x in answer
            )
        )
        if not ok:
            self._fault(q, c, "invalid", f"answered {answer!r}")
            return None
        return list(answer)

    def _fault(self, q: QueueBook, c: ContactBook | None, kind: str, detail: str) -> None:
        self._publish(
            PluginFault(
                at=self._now,
                strategy=q.config.strategy,
                queue=q.name,
                contact_id=c.contact.id if c is not None else "",
                fault=kind,
                detail=detail[:200],
            )
        )

    def _offer(self, c: ContactBook, agents: Sequence[AgentBook], transfer_from: str = "") -> None:
        """Ring ``agents`` with ``c``; a transfer offer leaves the contact connected."""
        now = self._now
        q = c.queue
        if c.phase is _W:
            if c.sub is not None:  # else rung on entry: it never waited
                self._unwait(c)
            q.ringing += 1
            if q.progressive and not transfer_from:
                # ring-progressively: a new round; one more member rings at each step.
                self._undue(c)
                c.round += 1
                self._timer(now + q.config.ring_progressively_delay, _RING, c, c.round)
        if not transfer_from:
            c.phase = _OFFERING
        expires = now + q.config.offer_timeout
        channel = c.contact.channel
        cid = c.contact.id
        for a in agents:
            self._offer_seq += 1
            offer_id = f"o{self._offer_seq}"
            o = OfferBook(offer_id, c, a, expires)
            c.offers[offer_id] = o
            a.offers[offer_id] = o
            self._offers[offer_id] = o
            a.load[channel] += 1
            self._timer(expires, _OFFER, o, 0)
            self._reindex(a)
            aid = a.agent.id
            self._publish(
                _new_offered(
                    at=now,
                    contact_id=cid,
                    queue=q.name,
                    agent_id=aid,
                    offer_id=offer_id,
                    expires_at=expires,
                    transfer_from=transfer_from,
                )
            )
            self._out.append(
                _new_offer(
                    offer_id=offer_id,
                    contact_id=cid,
                    agent_id=aid,
                    queue=q.name,
                    expires_at=expires,
                    callback=c.callback,
                    transfer_from=transfer_from,
                )
            )
            self._refresh(a, "offered", q.name)

    def _ring_more(self, c: ContactBook) -> None:
        """ring-progressively's step: the next ready member rings too; the step comes back.

        mod_callcenter's ``ring-progressively`` rings the members in order
        (penalty, then order of joining) without stopping the earlier ones,
        one more every ``ring_progressively_delay`` seconds. With nobody
        able to take it at a step, the contact is *due*: the first member
        who becomes able to (freed, ready, unpaused, a wider range) rings at
        once, and the next step comes a delay after that. A contact past its
        maximum wait rings nobody new.
        """
        q = c.queue
        if c.expired:
            self._undue(c)
            return
        channel = c.contact.channel
        tiers = q.tiers(channel, c.low, c.high, c.lift)
        chosen: list[AgentBook] = []
        if tiers:
            ringing = {o.agent: None for o in c.offers.values()}
            chosen = self._pick_indexed(q, tiers, c.needs, channel, ringing)
        if chosen:
            self._undue(c)
            self._offer(c, chosen[:1])
            self._timer(self._now + q.config.ring_progressively_delay, _RING, c, c.round)
        else:
            if c not in q.due:
                self._due_total += 1
            q.due[c] = c.round

    def _undue(self, c: ContactBook) -> None:
        due = c.queue.due
        if due and due.pop(c, None) is not None:
            self._due_total -= 1

    def _ring_due(self, a: AgentBook) -> bool:
        """Ring ``a`` with the first contact of their queues whose last step found nobody.

        mod_callcenter's dispatcher looks for the next member on each of its
        passes once the delay is over; here the member who becomes able to
        take such a contact rings at once, and the next step comes a delay
        later. Called only when no waiting contact is theirs to take, so
        waiting callers keep their turn.
        """
        for q in a.queues:
            due = q.due
            if not due:
                continue
            for c in sorted(due, key=lambda x: x.key):
                if c.phase is not _OFFERING or due[c] != c.round or c.expired:
                    del due[c]
                    self._due_total -= 1
                elif self._fits(a, c):
                    del due[c]
                    self._due_total -= 1
                    self._offer(c, [a])
                    self._timer(self._now + q.config.ring_progressively_delay, _RING, c, c.round)
                    return True
        return False

    def _fits(self, a: AgentBook, c: ContactBook) -> bool:
        """Whether ``a`` may be rung with ``c`` now (ready, member, range, skills, free slot)."""
        q = c.queue
        member = q.members.get(a.idx)
        if member is None or q.name in a.paused_in or (a.active and not q.ring_in_use):
            return False
        if not a.can_take(c.contact.channel) or not a.meets(c.needs):
            return False
        if not q.flat:
            low = -1 if c.low is None else c.low
            high = 1 << 62 if c.high is None else c.high
            if not low <= max(member[0], -1 if c.lift is None else c.lift) <= high:
                return False
        return all(o.agent is not a for o in c.offers.values())

    def _drop_offer(self, o: OfferBook) -> None:
        del self._offers[o.id]
        del o.contact.offers[o.id]
        del o.agent.offers[o.id]
        o.agent.load[o.contact.contact.channel] -= 1

    def _rescind(self, o: OfferBook, reason: str) -> AgentBook:
        self._drop_offer(o)
        a, c = o.agent, o.contact
        cid, aid = c.contact.id, a.agent.id
        self._publish(
            _new_rescinded(
                at=self._now,
                contact_id=cid,
                queue=c.queue.name,
                agent_id=aid,
                offer_id=o.id,
                reason=reason,
            )
        )
        self._out.append(_new_rescind(offer_id=o.id, contact_id=cid, agent_id=aid))
        self._reindex(a)
        self._refresh(a, "rescinded", c.queue.name)
        return a


def _empty(q: QueueBook, rule: EmptyRule) -> bool:
    if rule is _NO_AGENT_LOGGED_IN:
        return q.logged_in == 0
    if rule is _NO_AGENT_AVAILABLE:
        return q.available == 0
    return False


def _counts_available(presence: AgentState, reason: str) -> bool:
    # A few seconds' rest after a missed offer must not empty a queue (leave rules).
    return presence is _READY or (presence is _NOT_READY and reason == MISS_DELAY)


def _sweep_front(tier: list[tuple[Any, ...]], agents: list[AgentBook]) -> None:
    """Drop the stale entries at the front of a ready list in one slice deletion.

    Stale entries carry old sort keys, so under longest-idle they gather at
    the front; removing them as a block keeps the sweep to one memory move.
    """
    n = 0
    for key in tier:
        if agents[key[-2]].version == key[-1]:
            break
        n += 1
    if n:
        del tier[:n]
