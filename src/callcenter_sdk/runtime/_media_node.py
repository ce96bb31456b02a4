"""A cluster node's media: its own pool, driven by the leader through the database.

Every ``serve --cluster`` node runs media workers, standby or leader, so
Kamailio can send a call to any node. A node's :class:`MediaAgent` owns its
local backend: it writes each media event as a row of ``media_events``
(:class:`~callcenter_sdk.store.MediaRows`), keeps the node's live calls in
``media_calls`` (the new leader adopts them after a takeover), and carries
out the commands the leader addressed to it (``media_commands``: claimed
once, only while the term that wrote them still holds the lease, the
result written back). ``NOTIFY`` only wakes the other side; both poll.

Arguments and results cross the database as JSON: :func:`encode_args` and
:func:`decode_args` turn prompts, enums and mappings into plain data and
back; an error travels as ``"<ErrorClass>: message"`` and is raised again
as that class (:func:`raise_error`).

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._errors import CallCenterError, MediaError, NotFoundError, ValidationError
from .._events import event_to_dict
from ..media import (
    AudioFile,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallIncoming,
    CallRinging,
    DtmfMethod,
    MediaBackend,
    MediaEvent,
    MonitorMode,
    Tone,
    WorkerLost,
)
from ..store import LiveCall, MediaCommand, MediaRows, Notifications
from ..store._media import MEDIA_COMMANDS_CHANNEL

__all__ = ["OPERATIONS", "MediaAgent", "decode_args", "encode_args", "raise_error"]

_log = logging.getLogger(__name__)

OPERATIONS = frozenset(
    {
        "originate",
        "answer",
        "hangup",
        "play",
        "stop_playing",
        "collect_dtmf",
        "send_dtmf",
        "start_music_on_hold",
        "stop_music_on_hold",
        "bridge",
        "unbridge",
        "monitor",
        "stop_monitoring",
        "start_recording",
        "stop_recording",
        "hold",
        "resume",
        "transfer",
    }
)
"""The :class:`~callcenter_sdk.media.MediaBackend` methods a node carries out for the leader."""

_ERRORS: dict[str, type[CallCenterError]] = {
    "NotFoundError": NotFoundError,
    "MediaError": MediaError,
    "ValidationError": ValidationError,
}


def _tagged(value: object) -> object | None:
    if isinstance(value, Tone):
        return {"$tone": list(value.frequencies), "duration": value.duration}
    if isinstance(value, AudioFile):
        return {"$file": value.path}
    if isinstance(value, MonitorMode):
        return {"$monitor": value.value}
    if isinstance(value, DtmfMethod):
        return {"$dtmf": value.value}
    if isinstance(value, Mapping):
        return {"$map": {str(k): str(v) for k, v in value.items()}}
    return None


def _encode(value: object) -> object:
    tagged = _tagged(value)
    if tagged is not None:
        return tagged
    plain = value is None or isinstance(value, str | int | bool)
    if plain or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ValidationError(f"a media command's argument cannot cross the database: {value!r}")


def _decode(value: object) -> object:
    if not isinstance(value, dict):
        return value
    if "$tone" in value:
        return Tone(tuple(value["$tone"]), value.get("duration"))
    if "$file" in value:
        return AudioFile(str(value["$file"]))
    if "$monitor" in value:
        return MonitorMode(value["$monitor"])
    if "$dtmf" in value:
        return DtmfMethod(value["$dtmf"])
    if "$map" in value:
        return dict(value["$map"])
    raise ValidationError(f"not a media command's argument: {value!r}")


def encode_args(args: Mapping[str, object]) -> dict[str, object]:
    """A media method's keyword arguments as JSON-ready data (prompts, enums, headers)."""
    return {name: _encode(value) for name, value in args.items()}


def decode_args(args: Mapping[str, object]) -> dict[str, object]:
    """The keyword arguments :func:`encode_args` made, as the method takes them."""
    return {name: _decode(value) for name, value in args.items()}


def error_text(exc: BaseException) -> str:
    """``"<ErrorClass>: message"``, as a command's error is stored."""
    name = type(exc).__name__ if type(exc).__name__ in _ERRORS else "MediaError"
    return f"{name}: {exc}"


def raise_error(error: str) -> None:
    """Raise the error a node stored for a command, as its class (MediaError by default)."""
    name, _, message = error.partition(": ")
    raise _ERRORS.get(name, MediaError)(message or error)


_ENDED_KEPT = 10_000
"""How many ended legs an agent remembers (an originate's answer may come after its end)."""


def _state_after(op: str) -> str | None:
    return {
        "start_music_on_hold": "on_hold_music",
        "stop_music_on_hold": "answered",
    }.get(op)


class MediaAgent:
    """Runs one node's media backend for the cluster's leader, through the database.

    Args:
        backend: The node's own media (its pjsua2 pool); the agent is the
            one consumer of its events while it runs.
        rows: The domain's media tables.
        node: This node's id.
        clock: Unix time, for the rows' timestamps.
        poll: Seconds between looks for commands when no ``NOTIFY`` came.
        on_event: Called with each event of the backend once it is stored
            (the leader's :class:`ClusterMedia` takes its own node's events here).

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        backend: MediaBackend,
        rows: MediaRows,
        node: str,
        *,
        clock: Callable[[], float] = time.time,
        poll: float = 0.5,
        on_event: Callable[[MediaEvent], object] | None = None,
    ) -> None:
        self._backend = backend
        self._rows = rows
        self._node = node
        self._clock = clock
        self._poll = poll
        self.on_event = on_event
        self._calls: dict[str, LiveCall] = {}
        self._ended: dict[str, None] = {}  # the latest ended legs, oldest first
        self._lock = anyio.Lock()
        self._carried_out = 0
        self._in_progress = 0

    @property
    def node(self) -> str:
        """This node's id."""
        return self._node

    @property
    def backend(self) -> MediaBackend:
        """The node's own media backend."""
        return self._backend

    @property
    def calls(self) -> Mapping[str, LiveCall]:
        """The node's live calls, by call id, as last recorded."""
        return dict(self._calls)

    @property
    def in_progress(self) -> int:
        """How many claimed commands are being carried out now (collecting digits...)."""
        return self._in_progress

    @property
    def carried_out(self) -> int:
        """How many commands this agent carried out (failed ones included)."""
        return self._carried_out

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Record events and carry out commands until cancelled.

        The node's earlier live calls are forgotten first (its pool starts
        afresh); ``task_status.started()`` follows.
        """
        await anyio.to_thread.run_sync(self._rows.forget_calls, self._node)
        notes = Notifications(self._rows.store, [MEDIA_COMMANDS_CHANNEL])
        send, receive = anyio.create_memory_object_stream[MediaEvent](10_000)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read_events, send)
                tg.start_soon(self._write_events, receive)
                tg.start_soon(self._commands, notes, tg)
                task_status.started()
        finally:
            notes.close()
            with anyio.CancelScope(shield=True), contextlib.suppress(CallCenterError):
                # a clean stop: the node's calls end with its pool, which closes next
                await anyio.to_thread.run_sync(self._rows.forget_calls, self._node)

    # -- events -----------------------------------------------------------------------------
    async def _read_events(self, send: MemoryObjectSendStream[MediaEvent]) -> None:
        async with send:
            async for event in self._backend.events():
                await send.send(event)

    async def _write_events(self, receive: MemoryObjectReceiveStream[MediaEvent]) -> None:
        async with receive:
            async for first in receive:
                batch = [first]
                while True:
                    try:
                        batch.append(receive.receive_nowait())
                    except anyio.WouldBlock:
                        break
                await self._store_events(batch)
                if self.on_event is not None:
                    for event in batch:
                        self.on_event(event)

    async def _store_events(self, batch: list[MediaEvent]) -> None:
        async with self._lock:
            rows: list[tuple[str | None, str, Mapping[str, Any], float]] = []
            changed: dict[str, LiveCall] = {}
            ended: set[str] = set()
            for event in batch:
                call_id = event.call_id if isinstance(event, CallEvent) else None
                rows.append((call_id, type(event).kind, event_to_dict(event), event.at))
                for call in self._follow(event, ended):
                    changed[call.call_id] = call
            calls = [call for call_id, call in changed.items() if call_id not in ended]
            await self._write(rows, calls, sorted(ended))

    def _follow(self, event: MediaEvent, ended: set[str]) -> list[LiveCall]:
        now = self._clock()
        if isinstance(event, WorkerLost):
            return self._end(event.lost_calls, ended)
        if not isinstance(event, CallEvent):
            return []
        call_id = event.call_id
        if isinstance(event, CallEnded):
            return self._end((call_id,), ended)
        if isinstance(event, CallIncoming):
            self._calls[call_id] = LiveCall(
                node=self._node,
                call_id=call_id,
                state="ringing",
                bridged_with=None,
                from_uri=event.from_uri,
                to_uri=event.to_uri,
                updated_at=now,
            )
            return [self._calls[call_id]]
        if isinstance(event, CallAnswered | CallRinging):
            return self._progress(call_id, answered=isinstance(event, CallAnswered), now=now)
        return []

    def _progress(self, call_id: str, *, answered: bool, now: float) -> list[LiveCall]:
        state = "answered" if answered else "dialling"
        known = self._calls.get(call_id)
        if known is None:
            known = LiveCall(
                node=self._node,
                call_id=call_id,
                state=state,
                bridged_with=None,
                from_uri="",
                to_uri="",
                updated_at=now,
            )
        elif known.state in ("ringing", "dialling"):
            known = _with(known, state=state, updated_at=now)
        else:
            return []
        self._calls[call_id] = known
        return [known]

    def _end(self, call_ids: tuple[str, ...], ended: set[str]) -> list[LiveCall]:
        changed: list[LiveCall] = []
        for call_id in call_ids:
            gone = self._calls.pop(call_id, None)
            ended.add(call_id)
            self._ended[call_id] = None
            if len(self._ended) > _ENDED_KEPT:
                del self._ended[next(iter(self._ended))]
            peer = None if gone is None else gone.bridged_with
            if peer is not None and peer in self._calls:
                self._calls[peer] = _with(
                    self._calls[peer], state="answered", bridged_with=None, updated_at=self._clock()
                )
                changed.append(self._calls[peer])
        return changed

    async def _write(
        self,
        rows: list[tuple[str | None, str, Mapping[str, Any], float]],
        calls: list[LiveCall],
        ended: list[str],
    ) -> None:
        while True:
            try:
                await anyio.to_thread.run_sync(
                    lambda: self._rows.record(self._node, rows, calls=calls, ended=ended)
                )
                return
            except CallCenterError:  # the database is away: keep the events, try again
                _log.warning(
                    "media events of %s not stored; trying again", self._node, exc_info=True
                )
                await anyio.sleep(self._poll)

    # -- commands ---------------------------------------------------------------------------
    async def _commands(self, notes: Notifications, tg: anyio.abc.TaskGroup) -> None:
        while True:
            try:
                claimed = await anyio.to_thread.run_sync(
                    lambda: self._rows.claim(self._node, at=self._clock())
                )
            except CallCenterError:
                _log.warning("media commands for %s not read", self._node, exc_info=True)
                claimed = []
            for command in claimed:
                tg.start_soon(self._carry_out, command)
            if not claimed:
                await anyio.to_thread.run_sync(notes.wait, self._poll, abandon_on_cancel=True)

    async def _carry_out(self, command: MediaCommand) -> None:
        result: object = None
        error: str | None = None
        self._in_progress += 1
        try:
            result = await self.carry_out(command.op, decode_args(command.args))
        except Exception as exc:  # noqa: BLE001 - every failure is the command's answer
            error = error_text(exc)
        finally:
            self._in_progress -= 1
        self._carried_out += 1
        at = self._clock()
        await anyio.to_thread.run_sync(
            lambda: self._rows.complete(command.id, result=result, error=error, at=at)
        )

    async def carry_out(self, op: str, args: Mapping[str, Any]) -> Any:
        """Carry out ``op`` on the node's backend and record what it changed in its live calls.

        The leader's :class:`ClusterMedia` calls it for its own node's legs;
        commands from the rows come through it too.

        Raises:
            ValidationError: ``op`` is not one of :data:`OPERATIONS`.
        """
        if op not in OPERATIONS:
            raise ValidationError(f"not a media operation: {op!r}")
        result = await getattr(self._backend, op)(**args)
        await self._after(op, args, result)
        return result

    async def _after(self, op: str, args: Mapping[str, Any], result: object) -> None:
        """Record what a command carried out changed in the node's live calls."""
        now = self._clock()
        changed: list[LiveCall] = []
        async with self._lock:
            if op == "originate" and isinstance(result, str) and result not in self._ended:
                known = self._calls.get(result)
                self._calls[result] = LiveCall(
                    node=self._node,
                    call_id=result,
                    state="dialling" if known is None else known.state,
                    bridged_with=None,
                    from_uri="",
                    to_uri=str(args["uri"]),
                    updated_at=now,
                )
                changed.append(self._calls[result])
            elif op in ("bridge", "unbridge"):
                pair = (str(args["call_a"]), str(args["call_b"]))
                bridged = op == "bridge"
                for mine, peer in (pair, pair[::-1]):
                    if mine in self._calls:
                        self._calls[mine] = _with(
                            self._calls[mine],
                            state="bridged" if bridged else "answered",
                            bridged_with=peer if bridged else None,
                            updated_at=now,
                        )
                        changed.append(self._calls[mine])
            elif (state := _state_after(op)) is not None:
                call_id = str(args["call_id"])
                if call_id in self._calls and self._calls[call_id].state != "bridged":
                    self._calls[call_id] = _with(self._calls[call_id], state=state, updated_at=now)
                    changed.append(self._calls[call_id])
            if changed:
                await self._write([], changed, [])


def _with(call: LiveCall, **changes: Any) -> LiveCall:
    return attrs.evolve(call, **changes)
