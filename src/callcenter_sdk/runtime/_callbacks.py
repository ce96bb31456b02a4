"""What a waiting caller hears, and the callback that keeps their place in the queue.

Announcements (position, estimated wait) and the callback offer replace the
hold music for a moment. A caller who presses the callback key hangs up
while the ACD keeps their place; when an agent takes it, the customer is
called from beside the agent's leg, so the media worker can bridge them.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import anyio
import attrs

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError, StateError, ValidationError
from ..acd import Announce
from ..cti import DialPurpose, OutboundDenied, OutboundGuard
from ..ivr import RequestCallback, announcement, find_prompt
from ..media import AudioFile, EndCause, MediaBackend
from ._book import CallBook
from ._calls import _RECOVERABLE, Call, Phase, dial_uri, hang_up
from ._config import CallCenterConfig
from ._cti import Paperwork
from ._engine_port import EnginePort
from ._events import CallbackMade, CallbackScheduled
from ._ledger import Ledger
from ._timers import CallbackSchedule

__all__: list[str] = []

_log = logging.getLogger(__name__)

_FURTHEST = 90 * 86400.0
"""How far ahead an agent may schedule a callback, in seconds."""

_UNREACHED: dict[EndCause | None, str] = {EndCause.BUSY: "busy", EndCause.NO_ANSWER: "no-answer"}
"""How a called-back customer's leg ended, in the ACD's ``callback_failed`` reasons."""


class Callbacks:
    """Announcements to waiting callers, and callbacks keeping the caller's place."""

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        backend: MediaBackend,
        book: CallBook,
        port: EnginePort,
        ledger: Ledger,
        outbound: OutboundGuard,
        paperwork: Paperwork,
        schedule: CallbackSchedule,
        clock: Clock,
    ) -> None:
        self.config = config
        self.backend = backend
        self.book = book
        self.port = port
        self.ledger = ledger
        self.outbound = outbound
        self.paperwork = paperwork
        self.schedule = schedule
        self.clock = clock

    async def offer_callback(self, caller: Call) -> None:
        """Tell a caller entering the queue that the callback key keeps their place."""
        await self._play_while_queued(caller, [self.prompt("callback_offer")])

    async def take_callback(self, caller: Call) -> None:
        """The caller pressed the callback key: keep their place, confirm, hang up.

        A caller whose callback cannot be promised (see :meth:`_promise_callback`)
        hears an apology and keeps waiting.
        """
        if caller.contact is None or not caller.waiting:
            return  # an agent's phone rings already: nothing to promise
        try:
            number = await self._promise_callback(
                caller, caller.caller_id, caller.queue, caller.entered_at, waiting=True
            )
        except CallCenterError as exc:  # refused by the policy, or the store is down
            _log.info("callback for %s not promised: %s", caller.contact_id, exc)
            await self.apologise(caller)
            return
        try:
            await self.port.keep_place_for_callback(caller.contact_id, number)
        except CallCenterError as exc:  # no longer waiting
            _log.info("callback for %s refused: %s", caller.contact_id, exc)
            self.ledger.failed(caller.stored_id)
            return
        caller.move(Phase.CALLBACK)
        caller.callback = number
        path = self.prompt("callback_confirmed")
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.stop_music_on_hold(caller.leg)
            if path is not None and not caller.gone:
                caller.prompt_done = anyio.Event()
                await self.backend.play(caller.leg, AudioFile(str(path)))
                with anyio.move_on_after(30):
                    await caller.prompt_done.wait()
        if not caller.gone:
            await hang_up(self.backend, caller.leg)

    async def schedule_later(self, caller: Call, number: str, at: float, *, actor: str) -> None:
        """An agent promised to call the customer back at ``at``: store it, due then."""
        now = self.clock.now()
        if not now <= at <= now + _FURTHEST:
            raise ValidationError(
                f"a callback is scheduled from now to {_FURTHEST / 86400:.0f} days ahead, "
                f"got {at - now:+.0f} s from now"
            )
        e164 = await self._promise_callback(
            caller, number, caller.queue, at, waiting=False, due_at=at, actor=actor
        )
        self.schedule.due_at(at)
        self.paperwork.events.publish(
            CallbackScheduled(
                at=now, contact_id=caller.contact_id, agent_id=actor, number=e164, due_at=at
            )
        )

    async def _promise_callback(
        self,
        caller: Call,
        number: str,
        queue: str,
        entered_at: float,
        *,
        waiting: bool,
        due_at: float | None = None,
        actor: str = "ivr",
    ) -> str:
        """Judge ``number`` and store the caller's callback; return the E.164 number kept.

        The number is the caller's own (or one they typed), which they may have
        forged: the outbound policy must allow it now (not counted: the dial
        comes later and counts then). The callback is stored before it is
        promised, or not promised.

        Raises:
            OutboundDenied: The policy refuses the number.
            StoreError: The callback could not be stored.
        """
        assert caller.contact is not None  # noqa: S101 - set by the handover
        e164 = self.outbound.check(
            number, DialPurpose.CALLBACK, actor=actor, contact_id=caller.contact_id, count=False
        )
        stored = caller.stored_id if due_at is None else f"{caller.stored_id}+{due_at:.0f}"
        await self.ledger.promise_callback(
            attrs.evolve(caller.contact, id=stored),
            number=e164,
            queue=queue,
            entered_at=entered_at,
            waiting=waiting,
            due_at=due_at,
        )
        return e164

    async def ivr_callback(self, caller: Call, action: RequestCallback) -> bool:
        """The caller accepted the IVR's callback offer: store it; ``False`` if it cannot be.

        The number must pass the outbound policy and the callback be stored
        before the IVR confirms; it then waits in the store and enters its
        queue at once (as a scheduled callback falling due), to be called
        back when an agent takes it, even after a restart.
        """
        now = self.clock.now()
        try:
            await self._promise_callback(
                caller, action.number or caller.caller_id, action.queue, now, waiting=False
            )
        except CallCenterError as exc:  # refused by the policy, or the store is down
            _log.info("IVR callback for %s not promised: %s", caller.contact_id, exc)
            return False
        caller.move(Phase.DONE)
        self.schedule.now()  # it falls due now: the ticker puts it in its queue
        return True

    async def call_back(self, caller: Call, agent_call: str) -> None:
        """The agent accepted the callback: call the customer from beside the agent's leg."""
        try:
            uri = dial_uri(
                self.outbound,
                self.config.dial_plan,
                caller.callback,
                DialPurpose.CALLBACK,
                actor=caller.agent_leg.offer.agent_id if caller.agent_leg else "",
                contact_id=caller.contact_id,
            )
            self.ledger.dialling(caller.stored_id)
            leg = await self.backend.originate(uri, near=agent_call)
        except (*_RECOVERABLE, OutboundDenied) as exc:
            _log.info("calling back %s failed: %s", caller.contact_id, exc)
            caller.ends()
            with contextlib.suppress(NotFoundError, StateError):
                await self.port.callback_failed(caller.contact_id, "failed")
            await hang_up(self.backend, agent_call)
            return
        caller.leg = leg
        caller.gone = False
        caller.move(Phase.DIALLING)
        self.book.add(caller, leg)

    async def answered(self, caller: Call) -> None:
        leg = caller.agent_leg
        if leg is None or leg.call_id is None:
            await hang_up(self.backend, caller.leg)
            return
        await self.ledger.made(caller.stored_id)  # before the talk: never called twice
        try:
            await self.backend.bridge(caller.leg, leg.call_id)
            await self.port.connected(caller.contact_id)
        except (*_RECOVERABLE, StateError) as exc:
            _log.info("bridging callback %s failed: %s", caller.contact_id, exc)
            await hang_up(self.backend, caller.leg)
            return
        caller.move(Phase.CONNECTED)
        caller.agent_id = leg.offer.agent_id
        self.paperwork.events.publish(
            CallbackMade(
                at=self.clock.now(), contact_id=caller.contact_id, agent_id=caller.agent_id
            )
        )
        await self.paperwork.open_ticket(caller, leg.offer.agent_id)

    async def unreached(self, caller: Call) -> None:
        ended = caller.agent_leg
        caller.ends()
        self.book.forget(caller)
        reason = _UNREACHED.get(caller.end_cause, "failed")
        with contextlib.suppress(NotFoundError, StateError):
            await self.port.callback_failed(caller.contact_id, reason)
        if ended is not None and ended.call_id is not None:
            await hang_up(self.backend, ended.call_id)

    async def apologise(self, caller: Call) -> None:
        """No callback for this caller: say so over whatever plays; they keep waiting."""
        await self._play_while_queued(caller, [self.prompt("callback_refused")], interrupt=True)

    def prompt(self, name: str) -> Path | None:
        """The prompt file ``name`` in the center's language, ``None`` if there is none."""
        return find_prompt(self.config.language, name, self.config.flow.prompt_dirs)

    async def announce(self, action: Announce) -> None:
        """Tell a waiting caller their position and wait, then put the hold music back."""
        caller = self.book.get(action.contact_id)
        if caller is None or caller.phase is not Phase.QUEUED:
            return
        names = announcement(action.position, action.estimated_wait, self.config.language)
        await self._play_while_queued(caller, [self.prompt(name) for name in names])

    async def _play_while_queued(
        self, caller: Call, paths: list[Path | None], *, interrupt: bool = False
    ) -> None:
        """Play prompts to a waiting caller instead of the hold music, then put it back.

        Stops at the first missing prompt or as soon as the caller is no longer
        simply waiting (an agent's phone rings, a callback was chosen). While
        other prompts play, new ones are dropped (an announcement never talks
        over the callback offer) unless ``interrupt`` (an answer to the caller's
        key press): then the current prompt stops and these play instead.
        """
        if caller.announcing:
            if interrupt:
                caller.next_prompts = paths
                with contextlib.suppress(*_RECOVERABLE):
                    await self.backend.stop_playing(caller.leg)
                caller.prompt_done.set()
            return
        caller.announcing = True
        try:
            with contextlib.suppress(*_RECOVERABLE):
                await self.backend.stop_music_on_hold(caller.leg)
                pending = list(paths)
                while pending:
                    path = pending.pop(0)
                    if path is None or not caller.waiting:
                        break
                    caller.prompt_done = anyio.Event()
                    await self.backend.play(caller.leg, AudioFile(str(path)))
                    await caller.prompt_done.wait()
                    if caller.next_prompts:
                        pending, caller.next_prompts = caller.next_prompts, []
                if caller.waiting:
                    await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        finally:
            caller.announcing = False
