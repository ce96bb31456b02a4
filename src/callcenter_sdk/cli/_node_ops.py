"""The operations side of a ``callcenter serve --cluster`` node: heartbeat, status page, metrics.

:class:`NodeOperations` composes, for one node, the heartbeat it writes
(:class:`~callcenter_sdk.runtime.NodeHeartbeat`), what it says in it (its
role and epoch from the elector, what its live feed has applied, its store
and media health from the center it runs, if it leads) and the web app in
front of the node's own (:class:`~callcenter_sdk.web._cluster_page.ClusterOps`:
``/api/cluster`` with the nodes, ``/cluster``, ``/metrics``).

The serve command builds it after the node's front and serves :attr:`app`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from .._errors import CallCenterError
from ..media import VirtualBackend
from ..runtime import (
    CallCenter,
    CenterSetup,
    ClusterMedia,
    Elector,
    NodeHeartbeat,
    node_health,
)
from ..store import Accounts, ClusterView, Heartbeat, NodeRole, Nodes, Store

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ..reports import ClusterMetrics
    from ..web._standby import ClusterFront, ClusterStatus


class NodeOperations:
    """One cluster node's heartbeat, status page and metrics.

    Args:
        setup: The center file (its ``[cluster] ttl``, ``[sip] workers``, the org).
        store: The shared store.
        elector: The node's elector (its role and epoch).
        front: The node's web front (:attr:`ClusterFront.active` is the
            center's app while the node leads).
        status: The public fields of ``/api/cluster``.
        web: This node's web address, as others should reach it.
        standby_applied: The newest event the node's own live feed has read
            while it does not lead (its web app for standbys), if it has one.
        node_media: The node's own media backend, which runs standby or
            leader (``serve --cluster``): its workers are reported; without
            it, those of the center's backend while the node leads.
    """

    def __init__(
        self,
        setup: CenterSetup,
        store: Store,
        *,
        elector: Elector,
        front: ClusterFront,
        status: Callable[[], Awaitable[ClusterStatus]],
        web: str,
        standby_applied: Callable[[], int | None] | None = None,
        node_media: Callable[[], object | None] | None = None,
    ) -> None:
        from ..web._cluster_page import ClusterOps  # noqa: PLC0415 - the web extra is optional

        self._setup = setup
        self._elector = elector
        self._front = front
        self._nodes = Nodes(store)
        self._web = web
        self._standby_applied = standby_applied
        self._node_media = node_media
        self.metrics = _cluster_metrics(elector.node)
        """The node's Prometheus collector (``None`` without the reports extra)."""
        self._center_metrics: tuple[CallCenter, Any] | None = None
        self.heartbeat = NodeHeartbeat(self._nodes, self.describe, ttl=setup.cluster.ttl)
        """The task writing this node's heartbeat (run it beside the elector)."""
        metrics_app: ASGIApp | None = None
        if self.metrics is not None:
            from ..reports import create_cluster_metrics_app  # noqa: PLC0415 - optional extra

            metrics_app = create_cluster_metrics_app(self.metrics)
        self.app: ASGIApp = ClusterOps(
            front,
            status=status,
            nodes=self._nodes,
            domain=elector.domain,
            org=lambda: setup.org,
            accounts=Accounts(store),
            ttl=setup.cluster.ttl,
            metrics=metrics_app,
            before_scrape=self._before_scrape,
        )
        """The ASGI app to serve: the operations routes, then the node's front."""

    def _center(self) -> CallCenter | None:
        """The center this node runs now (``None`` on a standby)."""
        app = self._front.active
        state = getattr(app, "state", None)
        api = getattr(state, "api", None)
        center = getattr(api, "center", None)
        return center if isinstance(center, CallCenter) else None

    def _applied(self) -> int | None:
        """The newest event this node's live feed has read from the log (``None``: no feed).

        The center's app's feed while the node leads, its standby app's otherwise.
        """
        app = self._front.active
        if app is None:
            return None if self._standby_applied is None else self._standby_applied()
        feed = getattr(getattr(getattr(app, "state", None), "api", None), "feed", None)
        head = getattr(feed, "head", None)
        return head if isinstance(head, int) else None

    def describe(self) -> Heartbeat:
        """What this node says in its heartbeat now."""
        elector = self._elector
        center = self._center()
        leading = center is not None and elector.is_leader
        lease = elector.lease
        sip = self._setup.sip
        media = self._node_media() if self._node_media is not None else None
        if media is None and center is not None:
            media = _media(center)
        return Heartbeat(
            domain=elector.domain,
            node=elector.node,
            role=NodeRole.LEADER if leading else NodeRole.STANDBY,
            epoch=None if lease is None else lease.epoch,  # None: the store's epoch
            web=self._web,
            media=""
            if media is None or isinstance(media, VirtualBackend)
            else f"{sip.host}:{sip.port}",
            applied_seq=self._applied(),
            health=node_health(center, media, sip.workers),
        )

    async def _before_scrape(self) -> None:
        """Read the heartbeat table for the scrape, and follow the center while leading."""
        metrics = self.metrics
        if metrics is None:
            return
        try:
            view: ClusterView | None = await anyio.to_thread.run_sync(
                self._nodes.view, self._elector.domain, abandon_on_cancel=True
            )
        except CallCenterError:
            view = None
        center = self._center()
        leading = center is not None and self._elector.is_leader
        lease = self._elector.lease
        metrics.update(leading=leading, epoch=None if lease is None else lease.epoch, view=view)
        self._follow(metrics, center if leading else None)

    def _follow(self, metrics: ClusterMetrics, center: CallCenter | None) -> None:
        """Serve the center's series beside the cluster's while this node runs it."""
        from ..reports import CenterMetrics  # noqa: PLC0415 - optional extra

        if self._center_metrics is not None and self._center_metrics[0] is not center:
            self._center_metrics[1].close()
            self._center_metrics = None
            metrics.center = None
        if center is not None and self._center_metrics is None:
            collector = CenterMetrics(center)
            self._center_metrics = (center, collector)
            metrics.center = collector


def _media(center: CallCenter) -> object:
    """The node's own media backend (a cluster leader's center drives every node's)."""
    backend = center.backend
    return backend.local if isinstance(backend, ClusterMedia) else backend


def _cluster_metrics(node: str) -> ClusterMetrics | None:
    try:
        from ..reports import ClusterMetrics  # noqa: PLC0415 - prometheus-client is optional
    except ImportError:
        return None
    return ClusterMetrics(node)
