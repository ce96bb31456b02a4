"""The backend's events: each goes to the caller's leg, an agent's leg or a consultation.

The runtime is the backend's only event consumer. It publishes every event,
lets the IVR see it, starts the IVR of an incoming call and settles the
books when a leg answers, ends, or a key is pressed: one call's trouble is
logged and never stops the center.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from anyio.abc import TaskGroup

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError, StateError
from .._events import EventStream
from ..media import (
    CallAnswered,
    CallEnded,
    CallEvent,
    CallIncoming,
    DtmfReceived,
    MediaBackend,
    PromptFinished,
)
from ._arrival import Arrival
from ._book import CallBook
from ._callbacks import Callbacks
from ._calls import _RECOVERABLE, AgentLeg, Call, Phase, hang_up
from ._config import CallCenterConfig
from ._dialling import Dialling
from ._engine_port import EnginePort
from ._events import AgentLegFailed
from ._supervision import Supervision
from ._transfers import Transfers

__all__: list[str] = []

_log = logging.getLogger(__name__)


class MediaEvents:
    """Reading the backend's events and following every leg they concern.

    Args:
        closing: Whether the center is closing (new calls are refused then).
        run: This run's id (stored ids of calls are made unique with it).
    """

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        backend: MediaBackend,
        book: CallBook,
        port: EnginePort,
        arrival: Arrival,
        callbacks: Callbacks,
        transfers: Transfers,
        supervision: Supervision,
        dialling: Dialling,
        task_group: TaskGroup,
        closing: Callable[[], bool],
        run: str,
        clock: Clock,
        events: EventStream,
    ) -> None:
        self.config = config
        self.backend = backend
        self.book = book
        self.port = port
        self.arrival = arrival
        self.callbacks = callbacks
        self.transfers = transfers
        self.supervision = supervision
        self.dialling = dialling
        self._tg = task_group
        self._closing = closing
        self._run = run
        self.clock = clock
        self.events = events

    async def pump(self) -> None:
        """Read the backend's events until it closes; one call's trouble never stops it."""
        async for event in self.backend.events():
            self.events.publish(event)
            self.arrival.ivr.dispatch(event)
            if isinstance(event, CallIncoming):
                if self._closing():
                    with contextlib.suppress(*_RECOVERABLE):
                        await self.backend.hangup(event.call_id, status_code=503)
                    continue
                self.arrival.arrived(event, run=self._run)
            elif isinstance(event, CallEvent):
                try:
                    await self._on_call_event(event)
                except CallCenterError:  # one call's trouble never stops the center
                    _log.exception("handling %s failed", event)

    async def _on_call_event(self, event: CallEvent) -> None:
        if event.call_id in self.dialling.legs:
            await self.dialling.on_leg(event)
            return
        if event.call_id in self.supervision.monitors:
            await self.supervision.on_leg(event)
            return
        consult = self.transfers.consults.get(event.call_id)
        if consult is not None:
            await self.transfers.on_consult_leg(consult, event)
            return
        leg = self.book.agent_legs.get(event.call_id)
        if leg is not None:
            await self._on_agent_leg(leg, event)
            return
        caller = self.book.get(event.call_id)
        if caller is None:
            return
        if isinstance(event, PromptFinished):
            caller.prompt_done.set()
        elif isinstance(event, CallEnded):
            caller.end_cause = event.cause
            await self._caller_gone(caller)
        elif isinstance(event, DtmfReceived):
            key = self.config.callback_key
            if key and event.digit == key and caller.phase is Phase.QUEUED and not caller.callback:
                caller.callback = caller.caller_id or "?"  # one request per caller
                take = self.callbacks.take_callback
                self._tg.start_soon(take, caller, name=f"callback {caller.leg}")
        elif isinstance(event, CallAnswered) and caller.phase is Phase.DIALLING:
            await self.callbacks.answered(caller)

    async def _caller_gone(self, caller: Call) -> None:
        caller.gone = True
        caller.prompt_done.set()
        if caller.phase is Phase.CALLBACK:  # the leg we hung up after the confirmation
            return
        if caller.phase is Phase.DIALLING:  # the customer we called back did not pick up
            await self.callbacks.unreached(caller)
            return
        if caller.consult is not None:  # the target's leg has no one left to talk to
            await hang_up(self.backend, caller.consult.consultation.target)
        if caller.taken_by:  # the supervisor who took the call over
            await hang_up(self.backend, caller.taken_by)
        if caller.phase is Phase.TRANSFERRED:
            caller.move(Phase.DONE)
        if caller.phase is Phase.IVR:  # the IVR reports it (an IVR abandon)
            self.book.calls.pop(caller.contact_id, None)
            return
        if caller.phase in (Phase.QUEUED, Phase.CONNECTED):
            caller.move(Phase.DONE)
            leg = caller.agent_leg
            if leg is not None and leg.call_id is not None:  # connected, or accepted
                await hang_up(self.backend, leg.call_id)
            with contextlib.suppress(NotFoundError):
                await self.port.hangup(caller.contact_id)
        if caller.phase is Phase.DONE and not caller.ticket_id:
            self.book.forget(caller)

    async def _on_agent_leg(self, leg: AgentLeg, event: CallEvent) -> None:
        offer = leg.offer
        caller = self.book.get(offer.contact_id)
        if isinstance(event, CallAnswered):
            leg.answered = True
            if leg.rescinded or offer.offer_id not in self.book.offers or caller is None:
                await hang_up(self.backend, event.call_id)
                return
            caller.agent_leg = leg
            try:
                await self.port.accept(offer.offer_id)
            except NotFoundError:  # the offer expired a moment ago
                caller.agent_leg = None
                await hang_up(self.backend, event.call_id)
        elif isinstance(event, CallEnded):
            self.book.agent_legs.pop(event.call_id, None)
            self.book.offers.pop(offer.offer_id, None)
            await self.supervision.end_monitors(event.call_id)
            if caller is not None and caller.agent_leg is leg:
                if caller.phase is Phase.CONNECTED:  # the agent ended the conversation
                    caller.move(Phase.DONE)
                    await hang_up(self.backend, caller.leg)
                    with contextlib.suppress(NotFoundError):
                        await self.port.hangup(caller.contact_id)
                    return
                if caller.phase is Phase.QUEUED:  # accepted, but gone before the bridge
                    caller.agent_leg = None
                if caller.phase is Phase.DIALLING:  # the agent gave up calling the customer back
                    await hang_up(self.backend, caller.leg)
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
                    await self.port.reject(offer.offer_id, event.cause.value)
