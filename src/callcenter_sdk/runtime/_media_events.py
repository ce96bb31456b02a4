"""The backend's events: each goes to the caller's leg, an agent's leg or a consultation.

The runtime is the backend's only event consumer. It publishes every event,
lets the IVR see it, starts the IVR of an incoming call and settles the
books when a leg answers, ends, or a key is pressed: one call's trouble is
logged and never stops the center.
"""

from __future__ import annotations

import contextlib
import logging

from .._errors import CallCenterError, NotFoundError, StateError
from ..media import CallAnswered, CallEnded, CallEvent, CallIncoming, DtmfReceived, PromptFinished
from ._arrival import _Arrival
from ._calls import _RECOVERABLE, _AgentLeg, _Caller
from ._events import AgentLegFailed
from ._supervision import _Supervision
from ._transfers import _Transfers

__all__: list[str] = []

_log = logging.getLogger(__name__)


class _MediaEvents(_Arrival, _Transfers, _Supervision):
    """Reading the backend's events and following every leg they concern."""

    async def _pump(self) -> None:
        async for event in self.backend.events():
            self.events.publish(event)
            self.ivr.dispatch(event)
            if isinstance(event, CallIncoming):
                if self._closing:
                    with contextlib.suppress(*_RECOVERABLE):
                        await self.backend.hangup(event.call_id, status_code=503)
                    continue
                self._callers[event.call_id] = _Caller(
                    event.call_id,
                    self._caller_id(event),
                    verified=event.caller_verified,
                    stored_id=f"{event.call_id}@{self._run}",  # leg ids repeat across runs
                )
                self._tg.start_soon(self._run_ivr, event, name=f"ivr {event.call_id}")
            elif isinstance(event, CallEvent):
                try:
                    await self._on_call_event(event)
                except CallCenterError:  # one call's trouble never stops the center
                    _log.exception("handling %s failed", event)

    async def _on_call_event(self, event: CallEvent) -> None:
        if event.call_id in self._monitors:
            await self._on_monitor_leg(event)
            return
        if event.call_id in self._consults:
            await self._on_consult_leg(self._consults[event.call_id], event)
            return
        if event.call_id in self._agent_legs:
            await self._on_agent_leg(self._agent_legs[event.call_id], event)
            return
        caller = self._callers.get(event.call_id)
        if caller is None:
            return
        if isinstance(event, PromptFinished):
            caller.prompt_done.set()
        elif isinstance(event, CallEnded):
            caller.end_cause = event.cause
            await self._caller_gone(caller)
        elif isinstance(event, DtmfReceived):
            key = self.config.callback_key
            if key and event.digit == key and caller.phase == "queued" and not caller.callback:
                caller.callback = caller.caller_id or "?"  # one request per caller
                self._tg.start_soon(self._take_callback, caller, name=f"callback {caller.leg}")
        elif isinstance(event, CallAnswered) and caller.phase == "dialling":
            await self._callback_answered(caller)

    async def _caller_gone(self, caller: _Caller) -> None:
        caller.gone = True
        caller.prompt_done.set()
        if caller.phase == "callback":  # the leg we hung up after the confirmation
            return
        if caller.phase == "dialling":  # the customer we called back did not pick up
            await self._callback_unreached(caller)
            return
        if caller.consult is not None:  # the target's leg has no one left to talk to
            await self._hangup(caller.consult.consultation.target)
        if caller.phase == "transferred":
            caller.phase = "done"
        if caller.phase == "ivr":  # the IVR reports it (an IVR abandon)
            self._callers.pop(caller.contact_id, None)
            return
        if caller.phase in ("queued", "connected"):
            caller.phase = "done"
            leg = caller.agent_leg
            if leg is not None and leg.call_id is not None:  # connected, or accepted
                await self._hangup(leg.call_id)
            with contextlib.suppress(NotFoundError):
                await self._acd(self.engine.hangup, caller.contact_id)
        if caller.phase == "done" and not caller.ticket_id:
            self._callers.pop(caller.contact_id, None)
            self._callers.pop(caller.leg, None)

    async def _on_agent_leg(self, leg: _AgentLeg, event: CallEvent) -> None:
        offer = leg.offer
        caller = self._callers.get(offer.contact_id)
        if isinstance(event, CallAnswered):
            leg.answered = True
            if leg.rescinded or offer.offer_id not in self._offers or caller is None:
                await self._hangup(event.call_id)
                return
            caller.agent_leg = leg
            try:
                await self._acd(self.engine.accept, offer.offer_id, connect=False)
            except NotFoundError:  # the offer expired a moment ago
                caller.agent_leg = None
                await self._hangup(event.call_id)
        elif isinstance(event, CallEnded):
            self._agent_legs.pop(event.call_id, None)
            self._offers.pop(offer.offer_id, None)
            await self._end_monitors(event.call_id)
            if caller is not None and caller.agent_leg is leg:
                if caller.phase == "connected":  # the agent ended the conversation
                    caller.phase = "done"
                    await self._hangup(caller.leg)
                    with contextlib.suppress(NotFoundError):
                        await self._acd(self.engine.hangup, caller.contact_id)
                    return
                if caller.phase == "queued":  # accepted, but gone before the bridge
                    caller.agent_leg = None
                if caller.phase == "dialling":  # the agent gave up calling the customer back
                    await self._hangup(caller.leg)
            if not leg.answered and not leg.rescinded:
                self.events.publish(
                    AgentLegFailed(
                        at=self.clock.now(),
                        contact_id=offer.contact_id,
                        agent_id=offer.agent_id,
                        call_id=event.call_id,
                        cause=event.cause.value,
                    )
                )
                with contextlib.suppress(NotFoundError, StateError):
                    await self._acd(self.engine.reject, offer.offer_id, reason=event.cause.value)
