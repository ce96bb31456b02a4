"""Running flows on a media backend: the IVR engine's actions, carried out.

:class:`IvrDriver` answers calls, plays prompts (a key pressed stops a menu's
prompts: barge-in), collects DTMF with the flow's timeouts, records
voicemail, and hands each outcome (a queue transfer, a callback request, a
voicemail, a hang-up) to a coroutine the application provides — typically
one that builds an ACD contact and calls the ACD's ``arrive``. It works on
any :class:`~callcenter_sdk.media.MediaBackend`: the pjsua2 worker pool, or
the virtual backend on virtual time for tests and the simulator.

Voicemail goes to the data directory's ``voicemail/`` unless told otherwise,
in a directory only its owner may enter (see :func:`callcenter_sdk.data_dir`).
Key events the driver has not read yet are bounded per call (64, like the
backends' digit buffers): a flood of DTMF events cannot grow its memory.

Prompt and hang-up events reach the driver through :meth:`IvrDriver.dispatch`;
:meth:`IvrDriver.serve` does that itself when the driver owns the backend's
event stream, and forwards every event to the application as well.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from .._clock import Clock
from .._datadir import data_dir, private_directory
from .._errors import CallCenterError, MediaError, NotFoundError
from ..media import (
    AudioFile,
    CallEnded,
    CallEvent,
    CallIncoming,
    DtmfReceived,
    MediaBackend,
    MediaEvent,
    PromptFinished,
)
from ..media._dtmf import DIGIT_BUFFER_LIMIT
from . import _actions as act
from ._engine import EstimatedWait, IvrSession
from ._flow import Flow
from ._prompts import PromptRef

if TYPE_CHECKING:
    from anyio.abc import TaskStatus
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["IvrDriver", "IvrResult"]

_log = logging.getLogger(__name__)
_SIP_USER = re.compile(r"^(?:sips?:)?([^@;>]+)@")

Outcome = act.TransferToQueue | act.RequestCallback | act.VoicemailLeft | act.HangUp


@attrs.frozen(kw_only=True)
class IvrResult:
    """Something the IVR decided for a call, handed to the application.

    Attributes:
        call_id: The media backend's call id.
        action: A transfer to a queue (the call stays up and is now the
            application's), a callback request, a voicemail to make a ticket
            of, or the end of the call (``by_caller``: an IVR abandon).
        variables: The call's variables at that moment (caller data, choices).
        trail: The nodes the call went through.
        at: The clock's time.
    """

    call_id: str
    action: Outcome
    variables: Mapping[str, str]
    trail: tuple[str, ...]
    at: float


Handover = Callable[[IvrResult], Awaitable[bool | None]]
"""Takes each outcome; returning ``False`` declines it: the flow stops there and the
call, still up, is the application's (a callback it cannot promise, say)."""
CallerData = Callable[[CallIncoming], Awaitable[Mapping[str, str]]]
Forward = Callable[[MediaEvent], Awaitable[None]]


class _Gone(Exception):  # noqa: N818 - internal signal, never escapes the driver
    """The call ended under the driver's feet."""


class _Declined(Exception):  # noqa: N818 - internal signal, never escapes the driver
    """The application declined an outcome: the flow ends, the call stays up, theirs."""

    def __init__(self, result: IvrResult) -> None:
        super().__init__(result.call_id)
        self.result = result


class _Call:
    """A call in the IVR: its events, and how many keys it pressed that no collection used.

    At most ``key_limit`` key events wait unread (the backend keeps no more
    digits than that either); more are dropped, counted in ``dropped_keys``.
    Other events (a prompt's end, the hang-up) are never dropped.
    """

    def __init__(self, call_id: str, key_limit: int = DIGIT_BUFFER_LIMIT) -> None:
        self.call_id = call_id
        self.send: MemoryObjectSendStream[CallEvent]
        self.receive: MemoryObjectReceiveStream[CallEvent]
        self.send, self.receive = anyio.create_memory_object_stream[CallEvent](math.inf)
        self.ended = False
        self.keys = 0
        self.key_limit = key_limit
        self.unread_keys = 0
        self.dropped_keys = 0

    def push(self, event: CallEvent) -> None:
        if isinstance(event, CallEnded):
            self.ended = True
        if isinstance(event, DtmfReceived):
            if self.unread_keys >= self.key_limit:
                self.dropped_keys += 1
                if self.dropped_keys == 1:
                    _log.warning(
                        "IVR call %s: %d keys unread, dropping further ones",
                        self.call_id,
                        self.key_limit,
                    )
                return
            self.unread_keys += 1
        self.send.send_nowait(event)

    def _seen(self, event: CallEvent) -> CallEvent:
        if isinstance(event, CallEnded):
            raise _Gone
        if isinstance(event, DtmfReceived):
            self.unread_keys -= 1
            self.keys = min(self.keys + 1, self.key_limit)
        return event

    def drain(self) -> None:
        """Take in the events already there (keys are counted, an end is raised)."""
        while True:
            try:
                event = self.receive.receive_nowait()
            except anyio.WouldBlock:
                return
            self._seen(event)

    def used(self, digits: str, max_digits: int) -> None:
        """A collection returned ``digits``: forget the keys it consumed.

        Shorter than ``max_digits`` means a terminator was used too, or the
        buffer ran dry (a timeout), in which case nothing is left anyway.
        """
        self.drain()
        consumed = len(digits) + (1 if len(digits) < max_digits else 0)
        self.keys = max(0, self.keys - consumed)

    async def next(self) -> CallEvent:
        return self._seen(await self.receive.receive())

    def close(self) -> None:
        self.send.close()
        self.receive.close()


def caller_from(event: CallIncoming) -> dict[str, str]:
    """The default caller data: ``caller_id`` and ``dialled`` from the SIP URIs."""
    out = {"caller_uri": event.from_uri, "dialled_uri": event.to_uri}
    for key, uri in (("caller_id", event.from_uri), ("dialled", event.to_uri)):
        match = _SIP_USER.match(uri.strip("<>").split("<")[-1])
        out[key] = match.group(1) if match else uri
    return out


class IvrDriver:
    """Runs a flow for each call on a media backend.

    Args:
        backend: Any media backend.
        flow: The flow every call runs.
        clock: The time source (the virtual backend's clock in tests, a
            :class:`~callcenter_sdk.WallClock` live); it decides business
            hours and bounds voicemail.
        handover: Receives every outcome; for a transfer, the call is the
            application's from then on. Returning ``False`` declines the
            outcome (a callback it cannot promise): the flow stops at once,
            before its closing prompts, and the call stays up for the
            application to carry on.
        estimated_wait: Answers the flow's wait branches.
        caller_data: Looks the caller up (CTI) when :meth:`serve` answers a call;
            its result is added to the default ``caller_id``/``dialled`` data.
        forward: Receives every backend event :meth:`serve` reads, for the rest
            of the application (the ACD needs to hear about waiting callers).
        voicemail_dir: Where voicemail recordings are written; None (the
            default) for the data directory's ``voicemail/``
            (:attr:`callcenter_sdk.DataDir.voicemail`), found at the first
            message. The directory is created with mode 0700 if missing, and
            refused when another user owns it or others may write to it (that
            call is then hung up, and the failure logged); the backend writes
            each message with mode 0600.

    .. versionchanged:: 0.1
       ``voicemail_dir`` defaults to the data directory, no longer the current directory.
    """

    def __init__(
        self,
        backend: MediaBackend,
        flow: Flow,
        *,
        clock: Clock,
        handover: Handover,
        estimated_wait: EstimatedWait | None = None,
        caller_data: CallerData | None = None,
        forward: Forward | None = None,
        voicemail_dir: str | Path | None = None,
    ) -> None:
        self.backend = backend
        self.flow = flow
        self.clock = clock
        self._handover = handover
        self._estimated_wait = estimated_wait
        self._caller_data = caller_data
        self._forward = forward
        self.voicemail_dir = None if voicemail_dir is None else Path(voicemail_dir)
        self._calls: dict[str, _Call] = {}

    @property
    def active_calls(self) -> tuple[str, ...]:
        """The calls in the IVR now."""
        return tuple(self._calls)

    def dispatch(self, event: MediaEvent) -> None:
        """Give the driver a backend event (for every event, unless :meth:`serve` reads them)."""
        if isinstance(event, CallEvent):
            call = self._calls.get(event.call_id)
            if call is not None:
                call.push(event)

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Read the backend's events: run the flow for every incoming call, route the rest.

        Runs until the event stream ends (the backend is closed) or it is cancelled.
        """
        try:
            async with anyio.create_task_group() as tg:
                task_status.started()
                async for event in self.backend.events():
                    if isinstance(event, CallIncoming):
                        self._calls[event.call_id] = _Call(event.call_id)
                        tg.start_soon(self._serve_call, event)
                    else:
                        self.dispatch(event)
                    if self._forward is not None:
                        await self._forward(event)
                tg.cancel_scope.cancel()
        finally:
            for call in self._calls.values():  # calls cancelled before their flow began
                call.close()
            self._calls.clear()

    async def _serve_call(self, event: CallIncoming) -> None:
        caller = caller_from(event)
        if self._caller_data is not None:
            caller.update(await self._caller_data(event))
        await self.run_call(event.call_id, caller)

    async def run_call(
        self,
        call_id: str,
        caller: Mapping[str, str] | None = None,
        *,
        answer: bool = True,
        flow: Flow | None = None,
    ) -> IvrResult:
        """Run the flow for one call (answering it first) and return how it ended.

        ``flow`` runs instead of the driver's own (a center answering several
        numbers, each with its own IVR).
        """
        call = self._calls.get(call_id)
        if call is None:
            call = self._calls[call_id] = _Call(call_id)
        session = IvrSession(
            flow or self.flow, clock=self.clock, estimated_wait=self._estimated_wait
        )
        last: IvrResult | None = None
        try:
            try:
                if answer:
                    await self._backend(self.backend.answer(call_id))
                actions: list[act.IvrAction] | None = session.start(caller)
                while actions:
                    actions, result = await self._carry_out(call, session, actions)
                    last = result or last
            except _Gone:
                last = await self._end(call_id, session, session.hung_up()) or last
            except _Declined as declined:
                last = declined.result
            except MediaError as exc:
                # One call's failure (a missing prompt, a worker that lost it) must not stop
                # the IVR for everyone: hang that call up and report why.
                _log.warning("IVR flow %r: call %s failed: %s", self.flow.name, call_id, exc)
                with contextlib.suppress(MediaError, NotFoundError):
                    await self.backend.hangup(call_id)
                aborted = session.abort(f"media error: {exc}")
                last = await self._end(call_id, session, aborted) or last
        finally:
            self._calls.pop(call_id, None)
            call.close()
        assert last is not None  # noqa: S101 - every flow ends with an outcome
        return last

    async def _end(
        self, call_id: str, session: IvrSession, actions: list[act.IvrAction]
    ) -> IvrResult | None:
        last = None
        for action in actions:
            assert isinstance(action, act.HangUp)  # noqa: S101 - hung_up's and abort's only action
            last = await self._report(call_id, session, action)
        return last

    async def _backend(self, operation: Awaitable[Any]) -> Any:
        try:
            return await operation
        except NotFoundError as exc:
            raise _Gone from exc

    async def _report(self, call_id: str, session: IvrSession, action: Outcome) -> IvrResult:
        result = IvrResult(call_id=call_id, action=action, variables=session.variables,
                           trail=tuple(session.trail), at=self.clock.now())  # fmt: skip
        if await self._handover(result) is False:
            raise _Declined(result)
        return result

    async def _carry_out(
        self, call: _Call, session: IvrSession, actions: list[act.IvrAction]
    ) -> tuple[list[act.IvrAction] | None, IvrResult | None]:
        """Do ``actions``; return the engine's answer to the waiting one, and the last outcome."""
        result = None
        for action in actions:
            if isinstance(action, act.PlayPrompts):
                await self._play(call, action.prompts, barge_in=False)
                return session.prompts_finished(), result
            if isinstance(action, act.CollectDigits):
                return session.digits_collected(await self._collect(call, action)), result
            if isinstance(action, act.RecordVoicemail):
                path, seconds = await self._record(call, action)
                return session.voicemail_finished(path, seconds), result
            if isinstance(action, act.SetVariables):
                continue
            if isinstance(action, act.HangUp) and not action.by_caller:
                with contextlib.suppress(_Gone):
                    await self._backend(self.backend.hangup(call.call_id))
            result = await self._report(call.call_id, session, action)
        return None, result

    async def _play(self, call: _Call, prompts: tuple[PromptRef, ...], *, barge_in: bool) -> bool:
        """Play ``prompts`` in turn; return True when a key stopped (or skipped) them.

        Keys typed ahead during an earlier message skip an interruptible
        prompt altogether: a caller who knows the menu need not hear it.
        """
        call.drain()
        if barge_in and call.keys:
            return True
        for ref in prompts:
            path = self.flow.prompt_file(ref, ref.language or self.flow.language)
            if path is None:
                raise MediaError(f"IVR flow {self.flow.name!r}: no prompt file for {ref}")
            await self._backend(self.backend.play(call.call_id, AudioFile(str(path))))
            while True:
                event = await call.next()
                if isinstance(event, PromptFinished):
                    break
                if barge_in and isinstance(event, DtmfReceived):
                    await self._backend(self.backend.stop_playing(call.call_id))
                    return True
        return False

    async def _collect(self, call: _Call, action: act.CollectDigits) -> str:
        await self._play(call, action.prompts, barge_in=action.barge_in)
        digits: str = await self._backend(
            self.backend.collect_dtmf(
                call.call_id,
                max_digits=action.max_digits,
                first_digit_timeout=action.first_digit_timeout,
                inter_digit_timeout=action.inter_digit_timeout,
                terminators=action.terminator,
            )
        )
        if call.ended:
            raise _Gone
        call.used(digits, action.max_digits)
        return digits

    def _voicemail_directory(self) -> Path:
        """The voicemail directory, private and checked (made again if someone removed it)."""
        try:
            if self.voicemail_dir is None:
                return data_dir().voicemail
            return private_directory(self.voicemail_dir)
        except (OSError, CallCenterError) as exc:
            # A MediaError ends this call only; the IVR goes on serving the others.
            raise MediaError(f"no voicemail directory: {exc}") from exc

    async def _record(self, call: _Call, action: act.RecordVoicemail) -> tuple[str, float]:
        directory = self._voicemail_directory()
        name = re.sub(r"[^A-Za-z0-9_-]", "_", call.call_id)
        path = str(directory / f"voicemail-{name}-{round(self.clock.now() * 1000)}.wav")
        start = self.clock.now()
        await self._backend(self.backend.start_recording(call.call_id, path))
        remaining = action.max_seconds
        while remaining > 0 and not call.ended:
            # One key at a time: the terminator (or the time limit) ends the message,
            # other keys are part of what the caller does while speaking.
            got = await self._backend(
                self.backend.collect_dtmf(
                    call.call_id,
                    max_digits=1,
                    first_digit_timeout=remaining,
                    terminators=action.terminator,
                )
            )
            if not got:
                break
            remaining = action.max_seconds - (self.clock.now() - start)
        seconds = self.clock.now() - start
        with contextlib.suppress(_Gone):  # a caller hanging up is how most messages end
            call.drain()
        call.keys = 0  # keys pressed while speaking are not answers to a later menu
        if not call.ended:
            with contextlib.suppress(_Gone):
                await self._backend(self.backend.stop_recording(call.call_id))
        return path, seconds
