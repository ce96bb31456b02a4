"""Supervisors on live calls: listen, whisper, barge and take-over.

A supervisor (or team lead, or coach, as their role allows) asks to monitor
an agent: their own phone rings, placed beside the agent's leg in the same
media worker, and once they pick up the media backend joins them to the
agent's conversation in the chosen :class:`~callcenter_sdk.media.MonitorMode`.
The monitoring leg ends with the agent's call, or when the supervisor hangs up.

A take-over goes one step further: the supervisor joins as in a barge, then
the caller is bridged to the supervisor alone and the agent's leg hangs up. For the
ACD the agent's part of the contact ends (wrap-up follows), as after a
transfer to someone outside the queues.
"""

from __future__ import annotations

import contextlib
import logging

import attrs

from .._clock import Clock
from .._errors import NotFoundError, StateError
from .._events import EventStream
from ..media import CallAnswered, CallEnded, CallEvent, MediaBackend, MonitorMode
from ..org import Action
from ._access import Access
from ._book import CallBook
from ._calls import _RECOVERABLE, Phase, hang_up
from ._engine_port import EnginePort
from ._events import CallTakenOver, MonitoringStarted

__all__: list[str] = []

_log = logging.getLogger(__name__)


@attrs.frozen
class _Monitoring:
    """A supervisor's leg and the call it joins."""

    agent_call: str
    mode: MonitorMode
    supervisor: str
    agent_id: str
    contact_id: str
    take_over: bool = False


class Supervision:
    """Monitoring legs and the agent calls they join."""

    def __init__(
        self,
        *,
        backend: MediaBackend,
        book: CallBook,
        port: EnginePort,
        access: Access,
        clock: Clock,
        events: EventStream,
    ) -> None:
        self.backend = backend
        self.book = book
        self.port = port
        self.access = access
        self.clock = clock
        self.events = events
        self.monitors: dict[str, _Monitoring] = {}  # the supervisor's leg -> what it joins

    async def monitor(self, agent_id: str, mode: MonitorMode, *, actor: str, device: str) -> str:
        """Ring ``device`` and join it to ``agent_id``'s live call in ``mode``; return the leg."""
        self.access.on_agent(actor, Action[mode.name], agent_id, operation=f"monitor-{mode.value}")
        return await self._ring(agent_id, mode, actor=actor, device=device, take_over=False)

    async def take_over(self, agent_id: str, *, actor: str, device: str) -> str:
        """Ring ``device``; once answered, the supervisor replaces the agent on the call."""
        self.access.on_agent(actor, Action.BARGE, agent_id, operation="take-over")
        call = self.book.talking_to(agent_id)
        if call is None:
            raise StateError(f"agent {agent_id!r} is not on a call")
        self.access.on_contact(actor, call.contact_id, operation="take-over")
        return await self._ring(
            agent_id, MonitorMode.BARGE, actor=actor, device=device, take_over=True
        )

    async def _ring(
        self, agent_id: str, mode: MonitorMode, *, actor: str, device: str, take_over: bool
    ) -> str:
        agent_call = self.book.live_leg(agent_id)
        call = self.book.talking_to(agent_id)
        contact_id = call.contact_id if call is not None else ""
        leg = await self.backend.originate(device, near=agent_call)
        self.monitors[leg] = _Monitoring(agent_call, mode, actor, agent_id, contact_id, take_over)
        return leg

    async def on_leg(self, event: CallEvent) -> None:
        """A supervisor's leg answered or ended."""
        watch = self.monitors[event.call_id]
        if isinstance(event, CallAnswered):
            try:
                await self.backend.monitor(event.call_id, watch.agent_call, watch.mode)
            except _RECOVERABLE as exc:  # the agent's call ended while the supervisor picked up
                _log.info("monitoring %s failed: %s", watch.agent_call, exc)
                await hang_up(self.backend, event.call_id)
                return
            self.events.publish(
                MonitoringStarted(
                    at=self.clock.now(),
                    supervisor=watch.supervisor,
                    agent_id=watch.agent_id,
                    mode="take-over" if watch.take_over else watch.mode.value,
                    call_id=event.call_id,
                )
            )
            if watch.take_over:
                await self._replace_agent(event.call_id, watch)
        elif isinstance(event, CallEnded):
            self.monitors.pop(event.call_id, None)
            call = self.book.get(watch.contact_id)
            if watch.take_over and call is not None and call.taken_by == event.call_id:
                call.move(Phase.DONE)  # the supervisor ended the call they took over
                await hang_up(self.backend, call.leg)

    async def _replace_agent(self, leg: str, watch: _Monitoring) -> None:
        call = self.book.get(watch.contact_id)
        if call is None or call.phase is not Phase.CONNECTED or call.agent_leg is None:
            await hang_up(self.backend, leg)  # the call ended while the supervisor picked up
            return
        agent_leg = call.agent_leg
        if agent_leg.call_id is not None:
            try:  # the caller now talks to the supervisor alone
                await self.backend.stop_monitoring(leg)
                await self.backend.unbridge(call.leg, agent_leg.call_id)
                await self.backend.bridge(call.leg, leg)
            except _RECOVERABLE as exc:  # a leg ended meanwhile: its CallEnded settles it
                _log.info("taking over %s failed: %s", call.contact_id, exc)
                await hang_up(self.backend, leg)
                return
        call.agent_leg = None
        call.taken_by = leg
        call.move(Phase.TRANSFERRED)
        if agent_leg.call_id is not None:
            self.book.agent_legs.pop(agent_leg.call_id, None)
            self.book.offers.pop(agent_leg.offer.offer_id, None)
            await self.end_monitors(agent_leg.call_id)
            await hang_up(self.backend, agent_leg.call_id)
        self.events.publish(
            CallTakenOver(
                at=self.clock.now(),
                contact_id=call.contact_id,
                agent_id=watch.agent_id,
                supervisor=watch.supervisor,
                call_id=leg,
            )
        )
        with contextlib.suppress(NotFoundError, StateError):
            await self.port.hangup(call.contact_id)  # the agent's part ends: wrap-up

    async def end_monitors(self, agent_call: str) -> None:
        """The agent's call ended: so do the legs listening to it (not a take-over's)."""
        for leg, watch in list(self.monitors.items()):
            if watch.agent_call == agent_call and not watch.take_over:
                await hang_up(self.backend, leg)
