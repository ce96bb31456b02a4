"""The ACD engine: a pure, deterministic matcher of waiting contacts and agents.

The engine does no I/O and starts no timers. Each input (a contact arrives,
an agent goes ready, an offer is accepted, :meth:`Engine.tick` at a deadline)
reads the injected clock once, updates the books, publishes typed events on
the :class:`~callcenter_sdk.EventStream` and returns the actions for the
caller to perform. The same engine runs live under
:class:`~callcenter_sdk.runtime.AcdRuntime`, in the simulator and in hypothesis
tests.

Invariant kept after every input: no waiting contact has a ready agent who
could take it. Hence a contact that arrives may be given any eligible ready
agent (none is owed to an earlier contact), and an agent who frees up takes
the best waiting contact of their queues. See docs/acd.md for the complexity
of each operation.

The inputs are grouped by what they move, one module each: agent sessions
(``_sessions``), contacts (``_contacts``), offers (``_offers``), transfers
(``_transfers``), queued callbacks (``_callbacks``), live membership
(``_members``), deadlines (``_timers``) and snapshots (``_status``), over
the books and routing core of ``_routing``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import Any

import attrs

from .._clock import Clock
from .._errors import ConfigError, NotFoundError, PluginError, StateError, ValidationError
from .._events import EventStream
from ._actions import Action
from ._agent import AgentBook
from ._callbacks import Callbacks
from ._contacts import ContactLifecycle
from ._events import AgentState
from ._members import Memberships
from ._model import Agent, OverflowTarget, Queue
from ._offers import OfferLifecycle
from ._queue import QueueBook
from ._routing import RoutingPolicy
from ._sessions import AgentSessions
from ._status import StatusQueries
from ._timers import Timers
from ._transfers import Transfers

__all__ = ["LIVE_QUEUE_SETTINGS", "Engine"]

LIVE_QUEUE_SETTINGS = frozenset(
    {
        "offer_timeout",
        "wrap_up",
        "max_wait",
        "service_level_threshold",
        "max_length",
        "retry",
        "announce_every",
    }
)
"""The queue settings :meth:`Engine.configure_queue` may change while the queue runs:
each is read when it is used, so no index or timer has to be rebuilt."""


class Engine(
    AgentSessions,
    ContactLifecycle,
    OfferLifecycle,
    Transfers,
    Callbacks,
    Memberships,
    Timers,
    StatusQueries,
):
    """Matches contacts and agents; returns actions, publishes events.

    Args:
        clock: Where the time comes from (read once per input).
        events: The stream events are published on; a private one by default.
        strategies: Strategy factories by name, usually
            :meth:`callcenter_sdk.PluginHost.routing_strategies`; the built-ins
            by default.
        policy: Missed-offer, plugin-budget and estimate rules.
        perf_counter: Measures how long a plugin takes (injectable for tests).
    """

    # ------------------------------------------------------------------ setup

    @property
    def clock(self) -> Clock:
        """The clock the engine reads."""
        return self._clock

    @property
    def events(self) -> EventStream:
        """The stream every event is published on."""
        return self._events

    @property
    def policy(self) -> RoutingPolicy:
        """The engine's routing policy."""
        return self._policy

    def add_queue(self, queue: Queue) -> None:
        """Add a queue; its strategy and overflow queue must be known.

        Raises:
            ConfigError: Duplicate name, unknown strategy or overflow queue.
            PluginError: The strategy's factory failed.
        """
        where = ("queues", queue.name)
        if queue.name in self._queues:
            raise ConfigError("<python>", where, "a unique queue name", queue.name)
        factory = self._factories.get(queue.strategy)
        if factory is None:
            known = ", ".join(sorted(self._factories))
            raise ConfigError("<python>", (*where, "strategy"), f"one of {known}", queue.strategy)
        ov = queue.overflow
        if ov is not None and ov.target is OverflowTarget.QUEUE and ov.queue not in self._queues:
            raise ConfigError(
                "<python>", (*where, "overflow"), "a queue added before this one", ov.queue
            )
        try:
            strategy = factory(queue.strategy_options)
        except Exception as exc:
            raise PluginError(f"strategy {queue.strategy!r} failed to build: {exc!r}") from exc
        self._queues[queue.name] = q = QueueBook(queue, strategy)
        if q.no_agent:  # no member yet: the agentless spell starts now
            self._no_agent_queues += 1
            self._begin()
            self._track_agents(q)

    def add_agent(self, agent: Agent) -> None:
        """Add an agent (offline); every queue they belong to must exist.

        Raises:
            ConfigError: Duplicate id or unknown queue.
        """
        if agent.id in self._agents:
            raise ConfigError("<python>", ("agents", agent.id), "a unique agent id", agent.id)
        a = AgentBook(agent, len(self._by_idx))
        self._join_queues(a)
        self._agents[agent.id] = a
        self._by_idx.append(a)

    def queue_config(self, name: str) -> Queue:
        """The configuration ``name`` runs with now (after any :meth:`configure_queue`).

        .. versionadded:: 0.2

        Raises:
            NotFoundError: No such queue.
        """
        q = self._queues.get(name)
        if q is None:
            raise NotFoundError(f"no queue {name!r}")
        return q.config

    def configure_queue(self, name: str, **settings: object) -> Queue:
        """Change settings of a running queue; return its new configuration.

        Only :data:`LIVE_QUEUE_SETTINGS` may change (app_queue's ``queue
        reload`` of those parameters): each applies from now on, to offers
        made and callers arriving after the change. A caller already waiting
        keeps the max-wait deadline they entered with; a phone already ringing
        keeps its offer's timeout; a new ``max_length`` refuses no one who is
        already in.

        .. versionadded:: 0.2

        Raises:
            NotFoundError: No such queue.
            ValidationError: A setting that cannot change live, or a bad value.
        """
        q = self._queues.get(name)
        if q is None:
            raise NotFoundError(f"no queue {name!r}")
        fixed = sorted(set(settings) - LIVE_QUEUE_SETTINGS)
        if fixed:
            live = ", ".join(sorted(LIVE_QUEUE_SETTINGS))
            raise ValidationError(
                f"queue {name!r}: {', '.join(fixed)} cannot change while it runs (only {live})"
            )
        try:
            changes: dict[str, Any] = dict(settings)
            q.config = attrs.evolve(q.config, **changes)  # the Queue's validators check values
        except TypeError as exc:
            raise ValidationError(f"queue {name!r}: {exc}") from None
        return q.config

    def update_agent(self, agent: Agent) -> list[Action]:
        """Replace an offline agent's skills, queues and capacity.

        Returns the actions the change makes possible: leaving a queue may
        bring it down to its ``penalty_members_limit``, and then its waiting
        contacts are offered at once to the ready members outside their
        penalty range.

        Raises:
            StateError: The agent is logged in.

        .. versionchanged:: 0.2
           Returns actions (it returned ``None``).
        """
        self._begin()
        a = self._agent(agent.id)
        if a.presence is not AgentState.OFFLINE:
            raise StateError(f"agent {agent.id!r} must be offline to be updated")
        for q in list(a.queues):
            self._detach(a, q)
        fresh = AgentBook(agent, a.idx)
        fresh.version = a.version + 1  # entries left in the indexes stay stale
        self._join_queues(fresh)
        self._agents[agent.id] = fresh
        self._by_idx[a.idx] = fresh
        self._resettle([], [])
        return self._flush()

    def _join_queues(self, a: AgentBook) -> None:
        for i, m in enumerate(a.agent.memberships):
            q = self._queues.get(m.queue)
            if q is None:
                where = ("agents", a.agent.id, "memberships", i)
                raise ConfigError("<python>", where, "a known queue", m.queue)
        for m in a.agent.memberships:
            self._attach(a, m)

    def __repr__(self) -> str:
        return (
            f"<Engine queues={len(self._queues)} agents={len(self._agents)}"
            f" contacts={len(self._contacts)} offers={len(self._offers)}>"
        )
