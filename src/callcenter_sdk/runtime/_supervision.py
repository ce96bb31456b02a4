"""Supervisors listening in: listen, whisper and barge on an agent's live call.

A supervisor (or team lead, or coach, as their role allows) asks to monitor
an agent: their own phone rings, placed beside the agent's leg in the same
media worker, and once they pick up the media backend joins them to the
agent's conversation in the chosen :class:`~callcenter_sdk.media.MonitorMode`.
The monitoring leg ends with the agent's call, or when the supervisor hangs up.
"""

from __future__ import annotations

import contextlib
import logging

import attrs

from .._errors import StateError
from ..media import CallAnswered, CallEnded, CallEvent, MonitorMode
from ..org import Action
from ._base import _CenterBase
from ._calls import _RECOVERABLE
from ._events import MonitoringStarted

__all__: list[str] = []


@attrs.frozen
class _Monitoring:
    """A supervisor's leg and the call it joins."""

    agent_call: str
    mode: MonitorMode
    supervisor: str
    agent_id: str


_log = logging.getLogger(__name__)


class _Supervision(_CenterBase):
    """Monitoring legs and the agent calls they listen to."""

    _monitors: dict[str, _Monitoring]

    async def monitor(self, agent_id: str, mode: MonitorMode, *, actor: str, device: str) -> str:
        """Ring ``actor``'s ``device`` and join it to ``agent_id``'s live call in ``mode``.

        Returns the monitoring leg's id (hang it up to stop).

        Raises:
            PermissionDenied: ``actor`` may not listen, whisper or barge on that agent.
            StateError: The agent is not on a call.
        """
        self.access.on_agent(actor, Action[mode.name], agent_id, operation=f"monitor-{mode.value}")
        agent_call = self._live_leg(agent_id)
        leg = await self.backend.originate(device, near=agent_call)
        self._monitors[leg] = _Monitoring(agent_call, mode, actor, agent_id)
        return leg

    def _live_leg(self, agent_id: str) -> str:
        for caller in self._callers.values():
            leg = caller.agent_leg
            call_id = leg.call_id if leg is not None else None
            if caller.phase == "connected" and caller.agent_id == agent_id and call_id:
                return call_id
        raise StateError(f"agent {agent_id!r} is not on a call")

    async def _on_monitor_leg(self, event: CallEvent) -> None:
        watch = self._monitors[event.call_id]
        if isinstance(event, CallAnswered):
            try:
                await self.backend.monitor(event.call_id, watch.agent_call, watch.mode)
            except _RECOVERABLE as exc:  # the agent's call ended while the supervisor picked up
                _log.info("monitoring %s failed: %s", watch.agent_call, exc)
                await self._hangup(event.call_id)
                return
            self.events.publish(
                MonitoringStarted(
                    at=self.clock.now(),
                    supervisor=watch.supervisor,
                    agent_id=watch.agent_id,
                    mode=watch.mode.value,
                    call_id=event.call_id,
                )
            )
        elif isinstance(event, CallEnded):
            self._monitors.pop(event.call_id, None)

    async def _end_monitors(self, agent_call: str) -> None:
        """The agent's call ended: so do the legs listening to it."""
        for leg, watch in list(self._monitors.items()):
            if watch.agent_call == agent_call:
                with contextlib.suppress(*_RECOVERABLE):
                    await self.backend.hangup(leg)
