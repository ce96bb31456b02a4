"""Stateless web nodes: any node of a cluster serves the desktop and the wallboard.

A node that does not lead the center has no engine to ask, but it shares
the store with the one that does. It serves, itself:

- the static files, and the live events (``/api/events``,
  ``/api/desk/events``): a :class:`~callcenter_sdk.web._feed.LiveFeed` tailing
  the shared event log, ids = sequence numbers (replay on ``Last-Event-ID``),
  each event filtered by the person's scope exactly as on the leader, woken
  by the leader's ``NOTIFY`` after each batch it read, and by a slow poll;
- with ``chat=True``, the web chat's customer sockets (``/chat/ws``),
  relayed frame by frame to the leader's chat (:mod:`~callcenter_sdk.web._relay`);
- every other request (pages, sign-in, commands and reads alike) by
  **forwarding** it to the leader through the table ``forwarded_requests``
  (:class:`~callcenter_sdk.store.ForwardedRequests`): the node first
  authenticates the person and checks the origin and CSRF token exactly as
  the leader would (so nothing anonymous or cross-site reaches the table,
  but the sign-in form and its post), stores the request, and waits for the
  answer (``LISTEN`` as a hint, polling as the truth) up to a timeout.

The leader's :class:`Forwarder` claims the rows through its fence and runs
each request through its own web app in-process, with the request's own
credentials: the leader authenticates it again, as any request, so a row
grants nothing a client could not do by calling the leader itself, and no
header a client sends (``X-Forwarded-*`` or anything else) is trusted by
anyone. Each request runs at most once; see :mod:`callcenter_sdk.store._forward`
for what "outcome unknown" means.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import TaskStatus
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._errors import CallCenterError
from ..org import Org
from ..runtime import CallCenterConfig
from ..store import (
    Accounts,
    EventLog,
    ForwardedAnswer,
    ForwardedRequest,
    ForwardedRequests,
    Notifications,
    Store,
)
from ..store._forward import ANSWERS_CHANNEL, EVENTS_CHANNEL, REQUESTS_CHANNEL, notify
from ..tickets import TicketMessages
from ._api import _equal, _start, _unauthorized
from ._auth import COOKIE, CSRF_HEADER, Session, SessionBook, same_origin
from ._errors import HttpError, error_response
from ._feed import LiveFeed
from ._relay import ChatSockets
from ._scope import Judgements, ScopeTracker

__all__ = [
    "CHANNELS",
    "CHAT_PATH",
    "DESKTOPS_PATH",
    "FORWARDED",
    "MAIL_PATH",
    "MAX_MAIL",
    "ChatRelay",
    "Forwarder",
    "Hints",
    "MailRelay",
    "NodeFront",
    "announce_events",
    "call_app",
    "chat_relay_route",
    "desktops",
    "mail_relay_route",
]

_log = logging.getLogger(__name__)

CHANNELS = (REQUESTS_CHANNEL, ANSWERS_CHANNEL, EVENTS_CHANNEL)
"""The ``NOTIFY`` channels a cluster node listens on."""

FORWARDED = "callcenter.forwarded"
"""The ASGI scope key of a request the :class:`Forwarder` runs (the forwarding node's id).

A server builds the scope of an HTTP request from the request, and no
request can add a key to it: a route that requires this key (see
:func:`desktops`) is reachable through the table only.
"""

_INTERNAL = "/internal/"
DESKTOPS_PATH = "/internal/desktops"
"""Where a node tells the leader that an agent's desktop opened or closed on it."""
CHAT_PATH = "/internal/chat"
"""Where a node passes the leader a frame of a web-chat customer whose socket it holds."""

ChatRelay = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Answers one relayed chat frame, JSON in and out (``ChatChannel.relay``)."""
MAIL_PATH = "/internal/mail"
"""Where a node passes the leader a mail its SMTP listener took (the raw message)."""

MailRelay = Callable[[bytes], Awaitable[object]]
"""Stores one relayed mail, returning once it is stored (``EmailChannel.deliver``)."""

MAX_MAIL = 32 * 1024 * 1024
"""The largest mail a node relays (aiosmtpd's default limit)."""

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length", "trailer"}
)
_MAX_BODY = 1024 * 1024
_PAGES = frozenset({"/", "/login", "/desk", "/wallboard", "/admin", "/openapi.json"})
_SIGN_IN = frozenset({"/api/login", "/api/tokens"})
_OPEN_MOUNTS = ("/chat/", "/messages/")


class Hints:
    """The ``NOTIFY`` hints of one process, handed to whoever waits for them.

    Run :meth:`run` in a task group. A hint only shortens a wait: every
    waiter polls too, so a lost hint (a dropped connection, a restart) only
    delays.

    Args:
        notifications: The listening connection (nothing arrives on SQLite).
        timeout: Seconds each wait in the listening thread lasts at most.
    """

    def __init__(self, notifications: Notifications, *, timeout: float = 1.0) -> None:
        self._notifications = notifications
        self._timeout = timeout
        self._channels: dict[str, anyio.Event] = {}
        self._answers: dict[str, anyio.Event] = {}
        self._listeners: dict[str, list[Callable[[str], None]]] = {}

    def next(self, channel: str) -> anyio.Event:
        """An event set at the next hint on ``channel`` (take it before looking)."""
        event = self._channels.get(channel)
        if event is None or event.is_set():
            event = self._channels[channel] = anyio.Event()
        return event

    def answer(self, request_id: str) -> anyio.Event:
        """An event set when the answer of request ``request_id`` is hinted."""
        event = self._answers.get(request_id)
        if event is None or event.is_set():
            event = self._answers[request_id] = anyio.Event()
        return event

    def forget(self, request_id: str) -> None:
        """Stop waiting for hints about request ``request_id``."""
        self._answers.pop(request_id, None)

    def subscribe(self, channel: str, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(payload)`` (on the event loop) at each hint on ``channel``."""
        self._listeners.setdefault(channel, []).append(listener)
        return lambda: self._listeners[channel].remove(listener)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled (the listening connection is closed then)."""
        task_status.started()
        try:
            while True:
                got = await anyio.to_thread.run_sync(
                    self._notifications.wait, self._timeout, abandon_on_cancel=True
                )
                for channel, payload in got:
                    self._fire(channel, payload)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._notifications.close)

    def _fire(self, channel: str, payload: str) -> None:
        event = self._channels.pop(channel, None)
        if event is not None:
            event.set()
        if channel == ANSWERS_CHANNEL:
            waiting = self._answers.pop(payload, None)
            if waiting is not None:
                waiting.set()
        for listener in list(self._listeners.get(channel, ())):
            listener(payload)


async def call_app(
    app: ASGIApp, request: ForwardedRequest, *, extra: dict[str, Any] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run a forwarded request through ``app`` in this process; its status, headers and body.

    The scope is built from the row alone (``extra`` adds keys); no HTTP
    request can make one.
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode("utf-8"),
        "query_string": request.query.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
        "client": (request.client, 0),
        "server": None,
        "state": {},
        **(extra or {}),
    }
    done = anyio.Event()
    sent_body = False
    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend(
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in message.get("headers", ())
            )
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    done.set()
    return status, [(k, v) for k, v in headers if k not in _HOP], b"".join(chunks)


class Forwarder:
    """The leader's side: claims forwarded requests, runs them through its app, answers them.

    Run :meth:`run` in the term's task group (it ends with the term). Every
    claim and answer goes through the leader's fenced store, so a deposed
    leader neither takes new requests nor answers old ones; the next leader
    answers those "outcome unknown" when it starts.

    Args:
        app: The center's web app (its lifespan running).
        requests: The table of forwarded requests.
        fenced: The leader's fenced store (``elector.fenced()``).
        hints: This process's hints (``NOTIFY``).
        domain: The routing domain.
        node: This node's id.
        epoch: The term's epoch.
        poll: Seconds between looks at the table without a hint.
        timeout: Seconds a request may run before it is answered 504.
        keep: Seconds rows are kept before they are pruned.
    """

    def __init__(
        self,
        app: ASGIApp,
        requests: ForwardedRequests,
        fenced: Store,
        hints: Hints,
        *,
        domain: str,
        node: str,
        epoch: int,
        poll: float = 1.0,
        timeout: float = 30.0,
        keep: float = 3600.0,
    ) -> None:
        self._app = app
        self._requests = requests
        self._fenced = fenced
        self._hints = hints
        self._domain = domain
        self._node = node
        self._epoch = epoch
        self._poll = poll
        self._timeout = timeout
        self._keep = keep

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Answer the previous terms' unanswered requests as unknown, then serve until cancelled."""
        requests, domain = self._requests, self._domain
        unknown = await anyio.to_thread.run_sync(
            lambda: requests.abandon(self._fenced, domain, epoch=self._epoch, at=time.time())
        )
        if unknown:
            _log.warning("%d forwarded requests of an earlier term: outcome unknown", unknown)
        task_status.started()
        pruned = 0.0
        async with anyio.create_task_group() as tg:
            while True:
                woken = self._hints.next(REQUESTS_CHANNEL)
                try:
                    claimed = await anyio.to_thread.run_sync(self._claim)
                    if time.monotonic() - pruned > 60.0:
                        pruned = time.monotonic()
                        before = time.time() - self._keep
                        await anyio.to_thread.run_sync(requests.prune, before)
                except CallCenterError as exc:  # the store is down, or the lease lost
                    _log.warning("forwarded requests: %s", exc)
                    claimed = []
                for request in claimed:
                    tg.start_soon(self._serve, request)
                if len(claimed) < _CLAIM:
                    with anyio.move_on_after(self._poll):
                        await woken.wait()

    def _claim(self) -> list[ForwardedRequest]:
        return self._requests.claim(
            self._fenced, self._domain, node=self._node, epoch=self._epoch, at=time.time()
        )

    async def _serve(self, request: ForwardedRequest) -> None:
        with anyio.move_on_after(self._timeout) as scope:
            status, headers, body = await call_app(
                self._app, request, extra={FORWARDED: request.node}
            )
        if scope.cancelled_caught:
            status, headers = 504, [("content-type", "application/json")]
            body = b'{"error":"timeout","detail":"the leader took too long to answer"}'
        try:
            await anyio.to_thread.run_sync(
                lambda: self._requests.answer(
                    self._fenced,
                    request.id,
                    epoch=self._epoch,
                    status=status,
                    headers=headers,
                    body=body,
                    at=time.time(),
                )
            )
        except CallCenterError as exc:  # the next leader answers it "outcome unknown"
            _log.warning("could not answer forwarded request %s: %s", request.id, exc)


_CLAIM = 50
"""Requests claimed at once."""


async def desktops(request: Request) -> Response:
    """The desktops open on another node now (``{"desktops": {agent: count}}``, all of them).

    Internal: it answers 404 unless the :class:`Forwarder` runs it, so only a
    node's own code (which refuses to forward ``/internal/`` paths for
    clients) reaches it; the node is the one the forwarded row names. The
    leader counts those desktops as if they were its own
    (:meth:`~callcenter_sdk.web._presence.DesktopWatch.node_desktops`), so an
    agent working on a standby's desk is paused when it closes, or when the
    standby stops telling (it died), not while it is open.
    """
    if FORWARDED not in request.scope:
        raise HttpError(404, "not-found", "no such page")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HttpError(400, "bad-json", "the body is not JSON") from None
    told = body.get("desktops") if isinstance(body, dict) else None
    if not isinstance(told, dict) or not all(
        isinstance(a, str) and isinstance(n, int) and not isinstance(n, bool) and n >= 0
        for a, n in told.items()
    ):
        raise HttpError(422, "bad-desktops", "desktops: {agent: number of open desktops}")
    agents = request.app.state.api.center.seating.agents
    node = str(request.scope[FORWARDED])
    request.app.state.desktops.node_desktops(node, {a: n for a, n in told.items() if a in agents})
    return Response(b'{"ok":true}', media_type="application/json")


def mail_relay_route(deliver: MailRelay) -> Callable[[Request], Awaitable[Response]]:
    """The leader's endpoint for a mail a node's SMTP listener took (``POST`` :data:`MAIL_PATH`).

    Internal, as :func:`desktops`: 404 unless the :class:`Forwarder` runs it.
    The body is the raw message; ``deliver`` (the leader's
    ``EmailChannel.deliver``) stores it (threads, queues, maybe acknowledges
    it by mail) exactly as a mail to its own listener: ``200`` once stored,
    ``503`` when it was not (the node answers the sender ``451``: it sends it
    again, and a mail stored before is recognised by its Message-ID).
    """

    async def mail(request: Request) -> Response:
        if FORWARDED not in request.scope:
            raise HttpError(404, "not-found", "no such page")
        raw = await request.body()
        try:
            await deliver(raw)
        except CallCenterError as exc:
            _log.warning("relayed mail not stored: %s", exc)
            raise HttpError(503, "not-stored", f"not stored: {exc}") from None
        return Response(b'{"ok":true}', media_type="application/json")

    return mail


def chat_relay_route(relay: ChatRelay) -> Callable[[Request], Awaitable[Response]]:
    """The leader's endpoint for a chat frame a node relays (``POST`` :data:`CHAT_PATH`).

    Internal, as :func:`desktops`: 404 unless the :class:`Forwarder` runs it.
    The body is what the customer sent, wrapped by the node; ``relay``
    (the leader's ``ChatChannel.relay``) checks it as it checks a socket of
    its own.
    """

    async def chat(request: Request) -> Response:
        if FORWARDED not in request.scope:
            raise HttpError(404, "not-found", "no such page")
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise HttpError(400, "bad-json", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise HttpError(400, "bad-json", "the body is not a JSON object")
        answer = await relay(body)
        return Response(json.dumps(answer).encode(), media_type="application/json")

    return chat


async def announce_events(feed: LiveFeed, store: Store) -> None:
    """Hint the other nodes each time ``feed`` (the leader's) read new events, until cancelled.

    The feed reads the log after the writer committed, so a node woken by
    this hint finds the events there.
    """
    after = feed.head
    while True:
        await feed.wait(after)
        after = feed.head
        try:
            await anyio.to_thread.run_sync(notify, store, EVENTS_CHANNEL, str(after))
        except CallCenterError as exc:  # the nodes' polls find the events anyway
            _log.debug("could not announce events: %s", exc)


class NodeFront:
    """The web app of a node that does not lead: the live feed here, everything else forwarded.

    Run it inside :meth:`running` (its feed and its hints); it is an ASGI app.

    Args:
        store: The shared database.
        config: The center's configuration (its org decides who sees what).
        domain: The routing domain (the leader's).
        node: This node's id.
        hints: This process's hints (run by the caller).
        allowed_origins: Other origins whose pages may send commands.
        wait: Seconds a forwarded request waits for the leader's answer.
        poll: Seconds between looks at the answer (and at the log) without a hint.
        session_lifetime: Seconds a browser session lasts (as on the leader).
        ping: Seconds between keep-alive comments on the live events.
        retry_ms: The reconnection delay the live events suggest to browsers.
        chat: Serve the web chat's customer sockets (``/chat/ws``), relayed to
            the leader's chat (:mod:`callcenter_sdk.web._relay`); the leader's
            app needs ``create_app(chat_relay=...)``.
        chat_reread: Seconds between two reads of a chat's agent lines without a hint.
        desktop_period: Seconds between two snapshots of the desktops open
            here sent to the leader when nothing changes (the leader forgets
            a node's after ``DesktopWatch.stale`` without one).

    .. versionchanged:: 0.2
       ``chat``, ``chat_reread`` and ``desktop_period``.
    """

    def __init__(
        self,
        store: Store,
        config: CallCenterConfig,
        *,
        domain: str,
        node: str,
        hints: Hints,
        allowed_origins: Iterable[str] = (),
        wait: float = 15.0,
        poll: float = 0.5,
        session_lifetime: float = 8 * 3600.0,
        ping: float = 15.0,
        retry_ms: int = 1_000,
        chat: bool = False,
        chat_reread: float = 5.0,
        desktop_period: float = 5.0,
    ) -> None:
        org = config.org
        if org is None:
            raise CallCenterError("a web node needs a center whose config names an org")
        self._org: Org = org
        self._store = store
        self._domain = domain
        self._node = node
        self._hints = hints
        self._allowed = frozenset(allowed_origins)
        self._wait = wait
        self._poll = poll
        self._ping = ping
        self._retry_ms = retry_ms
        self._requests = ForwardedRequests(store)
        self._accounts = Accounts(store)
        self._sessions = SessionBook(
            self._accounts.cookie_secret(at=time.time()),
            lifetime=session_lifetime,
            keeper=self._accounts,
        )
        centers = [c.id for c in org.centers]
        where = centers[0] if len(centers) == 1 else None
        campaigns = config.campaigns

        def tracker() -> ScopeTracker:
            return ScopeTracker(campaigns, center=where)

        self._desktops: Counter[str] = Counter()  # agent -> desktops open here
        self._desktops_changed = anyio.Event()
        self._desktop_period = desktop_period
        self.feed = LiveFeed(EventLog(store), tracker(), make_tracker=tracker, poll=poll * 4)
        self._judgements = Judgements()
        static = StaticFiles(packages=[("callcenter_sdk.web", "static")])
        everything = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        own: list[BaseRoute] = []
        self.chat: ChatSockets | None = None
        """The relayed chat sockets (``chat``), else ``None``."""
        if chat:
            self.chat = ChatSockets(
                self.ask_chat, self.feed, TicketMessages(store), reread=chat_reread
            )
            own.append(WebSocketRoute("/chat/ws", self.chat.serve))
        self.app = Starlette(
            routes=[
                *own,
                Route("/api/events", self.events, methods=["GET"]),
                Route("/api/desk/events", self.desk_events, methods=["GET"]),
                Mount("/static", static, name="static"),
                Route("/{path:path}", self.forward, methods=everything),
            ],
            exception_handlers={HttpError: error_response, CallCenterError: error_response},
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the live feed (woken by the leader's hints) while the block runs."""
        async with anyio.create_task_group() as tg:
            unsubscribe = self._hints.subscribe(EVENTS_CHANNEL, lambda _seq: self.feed.hint())
            await tg.start(self.feed.run)
            tg.start_soon(self._tell_desktops)
            try:
                yield
            finally:
                unsubscribe()
                tg.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    # -- who asks -----------------------------------------------------------------------------
    def _check_origin(self, request: Request) -> None:
        own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        origin = request.headers.get("origin")
        if not same_origin(origin, request.headers.get("sec-fetch-site"), own, self._allowed):
            raise HttpError(403, "cross-site", f"requests from {origin or 'another site'} refused")

    async def _session(self, cookie: str | None) -> Session | None:
        session = self._sessions.find(cookie)
        if session is None and cookie:
            session = await anyio.to_thread.run_sync(self._sessions.recall, cookie)
        return session

    async def identify(self, request: Request) -> tuple[str, Session | None] | None:
        """The person (and session) of ``request`` as the leader would find them; ``None``: nobody.

        Raises:
            HttpError: 401 for a bad bearer token or a person gone from the org,
                403 from another site or without the session's CSRF token.
        """
        if request.method not in _SAFE:
            self._check_origin(request)
        header = request.headers.get("authorization")
        session: Session | None = None
        if header is not None:
            scheme, _, token = header.partition(" ")
            person = None
            if scheme.lower() == "bearer" and token.strip():
                person = await anyio.to_thread.run_sync(self._accounts.token_owner, token.strip())
            if person is None:
                raise _unauthorized("unknown or revoked token")
        else:
            session = await self._session(request.cookies.get(COOKIE))
            if session is None:
                return None
            person = session.person
        try:
            self._org.person(person)
        except CallCenterError:
            raise _unauthorized("the person is no longer in the org") from None
        if session is not None and request.method not in _SAFE:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not _equal(sent, session.csrf):
                raise HttpError(403, "csrf", f"the {CSRF_HEADER} header is missing or wrong")
        return person, session

    # -- forwarding ---------------------------------------------------------------------------
    async def forward(self, request: Request) -> Response:
        """Any request but the live events: checked here, run by the leader, its answer sent on."""
        path = request.url.path
        if path.startswith(_INTERNAL):
            raise HttpError(404, "not-found", "no such page")
        found: tuple[str, Session | None] | None = None
        if path.startswith(_OPEN_MOUNTS):
            pass  # the web chat and the webhooks check their own callers, on the leader
        elif request.method == "POST" and path in _SIGN_IN:
            self._check_origin(request)  # a password, not a session: no CSRF token yet
        else:
            found = await self.identify(request)
            if found is None and not (request.method in _SAFE and path in _PAGES):
                raise _unauthorized("log in first")
        body = await request.body()
        if len(body) > _MAX_BODY:
            raise HttpError(413, "too-large", f"the body is over {_MAX_BODY} bytes")
        client = request.client.host if request.client else "unknown"
        forwarded = self._request(
            request.method,
            path,
            scheme=request.url.scheme,
            query=request.url.query,
            headers=[(k, v) for k, v in request.headers.items() if k not in _HOP],
            body=body,
            person=None if found is None else found[0],
            client=client,
        )
        answer = await self._exchange(forwarded)
        response = Response(answer.body, status_code=answer.status)
        response.raw_headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers if k not in _HOP
        ] + [(b"content-length", str(len(answer.body)).encode())]
        return response

    def _request(
        self,
        method: str,
        path: str,
        *,
        scheme: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        person: str | None,
        client: str,
    ) -> ForwardedRequest:
        return ForwardedRequest(
            id=secrets.token_hex(16),
            domain=self._domain,
            method=method,
            scheme=scheme,
            path=path,
            query=query,
            headers=headers,
            body=body,
            person=person,
            node=self._node,
            client=client[:100],
            created_at=time.time(),
        )

    async def _tell_desktops(self) -> None:
        """Tell the leader the desktops open here at each change, and every period anyway.

        The snapshot is repeated so that a leader that took over learns them
        within a period, and a leader that hears nothing from this node for
        a while (it died) stops counting them.
        """
        while True:
            changed = self._desktops_changed = anyio.Event()
            try:
                await self.tell_desktops()
            except (HttpError, CallCenterError) as exc:  # no leader now: the next period tells
                _log.info("desktops open here not told to the leader: %s", exc)
            with anyio.move_on_after(self._desktop_period):
                await changed.wait()

    def desktop(self, agent: str, *, opened: bool) -> None:
        """A desktop of ``agent`` opened or closed on this node (the leader is told soon)."""
        self._desktops[agent] += 1 if opened else -1
        if self._desktops[agent] <= 0:
            del self._desktops[agent]
        self._desktops_changed.set()

    async def tell_desktops(self) -> None:
        """Tell the leader how many desktops each agent has open on this node now; wait for it.

        Raises:
            HttpError: No leader answered in time (503).
        """
        body = json.dumps({"desktops": dict(self._desktops)}).encode()
        await self._ask(DESKTOPS_PATH, body, "application/json", self._node, "not-told")

    async def ask_chat(self, body: dict[str, Any], client: str) -> dict[str, Any]:
        """Pass a relayed chat frame to the leader's chat (``POST`` :data:`CHAT_PATH`); its answer.

        Raises:
            HttpError: No leader answered in time (503), or the leader's answer
                was not a chat answer (its status: 404 when it serves no chat).
        """
        encoded = json.dumps(body).encode()
        if len(encoded) > _MAX_BODY:
            raise HttpError(413, "too-large", f"the frame is over {_MAX_BODY} bytes")
        answer = await self._ask(CHAT_PATH, encoded, "application/json", client, "not-relayed")
        parsed = json.loads(answer.body)
        if not isinstance(parsed, dict):
            raise HttpError(502, "not-relayed", "the leader's chat answer is not an object")
        return parsed

    async def ask_mail(self, raw: bytes, client: str) -> None:
        """Pass a mail this node's SMTP listener took to the leader (``POST`` :data:`MAIL_PATH`).

        Returns once the leader stored it.

        Raises:
            HttpError: The leader did not store it (its status), or no leader
                answered in time (503): answer the sender 451.
        """
        if len(raw) > MAX_MAIL:
            raise HttpError(413, "too-large", f"the mail is over {MAX_MAIL} bytes")
        await self._ask(MAIL_PATH, raw, "message/rfc822", client, "not-stored")

    async def _ask(
        self, path: str, body: bytes, content_type: str, client: str, refused: str
    ) -> ForwardedAnswer:
        """``POST`` ``body`` to the leader's internal ``path``; its answer, which must be 200.

        Raises:
            HttpError: Another status (``refused`` names the error), or no
                leader answered in time (503).
        """
        asked = self._request(
            "POST",
            path,
            scheme="http",
            query="",
            headers=[("content-type", content_type)],
            body=body,
            person=None,
            client=client,
        )
        answer = await self._exchange(asked)
        if answer.status != 200:
            raise HttpError(answer.status, refused, answer.body.decode("utf-8", "replace"))
        return answer

    async def _exchange(self, request: ForwardedRequest) -> ForwardedAnswer:
        requests = self._requests
        hinted = self._hints.answer(request.id)
        try:
            await anyio.to_thread.run_sync(requests.submit, request)
            deadline = time.monotonic() + self._wait
            while True:
                answer = await anyio.to_thread.run_sync(requests.answer_of, request.id)
                if answer is not None:
                    return answer
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                with anyio.move_on_after(min(self._poll, left)):
                    await hinted.wait()
                hinted = self._hints.answer(request.id)
            if await anyio.to_thread.run_sync(requests.withdraw, request.id):
                raise HttpError(
                    503,
                    "no-leader",
                    "no leader took the request in time: nothing was done; try again",
                    headers={"Retry-After": "2"},
                )
            answer = await anyio.to_thread.run_sync(requests.answer_of, request.id)
            if answer is not None:
                return answer
            raise HttpError(
                503,
                "outcome-unknown",
                "the leader took the request but did not answer in time: it may or may not "
                "have been done, and it will not be run again; check before trying again",
            )
        finally:
            self._hints.forget(request.id)

    # -- live events --------------------------------------------------------------------------
    async def desk_events(self, request: Request) -> Response:
        """An agent desktop's live events: as :meth:`events`, the desktop counted by the leader."""
        return await self._respond(request, self._desktop)

    async def _desktop(
        self, person: str, cookie: str | None, after: int
    ) -> AsyncIterator[ServerSentEvent | bytes]:
        self._told(person, opened=True)
        try:
            async for message in self._stream(person, cookie, after):
                yield message
        finally:
            self._told(person, opened=False)

    def _told(self, person: str, *, opened: bool) -> None:
        self.desktop(person, opened=opened)

    async def events(self, request: Request) -> Response:
        """The live events the person may see, from the shared log (as on the leader)."""
        return await self._respond(request, self._stream)

    async def _respond(
        self,
        request: Request,
        stream: Callable[[str, str | None, int], AsyncIterator[ServerSentEvent | bytes]],
    ) -> Response:
        """Answer an event-stream request with ``stream(person, cookie, after)``."""
        found = await self.identify(request)
        if found is None:
            raise _unauthorized("log in first")
        person, session = found
        start = _start(request, self.feed.head)
        cookie = request.cookies.get(COOKIE) if session is not None else None
        return EventSourceResponse(
            stream(person, cookie, start),
            ping=self._ping,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _stream(
        self, person: str, cookie: str | None, after: int
    ) -> AsyncIterator[ServerSentEvent | bytes]:
        yield ServerSentEvent(retry=self._retry_ms, comment="callcenter live events")
        while True:
            if cookie is not None and await self._session(cookie) is None:
                return  # logged out or expired: the stream ends with the session
            entries = await self.feed.since(after)
            if not entries:
                await self.feed.wait(after)
                continue
            for entry in entries:
                if self._judgements.may_see(self._org, person, entry.visibility):
                    yield entry.message
            after = entries[-1].seq
