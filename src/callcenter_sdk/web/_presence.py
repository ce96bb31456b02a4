"""An agent whose desktop disappears is paused, after a grace time.

The agent desktop holds one live-event stream (``/api/desk/events``) open
for as long as the page lives. When an agent's last such stream closes (the
tab closed, the laptop asleep, the network gone), :class:`DesktopWatch`
waits ``grace`` seconds of wall time; if no desktop of theirs came back
meanwhile and they are still working (ready, ringing, talking or in
wrap-up), it calls the runtime's public
:meth:`~callcenter_sdk.runtime.CallCenter.set_not_ready` with the reason
``desktop-lost``, acting as the agent themself, so the ACD stops offering
contacts to someone who cannot see them. A page reload reconnects within
the browser's 1 s retry, well inside the grace time, and changes nothing.
An agent already paused keeps their own reason.

In a cluster the desktops of other nodes count too: each node tells the
leader, every few seconds and at each change, how many desktops each agent
has open on it (:meth:`DesktopWatch.node_desktops`, a whole snapshot, not a
change: a leader that took over learns them all within one period). A
node whose snapshot is older than ``stale`` seconds (it died, stalled or
was cut off) counts for nothing, so its agents are paused after the grace
time like any agent whose desktop went away.

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping

import anyio

from .._errors import CallCenterError
from ..acd import AgentState
from ..runtime import CallCenter

__all__ = ["DESKTOP_LOST", "DesktopWatch"]

DESKTOP_LOST = "desktop-lost"
"""The pause reason of an agent whose desktop went away."""

_WORKING = frozenset({AgentState.READY, AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP})
_log = logging.getLogger(__name__)


class DesktopWatch:
    """Counts each agent's open desktops and pauses those left without one.

    Run :meth:`run` in a task group; the desktop's stream calls
    :meth:`opened` and :meth:`closed`, and other nodes' snapshots arrive
    through :meth:`node_desktops`.

    Args:
        center: The running center.
        grace: Seconds (wall time) a desktop may be gone before its agent is paused.
        stale: Seconds after which another node's last snapshot no longer counts.
    """

    def __init__(self, center: CallCenter, *, grace: float = 30.0, stale: float = 20.0) -> None:
        self._center = center
        self.grace = grace
        self.stale = stale
        self._open: Counter[str] = Counter()  # this node's own desktops
        self._nodes: dict[str, tuple[Counter[str], float]] = {}  # node -> (desktops, when told)
        self._lost: dict[str, float] = {}  # agent -> when their last desktop closed
        self._changed = anyio.Event()

    def open_desktops(self, agent: str) -> int:
        """How many desktops ``agent`` has open now, here and on the nodes that told."""
        return self._open[agent] + sum(counts[agent] for counts, _ in self._nodes.values())

    def opened(self, agent: str) -> None:
        """A desktop of ``agent`` connected (a reload within the grace time cancels the pause)."""
        self._open[agent] += 1
        self._lost.pop(agent, None)

    def closed(self, agent: str) -> None:
        """A desktop of ``agent`` went away."""
        self._open[agent] -= 1
        if self._open[agent] <= 0:
            del self._open[agent]
        self._check(agent, had=True)

    def node_desktops(self, node: str, desktops: Mapping[str, int]) -> None:
        """``node`` has ``desktops[agent]`` desktops open for each agent now (all of them).

        An agent it no longer lists, and who has no desktop elsewhere, is
        paused after the grace time.
        """
        before = self._nodes.pop(node, (Counter[str](), 0.0))[0]
        now = Counter({agent: n for agent, n in desktops.items() if n > 0})
        if now:
            self._nodes[node] = (now, anyio.current_time())
        for agent in before.keys() | now.keys():
            self._check(agent, had=agent in before)

    def _check(self, agent: str, *, had: bool) -> None:
        if self.open_desktops(agent) > 0:
            self._lost.pop(agent, None)
        elif had and agent not in self._lost:
            self._lost[agent] = anyio.current_time()
            self._changed.set()

    def _expire(self) -> float | None:
        """Forget the snapshots older than ``stale``; when the next one expires."""
        now = anyio.current_time()
        for node, (_, told) in list(self._nodes.items()):
            if now - told >= self.stale:
                _log.warning("no desktops from node %s for %.0f s: its agents count none", node,
                             now - told)  # fmt: skip
                self.node_desktops(node, {})
        return min((told + self.stale for _, told in self._nodes.values()), default=None)

    async def run(self) -> None:
        """Pause each agent whose desktops stayed away ``grace`` seconds, until cancelled."""
        while True:
            self._changed = anyio.Event()
            expiry = self._expire()
            deadlines = [gone + self.grace for gone in self._lost.values()]
            if expiry is not None:
                deadlines.append(expiry)
            if not deadlines:
                await self._changed.wait()
                continue
            with anyio.move_on_after(min(deadlines) - anyio.current_time()):
                await self._changed.wait()
                continue
            now = anyio.current_time()
            for agent, gone in list(self._lost.items()):
                if gone + self.grace <= now:
                    del self._lost[agent]
                    await self._pause(agent)

    async def _pause(self, agent: str) -> None:
        try:
            state = self._center.engine.agent_status(agent).state
            if state in _WORKING:
                await self._center.set_not_ready(agent, DESKTOP_LOST, actor=agent)
                _log.info("agent %s paused: their desktop is gone", agent)
        except CallCenterError as exc:
            _log.warning("could not pause %s after their desktop was lost: %s", agent, exc)
