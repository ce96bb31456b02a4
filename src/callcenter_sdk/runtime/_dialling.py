"""Click-to-dial from the desktop: the agent's phone rings, then the customer's.

The agent clicks a number: :class:`~callcenter_sdk.cti.ClickToDial` judges it
with the outbound policy (nothing is dialled otherwise), rings the agent's
phone and, once they pick up, dials the customer beside the agent's leg and
bridges them. While the call lasts the agent is paused (reason
``click-to-dial``) so the ACD offers them nothing; an agent who was ready is
ready again when it ends. When either side hangs up, the other leg ends too.
"""

from __future__ import annotations

import attrs

from .._clock import Clock
from .._errors import StateError
from .._events import EventStream
from ..acd import AgentState
from ..cti import ClickToDial, DialState, OutboundGuard
from ..media import CallEnded, CallEvent, MediaBackend
from ..org import Action
from ._access import Access
from ._calls import _RECOVERABLE, hang_up
from ._config import CallCenterConfig
from ._engine_port import EnginePort
from ._seating import Seating

__all__: list[str] = []

PAUSE_REASON = "click-to-dial"
"""The reason an agent is paused while their click-to-dial call lasts."""


@attrs.define
class _Dial:
    dial: ClickToDial
    agent_id: str
    was_ready: bool


class Dialling:
    """The click-to-dial calls of one center, followed leg by leg."""

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        backend: MediaBackend,
        port: EnginePort,
        seating: Seating,
        access: Access,
        outbound: OutboundGuard,
        clock: Clock,
        events: EventStream,
    ) -> None:
        self.config = config
        self.backend = backend
        self.port = port
        self.seating = seating
        self.access = access
        self.outbound = outbound
        self.clock = clock
        self.events = events
        self.legs: dict[str, _Dial] = {}

    async def click_to_dial(self, number: str, *, actor: str) -> str:
        """Ring ``actor``'s phone, then ``number``; return the agent's leg."""
        self.access.on_agent(actor, Action.CHANGE_AGENT_STATE, actor, operation="click_to_dial")
        state = self.port.engine.agent_status(actor).state
        if state not in (AgentState.READY, AgentState.NOT_READY):
            raise StateError(f"agent {actor!r} is {state.value}: no click-to-dial now")
        dial = ClickToDial(  # judges the number first: OutboundDenied dials nothing
            self.backend,
            agent=actor,
            agent_uri=self.seating.device(actor),
            number=number,
            guard=self.outbound,
            uri_template=self.config.dial_plan.gateway.format(number="{e164}"),
            clock=self.clock,
            events=self.events,
        )
        was_ready = state is AgentState.READY
        if was_ready:
            await self.port.set_not_ready(actor, PAUSE_REASON)
        record = _Dial(dial, actor, was_ready)
        try:
            leg = await dial.start()
        except _RECOVERABLE:
            await self._ended(record)
            raise
        self.legs[leg] = record
        return leg

    async def on_leg(self, event: CallEvent) -> None:
        """One of a click-to-dial call's legs answered or ended."""
        record = self.legs[event.call_id]
        dial = record.dial
        if not dial.done:
            await dial.handle(event)
            if dial.customer_call is not None:
                self.legs[dial.customer_call] = record
            if dial.state is DialState.FAILED:
                await self._ended(record)
            return
        if isinstance(event, CallEnded):  # the conversation is over: so is the other leg
            for leg in (dial.agent_call, dial.customer_call):
                if leg is not None and leg != event.call_id:
                    await hang_up(self.backend, leg)
            await self._ended(record)

    async def _ended(self, record: _Dial) -> None:
        for leg in (record.dial.agent_call, record.dial.customer_call):
            if leg is not None:
                self.legs.pop(leg, None)
        status = self.port.engine.agent_status(record.agent_id)
        paused = status.state is AgentState.NOT_READY and status.reason == PAUSE_REASON
        if record.was_ready and paused:
            await self.port.set_ready(record.agent_id)
