"""The web front of a cluster node: its status always, the center's app only while it leads.

A node of ``callcenter serve --cluster`` listens on its web port from the
start, leader or not. :class:`ClusterFront` is the ASGI app on that port:
``GET /api/cluster`` answers, without authentication, which node this is,
who leads the routing domain, at which epoch, and this node's role; every
other request goes to the center's app while the node leads (:attr:`active`
set); while it stands by, to the node's own app when it has one (``standby``:
a :class:`~callcenter_sdk.web._forward.NodeFront`, which serves the live
events and forwards the rest to the leader through the store, and relays
the web chat's sockets), else it is answered ``503`` with a
``Retry-After``, so a load balancer or a browser tries again (or elsewhere)
a moment later; a WebSocket is then closed with ``1013`` (try again later).
The standby app gets the WebSockets too: one it has no route for is closed,
as Starlette closes it.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypedDict

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ClusterFront", "ClusterStatus"]

STATUS_PATH = "/api/cluster"


class ClusterStatus(TypedDict):
    """What ``GET /api/cluster`` answers."""

    node: str
    leader: str | None
    epoch: int | None
    role: Literal["standby", "leader"]


class ClusterFront:
    """The ASGI app a cluster node serves: its status, and the center's app while it leads.

    Args:
        status: Reads the node's status (may read the store: it is awaited).
        retry_after: Seconds a standby tells clients to wait before trying again.
        standby: What serves the other requests and WebSockets while the node
            does not lead (``None``: they are answered 503, closed with 1013).

    The front answers the server's lifespan itself; the center's app's own
    lifespan is run by whoever sets :attr:`active` (the serve command, for
    each term).
    """

    def __init__(
        self,
        status: Callable[[], Awaitable[ClusterStatus]],
        *,
        retry_after: int = 2,
        standby: ASGIApp | None = None,
    ) -> None:
        self._status = status
        self._retry_after = retry_after
        self._standby = standby
        self.active: ASGIApp | None = None
        """The center's app while this node leads, ``None`` while it stands by."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "http" and scope["path"] == STATUS_PATH:
            if scope["method"] not in ("GET", "HEAD"):
                await JSONResponse({"error": "GET only"}, 405, {"Allow": "GET"})(
                    scope, receive, send
                )
                return
            body = await self._status()
            await JSONResponse(body, headers={"Cache-Control": "no-store"})(scope, receive, send)
            return
        app = self.active
        if app is None and scope["type"] in ("http", "websocket"):
            app = self._standby
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        await JSONResponse(
            {"error": "this node stands by: another node leads the center", "status": STATUS_PATH},
            503,
            {"Retry-After": str(self._retry_after)},
        )(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
