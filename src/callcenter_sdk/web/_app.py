"""The ASGI application: an explicit route table over :class:`~callcenter_sdk.web._api.Api`.

:func:`create_app` builds a Starlette app for a running center. The app is a
plain ASGI callable: tests drive it in-process with ``httpx.ASGITransport``
(entering ``app.router.lifespan_context(app)`` to run the live feed), and any
ASGI server serves it (``uvicorn``; see ``docs/web.md``). It runs on the
event loop of the center it serves.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from .._errors import CallCenterError, ValidationError
from ..runtime import CallCenter
from ..store import Accounts
from ._api import Api
from ._auth import RateLimiter, SessionBook
from ._commands import Commands
from ._errors import HttpError, error_response
from ._feed import LiveFeed
from ._forward import (
    CHAT_PATH,
    DESKTOPS_PATH,
    MAIL_PATH,
    ChatRelay,
    MailRelay,
    chat_relay_route,
    desktops,
    mail_relay_route,
)
from ._pages import DISPOSITIONS, PAUSE_REASONS, Pages
from ._presence import DesktopWatch
from ._reads import Reads
from ._scope import ScopeTracker
from ._wallboard import Tally, WallboardSettings

__all__ = ["create_app", "routes"]

_SCHEMA = SchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "callcenter_sdk",
            "version": "0.1",
            "description": (
                "Commands act as the authenticated person; events and figures show only "
                "what the org lets them see. Browsers: POST /api/login, then send the "
                "csrf_token in X-CSRF-Token. API clients: POST /api/tokens, then "
                "Authorization: Bearer <token>."
            ),
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "callcenter_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
        },
        "security": [{"session": []}, {"bearer": []}],
    }
)


def routes(api: Api, reads: Reads | None = None, pages: Pages | None = None) -> list[BaseRoute]:
    """The route table: every path, its method and its endpoint.

    Without ``reads`` and ``pages``, the API alone (no pages, no wallboard figures).

    .. versionchanged:: 0.2
       ``reads`` and ``pages``: the desktop, wallboard and administration;
       click-to-dial, callbacks and take-over.
    """
    post = ["POST"]
    agent, contact = "/api/agents/{agent}", "/api/contacts/{contact}"
    commands = Commands(api)
    extra: list[BaseRoute] = []
    if reads is not None:
        extra += [
            Route("/api/desk", reads.desk, methods=["GET"]),
            Route("/api/desk/events", reads.desk_events, methods=["GET"]),
            Route("/api/wallboard", reads.wallboard, methods=["GET"]),
            Route("/api/seats", reads.seats, methods=["GET"]),
            Route("/api/knowledge", reads.knowledge, methods=["GET"]),
            Route(f"{agent}/accept", reads.accept, methods=post),
            Route(f"{contact}/pop", reads.screen_pop, methods=["GET"]),
            Route(f"{contact}/ticket", reads.ticket, methods=["GET"]),
            Route(f"{contact}/messages", reads.conversation, methods=["GET"]),
        ]
    if pages is not None:
        static = StaticFiles(packages=[("callcenter_sdk.web", "static")])
        extra += [
            Route("/", pages.home, methods=["GET"], include_in_schema=False),
            Route("/login", pages.login, methods=["GET"], include_in_schema=False),
            Route("/desk", pages.desk, methods=["GET"], include_in_schema=False),
            Route("/wallboard", pages.wallboard, methods=["GET"], include_in_schema=False),
            Route("/admin", pages.admin, methods=["GET"], include_in_schema=False),
            Mount("/static", static, name="static"),
        ]
    return [
        *extra,
        Route("/api/login", api.login, methods=post),
        Route("/api/logout", api.logout, methods=post),
        Route("/api/tokens", api.create_token, methods=post),
        Route("/api/tokens/current", api.revoke_token, methods=["DELETE"]),
        Route("/api/me", api.me, methods=["GET"]),
        Route("/api/agents", api.agents, methods=["GET"]),
        Route("/api/queues", api.queues, methods=["GET"]),
        Route(f"{agent}/ready", api.set_ready, methods=post),
        Route(f"{agent}/not-ready", api.set_not_ready, methods=post),
        Route(f"{agent}/end-wrap-up", api.end_wrap_up, methods=post),
        Route(f"{agent}/reject", api.reject, methods=post),
        Route(f"{agent}/monitor", api.monitor, methods=post),
        Route(f"{agent}/take-over", commands.take_over, methods=post),
        Route(f"{agent}/login", api.login_agent, methods=post),
        Route(f"{agent}/logout", api.logout_agent, methods=post),
        Route("/api/campaigns/{campaign}/seats", api.allocate_seats, methods=post),
        Route("/api/campaigns/{campaign}/seats/release", commands.release_seats, methods=post),
        Route("/api/campaigns/{campaign}/stop", commands.stop_campaign, methods=post),
        Route("/api/campaigns/{campaign}/start", commands.start_campaign, methods=post),
        Route("/api/queues/{queue}/settings", commands.configure_queue, methods=post),
        Route("/api/dial", commands.click_to_dial, methods=post),
        Route(f"{contact}/hangup", api.hangup, methods=post),
        Route(f"{contact}/callback", commands.schedule_callback, methods=post),
        Route(f"{contact}/reply", commands.reply, methods=post),
        Route(f"{contact}/typing", commands.typing, methods=post),
        Route(f"{contact}/script", commands.script, methods=["GET"]),
        Route(f"{contact}/script", commands.answer_script, methods=post),
        Route(f"{contact}/dispose", api.dispose, methods=post),
        Route(f"{contact}/escalate", api.escalate, methods=post),
        Route(f"{contact}/note", api.note, methods=post),
        Route(f"{contact}/transfer", api.transfer, methods=post),
        Route(f"{contact}/blind-transfer", api.blind_transfer, methods=post),
        Route(f"{contact}/attended-transfer", api.attended_transfer, methods=post),
        Route(f"{contact}/complete-transfer", api.complete_transfer, methods=post),
        Route(f"{contact}/cancel-transfer", api.cancel_transfer, methods=post),
        Route("/api/events", api.events, methods=["GET"]),
        Route("/openapi.json", _openapi, methods=["GET"], include_in_schema=False),
    ]


async def _openapi(request: Request) -> Response:
    """The OpenAPI description, built from the route table and the endpoints' docstrings."""
    return JSONResponse(_SCHEMA.get_schema(routes=request.app.routes))


def _only_center(org_centers: Iterable[str], center_id: str | None) -> str | None:
    if center_id is not None:
        return center_id
    centers = list(org_centers)
    return centers[0] if len(centers) == 1 else None


def create_app(
    center: CallCenter,
    *,
    accounts: Accounts,
    secret: bytes | None = None,
    center_id: str | None = None,
    allowed_origins: Iterable[str] = (),
    secure_cookies: bool | None = None,
    session_lifetime: float = 8 * 3600.0,
    per_account: RateLimiter | None = None,
    per_address: RateLimiter | None = None,
    ping: float = 15.0,
    retry_ms: int = 1_000,
    history: int = 10_000,
    poll: float = 1.0,
    desktop_grace: float = 30.0,
    wallboard: WallboardSettings | None = None,
    pause_reasons: Sequence[str] = PAUSE_REASONS,
    dispositions: Sequence[str] = DISPOSITIONS,
    chat: ASGIApp | None = None,
    chat_relay: ChatRelay | None = None,
    mail_relay: MailRelay | None = None,
    messages: ASGIApp | None = None,
    metrics: ASGIApp | None = None,
) -> Starlette:
    """Build the HTTP API and live events of a running call center.

    Serve the result with an ASGI server on the center's event loop; its
    lifespan runs the live feed (see :mod:`callcenter_sdk.web._feed`).

    Args:
        center: The running center; its ``config.org`` says who people are
            and what they may see and do.
        accounts: People's passwords and API tokens (in the center's store).
        secret: Signs session cookies; by default the store's
            (:meth:`~callcenter_sdk.store.Accounts.cookie_secret`, made once),
            so sessions, kept in the store too, outlive a restart and are
            known to every node of the store.
        center_id: The center of the org this call center is, where events
            that cannot be placed lower belong (the org's only center by default).
        allowed_origins: Other origins whose pages may send commands (a
            front end served elsewhere), besides the server's own.
        secure_cookies: Mark the session cookie ``Secure`` (by default when
            the request came over HTTPS).
        session_lifetime: Seconds a browser session lasts.
        per_account: Login failures allowed per person (5 in 15 min by default).
        per_address: Login failures allowed per client address (20 in 15 min).
        ping: Seconds between keep-alive comments on the live events.
        retry_ms: The reconnection delay the live events suggest to browsers.
        history: Events the live feed keeps in memory for reconnecting streams.
        poll: Seconds between looks at the event log without a hint.
        desktop_grace: Seconds (wall time) an agent may be without an open
            desktop before they are paused with the reason ``desktop-lost``.
        wallboard: The wallboard's thresholds and intervals.
        pause_reasons: The pause reasons the desktop offers.
        dispositions: The dispositions the desktop offers at wrap-up.
        chat: The web chat, served at ``/chat`` (``ChatChannel.app()``).
        chat_relay: The web chat's answer to frames other nodes of a cluster
            relay from their customers' sockets (``ChatChannel.relay``),
            served at the internal ``/internal/chat`` to the forwarder only.
        mail_relay: Stores the mails other nodes' SMTP listeners took
            (``EmailChannel.deliver``), served at the internal
            ``/internal/mail`` to the forwarder only.
        messages: The messaging providers' webhooks, served at ``/messages``
            (``callcenter_sdk.channels.messaging_app``).
        metrics: The Prometheus exposition, served at ``/metrics``
            (``callcenter_sdk.reports.create_metrics_app``); unauthenticated, as
            scrapers expect: keep it off the public network.

    .. versionchanged:: 0.2
       The pages (``/login``, ``/desk``, ``/wallboard``, ``/admin``) and their
       read endpoints; ``desktop_grace``, ``wallboard``, ``pause_reasons``, ``dispositions``.
       Sessions are kept in the store and signed with its secret by default.
       ``chat_relay``, ``mail_relay``.

    Raises:
        ValidationError: The center has no org.
    """
    org = center.config.org
    if org is None:
        raise ValidationError("the web API needs a center whose config names an org")
    where = _only_center((c.id for c in org.centers), center_id)
    campaigns = center.config.campaigns

    def tracker() -> ScopeTracker:
        return ScopeTracker(campaigns, center=where)

    feed = LiveFeed(
        center.log,
        tracker(),
        make_tracker=tracker,
        flush=center.writer.flush,
        history=history,
        poll=poll,
    )
    api = Api(
        center,
        accounts=accounts,
        sessions=SessionBook(
            secret or accounts.cookie_secret(at=time.time()),
            lifetime=session_lifetime,
            keeper=accounts,
        ),
        feed=feed,
        per_account=per_account or RateLimiter(5, 900.0),
        per_address=per_address or RateLimiter(20, 900.0),
        allowed_origins=allowed_origins,
        secure_cookies=secure_cookies,
        center_id=where,
        ping=ping,
        retry_ms=retry_ms,
    )
    watch = DesktopWatch(center, grace=desktop_grace)
    reads = Reads(api, tally=Tally(center.log, wallboard or WallboardSettings()), watch=watch)
    pages = Pages(api, pause_reasons=pause_reasons, dispositions=dispositions, grace=desktop_grace)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        unsubscribe = center.subscribe(feed.hint)
        forget_pops = center.subscribe(reads.remember)
        async with anyio.create_task_group() as tg:
            await tg.start(feed.run)
            tg.start_soon(watch.run)
            try:
                yield
            finally:
                unsubscribe()
                forget_pops()
                tg.cancel_scope.cancel()

    app = Starlette(
        routes=[
            *routes(api, reads, pages),
            Route(DESKTOPS_PATH, desktops, methods=["POST"], include_in_schema=False),
            *([Mount("/chat", chat)] if chat is not None else []),
            *(
                [
                    Route(
                        CHAT_PATH,
                        chat_relay_route(chat_relay),
                        methods=["POST"],
                        include_in_schema=False,
                    )
                ]
                if chat_relay is not None
                else []
            ),
            *(
                [
                    Route(
                        MAIL_PATH,
                        mail_relay_route(mail_relay),
                        methods=["POST"],
                        include_in_schema=False,
                    )
                ]
                if mail_relay is not None
                else []
            ),
            *([Mount("/messages", messages)] if messages is not None else []),
            # a Route, not a Mount: a Mount answers GET /metrics with a 307 to /metrics/
            *([Route("/metrics", metrics, include_in_schema=False)] if metrics is not None else []),
        ],
        exception_handlers={HttpError: error_response, CallCenterError: error_response},
        lifespan=lifespan,
    )
    app.state.api = api
    app.state.reads = reads
    app.state.desktops = watch
    return app
