"""``callcenter demo``: run the hotline reference deployment (``examples/hotline``).

Real SIP calls through pjsua2 on 127.0.0.1 for about two minutes, live
figures every few seconds, then the KPI report computed from the stored
events. Without pjsua2 it says so and runs the same hotline on the virtual
backend in virtual time::

    callcenter demo                 # about two minutes
    callcenter demo --duration 20   # a short run
    callcenter demo --web           # with the desktop, wallboard and API on :8080

``--web`` serves the center's web app while the hotline runs, gives every
person of ``examples/hotline/org.toml`` one password generated for this run
and prints it with the logins and the URL; after the run the pages stay up
(the last figures on the wallboard) until Ctrl-C or SIGTERM, and the report
is printed then.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import secrets
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType

import anyio

from .._errors import NotFoundError
from ..runtime import CallCenter
from ..store import Accounts, Store
from ._main import COMMANDS, Command
from ._web import listen, serving, url_of, wait_for_stop, web_missing

_EXAMPLE = Path("examples") / "hotline" / "main.py"


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=float, default=120.0, help="seconds during which callers arrive (120)"
    )
    parser.add_argument(
        "--virtual", action="store_true", help="run on the virtual backend, in virtual time"
    )
    parser.add_argument("--db", help="SQLite file to keep the events in (default: temporary)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the callers (1)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between live lines (5)")
    parser.add_argument(
        "--web", action="store_true", help="serve the desktop, wallboard and API; print logins"
    )
    parser.add_argument("--host", default="127.0.0.1", help="--web: the address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="--web: the port (8080)")


def find_hotline() -> Path:
    """Find ``examples/hotline/main.py``: under the current directory, else the one installed.

    A wheel carries the examples inside the package (``callcenter_sdk/examples``);
    a source checkout has them at the repository's root.
    """
    package = Path(__file__).resolve().parents[1]  # callcenter_sdk/cli -> callcenter_sdk
    for base in (Path.cwd(), package, package.parents[1]):
        candidate = base / _EXAMPLE
        if candidate.is_file():
            return candidate
    raise NotFoundError(
        f"cannot find {_EXAMPLE} in the current directory nor in the installed"
        f" callcenter_sdk ({package}): reinstall it from its wheel"
    )


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("callcenter_hotline_example", path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise NotFoundError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _out(line: str) -> None:
    print(line, flush=True)


def _run(args: argparse.Namespace) -> int:
    hotline = _load(find_hotline())
    with contextlib.ExitStack() as stack:
        web = None
        if args.web:
            missing = web_missing()
            if missing is not None:
                print(f"callcenter demo: error: {missing}", file=sys.stderr)
                return 2
            sock = stack.enter_context(listen(args.host, args.port, file="--web", path=()))
            web = _web(sock, _out)

        async def main() -> None:
            await hotline.run(
                args.duration,
                virtual=True if args.virtual else None,
                db=args.db,
                seed_value=args.seed,
                out=_out,
                every=args.every,
                web=web,
            )

        try:
            anyio.run(main)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    return 0


def _web(
    sock: socket.socket, out: Callable[[str], None]
) -> Callable[[CallCenter, Store], contextlib.AbstractAsyncContextManager[None]]:
    """The hook that serves the hotline's web app on ``sock`` while it runs, then until a signal."""

    @contextlib.asynccontextmanager
    async def beside(center: CallCenter, store: Store) -> AsyncIterator[None]:
        org = center.config.org
        assert org is not None  # noqa: S101 - the hotline has one
        password = secrets.token_urlsafe(9)
        accounts = Accounts(store)
        at = center.clock.now()

        def give_passwords() -> None:
            for person in org.people:
                accounts.set_password(person.id, password, at=at)

        await anyio.to_thread.run_sync(give_passwords)
        async with serving(center, store, sock):
            url = url_of(sock)
            out(f"web: {url} (desktop {url}desk, wallboard {url}wallboard)")
            out(f"logins, all with the password {password}:")
            for person in org.people:
                out(f"  {person.id:<12} {person.role.value}")
            yield
            out(f"the run is over; the pages stay up at {url} until Ctrl-C (then the report)")
            await wait_for_stop()

    return beside


COMMANDS["demo"] = Command(
    name="demo",
    help="run the hotline demo: real SIP calls on loopback, live figures, KPI report",
    configure=_configure,
    run=_run,
)
