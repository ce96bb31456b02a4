"""The web chat on a node that does not lead: the customer's socket here, the chat on the leader.

A customer's chat socket lands on whichever node the load balancer picks.
On a standby, :class:`ChatSockets` holds it and relays it: each frame the
customer sends goes to the leader as a forwarded internal request
(``POST /internal/chat``, run by the leader's forwarder through
``ChatChannel.relay``), and the leader's answer frame (a welcome, an ack,
an error) comes back. The relay trusts nothing the customer sends and
checks nothing itself: the leader checks each frame (the token's
signature, the line's number and length) as it checks a socket of its own.

What the leader would push to a socket of its own, the relay finds in the
store:

- ``ended``: the node's live feed (the shared event log it tails) carries
  the ``runtime.contact_disposed`` of the conversation's contact;
- the agent's lines: any event carrying the conversation's ticket or
  contact is a hint to read the ticket's messages again; each agent line
  (``chat:<conversation>:a...``) not yet sent is sent once. The relay also
  reads them every few seconds, since a hint can be missed.

The agent's typing indicator does not reach a customer relayed here (it is
not in the log). When no leader answers (``503``: no leader, or outcome
unknown), the customer gets an ``error`` frame with the line's ``seq``:
the widget sends the line again, and its id makes it stored once.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
import attrs
from anyio.abc import TaskGroup
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._errors import CallCenterError
from ..tickets import TicketMessages
from ._errors import HttpError
from ._feed import LiveFeed

__all__ = ["ChatSockets"]

_log = logging.getLogger(__name__)

Ask = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]
"""Passes a relay request to the leader for a client address; its JSON answer.

Raises :class:`~callcenter_sdk.web._errors.HttpError` (no leader, any
answer but 200) or :class:`~callcenter_sdk.CallCenterError` (the store).
"""

IDLE_CLOSE = 4000
"""The close code of a socket silent for the idle timeout (as on the leader)."""
RETRY_CLOSE = 1013
"""The close code when no leader answered the hello: the widget connects again."""
_DISPOSED = "runtime.contact_disposed"


@attrs.define
class _Socket:
    """What the relay knows of one customer's socket, from the leader's answers."""

    websocket: WebSocket
    scope: anyio.CancelScope
    token: str = ""
    conversation: str = ""
    ticket: str = ""
    contact: str = ""
    idle: float = 300.0
    sent: set[str] = attrs.field(factory=set)
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)

    def learn(self, answer: dict[str, Any]) -> None:
        self.conversation = str(answer.get("conversation") or self.conversation)
        self.ticket = str(answer.get("ticket") or self.ticket)
        self.contact = str(answer.get("contact") or "")
        idle = answer.get("idle_timeout")
        if isinstance(idle, int | float) and idle > 0:
            self.idle = float(idle)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send ``frame``; a socket that is gone ends the relay."""
        async with self.lock:
            try:
                await self.websocket.send_json(frame)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.scope.cancel()

    async def close(self, code: int) -> None:
        async with self.lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.websocket.close(code)
        self.scope.cancel()


class ChatSockets:
    """Serves the web chat's customer sockets on a node that does not lead.

    Args:
        ask: Passes a request to the leader's ``/internal/chat`` (the node's forwarding).
        feed: The node's live feed (the shared event log).
        messages: The tickets' messages, on the shared store.
        typing_every: Seconds between two typing indicators passed on (more are dropped).
        reread: Seconds between reads of the ticket's messages without a hint.
        idle_timeout: Seconds of silence before the hello (the leader's, after it).
    """

    def __init__(
        self,
        ask: Ask,
        feed: LiveFeed,
        messages: TicketMessages,
        *,
        typing_every: float = 3.0,
        reread: float = 5.0,
        idle_timeout: float = 300.0,
    ) -> None:
        self._ask = ask
        self._feed = feed
        self._messages = messages
        self._typing_every = typing_every
        self._reread = reread
        self._idle_timeout = idle_timeout

    async def serve(self, websocket: WebSocket) -> None:
        """Serve one customer's socket (a Starlette WebSocket endpoint) until it ends."""
        await websocket.accept()
        client = websocket.client.host if websocket.client else "unknown"
        with anyio.CancelScope() as scope:
            socket = _Socket(websocket, scope, idle=self._idle_timeout)
            try:
                hello = await _receive(websocket, socket.idle)
            except WebSocketDisconnect:
                return
            if hello is None:
                await socket.close(IDLE_CLOSE)
                return
            try:
                answer = await self._ask({"frame": hello}, client)
            except (HttpError, CallCenterError) as exc:
                _log.info("chat hello not answered by the leader: %s", exc)
                await socket.send(
                    {"type": "error", "error": "the center is busy: connecting again"}
                )
                await socket.close(RETRY_CLOSE)
                return
            welcome = answer.get("frame")
            if not isinstance(welcome, dict) or answer.get("close"):
                if isinstance(welcome, dict):
                    await socket.send(welcome)
                await socket.close(int(answer.get("close") or RETRY_CLOSE))
                return
            socket.learn(answer)
            socket.token = str(welcome.get("token", ""))
            socket.sent = {str(line.get("id")) for line in welcome.get("transcript", ())}
            after = self._feed.head
            await socket.send(welcome)
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._push, socket, after)
                await self._read(socket, client, tg)
                tg.cancel_scope.cancel()

    async def _read(self, socket: _Socket, client: str, tg: TaskGroup) -> None:
        """Pass the customer's frames on until the socket ends or stays silent too long."""
        typed = -self._typing_every
        while True:
            try:
                frame = await _receive(socket.websocket, socket.idle)
            except WebSocketDisconnect:
                return
            if frame is None:
                await socket.send({"type": "idle"})
                await socket.close(IDLE_CLOSE)
                return
            if frame.get("type") == "typing":
                if time.monotonic() - typed >= self._typing_every:
                    typed = time.monotonic()
                    tg.start_soon(self._pass, socket, frame, client)
                continue
            if not await self._pass(socket, frame, client):
                return

    async def _pass(self, socket: _Socket, frame: dict[str, Any], client: str) -> bool:
        """Pass one frame to the leader and its answer to the customer; ``False``: closed."""
        try:
            answer = await self._ask({"token": socket.token, "frame": frame}, client)
        except (HttpError, CallCenterError) as exc:
            _log.info("chat frame not answered by the leader: %s", exc)
            if frame.get("type") != "message":
                return True  # a typing indicator: nothing to say again
            error: dict[str, Any] = {"type": "error", "error": "not stored, send it again"}
            seq = frame.get("seq")
            if isinstance(seq, int):
                error["seq"] = seq
            await socket.send(error)
            await socket.close(RETRY_CLOSE)  # the widget connects again and sends it again
            return False
        reply = answer.get("frame")
        if isinstance(reply, dict):
            await socket.send(reply)
        if answer.get("close"):
            await socket.close(int(answer["close"]))
            return False
        socket.learn(answer)
        return True

    async def _push(self, socket: _Socket, after: int) -> None:
        """Send the customer the agent's lines and ``ended``, found in the log and the store."""
        due = time.monotonic() + self._reread
        while True:
            with anyio.move_on_after(max(0.0, due - time.monotonic())):
                await self._feed.wait(after)
            look = False
            while entries := await self._feed.since(after):
                for entry in entries:
                    event = entry.event
                    contact = str(getattr(event, "contact_id", ""))
                    if event.kind == _DISPOSED and socket.contact and contact == socket.contact:
                        await self._lines(socket)  # its last answers first
                        socket.contact = ""
                        await socket.send({"type": "ended"})
                    elif (socket.ticket and getattr(event, "ticket_id", "") == socket.ticket) or (
                        socket.contact and contact == socket.contact
                    ):
                        look = True
                after = entries[-1].seq
            if look or time.monotonic() >= due:
                await self._lines(socket)
                due = time.monotonic() + self._reread

    async def _lines(self, socket: _Socket) -> None:
        """Send each agent line of the conversation the customer was not sent yet, in order."""
        if not socket.ticket or not socket.conversation:
            return
        try:
            stored = await anyio.to_thread.run_sync(self._messages.of_ticket, socket.ticket)
        except CallCenterError as exc:  # the next read finds them
            _log.info("chat lines of %s not read: %s", socket.conversation, exc)
            return
        prefix = f"chat:{socket.conversation}:a"
        for message in stored:
            if message.message_id.startswith(prefix) and message.message_id not in socket.sent:
                socket.sent.add(message.message_id)
                await socket.send(
                    {
                        "type": "message",
                        "from": "agent",
                        "id": message.message_id,
                        "text": message.text,
                        "at": message.at,
                    }
                )


async def _receive(websocket: WebSocket, idle: float) -> dict[str, Any] | None:
    """The customer's next frame (``{"type": "invalid"}`` if not a JSON object); ``None``: idle."""
    with anyio.move_on_after(idle):
        text = await websocket.receive_text()
        try:
            frame = json.loads(text)
        except ValueError:
            return {"type": "invalid"}
        return frame if isinstance(frame, dict) else {"type": "invalid"}
    return None
