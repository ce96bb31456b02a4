"""Web chat: a customer's conversation over a WebSocket, one ACD contact, a stored transcript.

:class:`ChatChannel` is both ends of the chat. Its :meth:`~ChatChannel.app`
is a small Starlette application (mounted by the web app at ``/chat``): the
widget's script and demo page, and the WebSocket ``/ws`` speaking the JSON
protocol below. Its :meth:`~ChatChannel.send` is the
:class:`~callcenter_sdk.runtime.ChannelAdapter` agents answer through.

The customer says who they are (a name and an e-mail address, a phone
number or a customer number); the CTI directory identifies them. Their
first line opens (or joins) the conversation's ticket and becomes a
``chat`` contact of the ACD through :class:`~callcenter_sdk.channels.Intake`;
later lines are stored in the same ticket while that contact lasts, and a
line written after the agent disposed of it queues a new contact on the
same ticket. Each line is acknowledged to the widget only once it is
stored, and its id is the widget's sequence number, so a line the widget
sends again after a lost acknowledgement is stored once.

The widget keeps a signed token (HMAC-SHA256 with the center's secret) in
its storage: within ``rejoin_window`` seconds of the conversation's last
line a customer who left finds the same conversation and its transcript —
across a restart of the center too, since everything is read back from the
store. A socket silent for ``idle_timeout`` seconds is closed (code 4000);
the conversation stays open for a rejoin.

Protocol (JSON text frames)::

    → {"type": "hello", "name": "Jeanne", "email": "j@x.example"}   (or "phone", "number")
    → {"type": "hello", "token": "..."}                               (rejoin)
    ← {"type": "welcome", "conversation": "...", "token": "...", "customer": "Jeanne Martin",
       "transcript": [{"id", "from": "customer"|"agent", "text", "at"}], "next": 1}
    → {"type": "message", "seq": 1, "text": "..."}
    ← {"type": "ack", "seq": 1, "id": "chat:<conversation>:c000001"}      (stored and queued)
    → {"type": "typing"}
    ← {"type": "message", "from": "agent", "id", "text", "at"}
    ← {"type": "typing", "from": "agent"}
    ← {"type": "ended"}          (the agent disposed of the contact; writing again re-queues)
    ← {"type": "error", "error": "...", "seq"?: 1}
    ← {"type": "idle"}           (then the socket closes with code 4000)

A node of a cluster that does not hold the chat (a standby: the leader's
center holds the conversations) relays its customers' frames to the
leader, which answers them with :meth:`~ChatChannel.hello`,
:meth:`~ChatChannel.line` and :meth:`~ChatChannel.customer_typed` (all
three through :meth:`~ChatChannel.relay`, a JSON-in, JSON-out callable for
the leader's internal route). They check what the direct socket checks,
in the same code: the token's signature, the line's number and length.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.resources
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import anyio
import anyio.to_thread
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._errors import CallCenterError
from .._events import Event
from ..acd import Contact
from ..cti import CustomerQuery
from ..kpi import Channel
from ..tickets import MessageDirection, TicketMessage, TicketMessages
from ._errors import ChannelError
from ._intake import Center, Inbound, Intake

__all__ = ["ChatAnswer", "ChatCenter", "ChatChannel", "ChatSettings"]

_log = logging.getLogger(__name__)

IDLE_CLOSE = 4000
"""The WebSocket close code of a socket silent for the idle timeout."""
REFUSED_CLOSE = 4001
"""The close code after a refused hello (a forged or expired token, no identity)."""
_TYPING_FOR = 5.0
_DISPOSED = "runtime.contact_disposed"


class ChatCenter(Center, Protocol):
    """What the chat needs of the running center: a channel's needs and its events.

    .. versionadded:: 0.2
    """

    def subscribe(self, callback: Callable[[int, Event], object]) -> Callable[[], None]:
        """Call ``callback(seq, event)`` for every event from now on; return the unsubscriber."""
        ...


@attrs.frozen(kw_only=True)
class ChatSettings:
    """How the center's web chat behaves.

    Attributes:
        queue: The ACD queue every conversation joins.
        secret: Signs the widget's rejoin tokens (the same on every node; keep it secret).
        rejoin_window: Seconds after a conversation's last line within which
            its customer may come back to it.
        idle_timeout: Seconds a customer's socket may stay silent before it is closed.
        max_line: Characters one line may hold.
    """

    queue: str
    secret: bytes = attrs.field(repr=False)
    rejoin_window: float = 900.0
    idle_timeout: float = 300.0
    max_line: int = 4000


@attrs.define
class _Conversation:
    id: str
    party: str
    name: str
    customer: str
    ticket_id: str = ""
    contact_id: str = ""
    last_at: float = 0.0
    typing_at: float | None = None
    outboxes: set[MemoryObjectSendStream[dict[str, Any] | None]] = attrs.field(factory=set)
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)

    def push(self, frame: dict[str, Any]) -> None:
        for outbox in list(self.outboxes):
            try:
                outbox.send_nowait(frame)
            except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
                self.outboxes.discard(outbox)  # a stuck or gone socket: the transcript has it


class _RefusedError(ChannelError):
    """A hello (or a relayed token) the chat does not accept."""


@attrs.frozen(kw_only=True)
class ChatAnswer:
    """The chat's answer to one customer frame, for a node that relays the customer's socket.

    Attributes:
        frame: What the customer is sent (a welcome, an ack, an error...), or
            ``None`` when nothing is (a typing indicator).
        conversation: The conversation's id.
        ticket_id: Its ticket, ``""`` before its first line is stored.
        contact_id: Its contact while one is open (the agent's replies and
            ``ended`` concern it), else ``""``.

    .. versionadded:: 0.2
    """

    frame: dict[str, Any] | None
    conversation: str
    ticket_id: str
    contact_id: str


class ChatChannel:
    """The web chat of a center: the customers' sockets and the agents' answers.

    Register it with ``center.add_channel(chat)`` so agents' replies reach the
    customer's socket, and serve :meth:`app` (the web app mounts it at
    ``/chat``) on the center's event loop.

    Args:
        center: The running center.
        messages: The tickets' conversations, on the center's store.
        settings: The chat's settings.

    .. versionadded:: 0.2
    """

    def __init__(
        self, center: ChatCenter, messages: TicketMessages, settings: ChatSettings
    ) -> None:
        self.settings = settings
        self.intake = Intake(center, messages)
        self._center = center
        self._conversations: dict[str, _Conversation] = {}
        self._by_contact: dict[str, _Conversation] = {}
        self._unsubscribe = center.subscribe(self._event)

    @property
    def channel(self) -> Channel:
        """Web chat."""
        return Channel.CHAT

    def close(self) -> None:
        """Stop following the center's events (the sockets end with the server)."""
        self._unsubscribe()

    def app(self) -> Starlette:
        """The chat's ASGI app: ``/ws`` (customers' sockets), ``/`` (a demo page), ``/static``."""
        static = StaticFiles(packages=[("callcenter_sdk.channels", "static")])
        return Starlette(
            routes=[
                WebSocketRoute("/ws", self._serve),
                Route("/", _demo, methods=["GET"]),
                Mount("/static", static, name="static"),
            ]
        )

    async def send(self, contact: Contact, text: str, *, agent: str) -> str:
        """Store the agent's line in the transcript, then show it to the customer; return its id.

        A customer who is not connected reads it when they come back.

        Raises:
            ChannelError: ``contact`` is not a chat conversation.
        """
        conversation = await self._of_contact(contact)
        message_id = f"chat:{conversation.id}:a{uuid.uuid4().hex}"
        await self.intake.sent(
            ticket_id=conversation.ticket_id,
            message_id=message_id,
            channel=Channel.CHAT,
            party=conversation.party,
            text=text,
            author=agent,
        )
        at = self._center.clock.now()
        conversation.last_at = at
        conversation.push({"type": "message", "from": "agent", "id": message_id, "text": text,
                           "at": at})  # fmt: skip
        return message_id

    def typing(self, contact_id: str) -> None:
        """Show the customer of ``contact_id`` that their agent is typing."""
        conversation = self._by_contact.get(contact_id)
        if conversation is not None:
            conversation.push({"type": "typing", "from": "agent"})

    def customer_typing(self, contact_id: str) -> bool:
        """Whether the customer of ``contact_id`` typed within the last five seconds."""
        conversation = self._by_contact.get(contact_id)
        if conversation is None or conversation.typing_at is None:
            return False
        return self._center.clock.now() - conversation.typing_at <= _TYPING_FOR

    # -- a socket another node relays ---------------------------------------------------------
    async def hello(self, frame: dict[str, Any]) -> ChatAnswer:
        """Answer a customer's first frame (``hello``) that another node relays: the welcome.

        The same checks as on a socket here: an identity, or a token this
        chat signed and whose rejoin window is open.

        Raises:
            ChannelError: The hello is refused; its message is what the customer is told.

        .. versionadded:: 0.2
        """
        conversation, welcome = await self._hello(frame)
        return self._answer(conversation, welcome)

    async def line(self, token: str, frame: dict[str, Any]) -> ChatAnswer:
        """Store a ``message`` frame relayed for the conversation of ``token``: its ack or error.

        ``token`` is the one the welcome gave; the line is checked (its
        number, its length) and stored as on a socket here, and its ack
        means it is stored.

        Raises:
            ChannelError: ``token`` is forged, or its conversation ended.

        .. versionadded:: 0.2
        """
        conversation = await self._rejoin(token)
        return self._answer(conversation, await self._line(conversation, frame))

    async def customer_typed(self, token: str) -> None:
        """The customer of ``token`` is typing (what :meth:`customer_typing` then says).

        Raises:
            ChannelError: ``token`` is forged, or its conversation ended.

        .. versionadded:: 0.2
        """
        conversation = await self._rejoin(token)
        await self._frame(conversation, {"type": "typing"})

    async def relay(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one frame of a customer's socket that another node relays (JSON in, JSON out).

        The leader's internal route ``/internal/chat`` calls it (see
        :func:`callcenter_sdk.web.create_app`'s ``chat_relay``). ``request`` is
        ``{"frame": {...}}`` for the socket's first frame (the hello), then
        ``{"token": "...", "frame": {...}}`` with the welcome's token. The
        answer: ``{"frame": {...} | null, "close": int | null, "conversation",
        "ticket", "contact", "idle_timeout"}``; ``close`` is the code to close
        the customer's socket with after sending ``frame`` (a refusal).
        Nothing in ``request`` is trusted: it is what the customer sent.

        .. versionadded:: 0.2
        """
        frame = request.get("frame")
        if not isinstance(frame, dict):
            frame = {"type": "invalid"}
        token = request.get("token")
        try:
            if isinstance(token, str):
                conversation = await self._rejoin(token)
                answer = self._answer(conversation, await self._frame(conversation, frame))
            else:
                answer = await self.hello(frame)
        except _RefusedError as exc:
            return {"frame": {"type": "error", "error": str(exc)}, "close": REFUSED_CLOSE}
        return {
            "frame": answer.frame,
            "close": None,
            "conversation": answer.conversation,
            "ticket": answer.ticket_id,
            "contact": answer.contact_id,
            "idle_timeout": self.settings.idle_timeout,
        }

    def _answer(self, conversation: _Conversation, frame: dict[str, Any] | None) -> ChatAnswer:
        return ChatAnswer(
            frame=frame,
            conversation=conversation.id,
            ticket_id=conversation.ticket_id,
            contact_id=conversation.contact_id,
        )

    # -- the customer's socket ---------------------------------------------------------------
    async def _serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            hello = await self._receive(websocket)
            if hello is None:
                await websocket.close(IDLE_CLOSE)
                return
            conversation, welcome = await self._hello(hello)
        except _RefusedError as exc:
            await websocket.send_json({"type": "error", "error": str(exc)})
            await websocket.close(REFUSED_CLOSE)
            return
        except WebSocketDisconnect:
            return
        send, receive = anyio.create_memory_object_stream[dict[str, Any] | None](256)
        conversation.outboxes.add(send)
        send.send_nowait(welcome)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_write, websocket, receive)
                if not await self._read(websocket, conversation, send):
                    tg.cancel_scope.cancel()
        finally:
            conversation.outboxes.discard(send)
            send.close()

    async def _receive(self, websocket: WebSocket) -> dict[str, Any] | None:
        """The customer's next frame, or ``None`` after ``idle_timeout`` of silence."""
        with anyio.move_on_after(self.settings.idle_timeout):
            text = await websocket.receive_text()
            try:
                frame = json.loads(text)
            except ValueError:
                return {"type": "invalid"}
            return frame if isinstance(frame, dict) else {"type": "invalid"}
        return None

    async def _read(
        self,
        websocket: WebSocket,
        conversation: _Conversation,
        send: MemoryObjectSendStream[dict[str, Any] | None],
    ) -> bool:
        """Serve the customer's frames; ``True`` once idle (closing), ``False`` when gone."""
        try:
            while True:
                frame = await self._receive(websocket)
                if frame is None:
                    await send.send({"type": "idle"})
                    await send.send(None)
                    return True
                answer = await self._frame(conversation, frame)
                if answer is not None:
                    await send.send(answer)
        except WebSocketDisconnect:
            return False

    async def _frame(
        self, conversation: _Conversation, frame: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Answer a frame after the hello, on a socket here or relayed: ``None`` for none."""
        kind = frame.get("type")
        if kind == "typing":
            conversation.typing_at = self._center.clock.now()
            return None
        if kind == "message":
            return await self._line(conversation, frame)
        return {"type": "error", "error": f"unknown frame {kind!r}"}

    async def _line(self, conversation: _Conversation, frame: dict[str, Any]) -> dict[str, Any]:
        seq, text = frame.get("seq"), frame.get("text")
        if not isinstance(seq, int) or not 0 < seq < 1_000_000:
            return {"type": "error", "error": "seq must be a number from 1"}
        if not isinstance(text, str) or not text.strip() or len(text) > self.settings.max_line:
            return {"type": "error", "seq": seq,
                    "error": f"a line holds 1 to {self.settings.max_line} characters"}  # fmt: skip
        message_id = _line_id(conversation.id, seq)
        inbound = Inbound(
            message_id=message_id,
            channel=Channel.CHAT,
            party=conversation.party,
            text=text,
            subject=f"Chat with {conversation.name}",
            dialled="chat",
            ticket_id=conversation.ticket_id,
            attributes={
                "name": conversation.name,
                "conversation": conversation.id,
                "customer_number": conversation.customer,
            },
        )
        try:
            async with conversation.lock:  # one line at a time: the contact is opened once
                if conversation.contact_id:
                    await self.intake.record(inbound, contact_id=conversation.contact_id)
                else:
                    taken = await self.intake.take(inbound, self.settings.queue)
                    conversation.ticket_id = taken.ticket_id
                    conversation.contact_id = taken.contact_id
                    self._by_contact[taken.contact_id] = conversation
        except CallCenterError as exc:  # not stored: no acknowledgement, the widget sends it again
            _log.warning("chat line %s not stored: %s", message_id, exc)
            return {"type": "error", "seq": seq, "error": "not stored, send it again"}
        conversation.last_at = self._center.clock.now()
        conversation.typing_at = None
        return {"type": "ack", "seq": seq, "id": message_id}

    # -- hello: who the customer is, or which conversation they come back to -----------------
    async def _hello(self, frame: dict[str, Any]) -> tuple[_Conversation, dict[str, Any]]:
        if frame.get("type") != "hello":
            raise _RefusedError("say hello first")
        token = frame.get("token")
        customer: str | None
        if isinstance(token, str):
            conversation = await self._rejoin(token)
            customer = conversation.name
        else:
            conversation, customer = await self._start(frame)
        transcript = await anyio.to_thread.run_sync(self._transcript, conversation)
        customer_lines = [int(t["id"].rpartition(":c")[2]) for t in transcript
                          if t["from"] == "customer"]  # fmt: skip
        welcome = {
            "type": "welcome",
            "conversation": conversation.id,
            "token": self._token(conversation),
            "customer": customer,
            "transcript": transcript,
            "next": max(customer_lines, default=0) + 1,
        }
        return conversation, welcome

    async def _start(self, frame: dict[str, Any]) -> tuple[_Conversation, str | None]:
        fields = {k: frame.get(k) for k in ("name", "email", "phone", "number")}
        if not all(isinstance(v, str | None) for v in fields.values()):
            raise _RefusedError("name, email, phone and number are strings")
        name, email, phone, number = (str(v or "").strip()[:100] for v in fields.values())
        if not name or not (email or phone or number):
            raise _RefusedError(
                "give your name and an e-mail address, a phone number or a customer number"
            )
        conversation_id = secrets.token_urlsafe(12)
        query = CustomerQuery(
            contact_id=conversation_id,
            email=email.lower() or None,
            phone=phone or None,
            number=number or None,
        )
        found = await anyio.to_thread.run_sync(self._center.directory.find, query)
        conversation = _Conversation(
            id=conversation_id,
            party=email.lower() or phone or (found.email if found and found.email else number),
            name=name,
            customer=found.number if found else number,
            last_at=self._center.clock.now(),
        )
        self._conversations[conversation.id] = conversation
        return conversation, found.name if found else None

    async def _rejoin(self, token: str) -> _Conversation:
        claims = self._claims(token)
        conversation = self._conversations.get(claims["c"])
        if conversation is None:  # another node, or before a restart: read it back
            conversation = _Conversation(
                id=claims["c"], party=claims["p"], name=claims["n"], customer=claims["u"],
                last_at=float(claims["i"]),
            )  # fmt: skip
            first = await anyio.to_thread.run_sync(self.intake.messages.get,
                                                   _line_id(conversation.id, 1))  # fmt: skip
            if first is not None:
                conversation.ticket_id = first.ticket_id
                lines = await anyio.to_thread.run_sync(self._lines, conversation)
                conversation.last_at = max(line.at for line in lines)
        if self._center.clock.now() - conversation.last_at > self.settings.rejoin_window:
            raise _RefusedError("this conversation has ended: start a new one")
        self._conversations.setdefault(conversation.id, conversation)
        return self._conversations[conversation.id]

    def _token(self, conversation: _Conversation) -> str:
        claims = {"c": conversation.id, "p": conversation.party, "n": conversation.name,
                  "u": conversation.customer, "i": conversation.last_at}  # fmt: skip
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
        return f"{payload}.{self._signature(payload)}"

    def _claims(self, token: str) -> dict[str, Any]:
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            raise _RefusedError("this token is not ours")
        claims = json.loads(base64.urlsafe_b64decode(payload))
        if not isinstance(claims, dict):
            raise _RefusedError("this token is not ours")
        return claims

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self.settings.secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    # -- the store's side ----------------------------------------------------------------------
    def _lines(self, conversation: _Conversation) -> list[TicketMessage]:
        """The conversation's stored lines, oldest first (in a worker thread)."""
        if not conversation.ticket_id:
            return []
        prefix = f"chat:{conversation.id}:"
        return [m for m in self.intake.messages.of_ticket(conversation.ticket_id)
                if m.message_id.startswith(prefix)]  # fmt: skip

    def _transcript(self, conversation: _Conversation) -> list[dict[str, Any]]:
        return [
            {
                "id": m.message_id,
                "from": "customer" if m.direction is MessageDirection.INBOUND else "agent",
                "text": m.text,
                "at": m.at,
            }
            for m in self._lines(conversation)
        ]

    async def _of_contact(self, contact: Contact) -> _Conversation:
        conversation = self._by_contact.get(contact.id)
        if conversation is not None:
            return conversation
        conversation_id = str(contact.attributes.get("conversation", ""))
        ticket_id = str(contact.attributes.get("ticket_id", ""))
        if not conversation_id or not ticket_id:
            raise ChannelError(f"contact {contact.id!r} is not a chat conversation")
        conversation = self._conversations.get(conversation_id)
        if conversation is None:  # a contact restored after a restart
            conversation = _Conversation(
                id=conversation_id,
                party=contact.caller_id,
                name=str(contact.attributes.get("name", "")),
                customer=str(contact.attributes.get("customer_number", "")),
                ticket_id=ticket_id,
            )
            self._conversations[conversation_id] = conversation
        conversation.ticket_id = ticket_id
        conversation.contact_id = contact.id
        self._by_contact[contact.id] = conversation
        return conversation

    def _event(self, _seq: int, event: Event) -> None:
        if getattr(event, "kind", "") != _DISPOSED:
            return
        conversation = self._by_contact.pop(str(getattr(event, "contact_id", "")), None)
        if conversation is not None:
            conversation.contact_id = ""
            conversation.push({"type": "ended"})


def _line_id(conversation_id: str, seq: int) -> str:
    return f"chat:{conversation_id}:c{seq:06d}"


async def _write(
    websocket: WebSocket,
    frames: MemoryObjectReceiveStream[dict[str, Any] | None],
) -> None:
    """The socket's one writer: frames in order; ``None`` closes it (idle)."""
    async with frames:
        async for frame in frames:
            if frame is None:
                await websocket.close(IDLE_CLOSE)
                return
            await websocket.send_json(frame)


async def _demo(_request: Request) -> HTMLResponse:
    """A page with the widget on it (what a customer's site embeds)."""
    page = importlib.resources.files("callcenter_sdk.channels") / "static" / "demo.html"
    return HTMLResponse(page.read_text(encoding="utf-8"))
