"""The ACD alone in real time: the pure engine on the shared ticker, with async streams.

The engine never sleeps: it says when it next needs the time
(:meth:`~callcenter_sdk.acd.Engine.next_deadline`). :class:`AcdRuntime` is a
part of the ground-floor :class:`~callcenter_sdk.Ticker` — the one real-time
loop, which sleeps until the earliest deadline of every part it drives — and
its :meth:`AcdRuntime.tick` calls :meth:`~callcenter_sdk.acd.Engine.tick`:
that is how wrap-up ends, offers time out, contacts overflow and requirements
relax in real time. Every input goes through the runtime's async methods,
which run the engine synchronously (the engine is never re-entered), hand
the resulting actions to the action stream and wake the ticker, since an
input may have moved the next deadline.

Events reach async consumers through :meth:`AcdRuntime.subscribe`, a bounded
memory object stream per subscriber; a subscriber that falls behind by more
than its buffer is closed rather than allowed to stall the ACD.

This lives in :mod:`callcenter_sdk.runtime`, not in :mod:`callcenter_sdk.acd`:
the pure core imports no anyio.

.. versionadded:: 0.1
   As ``acd.Runtime`` and ``acd.open_runtime``.
.. versionchanged:: 0.2
   Moved to ``runtime.AcdRuntime`` and ``runtime.open_acd_runtime``; the
   timers run on a :class:`~callcenter_sdk.Ticker` instead of a loop of their own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from .._clock import Clock, WallClock
from .._events import Event
from .._ticker import Ticker
from ..acd import Action, Agent, Contact, Engine, Queue

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["AcdRuntime", "open_acd_runtime"]

_log = logging.getLogger(__name__)


class AcdRuntime:
    """Runs an :class:`~callcenter_sdk.acd.Engine` on a ticker, with async inputs and outputs.

    Build it with :func:`open_acd_runtime` (an async context manager that
    also runs a ticker of its own unless given one), or construct it on a
    ticker you run yourself and :meth:`aclose` it when done.

    Args:
        engine: The engine to drive.
        ticker: The real-time loop that fires the engine's timers; it must
            measure deadlines on the engine's clock. The runtime adds itself
            to it and leaves it on :meth:`aclose`.
        action_buffer: How many actions may wait in :meth:`actions` before
            the consumer is considered stuck (then actions are dropped with
            an error log, never blocking the engine).
    """

    def __init__(self, engine: Engine, ticker: Ticker, *, action_buffer: int = 10_000) -> None:
        self.engine = engine
        self._ticker = ticker
        self._subscribers: list[MemoryObjectSendStream[Event]] = []
        send, receive = anyio.create_memory_object_stream[Action](action_buffer)
        self._action_send = send
        self._action_receive = receive
        self._subscription = engine.events.subscribe(self._fan_out)
        self._leave_ticker = ticker.add(self)

    # ----------------------------------------------------------- the ticker's part

    def next_deadline(self) -> float | None:
        """The engine's next deadline (what the ticker sleeps until)."""
        return self.engine.next_deadline()

    async def tick(self) -> None:
        """Fire the engine's timers that are due and deliver their actions."""
        self._deliver(self.engine.tick())

    # ----------------------------------------------------------- plumbing

    def _fan_out(self, _seq: int, event: Event) -> None:
        for stream in list(self._subscribers):
            try:
                stream.send_nowait(event)
            except anyio.WouldBlock:
                _log.error("event subscriber fell behind; closing it")
                self._subscribers.remove(stream)
                stream.close()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._subscribers.remove(stream)

    def _deliver(self, actions: list[Action]) -> list[Action]:
        for action in actions:
            try:
                self._action_send.send_nowait(action)
            except anyio.WouldBlock:
                _log.error("action stream full; dropping %r", action)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                break
        self._ticker.wake()
        return actions

    def subscribe(self, max_buffer: float = 1000) -> MemoryObjectReceiveStream[Event]:
        """Return a stream receiving every event published from now on.

        Close the stream to unsubscribe (``with runtime.subscribe() as events:``).
        A subscriber more than ``max_buffer`` events behind is closed (it sees
        end of stream).
        """
        send, receive = anyio.create_memory_object_stream[Event](max_buffer)
        self._subscribers.append(send)
        return receive

    def actions(self) -> MemoryObjectReceiveStream[Action]:
        """The stream of actions for the media/CTI layer to perform (one consumer).

        The runtime owns it and closes it in :meth:`aclose`.
        """
        return self._action_receive

    async def aclose(self) -> None:
        """Leave the ticker; close the action stream and every subscription."""
        self._leave_ticker()
        self._subscription.cancel()
        await self._action_send.aclose()
        await self._action_receive.aclose()
        for stream in self._subscribers:
            await stream.aclose()
        self._subscribers.clear()

    # ----------------------------------------------------------- async API

    async def call(self, method: str, *args: Any, **kwargs: Any) -> list[Action]:
        """Run an engine input by name (one without a method here) and deliver its actions."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(getattr(self.engine, method)(*args, **kwargs))

    async def add_queue(self, queue: Queue) -> None:
        """Add a queue to the engine."""
        await anyio.lowlevel.checkpoint()
        self.engine.add_queue(queue)

    async def add_agent(self, agent: Agent) -> None:
        """Add an agent to the engine."""
        await anyio.lowlevel.checkpoint()
        self.engine.add_agent(agent)

    async def arrive(
        self, contact: Contact, queue: str, *, entered_at: float | None = None
    ) -> list[Action]:
        """A contact arrives in ``queue`` (``entered_at``: its original arrival, if restored)."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.arrive(contact, queue, entered_at=entered_at))

    async def login(self, agent_id: str, *, ready: bool = False) -> list[Action]:
        """Log an agent in, optionally making them ready at once."""
        await anyio.lowlevel.checkpoint()
        out = self._deliver(self.engine.login(agent_id))
        if ready:
            out += await self.set_ready(agent_id)
        return out

    async def logout(
        self, agent_id: str, *, reason: str = "logout", when_idle: bool = False
    ) -> list[Action]:
        """Log an agent out (with ``when_idle``, after the work in hand)."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.logout(agent_id, reason=reason, when_idle=when_idle))

    async def set_ready(self, agent_id: str) -> list[Action]:
        """Make an agent ready."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.set_ready(agent_id))

    async def set_not_ready(self, agent_id: str, reason: str = "not-ready") -> list[Action]:
        """Pause an agent with a reason code."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.set_not_ready(agent_id, reason))

    async def accept(self, offer_id: str, *, connect: bool = True) -> list[Action]:
        """An agent accepts an offer."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.accept(offer_id, connect=connect))

    async def reject(self, offer_id: str, *, reason: str = "") -> list[Action]:
        """An agent declines an offer."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.reject(offer_id, reason=reason))

    async def hangup(self, contact_id: str) -> list[Action]:
        """A contact ends."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.hangup(contact_id))

    async def connected(self, contact_id: str) -> list[Action]:
        """The media layer bridged an accepted contact."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.connected(contact_id))

    async def hold(self, contact_id: str) -> list[Action]:
        """The agent puts the customer on hold."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.hold(contact_id))

    async def resume(self, contact_id: str) -> list[Action]:
        """The agent takes the customer off hold."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.resume(contact_id))

    async def transfer(self, contact_id: str, queue: str) -> list[Action]:
        """Blind-transfer a connected contact to ``queue``."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.transfer(contact_id, queue))

    async def transfer_to_agent(self, contact_id: str, agent_id: str) -> list[Action]:
        """Offer a connected contact to a named colleague."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.transfer_to_agent(contact_id, agent_id))

    async def keep_place_for_callback(self, contact_id: str, number: str) -> list[Action]:
        """A waiting caller leaves the line, to be called back on ``number`` in turn."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.keep_place_for_callback(contact_id, number))

    async def callback_failed(self, contact_id: str, reason: str = "no-answer") -> list[Action]:
        """The customer of an accepted callback could not be reached."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.callback_failed(contact_id, reason))

    async def end_wrap_up(self, agent_id: str) -> list[Action]:
        """The agent finishes wrap-up early."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.end_wrap_up(agent_id))

    async def extend_wrap_up(self, agent_id: str, seconds: float) -> list[Action]:
        """Give the agent more wrap-up time."""
        await anyio.lowlevel.checkpoint()
        return self._deliver(self.engine.extend_wrap_up(agent_id, seconds))


@asynccontextmanager
async def open_acd_runtime(
    engine: Engine | None = None,
    clock: Clock | None = None,
    *,
    ticker: Ticker | None = None,
    action_buffer: int = 10_000,
) -> AsyncIterator[AcdRuntime]:
    """Run an :class:`AcdRuntime` for the duration of the block.

    Without an engine a new one is made on ``clock`` (a
    :class:`~callcenter_sdk.WallClock` by default). Without a ``ticker`` a
    ticker on ``clock`` (the engine's own clock by default) is made and run
    for the block; with one — the application's shared loop — the runtime
    only joins it, and running it stays the caller's business.
    """
    if engine is None:
        engine = Engine(clock=clock or WallClock())
    async with AsyncExitStack() as stack:
        if ticker is None:
            ticker = Ticker(clock or engine.clock)
            tg = await stack.enter_async_context(anyio.create_task_group())
            await tg.start(ticker.run)
            stack.callback(tg.cancel_scope.cancel)
        runtime = AcdRuntime(engine, ticker, action_buffer=action_buffer)
        stack.push_async_callback(runtime.aclose)
        yield runtime
