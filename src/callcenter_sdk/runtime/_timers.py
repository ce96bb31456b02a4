"""The center's own timers, driven by the ticker beside the ACD engine's.

Each is a part of the :class:`~callcenter_sdk.Ticker`: it says when it next
needs the time and does what is due when ticked. The engine's offers,
wrap-ups and announcements; the tickets' SLA checks; callbacks scheduled for
later, which fall due and join their queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .._clock import Clock
from .._errors import CallCenterError
from ..store import CallbackRecord
from ..tickets import TicketDesk
from ._book import CallBook
from ._calls import Call, Phase
from ._engine_port import EnginePort
from ._ledger import Ledger

__all__: list[str] = []

_log = logging.getLogger(__name__)

RETRY_S = 30.0
"""Seconds before a timer whose database read failed is tried again."""


class EngineTimers:
    """The ACD engine's deadlines: offers timing out, wrap-ups ending, announcements."""

    def __init__(self, port: EnginePort) -> None:
        self._port = port

    def next_deadline(self) -> float | None:
        """The engine's next deadline."""
        return self._port.engine.next_deadline()

    async def tick(self) -> None:
        """Fire the engine's due timers and carry out what they decide."""
        await self._port.perform(self._port.engine.tick())


class TicketClock:
    """Checks the tickets' SLA clocks when the next one falls due."""

    def __init__(
        self, desk: TicketDesk, ledger: Ledger, *, clock: Clock, wake: Callable[[], None]
    ) -> None:
        self._desk = desk
        self._ledger = ledger
        self._clock = clock
        self._wake = wake
        self.due: float | None = None

    def next_deadline(self) -> float | None:
        """When the next ticket's SLA clock falls due."""
        return self.due

    def due_at(self, due: float) -> None:
        """A ticket's SLA clock falls due at ``due``: tick by then."""
        if self.due is None or due < self.due:
            self.due = due
            self._wake()

    async def read(self) -> None:
        """Learn the next due time from the store (at start)."""
        self.due = await self._ledger.read(self._desk.next_due)

    async def tick(self) -> None:
        """Run the SLA checks due now; on a database failure, retry later."""
        try:
            await self._ledger.read(self._desk.check_due)
            self.due = await self._ledger.read(self._desk.next_due)
        except CallCenterError as exc:  # the database is down: check again later
            _log.warning("ticket SLA check failed, retrying in %.0f s: %s", RETRY_S, exc)
            self.due = self._clock.now() + RETRY_S


class CallbackSchedule:
    """Callbacks waiting in the store for their time: each joins its queue when due.

    Args:
        ledger: The store's promises.
        port: The engine the callbacks enter.
        book: Where each callback's call is booked.
        clock: The time.
        run: This run's id: a stored callback's contact id is made unique with it.
    """

    def __init__(
        self,
        ledger: Ledger,
        port: EnginePort,
        book: CallBook,
        *,
        clock: Clock,
        run: str,
        wake: Callable[[], None],
    ) -> None:
        self._wake = wake
        self._ledger = ledger
        self._port = port
        self._book = book
        self._clock = clock
        self._run = run
        self.due: float | None = None

    def rename(self, stored_id: str) -> str:
        """The ACD's id for a stored callback (the media backend may reuse the old leg id)."""
        return f"{stored_id}/{self._run}"

    def next_deadline(self) -> float | None:
        """When the next scheduled callback falls due."""
        return self.due

    def now(self) -> None:
        """A callback was stored to be called back as soon as possible."""
        self.due_at(self._clock.now())

    def due_at(self, when: float) -> None:
        """A callback was stored to be called back at ``when``: tick by then."""
        if self.due is None or when < self.due:
            self.due = when
            self._wake()

    async def tick(self) -> None:
        """Put the callbacks due now into their queues."""
        self.due = None
        try:
            actions, callbacks, later = await self._ledger.due_callbacks(
                self._port.engine, rename=self.rename
            )
        except CallCenterError as exc:  # the database is down: look again later
            _log.warning("reading scheduled callbacks failed, retrying: %s", exc)
            self.due = self._clock.now() + RETRY_S
            return
        self.book(callbacks, later)
        await self._port.perform(actions)

    def book(self, callbacks: list[CallbackRecord], later: float | None) -> None:
        """Book a call for each callback entering its queue; the next one is due at ``later``."""
        for callback in callbacks:
            contact_id = self.rename(callback.callback_id)
            call = Call(
                f"restored:{contact_id}",
                callback.phone,
                contact_id=contact_id,
                stored_id=callback.callback_id,
                phase=Phase.CALLBACK,
                callback=callback.phone,
                queue=callback.queue,
                gone=True,
            )
            call.identified.set()
            self._book.add(call)
        self.due = later
