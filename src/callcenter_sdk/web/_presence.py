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

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
from collections import Counter

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
    :meth:`opened` and :meth:`closed`.

    Args:
        center: The running center.
        grace: Seconds (wall time) a desktop may be gone before its agent is paused.
    """

    def __init__(self, center: CallCenter, *, grace: float = 30.0) -> None:
        self._center = center
        self.grace = grace
        self._open: Counter[str] = Counter()
        self._lost: dict[str, float] = {}  # agent -> when their last desktop closed
        self._changed = anyio.Event()

    def open_desktops(self, agent: str) -> int:
        """How many desktops ``agent`` has open now."""
        return self._open[agent]

    def opened(self, agent: str) -> None:
        """A desktop of ``agent`` connected (a reload within the grace time cancels the pause)."""
        self._open[agent] += 1
        self._lost.pop(agent, None)

    def closed(self, agent: str) -> None:
        """A desktop of ``agent`` went away."""
        self._open[agent] -= 1
        if self._open[agent] <= 0:
            del self._open[agent]
            self._lost[agent] = anyio.current_time()
            self._changed.set()

    async def run(self) -> None:
        """Pause each agent whose desktops stayed away ``grace`` seconds, until cancelled."""
        while True:
            self._changed = anyio.Event()
            if not self._lost:
                await self._changed.wait()
                continue
            agent, gone = min(self._lost.items(), key=lambda item: item[1])
            with anyio.move_on_after(gone + self.grace - anyio.current_time()):
                await self._changed.wait()
                continue
            if self._lost.get(agent) == gone:
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
