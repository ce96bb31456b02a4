"""Routing strategies: who among the ready agents gets a contact.

A strategy is a small :class:`RoutingStrategy` protocol. The engine asks it
only when a contact can be served by several ready agents; when contacts wait,
a freed agent always takes the best contact (priority, age, queue weight) and
no strategy is involved.

Two kinds exist:

* **Indexed** strategies declare an :class:`IndexKey`; the engine keeps each
  queue's ready agents sorted by that key, so choosing is ``O(log n)``
  and no plugin code runs on the hot path. Most built-ins are indexed.
* **Generic** strategies (``index_key = None``) get a bounded snapshot of
  eligible agents (:class:`RoutingRequest`) and return agent ids. Their answer
  is checked and timed; a bad or slow answer is a :class:`PluginFault` and the
  built-in longest-idle choice is used instead.

Strategies are found by name through the ``callcenter_routing_strategies``
hook; the built-ins come through that hook too.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .._errors import ValidationError
from ._model import Contact

__all__ = [
    "BUILTIN_STRATEGIES",
    "Candidate",
    "IndexKey",
    "RoutingRequest",
    "RoutingStrategy",
    "StrategyFactory",
]


class IndexKey(enum.StrEnum):
    """How the engine sorts a queue's ready agents for an indexed strategy.

    Each key ends with ties broken by the longest idle agent.
    """

    IDLE = "idle"
    """Fewest contacts in hand, then idle the longest (longest-idle, ring-all)."""
    FEWEST_CONTACTS = "fewest-contacts"
    """Fewest contacts handled since login."""
    LEAST_TALK_TIME = "least-talk-time"
    """Least talk time since login."""
    ORDER = "order"
    """The agent's order of joining the queue (linear / top-down)."""
    ROTATION = "rotation"
    """Order of joining, starting after the agent chosen last (round-robin with memory)."""


@attrs.frozen(kw_only=True)
class Candidate:
    """A snapshot of one ready agent who may take a contact.

    Attributes:
        agent_id: The agent.
        penalty: The agent's penalty in this queue (lower is asked first).
        order: The agent's order of joining this queue.
        idle_since: When the agent last became free.
        active: Contacts (offered, connected, in wrap-up) the agent holds now.
        handled: Contacts completed since login.
        talk_time: Seconds talked since login.
        skills: The agent's proficiency per skill.
    """

    agent_id: str
    penalty: int
    order: int
    idle_since: float
    active: int
    handled: int
    talk_time: float
    skills: Mapping[str, int]


@attrs.frozen(kw_only=True)
class RoutingRequest:
    """What a generic strategy gets: the contact and a bounded list of candidates.

    Attributes:
        contact: The contact to place.
        queue: The queue's name.
        now: The engine's current time.
        candidates: Eligible ready agents, lowest penalty first, then longest
            idle; at most the queue's ``candidate_limit`` of them.
        lookup: Returns the :class:`Candidate` for any agent id if that agent
            may take this contact now, else ``None``; lets a strategy ask for
            one particular agent beyond the bounded list.
        ring_size: The most agents the answer may name: the queue's
            ``ring_size`` for a strategy with ``ring = True``, else 1.
    """

    contact: Contact
    queue: str
    now: float
    candidates: Sequence[Candidate]
    lookup: Callable[[str], Candidate | None]
    ring_size: int = 1


@runtime_checkable
class RoutingStrategy(Protocol):
    """Chooses which ready agent(s) to offer a contact to.

    Attributes:
        index_key: The engine-maintained order to pick from, or ``None`` for a
            generic strategy whose :meth:`select` is called.
        ring: Offer to up to ``ring_size`` agents at once (ring-all).

    An indexed strategy may also set ``progressive = True`` (an optional
    attribute, read with ``getattr``): the contact rings one agent, then one
    more every ``Queue.ring_progressively_delay`` seconds while the earlier
    ones still ring, as mod_callcenter's ``ring-progressively``.
    """

    index_key: IndexKey | None
    ring: bool

    def select(self, request: RoutingRequest) -> Sequence[str]:
        """Return the ids of the agents to offer to, best first (one unless ringing).

        Called only for generic strategies. Must be quick and pure; an empty
        answer, an agent that is not a candidate, an exception or a slow
        answer are reported as a fault and the built-in choice is used.
        """
        ...


StrategyFactory = Callable[[Mapping[str, object]], RoutingStrategy]
"""Builds one strategy instance per queue from the queue's ``strategy_options``."""


def _idle_order(c: Candidate) -> tuple[int, float, str]:
    return (c.active, c.idle_since, c.agent_id)


_SORT_KEYS: dict[IndexKey, Callable[[Candidate], tuple[object, ...]]] = {
    IndexKey.IDLE: lambda c: (c.penalty, *_idle_order(c)),
    IndexKey.FEWEST_CONTACTS: lambda c: (c.penalty, c.handled, *_idle_order(c)),
    IndexKey.LEAST_TALK_TIME: lambda c: (c.penalty, c.talk_time, *_idle_order(c)),
    IndexKey.ORDER: lambda c: (c.penalty, c.order, c.agent_id),
    IndexKey.ROTATION: lambda c: (c.penalty, c.order, c.agent_id),
}


@attrs.define
class IndexedStrategy:
    """A built-in strategy the engine runs from its index.

    :meth:`select` gives the same answer from a snapshot, so the strategy can
    be used and tested without an engine.

    Attributes:
        index_key: The order the engine keeps.
        ring: Whether to ring several agents.
        progressive: Whether one more agent rings at each
            ``Queue.ring_progressively_delay`` while the earlier ones ring.

    .. versionchanged:: 0.2
       ``progressive``.
    """

    index_key: IndexKey | None
    ring: bool = False
    progressive: bool = False

    def select(self, request: RoutingRequest) -> Sequence[str]:
        """Return the best candidate(s) by :attr:`index_key`."""
        if not request.candidates:
            return []
        ordered = sorted(request.candidates, key=_SORT_KEYS[self.index_key or IndexKey.IDLE])
        if not self.ring:
            return [ordered[0].agent_id]
        tier = ordered[0].penalty
        return [c.agent_id for c in ordered if c.penalty == tier][: request.ring_size]


class RandomStrategy:
    """Uniformly random among the lowest-penalty candidates (app_queue ``random``).

    Options: ``seed`` (int) for reproducible runs.
    """

    index_key: IndexKey | None = None
    ring = False

    def __init__(self, options: Mapping[str, object]) -> None:
        self._rng = random.Random(_int_option(options, "seed"))

    def select(self, request: RoutingRequest) -> Sequence[str]:
        """Pick one agent of the best penalty tier at random."""
        if not request.candidates:
            return []
        tier = min(c.penalty for c in request.candidates)
        pool = [c.agent_id for c in request.candidates if c.penalty == tier]
        return [self._rng.choice(pool)]


class WeightedRandomStrategy:
    """Random, a higher penalty less likely to win: app_queue's ``wrandom``.

    app_queue gives each member a random metric drawn uniformly below
    ``(1 + penalty) × 1000`` and rings the lowest. This strategy draws
    ``uniform(0, (1 + penalty) / weights[agent])`` for each candidate and
    picks the lowest, so with every weight at 1 (the default) a candidate
    wins with exactly app_queue's probability: two members of penalties 0
    and 1 win 3/4 and 1/4 of the time (not 2/3 and 1/3 as weights
    proportional to ``1 / (1 + penalty)`` would give). A weight above 1
    shrinks a candidate's range, making them more likely to win.

    Options: ``weights`` (mapping of agent id to a positive weight, default 1)
    and ``seed``. Unlike :class:`RandomStrategy` every penalty tier may win.
    The candidates are the queue's ``candidate_limit`` lowest-penalty ones.

    .. versionchanged:: 0.2
       The probabilities are app_queue's (lowest of uniform draws); they were
       proportional to ``weight / (1 + penalty)``.
    """

    index_key: IndexKey | None = None
    ring = False

    def __init__(self, options: Mapping[str, object]) -> None:
        self._rng = random.Random(_int_option(options, "seed"))
        weights = options.get("weights", {})
        if not isinstance(weights, Mapping):
            raise ValidationError("weighted-random: option 'weights' must be a mapping")
        self._weights = {str(k): float(v) for k, v in weights.items()}
        if any(w <= 0 for w in self._weights.values()):
            raise ValidationError("weighted-random: weights must be > 0")

    def select(self, request: RoutingRequest) -> Sequence[str]:
        """Pick the candidate with the lowest draw below ``(1 + penalty) / weight``."""
        if not request.candidates:
            return []
        rng, weights = self._rng, self._weights
        best = min(
            request.candidates,
            key=lambda c: rng.random() * (1 + max(0, c.penalty)) / weights.get(c.agent_id, 1.0),
        )
        return [best.agent_id]


class BestFitStrategy:
    """Skills best-fit: the highest proficiency in the contact's skills, then longest idle.

    Sums the candidate's levels over the contact's required skills (all
    skills when it requires none). Sees the queue's ``candidate_limit``
    longest-idle eligible agents: raise that limit for an exact best fit in
    very large queues.
    """

    index_key: IndexKey | None = None
    ring = False

    def __init__(self, options: Mapping[str, object]) -> None:
        del options

    def select(self, request: RoutingRequest) -> Sequence[str]:
        """Pick the best-skilled candidate of the best penalty tier."""
        if not request.candidates:
            return []
        wanted = [r.skill for r in request.contact.requirements]

        def fit(c: Candidate) -> tuple[int, int, int, float, str]:
            levels = [c.skills.get(s, 0) for s in wanted] if wanted else list(c.skills.values())
            return (c.penalty, -sum(levels), c.active, c.idle_since, c.agent_id)

        return [min(request.candidates, key=fit).agent_id]


def _int_option(options: Mapping[str, object], name: str) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, int):
        raise ValidationError(f"strategy option {name!r} must be an integer, got {value!r}")
    return value


def _indexed(key: IndexKey, *, ring: bool = False, progressive: bool = False) -> StrategyFactory:
    def factory(options: Mapping[str, object]) -> RoutingStrategy:
        del options
        return IndexedStrategy(key, ring=ring, progressive=progressive)

    return factory


BUILTIN_STRATEGIES: Mapping[str, StrategyFactory] = {
    "longest-idle": _indexed(IndexKey.IDLE),
    "round-robin": _indexed(IndexKey.ROTATION),
    "fewest-contacts": _indexed(IndexKey.FEWEST_CONTACTS),
    "least-talk-time": _indexed(IndexKey.LEAST_TALK_TIME),
    "linear": _indexed(IndexKey.ORDER),
    "ring-all": _indexed(IndexKey.IDLE, ring=True),
    "ring-progressively": _indexed(IndexKey.ORDER, progressive=True),
    "random": RandomStrategy,
    "weighted-random": WeightedRandomStrategy,
    "skills-best-fit": BestFitStrategy,
}
"""The built-in strategies by name, registered through the plugin hook."""
