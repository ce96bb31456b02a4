"""Prometheus metrics of a running call center: a ``/metrics`` ASGI app.

:func:`create_metrics_app` serves, with the official ``prometheus-client``
(the ``reports`` extra), what monitoring needs to page someone: callers
waiting, how long they waited, agents by team and state, contacts by queue,
channel and outcome, and whether the event log is being written.

Names are few and their labels bounded by the configuration, never by the
traffic: no contact, caller or agent id is a label, and a counter never
crosses queue with channel (a queue with every channel would multiply
them), so :data:`MAX_SERIES` holds at 1,000 agents in 100 teams and 100
queues, whatever happens. Counters come from the center's events
(``center.subscribe``), live state from the engine's status queries at
scrape time, so a scrape costs one pass over queues and agents.

.. code-block:: python

    app = create_app(center, accounts=accounts, metrics=create_metrics_app(center))

.. versionadded:: 0.2
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from .._errors import CallCenterError
from .._events import Event
from ..acd import (
    AgentState,
    ContactAbandoned,
    ContactCallbackRequested,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactOverflowed,
    ContactTimedOut,
    ExitReason,
)
from ..runtime import CallCenter
from ..store import ClusterView, StoreDegraded, StoreRecovered
from ._exact import partials

__all__ = [
    "MAX_SERIES",
    "OUTCOMES",
    "WAIT_BUCKETS",
    "CenterMetrics",
    "ClusterMetrics",
    "EventCounts",
    "MetricsApp",
    "create_cluster_metrics_app",
    "create_metrics_app",
]

WAIT_BUCKETS: Final = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Upper bounds of the wait-time histogram, seconds (20 s is the usual service-level T)."""

OUTCOMES: Final = ("abandoned", "answered", "callback", "exited", "overflowed", "timed_out")
"""How a contact leaves a queue: the ``outcome`` label of the contact counters."""

MAX_SERIES: Final = 5_000
"""The series a scrape may hold at 1,000 agents and 100 queues (checked by a test)."""

_OUTCOME_OF: Final[dict[type[Event], str]] = {
    ContactConnected: "answered",
    ContactAbandoned: "abandoned",
    ContactCallbackRequested: "callback",
    ContactExited: "exited",
    ContactOverflowed: "overflowed",
    ContactTimedOut: "timed_out",
}

_Left = (
    ContactConnected
    | ContactAbandoned
    | ContactCallbackRequested
    | ContactExited
    | ContactOverflowed
    | ContactTimedOut
)


class EventCounts:
    """The counters :class:`CenterMetrics` keeps, folded from events alone.

    Apart from the collector (no center needed), so the counters can be
    checked against the reports and the KPI calculators over the same event
    log. Wait totals are kept exact (:func:`~callcenter_sdk.reports.partials`),
    so ``sum / count`` of answered waits is the ASA of :mod:`callcenter_sdk.kpi`
    bit for bit.

    Args:
        buckets: Upper bounds of the wait-time histogram, increasing.

    Attributes:
        by_queue: Contacts that left a queue, by (queue, outcome).
        by_channel: Contacts that left a queue, by (channel, outcome).
        waits: Per (queue, outcome) of answered and abandoned contacts, the
            count of waits per bucket (not cumulative; the last is above every bound).
        wait_sums: Per (queue, outcome), the partials of the waits' exact total.
        degraded: Whether the event log is failing now.
        outages: Times it started failing.
    """

    def __init__(self, buckets: Sequence[float] = WAIT_BUCKETS) -> None:
        if list(buckets) != sorted(set(buckets)):
            raise ValueError("histogram buckets must increase")
        self.buckets = tuple(float(b) for b in buckets)
        self._channel_of: dict[str, str] = {}  # contacts in a queue now -> their channel
        self.by_queue: dict[tuple[str, str], int] = {}
        self.by_channel: dict[tuple[str, str], int] = {}
        self.waits: dict[tuple[str, str], list[int]] = {}
        self.wait_sums: dict[tuple[str, str], tuple[float, ...]] = {}
        self.degraded = False
        self.outages = 0

    def see(self, _seq: int, event: Event) -> None:
        """Count one event (a ``center.subscribe`` callback; in publishing order)."""
        if isinstance(event, ContactEnteredQueue):
            self._channel_of[event.contact_id] = str(event.channel)
            return
        outcome = _OUTCOME_OF.get(type(event))
        if isinstance(event, ContactExited) and event.reason is ExitReason.EXIT_WITH_KEY:
            outcome = "abandoned"  # the caller chose to leave: an abandon, as the records count it
        if outcome is not None and isinstance(event, _Left):
            self._left(event, outcome)
        elif isinstance(event, StoreDegraded):
            self.degraded = True
            self.outages += 1
        elif isinstance(event, StoreRecovered):
            self.degraded = False

    def _left(self, event: _Left, outcome: str) -> None:
        queue = event.queue
        channel = self._channel_of.pop(event.contact_id, "")
        self.by_queue[queue, outcome] = self.by_queue.get((queue, outcome), 0) + 1
        self.by_channel[channel, outcome] = self.by_channel.get((channel, outcome), 0) + 1
        if outcome in ("answered", "abandoned") and isinstance(
            event, ContactConnected | ContactAbandoned | ContactExited
        ):
            self._observe((queue, outcome), event.waited)

    def _observe(self, key: tuple[str, str], waited: float) -> None:
        counts = self.waits.get(key)
        if counts is None:
            counts = self.waits[key] = [0] * (len(self.buckets) + 1)
        counts[bisect.bisect_left(self.buckets, waited)] += 1  # bounds are inclusive (le)
        self.wait_sums[key] = partials([*self.wait_sums.get(key, ()), waited])


class CenterMetrics(Collector):
    """A Prometheus collector over one running center: event counters and live state.

    It subscribes at once; :meth:`close` unsubscribes. Register it in a
    :class:`~prometheus_client.CollectorRegistry` (or use
    :func:`create_metrics_app`). Counters start at zero when it is built:
    Prometheus' ``rate()`` and ``increase()`` take restarts in their stride.

    Args:
        center: The running center.
        buckets: Upper bounds of the wait-time histogram, increasing.

    Attributes:
        counts: The counters folded from the center's events.
    """

    def __init__(self, center: CallCenter, *, buckets: Sequence[float] = WAIT_BUCKETS) -> None:
        self.counts = EventCounts(buckets)
        self._center = center
        self._teams: dict[str, str] = {}
        self._unsubscribe: Callable[[], None] | None = center.subscribe(self.see)

    def close(self) -> None:
        """Stop counting the center's events (the live state is still read)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def see(self, seq: int, event: Event) -> None:
        """Count one event (the subscriber)."""
        self.counts.see(seq, event)

    def _team(self, agent: str) -> str:
        team = self._teams.get(agent)
        if team is None:
            team = ""
            org = self._center.config.org
            if org is not None:
                with contextlib.suppress(CallCenterError):
                    home = org.team_of(agent)
                    team = home.id if home is not None else ""
            self._teams[agent] = team
        return team

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        """The metrics now (called by the registry at each scrape)."""
        engine = self._center.engine
        waiting = GaugeMetricFamily(
            "callcenter_queue_waiting", "Contacts waiting in the queue now.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "callcenter_queue_oldest_wait_seconds",
            "How long the longest-waiting contact of the queue has waited.",
            labels=["queue"],
        )
        for name in engine.queue_names():
            status = engine.queue_status(name)
            waiting.add_metric([name], status.waiting)
            oldest.add_metric([name], status.oldest_wait)
        yield waiting
        yield oldest
        yield self._histogram()
        agents = GaugeMetricFamily(
            "callcenter_agents", "Agents by team and state now.", labels=["team", "state"]
        )
        tally: dict[tuple[str, str], int] = {}
        for agent in engine.agent_ids():
            seen = (self._team(agent), str(engine.agent_status(agent).state))
            tally[seen] = tally.get(seen, 0) + 1
        for team in sorted({team for team, _ in tally}):
            for state in AgentState:  # every state, so a team's zeros are series, not gaps
                agents.add_metric([team, str(state)], tally.get((team, str(state)), 0))
        yield agents
        for name, label, counts in (
            ("callcenter_contacts", "queue", self.counts.by_queue),
            ("callcenter_contacts_by_channel", "channel", self.counts.by_channel),
        ):
            family = CounterMetricFamily(
                name,
                f"Contacts that left a queue, by {label} and outcome.",
                labels=[label, "outcome"],
            )
            for (key, outcome), n in sorted(counts.items()):
                family.add_metric([key, outcome], n)
            yield family
        yield GaugeMetricFamily(
            "callcenter_store_degraded",
            "1 while the event log cannot be written (events wait in memory).",
            value=int(self.counts.degraded),
        )
        yield CounterMetricFamily(
            "callcenter_store_outages",
            "Times writing the event log started failing.",
            self.counts.outages,
        )

    def _histogram(self) -> HistogramMetricFamily:
        counts = self.counts
        family = HistogramMetricFamily(
            "callcenter_wait_seconds",
            "Waits of contacts answered or abandoned, by queue and outcome.",
            labels=["queue", "outcome"],
        )
        bounds = [*(repr(b) for b in counts.buckets), "+Inf"]
        for key, per_bucket in sorted(counts.waits.items()):
            cumulative = list(zip(bounds, itertools.accumulate(per_bucket), strict=True))
            family.add_metric(list(key), cumulative, math.fsum(counts.wait_sums[key]))
        return family


class MetricsApp:
    """The ASGI app :func:`create_metrics_app` returns: the exposition of one center.

    An object rather than a function, so a Starlette ``Route`` serves it as an
    app at exactly ``/metrics`` (a ``Mount`` would redirect ``/metrics`` to
    ``/metrics/``, and a ``Route`` calls plain functions as request endpoints).

    Attributes:
        metrics: The collector behind it (:meth:`CenterMetrics.close` stops it counting).
    """

    def __init__(self, metrics: CenterMetrics) -> None:
        self.metrics = metrics
        registry = CollectorRegistry(auto_describe=True)
        registry.register(metrics)
        self._app: ASGIApp = make_asgi_app(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a scrape."""
        await self._app(scope, receive, send)


class ClusterMetrics(Collector):
    """A Prometheus collector of one cluster node: who leads, the epoch, every node's health.

    Its figures are a snapshot: :meth:`update` it (from the serve command's
    ``/metrics`` route, which reads the heartbeat table off the event loop)
    before each scrape; :meth:`collect` never touches the database. While
    the node leads, :attr:`center` holds its center's collector, whose
    series are served beside the cluster's.

    Series, with ``node`` and ``role`` as the only labels (a handful of
    nodes, two roles):

    - ``callcenter_cluster_leader``: 1 on the node that leads now, else 0.
    - ``callcenter_cluster_epoch``: the lease epoch this node knows.
    - ``callcenter_cluster_nodes_up``: nodes whose heartbeat is valid.
    - ``callcenter_cluster_node_up{node,role}``: 1 while a node's heartbeat
      is valid (0 once older than the ttl, or once the node stopped).
    - ``callcenter_cluster_node_heartbeat_age_seconds{node,role}``: seconds
      since its last heartbeat, on the database's clock.
    - ``callcenter_cluster_node_lag_events{node,role}``: events committed
      to the log and not yet applied by the node at its last heartbeat
      (only nodes that apply the log).
    - ``callcenter_cluster_node_store_ok{node,role}``: 1 while it writes the store.
    - ``callcenter_cluster_node_media_workers{node,role}``: its live media
      workers (nodes running a pool).

    Args:
        node: This node's id.

    .. versionadded:: 0.2
    """

    def __init__(self, node: str) -> None:
        self.node = node
        self.leading = False
        self.epoch: int | None = None
        self.view: ClusterView | None = None
        self.center: CenterMetrics | None = None
        """The center's collector while this node leads."""

    def update(self, *, leading: bool, epoch: int | None, view: ClusterView | None) -> None:
        """Take the figures of the next scrape (``view=None``: the table could not be read)."""
        self.leading = leading
        self.epoch = epoch
        self.view = view

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        """The metrics of the last :meth:`update`, then the center's while leading."""
        yield GaugeMetricFamily(
            "callcenter_cluster_leader",
            "1 on the node that leads the routing domain now, else 0.",
            value=int(self.leading),
        )
        if self.epoch is not None:
            yield GaugeMetricFamily(
                "callcenter_cluster_epoch", "The lease epoch this node knows.", value=self.epoch
            )
        if self.view is not None:
            yield from self._nodes(self.view)
        center = self.center
        if center is not None:
            yield from center.collect()

    def _nodes(self, view: ClusterView) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "callcenter_cluster_nodes_up",
            "Nodes whose heartbeat is valid now.",
            value=len(view.up),
        )
        labels = ["node", "role"]
        up = GaugeMetricFamily(
            "callcenter_cluster_node_up", "1 while the node's heartbeat is valid.", labels=labels
        )
        age = GaugeMetricFamily(
            "callcenter_cluster_node_heartbeat_age_seconds",
            "Seconds since the node's last heartbeat (the database's clock).",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            "callcenter_cluster_node_lag_events",
            "Events committed to the log, not applied by the node, at its last heartbeat.",
            labels=labels,
        )
        store = GaugeMetricFamily(
            "callcenter_cluster_node_store_ok",
            "1 while the node writes the store.",
            labels=labels,
        )
        media = GaugeMetricFamily(
            "callcenter_cluster_node_media_workers",
            "The node's live media worker processes.",
            labels=labels,
        )
        for n in view.nodes:
            key = [n.node, n.role.value]
            up.add_metric(key, int(n.up))
            age.add_metric(key, n.age)
            store.add_metric(key, int(n.health.store_ok))
            if n.lag is not None:
                lag.add_metric(key, n.lag)
            if n.health.media_alive is not None:
                media.add_metric(key, n.health.media_alive)
        yield from (up, age, lag, store, media)


class _RegistryApp:
    """The exposition of one registry as an ASGI app (a ``Route`` serves it at ``/metrics``)."""

    def __init__(self, collector: Collector) -> None:
        registry = CollectorRegistry(auto_describe=True)
        registry.register(collector)
        self._app: ASGIApp = make_asgi_app(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def create_cluster_metrics_app(metrics: ClusterMetrics) -> ASGIApp:
    """The Prometheus exposition of a cluster node's :class:`ClusterMetrics`, as an ASGI app.

    .. versionadded:: 0.2
    """
    return _RegistryApp(metrics)


def create_metrics_app(
    center: CallCenter, *, buckets: Sequence[float] = WAIT_BUCKETS
) -> MetricsApp:
    """The Prometheus exposition of ``center`` as an ASGI app (``create_app(metrics=...)``).

    The app has a registry of its own, so two centers in one process (or a
    test beside another) never share series.
    """
    return MetricsApp(CenterMetrics(center, buckets=buckets))
