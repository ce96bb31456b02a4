"""A cluster node's heartbeat: its row of ``cluster_nodes``, written every ttl / 3.

Each node of ``callcenter serve --cluster`` runs one :class:`NodeHeartbeat`
beside its :class:`~callcenter_sdk.runtime.Elector`. At every beat it asks
its ``describe`` callable what the node is doing now (its role, the epoch it
knows, what it has applied of the event log, its health) and writes that
with :meth:`callcenter_sdk.store.Nodes.beat`, valid for ``ttl`` seconds on
the database's clock. A node that dies or stalls stops beating, and every
other node sees its row go stale, then down, after ``ttl``. A clean stop
marks the row as left at once.

The heartbeat never takes the node down: a beat the database refuses is
logged and tried again at the next period; meanwhile others see the row
age, which is the truth (they cannot hear from this node).

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import anyio
import anyio.abc
import anyio.to_thread

from .._errors import CallCenterError, ValidationError
from ..store import Heartbeat, NodeHealth, Nodes, NodeStatus
from ._app import CallCenter

__all__ = ["NodeHeartbeat", "node_health"]

_log = logging.getLogger(__name__)


@runtime_checkable
class _Pool(Protocol):
    """A media backend that runs worker processes (the pjsua2 pool)."""

    @property
    def workers(self) -> tuple[object, ...]: ...


def node_health(center: CallCenter | None, backend: object, workers: int | None) -> NodeHealth:
    """The health a node reports: its store writes and its media workers.

    Args:
        center: The center the node runs (``None`` on a standby: its store is
            reported ok, since it beats through it).
        backend: The media backend the center runs on; a pool's live
            workers are counted, any other backend reports no workers.
        workers: The workers the pool should have (``[sip] workers``).

    .. versionadded:: 0.2
    """
    store_ok, unwritten = True, 0
    if center is not None:
        store_ok = not center.writer.degraded
        unwritten = center.writer.buffered
    if isinstance(backend, _Pool):
        return NodeHealth(
            store_ok=store_ok,
            unwritten=unwritten,
            media_alive=len(backend.workers),
            media_total=workers,
        )
    return NodeHealth(store_ok=store_ok, unwritten=unwritten)


class NodeHeartbeat:
    """Writes this node's heartbeat every ``period`` while :meth:`run` runs.

    Args:
        nodes: The heartbeat table.
        describe: What the node says about itself now (called at each beat,
            on the event loop).
        ttl: Seconds each heartbeat stays valid: the lease's ttl, so a node
            shows as down about when a leader would lose its lease.
        period: Seconds between beats (``ttl / 3`` by default).

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        nodes: Nodes,
        describe: Callable[[], Heartbeat],
        *,
        ttl: float,
        period: float | None = None,
    ) -> None:
        if not ttl > 0:
            raise ValidationError(f"ttl must be a positive number of seconds, got {ttl!r}")
        period = ttl / 3 if period is None else period
        if not 0 < period < ttl:
            raise ValidationError(f"period must be between 0 and the ttl ({ttl}), got {period!r}")
        self._nodes = nodes
        self._describe = describe
        self.ttl = float(ttl)
        self.period = float(period)
        self.last: NodeStatus | None = None
        """The row as this node last wrote it (``None`` before the first beat succeeds)."""
        self.failures = 0
        """Beats refused in a row."""
        self._wake = anyio.Event()

    def beat_soon(self) -> None:
        """Beat now rather than at the end of the period (the node's role changed)."""
        self._wake.set()

    async def beat(self, *, join: bool = False) -> NodeStatus | None:
        """Write one heartbeat now; ``None`` (logged) when the database refused it."""
        heartbeat = self._describe()
        try:
            status = await anyio.to_thread.run_sync(
                lambda: self._nodes.beat(heartbeat, self.ttl, join=join),
                abandon_on_cancel=True,
            )
        except CallCenterError as exc:
            self.failures += 1
            if self.failures == 1:
                _log.warning("heartbeat of %s not written: %s", heartbeat.node, exc)
            return None
        if self.failures:
            _log.warning(
                "heartbeat of %s written again after %d failures", status.node, self.failures
            )
        self.failures = 0
        self.last = status
        return status

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Beat until cancelled (started once the first beat was tried), then leave.

        Leaving marks the row as left at once, so the others see a clean stop
        as one (not as a node gone silent); it is tried for at most a ttl.
        """
        joined = await self.beat(join=True) is not None
        task_status.started()
        try:
            while True:
                with anyio.move_on_after(self.period):
                    await self._wake.wait()
                self._wake = anyio.Event()
                joined = await self.beat(join=not joined) is not None or joined
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.ttl):
                heartbeat = self._describe()
                try:
                    await anyio.to_thread.run_sync(
                        self._nodes.leave, heartbeat.domain, heartbeat.node
                    )
                except CallCenterError as exc:
                    _log.warning("node %s could not mark itself left: %s", heartbeat.node, exc)
