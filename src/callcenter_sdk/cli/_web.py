"""Serving a running center's web app from the command line (``serve``, ``demo --web``).

The app runs on the center's event loop (it calls the center directly), in
uvicorn, on a socket bound before anything else starts: a port already taken
is then one clear line, not a log record after the media workers started.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING

import anyio

from .._errors import ConfigError

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

    from ..runtime import CallCenter
    from ..store import Store

__all__: list[str] = []

WEB_EXTRA = "the web extra is not installed: pip install 'callcenter-sdk[web]'"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def web_missing() -> str | None:
    """Why the web app cannot run here (the extra is missing), ``None`` when it can."""
    try:
        import uvicorn  # noqa: F401, PLC0415
        from starlette.applications import Starlette  # noqa: F401, PLC0415
    except ImportError:
        return WEB_EXTRA
    return None


def listen(host: str, port: int, *, file: str, path: tuple[str, ...]) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening.

    ``file`` and ``path`` name the setting in errors (``center.toml``, ``("web",)``).

    Raises:
        ConfigError: The address cannot be bound (taken, not ours, no such address).
    """
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _name, address = info[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(file, (*path, "host"), "an address of this machine", host) from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            file,
            (*path, "port"),
            f"a free TCP port on {host}",
            port,
            detail=exc.strerror or str(exc),
        ) from exc
    return sock


def url_of(sock: socket.socket) -> str:
    """The ``http://`` URL the socket answers on (a wildcard address shown as 127.0.0.1)."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # noqa: S104 - naming it, not binding it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _server_class() -> type[uvicorn.Server]:
    import uvicorn  # noqa: PLC0415 - the web extra is optional

    class _Server(uvicorn.Server):
        """uvicorn without its own signal handlers: the command owns SIGINT and SIGTERM.

        uvicorn re-raises the signal it caught once it has stopped, which
        would end the process before the center and its media worker
        processes are closed.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return _Server


@contextlib.asynccontextmanager
async def serving(
    center: CallCenter,
    store: Store,
    sock: socket.socket,
    *,
    allowed_origins: Sequence[str] = (),
    chat: ASGIApp | None = None,
    messages: ASGIApp | None = None,
) -> AsyncIterator[None]:
    """Serve ``center``'s web app on ``sock`` for the duration of the block.

    ``chat`` and ``messages`` are the web chat's and the messaging webhooks'
    apps, mounted at ``/chat`` and ``/messages`` (see ``web.create_app``).
    """
    from ..store import Accounts  # noqa: PLC0415
    from ..web import create_app  # noqa: PLC0415

    app: Starlette = create_app(
        center,
        accounts=Accounts(store),
        allowed_origins=allowed_origins,
        chat=chat,
        messages=messages,
    )
    async with serving_app(app, sock):
        yield


@contextlib.asynccontextmanager
async def serving_app(app: ASGIApp, sock: socket.socket) -> AsyncIterator[None]:
    """Serve the ASGI ``app`` on ``sock`` for the duration of the block."""
    import uvicorn  # noqa: PLC0415 - the web extra is optional

    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    server = _server_class()(config)
    stopped = anyio.Event()

    async def serve() -> None:
        try:
            await server.serve([sock])
        finally:
            stopped.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve, name="web server")
        try:
            yield
        finally:
            server.should_exit = True  # open event streams get 5 s, then are closed
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await stopped.wait()
            tg.cancel_scope.cancel()


async def wait_for_stop() -> int:
    """Wait for SIGINT (Ctrl-C) or SIGTERM; return it."""
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async for signum in signals:
            print(f"{signal.Signals(signum).name}: stopping", file=sys.stderr, flush=True)
            return int(signum)
    raise AssertionError("the signal receiver ended")  # pragma: no cover
