"""The engine's per-queue bookkeeping: waiting contacts and ready agents, indexed.

Waiting contacts of a queue are split into *sub-queues* by (channel,
requirements): contacts needing the same thing share one binary heap. A heap
is keyed by ``(-(priority - aging_rate × entered_at), entered_at, seq)``:
since every contact of the queue gains priority at the same rate, the
effective priority ``priority + aging_rate × (now - entered_at)`` orders them
the same way at every instant, so aging never re-sorts anything. Arrival time
breaks ties before the engine's sequence number, so a contact restored with
its original arrival time (after a restart) goes back before later ones.
Removal is lazy (an entry is skipped when its contact has moved on).

Ready agents are kept per (channel, penalty) in lists sorted by the queue's
strategy key (see :class:`~callcenter_sdk.acd.IndexKey`), so the best agent is
the first one meeting the contact's requirements.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import enum
import heapq
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from ..kpi import Channel
from ._agent import AgentBook
from ._model import Contact, PenaltyRule, Queue, RelaxStep, SkillRequirement
from ._strategy import IndexKey, RoutingStrategy

__all__ = ["ContactPhase", "ContactStatus", "QueueStatus"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_FEWEST_CONTACTS = IndexKey.FEWEST_CONTACTS
_LEAST_TALK_TIME = IndexKey.LEAST_TALK_TIME
_ORDER = IndexKey.ORDER
_ROTATION = IndexKey.ROTATION

_Key = tuple[Any, ...]


class ContactPhase(enum.StrEnum):
    """Where a live contact is in the ACD."""

    WAITING = "waiting"
    OFFERING = "offering"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ENDED = "ended"


_W = ContactPhase.WAITING  # a module constant, as above


@attrs.frozen(kw_only=True)
class QueueStatus:
    """A read-only snapshot of one queue, for wallboards and supervisors.

    Attributes:
        queue: The queue's name.
        waiting: Contacts waiting (not being offered).
        oldest_wait: Seconds the longest-waiting contact has waited (0 if none).
        logged_in: Members logged in.
        available: Members logged in and not paused (ready, ringing, busy or
            in wrap-up): the divisor of the estimated wait.
        average_handle_time: The moving-average handle time.
        estimated_wait: What a newcomer would be told now.
    """

    queue: str
    waiting: int
    oldest_wait: float
    logged_in: int
    available: int
    average_handle_time: float
    estimated_wait: float


@attrs.frozen(kw_only=True)
class ContactStatus:
    """A read-only snapshot of one live contact.

    Attributes:
        contact_id: The contact.
        queue: Its current queue.
        phase: Waiting, offering, connecting or connected.
        entered_at: When it entered its current queue.
        agent_id: The agent connected or connecting, if any.
        offers: Agents currently offered the contact.
        on_hold: Whether the customer is on hold.
        requirements: The requirements in force (after relaxation).
        callback: The number to call back when the contact is a queued
            callback not yet connected; ``""`` otherwise.
        min_penalty: The lowest member penalty it may be offered to now
            (after its penalty rules); ``None``: no bound.
        max_penalty: The highest member penalty it may be offered to now.
        resting: Waiting in its place between two rounds of offers
            (``Queue.retry``): no agent is offered it until the pause ends.
        raise_penalty: Members whose penalty is below this count as having
            it for this contact (its raise value after its penalty rules);
            ``None``: no raise.

    .. versionchanged:: 0.2
       ``min_penalty``, ``max_penalty``, ``resting`` and ``raise_penalty``.
    """

    contact_id: str
    queue: str
    phase: ContactPhase
    entered_at: float
    agent_id: str | None
    offers: tuple[str, ...]
    on_hold: bool
    requirements: tuple[SkillRequirement, ...]
    callback: str = ""
    min_penalty: int | None = None
    max_penalty: int | None = None
    resting: bool = False
    raise_penalty: int | None = None


class ContactBook:
    """The engine's mutable record of one live contact (internal)."""

    __slots__ = (
        "agent",
        "asked",
        "callback",
        "cls",
        "connected_at",
        "contact",
        "enter_token",
        "entered_at",
        "expired",
        "held",
        "high",
        "hold_since",
        "hold_time",
        "key",
        "lift",
        "low",
        "needs",
        "neg_score",
        "offers",
        "phase",
        "prules",
        "pstep",
        "queue",
        "reqs",
        "round",
        "seq",
        "step",
        "steps",
        "sub",
        "token",
        "transfer_from",
    )

    def __init__(self, contact: Contact, queue: QueueBook) -> None:
        self.contact = contact
        self.queue = queue
        self.phase = _W
        self.entered_at = 0.0
        self.seq = 0
        self.neg_score = 0.0
        # (neg_score, entered_at, seq): the contact's place in its queue, unique;
        # set by the engine on each entry (left unset here: one store less per contact).
        self.key: tuple[float, float, float]
        self.token = 0
        self.enter_token = 0
        self.sub: Sub | None = None
        self.reqs = contact.requirements
        self.cls = 0
        self.needs: tuple[tuple[str, int], ...] = ()
        self.steps: tuple[RelaxStep, ...] = ()
        self.step = 0
        # The penalty range in force (None: no bound) and the rules widening it.
        self.low: int | None = contact.min_penalty
        self.high: int | None = contact.max_penalty
        # Members below this penalty count as having it (QUEUE_RAISE_PENALTY); None: no raise.
        self.lift: int | None = contact.raise_penalty
        self.prules: tuple[PenaltyRule, ...] = ()
        self.pstep = 0
        self.offers: dict[str, OfferBook] = {}
        self.agent: AgentBook | None = None
        self.connected_at = 0.0
        self.hold_since: float | None = None
        self.hold_time = 0.0
        self.expired = False
        # Resting in its place between offer rounds (Queue.retry): no agent may take it.
        self.held = False
        # The place asked for on arrival (app_queue's position option), until placed.
        self.asked: int | None = None
        # The number to call back once an agent takes it; "" while the customer waits on the line.
        self.callback = ""
        # The agent who handed the contact over, until the new agent is connected.
        self.transfer_from = ""
        # The round of offers in progress (ring-progressively's timers carry it).
        self.round = 0

    def effective_priority(self, now: float) -> float:
        """Priority plus aging at ``now``."""
        return -self.neg_score + self.queue.config.aging_rate * now


class OfferBook:
    """One outstanding offer (internal)."""

    __slots__ = ("agent", "contact", "expires_at", "id")

    def __init__(self, offer_id: str, contact: ContactBook, agent: AgentBook, expires: float):
        self.id = offer_id
        self.contact = contact
        self.agent = agent
        self.expires_at = expires


class Sub:
    """Waiting contacts of one queue with the same channel and requirements (internal).

    ``head`` is kept up to date eagerly, so a freed agent reads each
    sub-queue's best contact with one attribute access.
    """

    __slots__ = (
        "channel",
        "cls",
        "head",
        "heap",
        "high",
        "key",
        "lift",
        "live",
        "low",
        "needs",
        "ranged",
    )

    def __init__(
        self,
        channel: Channel,
        cls: int,
        needs: tuple[tuple[str, int], ...],
        penalties: tuple[int | None, int | None, int | None] = (None, None, None),
    ) -> None:
        self.channel = channel
        self.cls = cls
        self.needs = needs
        low, high, lift = penalties
        # Contacts of a sub share their penalty range: one check per sub, not per contact.
        self.ranged = low is not None or high is not None or lift is not None
        self.low = -1 if low is None else low
        self.high = 1 << 62 if high is None else high
        self.lift = -1 if lift is None else lift
        self.key = (channel, cls)
        self.heap: list[tuple[float, float, float, int, ContactBook]] = []
        self.live = 0
        self.head: ContactBook | None = None

    def admits(self, penalty: int) -> bool:
        """Whether a member of ``penalty`` is in these contacts' range, after their raise."""
        return self.low <= max(penalty, self.lift) <= self.high

    def push(self, c: ContactBook, token: int) -> None:
        """Add ``c`` (already stamped with ``token`` and ``sub``) to the heap."""
        heapq.heappush(self.heap, (*c.key, token, c))
        self.live += 1
        head = self.head
        if head is None or c.key < head.key:
            self.head = c
        if len(self.heap) > 4 * self.live + 64:
            self.heap = [e for e in self.heap if self._valid(e)]
            heapq.heapify(self.heap)

    def remove(self, c: ContactBook) -> None:
        """Forget ``c`` (whose ``sub`` was already cleared); find the next head if needed."""
        self.live -= 1
        if c is self.head:
            heap = self.heap
            while heap and not self._valid(heap[0]):
                heapq.heappop(heap)
            self.head = heap[0][4] if heap else None

    def _valid(self, entry: tuple[float, float, float, int, ContactBook]) -> bool:
        c = entry[4]
        return c.sub is self and c.token == entry[3] and c.phase is _W

    def contacts(self) -> Iterator[ContactBook]:
        """Every live contact, in no particular order."""
        return (e[4] for e in self.heap if self._valid(e))


class QueueBook:
    """The engine's mutable record of one queue (internal)."""

    __slots__ = (
        "abandoned",
        "agentless_since",
        "agentless_token",
        "aht",
        "available",
        "config",
        "due",
        "flat",
        "index_key",
        "leaving",
        "levels",
        "logged_in",
        "members",
        "name",
        "next_order",
        "no_agent",
        "on_connected",
        "order",
        "progressive",
        "rate",
        "ready",
        "ring",
        "ring_in_use",
        "ringing",
        "rr_last",
        "skip_tiers",
        "strategy",
        "subs",
        "swept",
        "waiting",
        "weight",
    )

    def __init__(self, config: Queue, strategy: RoutingStrategy) -> None:
        self.config = config
        self.name = config.name
        self.strategy = strategy
        key = getattr(strategy, "index_key", None)
        self.index_key = key if isinstance(key, IndexKey) else None
        self.ring = bool(getattr(strategy, "ring", False))
        # The strategy's optional hook, read once (a getattr that misses costs an exception).
        self.on_connected: Callable[[Contact, str], object] | None = getattr(
            strategy, "on_connected", None
        )
        # ring-progressively: one more member rings every ring_progressively_delay seconds.
        self.progressive = self.index_key is not None and bool(
            getattr(strategy, "progressive", False)
        )
        # Waiting callers leave when every member is in one of these conditions.
        self.leaving = bool(config.leave_empty_conditions)
        # ring-progressively: ringing contacts whose last step found nobody, with
        # their round; the next member able to take one rings at once.
        self.due: dict[ContactBook, int] = {}
        self.subs: dict[tuple[Channel, int], Sub] = {}
        self.waiting = 0
        # The key of every waiting contact, sorted: positions in O(log n).
        self.order: list[tuple[float, float, float]] = []
        self.rate = config.aging_rate
        self.weight = config.weight
        # Ready agents per channel and penalty, sorted by (sort fields, agent
        # index, entry version). An entry whose version is not the agent's
        # current one is stale: skipped and swept lazily, so an agent leaving
        # 50 queues costs one version bump, not 50 list deletions. ``swept``
        # is each list's length after its last full sweep.
        self.ready: dict[Channel, dict[int, list[_Key]]] = {}
        self.swept: dict[tuple[Channel, int], int] = {}
        self.members: dict[int, tuple[int, int]] = {}
        self.next_order = 0
        self.logged_in = 0
        self.available = 0
        self.aht = config.initial_handle_time
        self.rr_last = -1
        # Contacts being offered (not transfers): app_queue's maxlen counts them.
        self.ringing = 0
        # Members per penalty, for tier rules and the members limit.
        self.levels: dict[int, int] = {}
        # Penalties are ignored (every member in tier 0) under the members limit.
        self.flat = config.penalty_members_limit > 0
        self.ring_in_use = config.ring_in_use
        # The no-agent timeout: since when no member is available (None: one is),
        # and a token making the timers of an earlier agentless spell stale.
        self.no_agent = config.no_agent_timeout is not None
        # tier-rule-no-agent-no-wait: callers skip levels with nobody available.
        tiers = config.tier_rules
        self.skip_tiers = bool(tiers and tiers.no_agent_no_wait and not config.penalty_rules)
        self.agentless_since: float | None = None
        # Callers who hung up while waiting: caller id -> (first entry, hang-up time).
        self.abandoned: dict[str, tuple[float, float]] = {}
        self.agentless_token = 0

    def tier_of(self, penalty: int) -> int:
        """The ready-index tier of a member with ``penalty`` (0 while penalties are ignored)."""
        return 0 if self.flat else penalty

    # -- ready agents -------------------------------------------------------

    def key_for(self, a: AgentBook, order: int) -> _Key:
        """The sort fields of ``a`` in this queue's ready index.

        The engine appends the agent's index and entry version to make the key.
        """
        key = self.index_key
        if key is _FEWEST_CONTACTS:
            return (a.handled, a.active, a.idle_since)
        if key is _LEAST_TALK_TIME:
            return (a.talk_time, a.active, a.idle_since)
        if key is _ORDER or key is _ROTATION:
            return (order,)
        return (a.active, a.idle_since)

    def add_ready(self, channel: Channel, penalty: int, key: _Key) -> list[_Key]:
        """Insert a ready agent's entry; return its tier."""
        tiers = self.ready.get(channel)
        if tiers is None:
            tiers = self.ready[channel] = {}
        tier = tiers.get(penalty)
        if tier is None:
            tier = tiers[penalty] = [key]
        else:
            bisect.insort(tier, key)
        return tier

    def tiers(
        self,
        channel: Channel,
        low: int | None = None,
        high: int | None = None,
        lift: int | None = None,
    ) -> list[list[_Key]]:
        """The ready lists for ``channel``, lowest penalty first (may hold stale entries).

        With ``low`` or ``high``, only the tiers within that penalty range
        (ignored while the queue ignores penalties). With ``lift`` (a raise
        value), the tiers below it count as that penalty: they are kept when
        it is in the range and merged with its own tier into one list, in
        the strategy's order (``O(r)`` for the merge).
        """
        tiers = self.ready.get(channel)
        if not tiers:
            return []
        if self.flat:
            low = high = lift = None
        if lift is not None:
            return self._lifted(tiers, low, high, lift)
        if low is not None or high is not None:
            lo = -1 if low is None else low
            hi = 1 << 62 if high is None else high
            return [tiers[p] for p in sorted(tiers) if lo <= p <= hi]
        if len(tiers) == 1:
            return list(tiers.values())
        return [tiers[p] for p in sorted(tiers)]

    @staticmethod
    def _lifted(
        tiers: dict[int, list[_Key]], low: int | None, high: int | None, lift: int
    ) -> list[list[_Key]]:
        lo = -1 if low is None else low
        hi = 1 << 62 if high is None else high
        groups: dict[int, list[list[_Key]]] = {}
        for p in sorted(tiers):
            level = max(p, lift)
            if lo <= level <= hi:
                groups.setdefault(level, []).append(tiers[p])
        # A merged list is a copy: stale entries swept from it stay in the
        # real lists until a later sweep, which is harmless.
        return [
            lists[0] if len(lists) == 1 else list(heapq.merge(*lists))
            for _, lists in sorted(groups.items())
        ]

    # -- waiting contacts ---------------------------------------------------

    def add_waiting(self, c: ContactBook, token: int) -> None:
        """Put ``c`` in its sub-queue and in the order (``c.cls`` must be set)."""
        key = (c.contact.channel, c.cls)
        sub = self.subs.get(key)
        if sub is None:
            sub = self.subs[key] = Sub(c.contact.channel, c.cls, c.needs, (c.low, c.high, c.lift))
        c.sub = sub
        c.token = token
        sub.push(c, token)
        self.waiting += 1
        bisect.insort(self.order, c.key)

    def remove_waiting(self, c: ContactBook) -> None:
        """Take ``c`` out of its sub-queue and the order."""
        sub = c.sub
        if sub is None:  # pragma: no cover - callers check the phase first
            return
        c.sub = None
        sub.remove(c)
        if sub.live == 0:
            del self.subs[sub.key]
        self.waiting -= 1
        order = self.order
        del order[bisect.bisect_left(order, c.key)]

    def waiting_contacts(self) -> list[ContactBook]:
        """Every waiting contact in queue order (O(n log n))."""
        found = [c for sub in self.subs.values() for c in sub.contacts()]
        found.sort(key=lambda c: c.key)
        return found

    def position(self, c: ContactBook) -> int:
        """1-based position of waiting contact ``c`` (O(log n))."""
        return bisect.bisect_left(self.order, c.key) + 1

    def estimated_wait(self, position: int) -> float:
        """``position × AHT / available agents``; see docs/acd.md for the estimator."""
        return position * self.aht / max(1, self.available)
