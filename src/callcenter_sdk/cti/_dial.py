"""Click-to-dial: an agent-initiated outbound call through the media backend.

The agent clicks a number in the screen pop: the agent's phone rings first
(so no customer ever answers to silence), then, once the agent picks up, the
customer's number is called beside the agent's leg and both are bridged when
the customer answers. Any failure hangs up what is left and becomes an event.

:class:`ClickToDial` reacts to media events fed by whoever reads the backend's
one event stream (the runtime); :meth:`ClickToDial.run` reads the stream
itself, for applications where nothing else does.
"""

from __future__ import annotations

import contextlib
import enum
from typing import TYPE_CHECKING, ClassVar

import attrs

from .._clock import Clock, WallClock
from .._errors import MediaError, NotFoundError
from .._events import Event, EventStream
from ..media import CallAnswered, CallEnded, MediaEvent
from ._policy import DialPurpose, OutboundGuard

if TYPE_CHECKING:
    from ..media import MediaBackend

__all__ = ["ClickToDial", "DialConnected", "DialFailed", "DialState"]


class DialState(enum.Enum):
    """Where a click-to-dial call stands."""

    IDLE = "idle"
    RINGING_AGENT = "ringing_agent"
    RINGING_CUSTOMER = "ringing_customer"
    CONNECTED = "connected"
    FAILED = "failed"


@attrs.frozen(kw_only=True)
class DialConnected(Event):
    """The agent and the customer they dialled are talking.

    Attributes:
        agent: The agent who clicked.
        number: The customer's number (E.164).
        agent_call: The agent's leg.
        customer_call: The customer's leg.
    """

    kind: ClassVar[str] = "cti.dial_connected"

    agent: str
    number: str
    agent_call: str
    customer_call: str


@attrs.frozen(kw_only=True)
class DialFailed(Event):
    """A click-to-dial call did not connect.

    Attributes:
        agent: The agent who clicked.
        number: The customer's number (E.164).
        reason: Who failed and why (``"customer: busy"``, ``"agent: no_answer"``).
    """

    kind: ClassVar[str] = "cti.dial_failed"

    agent: str
    number: str
    reason: str


class ClickToDial:
    """One agent-initiated call.

    Args:
        backend: The media backend placing the calls.
        agent: The agent's id (for events).
        agent_uri: Where the agent's phone is reached.
        number: The customer's number as written; normalised to E.164 first.
        guard: The outbound policy every dial passes (its region reads
            numbers without a prefix); the dial counts against its caps.
        uri_template: Turns the E.164 number into a dial URI
            (``"sip:{e164}@trunk.example.net"``).
        caller_id: The number the customer sees (the campaign's).
        clock: Stamps the events.
        events: Where to publish the outcome.

    Raises:
        OutboundDenied: The outbound policy refuses ``number`` (not a phone
            number, a denied range, not allowed, over a cap): nothing is dialled.
    """

    def __init__(
        self,
        backend: MediaBackend,
        *,
        agent: str,
        agent_uri: str,
        number: str,
        guard: OutboundGuard,
        uri_template: str = "tel:{e164}",
        caller_id: str | None = None,
        clock: Clock | None = None,
        events: EventStream | None = None,
    ) -> None:
        self.number = guard.check(number, DialPurpose.CLICK_TO_DIAL, actor=agent)
        self._backend = backend
        self._agent = agent
        self._agent_uri = agent_uri
        self._customer_uri = uri_template.format(e164=self.number)
        self._caller_id = caller_id
        self._clock = clock or WallClock()
        self._events = events
        self.state = DialState.IDLE
        self.agent_call: str | None = None
        self.customer_call: str | None = None
        self.outcome: DialConnected | DialFailed | None = None

    @property
    def done(self) -> bool:
        """Whether the call connected or failed."""
        return self.state in {DialState.CONNECTED, DialState.FAILED}

    async def start(self) -> str:
        """Ring the agent's phone; return the agent's leg id."""
        self.agent_call = await self._backend.originate(self._agent_uri, caller_id=self.number)
        self.state = DialState.RINGING_AGENT
        return self.agent_call

    async def handle(self, event: MediaEvent) -> bool:
        """React to one media event; return :attr:`done`."""
        call_id = getattr(event, "call_id", None)
        if self.done or call_id is None or call_id not in {self.agent_call, self.customer_call}:
            return self.done
        is_agent = call_id == self.agent_call
        if isinstance(event, CallEnded):
            who = "agent" if is_agent else "customer"
            await self._fail(f"{who}: {event.cause.value}")
        elif isinstance(event, CallAnswered):
            if is_agent and self.state is DialState.RINGING_AGENT:
                self.customer_call = await self._backend.originate(
                    self._customer_uri, caller_id=self._caller_id, near=self.agent_call
                )
                self.state = DialState.RINGING_CUSTOMER
            elif not is_agent and self.state is DialState.RINGING_CUSTOMER:
                await self._connect()
        return self.done

    async def cancel(self, reason: str = "cancelled") -> None:
        """Give up (the agent clicked cancel, or rang too long): hang up every leg."""
        if not self.done:
            await self._fail(reason)

    async def run(self) -> DialConnected | DialFailed:
        """Start the call and follow the backend's event stream until it connects or fails."""
        if self.state is DialState.IDLE:
            await self.start()
        async for event in self._backend.events():
            if await self.handle(event):
                break
        assert self.outcome is not None  # noqa: S101 - the stream only ends once done
        return self.outcome

    async def _connect(self) -> None:
        assert self.agent_call is not None  # noqa: S101 - set by start()
        assert self.customer_call is not None  # noqa: S101 - set on the agent's answer
        await self._backend.bridge(self.agent_call, self.customer_call)
        self.state = DialState.CONNECTED
        self._finish(
            DialConnected(
                at=self._clock.now(),
                agent=self._agent,
                number=self.number,
                agent_call=self.agent_call,
                customer_call=self.customer_call,
            )
        )

    async def _fail(self, reason: str) -> None:
        self.state = DialState.FAILED
        for leg in (self.agent_call, self.customer_call):
            if leg is not None:
                with contextlib.suppress(MediaError, NotFoundError):  # already gone
                    await self._backend.hangup(leg)
        self._finish(
            DialFailed(at=self._clock.now(), agent=self._agent, number=self.number, reason=reason)
        )

    def _finish(self, event: DialConnected | DialFailed) -> None:
        self.outcome = event
        if self._events is not None:
            self._events.publish(event)
