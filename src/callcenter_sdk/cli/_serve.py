"""``callcenter serve CONFIG``: run a call center from its file, with its web server.

::

    callcenter serve center.toml              # pjsua2 media workers behind the front door
    callcenter serve center.toml --virtual    # no SIP: the virtual backend, in real time
    callcenter serve center.toml --port 9000  # another web port than [web] port

It opens the store (running the migrations), starts the media workers and
the front door (the center's public SIP address), the center itself and
its web app, prints the SIP address and the URL, and runs until Ctrl-C or
SIGTERM: then the web server, the center and the media worker processes
stop, in that order, and the command exits 0. The file's format is in
``docs/serve.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable

import anyio
import anyio.abc

from .. import ManualClock, WallClock
from .._clock import Clock
from .._errors import CallCenterError
from ..media import MediaBackend, PartyScript, VirtualBackend
from ..runtime import CallCenter, CenterSetup, load_center, open_call_center, run_virtual
from ._main import COMMANDS, Command
from ._web import listen, serving, url_of, wait_for_stop, web_missing

_Out = Callable[[str], None]


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the center's TOML file (see docs/serve.md)")
    parser.add_argument(
        "--virtual",
        action="store_true",
        help="no SIP: run on the virtual backend, in real time (to try the web side)",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="the web server's port (default: [web] port, 8080)"
    )


def _out(line: str) -> None:
    print(line, flush=True)


def _run(args: argparse.Namespace) -> int:
    missing = web_missing()
    if missing is not None:
        print(f"callcenter serve: error: {missing}", file=sys.stderr)
        return 2
    setup = load_center(args.config)
    port = setup.web.port if args.port is None else args.port
    with listen(setup.web.host, port, file=args.config, path=("web",)) as sock:
        try:
            anyio.run(serve, setup, sock, args.virtual, _out)
        except KeyboardInterrupt:  # before the command listened for it
            return 130
        except BaseExceptionGroup as group:
            raise first_error(group) from None
    return 0


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The library error inside nested task-group errors, so it is shown as one line.

    Returns the group itself when it holds anything else (a bug: its traceback helps).
    """
    found: BaseException = group
    while isinstance(found, BaseExceptionGroup) and len(found.exceptions) == 1:
        found = found.exceptions[0]
    return found if isinstance(found, CallCenterError) else group


async def serve(setup: CenterSetup, sock: socket.socket, virtual: bool, out: _Out) -> None:
    """Run the center of ``setup`` and its web app on ``sock`` until SIGINT or SIGTERM."""
    async with anyio.create_task_group() as tg:
        stop = anyio.Event()
        await tg.start(_watch, stop)
        with setup.open_store() as store:
            async with (
                _backend(setup, virtual, out) as (backend, clock),
                open_call_center(
                    backend, setup.config, store=store, clock=clock, run_timers=not virtual
                ) as center,
                anyio.create_task_group() as pace,
            ):
                if isinstance(backend, VirtualBackend):
                    pace.start_soon(_pace, center, backend)
                async with serving(center, store, sock, allowed_origins=setup.web.allowed_origins):
                    people = len(setup.config.seats)
                    out(f"web: {url_of(sock)} ({people} agents; callcenter accounts set-password)")
                    out("Ctrl-C to stop")
                    await stop.wait()
                pace.cancel_scope.cancel()
        tg.cancel_scope.cancel()
    out("stopped")


async def _watch(stop: anyio.Event, *, task_status: anyio.abc.TaskStatus[None]) -> None:
    task_status.started()
    await wait_for_stop()
    stop.set()


@contextlib.asynccontextmanager
async def _backend(
    setup: CenterSetup, virtual: bool, out: _Out
) -> AsyncIterator[tuple[MediaBackend, Clock]]:
    """The media pool behind its front door, or the virtual backend on the wall clock's time."""
    config, sip = setup.config, setup.sip
    if virtual:
        backend = VirtualBackend(ManualClock(time.time()), trusted=sip.trusted)
        devices = {s.device for s in config.seats} | {p.device for p in config.positions}
        for device in sorted(devices - {""}):
            backend.add_phone(device, PartyScript(answer_after=1.0))
        out(f"center {config.node!r} on the virtual backend: no SIP address")
        yield backend, backend.clock
        return
    from ..media import create_media_pool, create_redirect_front  # noqa: PLC0415 - pjsua2

    async with (
        create_media_pool(
            sip.workers,
            host=sip.host,
            max_new_calls_per_second=sip.max_new_calls_per_second,
            trusted=sip.trusted,
        ) as pool,
        create_redirect_front(pool, host=sip.host, port=sip.port) as front,
    ):
        out(f"center {config.node!r} at sip:{config.node}@{front.address} ({sip.workers} workers)")
        for number in config.numbers:
            out(f"  sip:{number.number}@{front.address}: campaign {number.campaign}")
        yield pool, WallClock()


async def _pace(center: CallCenter, backend: VirtualBackend) -> None:
    """Move the virtual backend's time along with the wall clock."""
    last = time.monotonic()
    while True:
        await anyio.sleep(0.05)
        now = time.monotonic()
        await run_virtual(center, backend, now - last)
        last = now


COMMANDS["serve"] = Command(
    name="serve",
    help="run a call center from its TOML file, with its web server",
    configure=_configure,
    run=_run,
)
