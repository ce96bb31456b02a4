"""The anyio runtime: drives the pure engine in real time.

The engine never sleeps: it says when it next needs the time
(:meth:`Engine.next_deadline`). :class:`Runtime` owns one task that sleeps
until that deadline, or until an input may have moved it, and then calls
:meth:`Engine.tick` — that is how wrap-up ends, offers time out, contacts
overflow and requirements relax in real time. Every input goes through the
runtime's async methods, which run the engine synchronously (the engine is
never re-entered) and hand the resulting actions to the action stream.

Events reach async consumers through :meth:`Runtime.subscribe`, a bounded
memory object stream per subscriber; a subscriber that falls behind by more
than its buffer is closed rather than allowed to stall the ACD.

This is the only module of :mod:`callcenter_sdk.acd` that imports anyio.

.. versionadded:: 0.1
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from .._clock import Clock, WallClock
from .._errors import StateError
from .._events import Event
from ._actions import Action
from ._engine import Engine
from ._model import Agent, Contact, Queue

if TYPE_CHECKING:
    from anyio.abc import TaskStatus
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["Runtime", "open_runtime"]

_log = logging.getLogger(__name__)


class Runtime:
    """Runs an :class:`Engine` against a real clock, with async inputs and outputs.

    Build it with :func:`open_runtime` (an async context manager that starts
    and stops the timer task), or call :meth:`run` in your own task group.

    Args:
        engine: The engine to drive; its clock should be ``clock``.
        clock: The clock deadlines are measured on (a :class:`WallClock`).
        action_buffer: How many actions may wait in :meth:`actions` before
            the oldest consumer is considered stuck (then actions are dropped
            with an error log, never blocking the engine).
    """

    def __init__(self, engine: Engine, clock: Clock, *, action_buffer: int = 10_000) -> None:
        self.engine = engine
        self._clock = clock
        self._wake = anyio.Event()
        self._subscribers: list[MemoryObjectSendStream[Event]] = []
        send, receive = anyio.create_memory_object_stream[Action](action_buffer)
        self._action_send = send
        self._action_receive = receive
        self._subscription = engine.events.subscribe(self._fan_out)
        self._running = False

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
        self._wake.set()
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

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Fire the engine's timers on time, forever (until cancelled)."""
        if self._running:
            raise StateError("this runtime is already running")
        self._running = True
        task_status.started()
        try:
            while True:
                self._wake = anyio.Event()
                deadline = self.engine.next_deadline()
                delay = math.inf if deadline is None else deadline - self._clock.now()
                if delay > 0:
                    with anyio.move_on_after(delay):
                        await self._wake.wait()
                    continue
                self._deliver(self.engine.tick())
        finally:
            self._running = False

    async def aclose(self) -> None:
        """Close the action stream and every subscription."""
        self._subscription.cancel()
        await self._action_send.aclose()
        await self._action_receive.aclose()
        for stream in self._subscribers:
            await stream.aclose()
        self._subscribers.clear()

    # ----------------------------------------------------------- async API

    async def call(self, method: str, *args: Any, **kwargs: Any) -> list[Action]:
        """Run one engine input by name (``"accept"``, ``"hold"``...) and deliver its actions."""
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
        return await self.call("arrive", contact, queue, entered_at=entered_at)

    async def login(self, agent_id: str, *, ready: bool = False) -> list[Action]:
        """Log an agent in, optionally making them ready at once."""
        out = await self.call("login", agent_id)
        if ready:
            out += await self.call("set_ready", agent_id)
        return out

    async def logout(
        self, agent_id: str, *, reason: str = "logout", when_idle: bool = False
    ) -> list[Action]:
        """Log an agent out (with ``when_idle``, after the work in hand)."""
        return await self.call("logout", agent_id, reason=reason, when_idle=when_idle)

    async def set_ready(self, agent_id: str) -> list[Action]:
        """Make an agent ready."""
        return await self.call("set_ready", agent_id)

    async def set_not_ready(self, agent_id: str, reason: str = "not-ready") -> list[Action]:
        """Pause an agent with a reason code."""
        return await self.call("set_not_ready", agent_id, reason)

    async def accept(self, offer_id: str, *, connect: bool = True) -> list[Action]:
        """An agent accepts an offer."""
        return await self.call("accept", offer_id, connect=connect)

    async def reject(self, offer_id: str, *, reason: str = "") -> list[Action]:
        """An agent declines an offer."""
        return await self.call("reject", offer_id, reason=reason)

    async def hangup(self, contact_id: str) -> list[Action]:
        """A contact ends."""
        return await self.call("hangup", contact_id)

    async def connected(self, contact_id: str) -> list[Action]:
        """The media layer bridged an accepted contact."""
        return await self.call("connected", contact_id)

    async def hold(self, contact_id: str) -> list[Action]:
        """The agent puts the customer on hold."""
        return await self.call("hold", contact_id)

    async def resume(self, contact_id: str) -> list[Action]:
        """The agent takes the customer off hold."""
        return await self.call("resume", contact_id)

    async def transfer(self, contact_id: str, queue: str) -> list[Action]:
        """Blind-transfer a connected contact to ``queue``."""
        return await self.call("transfer", contact_id, queue)

    async def transfer_to_agent(self, contact_id: str, agent_id: str) -> list[Action]:
        """Offer a connected contact to a named colleague."""
        return await self.call("transfer_to_agent", contact_id, agent_id)

    async def keep_place_for_callback(self, contact_id: str, number: str) -> list[Action]:
        """A waiting caller leaves the line, to be called back on ``number`` in turn."""
        return await self.call("keep_place_for_callback", contact_id, number)

    async def callback_failed(self, contact_id: str, reason: str = "no-answer") -> list[Action]:
        """The customer of an accepted callback could not be reached."""
        return await self.call("callback_failed", contact_id, reason)

    async def end_wrap_up(self, agent_id: str) -> list[Action]:
        """The agent finishes wrap-up early."""
        return await self.call("end_wrap_up", agent_id)

    async def extend_wrap_up(self, agent_id: str, seconds: float) -> list[Action]:
        """Give the agent more wrap-up time."""
        return await self.call("extend_wrap_up", agent_id, seconds)


@asynccontextmanager
async def open_runtime(
    engine: Engine | None = None, clock: Clock | None = None
) -> AsyncIterator[Runtime]:
    """Start a :class:`Runtime` (and its timer task) for the duration of the block.

    Without arguments a new engine on a :class:`~callcenter_sdk.WallClock` is
    made; with an engine, its own clock is used unless ``clock`` is given.
    """
    if engine is None:
        clock = clock or WallClock()
        engine = Engine(clock=clock)
    clock = clock or engine.clock
    runtime = Runtime(engine, clock)
    async with anyio.create_task_group() as tg:
        await tg.start(runtime.run)
        try:
            yield runtime
        finally:
            tg.cancel_scope.cancel()
            await runtime.aclose()
