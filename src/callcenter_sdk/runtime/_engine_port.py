"""Typed steps into the ACD engine, each followed by carrying out what it decided.

The engine is pure: each input returns the actions it decided (ring this
agent, stop ringing, bridge, announce, release). Every collaborator of the
running center steps into it through this port, which wakes the ticker (a
deadline may have moved) and hands the actions to the center's executor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..acd import Action, Contact, Engine

__all__: list[str] = []

Perform = Callable[[list[Action]], Awaitable[None]]
"""Carries out the engine's actions (the center's :class:`ActionExecutor`)."""


class EnginePort:
    """The engine's inputs, typed, with their actions carried out.

    Args:
        engine: The pure ACD engine.
        wake: Called after each input: the engine's next deadline may have moved.
    """

    def __init__(self, engine: Engine, *, wake: Callable[[], None]) -> None:
        self.engine = engine
        self._wake = wake
        self._perform: Perform | None = None

    def attach(self, perform: Perform) -> None:
        """Carry out the engine's actions with ``perform`` from now on."""
        self._perform = perform

    async def perform(self, actions: list[Action]) -> None:
        """Carry out ``actions`` the engine returned (from a tick, or a step taken elsewhere)."""
        self._wake()
        if self._perform is not None:
            await self._perform(actions)

    async def arrive(self, contact: Contact, queue: str) -> None:
        """A contact joins ``queue``."""
        await self.perform(self.engine.arrive(contact, queue))

    async def accept(self, offer_id: str) -> None:
        """The agent answered the offer; the runtime bridges (``connect=False``)."""
        await self.perform(self.engine.accept(offer_id, connect=False))

    async def reject(self, offer_id: str, reason: str) -> None:
        """The offer was declined, failed or ended unanswered."""
        await self.perform(self.engine.reject(offer_id, reason=reason))

    async def connected(self, contact_id: str) -> None:
        """The customer and the agent are bridged."""
        await self.perform(self.engine.connected(contact_id))

    async def hangup(self, contact_id: str) -> None:
        """The contact's call ended."""
        await self.perform(self.engine.hangup(contact_id))

    async def transfer(self, contact_id: str, queue: str) -> None:
        """A connected contact goes back to ``queue``."""
        await self.perform(self.engine.transfer(contact_id, queue))

    async def keep_place_for_callback(self, contact_id: str, number: str) -> None:
        """The caller hangs up; their place is kept for a callback to ``number``."""
        await self.perform(self.engine.keep_place_for_callback(contact_id, number))

    async def callback_failed(self, contact_id: str, reason: str) -> None:
        """The customer called back could not be reached."""
        await self.perform(self.engine.callback_failed(contact_id, reason))

    async def login(self, agent_id: str) -> None:
        """The agent logs in (not ready)."""
        await self.perform(self.engine.login(agent_id))

    async def logout(self, agent_id: str, *, when_idle: bool) -> None:
        """The agent logs out (at once, or once their contacts end)."""
        await self.perform(self.engine.logout(agent_id, when_idle=when_idle))

    async def set_ready(self, agent_id: str) -> None:
        """The agent is ready for contacts."""
        await self.perform(self.engine.set_ready(agent_id))

    async def set_not_ready(self, agent_id: str, reason: str) -> None:
        """The agent pauses with ``reason``."""
        await self.perform(self.engine.set_not_ready(agent_id, reason))

    async def end_wrap_up(self, agent_id: str) -> None:
        """The agent ends their after-call work."""
        await self.perform(self.engine.end_wrap_up(agent_id))
