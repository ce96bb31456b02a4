"""``callcenter serve CONFIG``: run a call center from its file, with its web server.

::

    callcenter serve center.toml              # pjsua2 media workers behind the front door
    callcenter serve center.toml --virtual    # no SIP: the virtual backend, in real time
    callcenter serve center.toml --port 9000  # another web port than [web] port
    callcenter serve center.toml --cluster --node-id web1   # one node of a cluster
    callcenter serve center.toml --node-id web1 --cluster postgresql+psycopg://db/cc
    callcenter serve center.toml --sip-host 10.0.0.7        # SIP on this node's address

With ``--cluster`` (the store must be PostgreSQL: the center file's
``[center] store``, or the URL given after ``--cluster``, which replaces it)
the node runs an
:class:`~callcenter_sdk.runtime.Elector` for the center's routing domain
(its name): while another node leads it serves ``GET /api/cluster``, the
live events from the shared log, and forwards every other request to the
leader through the store (:mod:`callcenter_sdk.web._forward`); when it takes the
lease it opens the center on the store, which restores the promises the
previous leader stored, and serves the whole web app; when it loses the
lease it closes the center at once and stands by again. It prints one line
per change of role, with the epoch: ``elected NODE epoch N: opening`` when
it takes the lease, ``leader NODE epoch N`` once it serves the center,
``standby NODE epoch N: REASON`` once the center is closed again.

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
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import anyio.to_thread
import attrs
from sqlalchemy.engine import make_url

from .. import ManualClock, WallClock
from .._clock import Clock
from .._errors import CallCenterError, StoreError
from ..media import MediaBackend, PartyScript, VirtualBackend
from ..runtime import (
    CallCenter,
    CenterSetup,
    Elector,
    MediaAgent,
    load_center,
    open_call_center,
    open_cluster_media,
    run_virtual,
)
from ..store import (
    Accounts,
    ForwardedRequests,
    Lease,
    LeaseLost,
    Leases,
    MediaRows,
    Notifications,
    Store,
)
from ._channels import open_channels, open_relayed_smtp
from ._main import COMMANDS, Command
from ._node_ops import NodeOperations
from ._url import database_url
from ._web import listen, serving, serving_app, url_of, wait_for_stop, web_missing

if TYPE_CHECKING:
    from ..web._forward import Hints
    from ..web._standby import ClusterFront, ClusterStatus

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
    parser.add_argument(
        "--cluster",
        nargs="?",
        const="",
        default=None,
        type=_cluster_url,
        metavar="URL",
        help="run as one node of a cluster on a PostgreSQL store (URL, else the center file's"
        " [center] store): lead the center, or stand by",
    )
    parser.add_argument(
        "--node-id",
        default=None,
        metavar="NAME",
        help="this node's name in the cluster, unique per running process (with --cluster)",
    )
    parser.add_argument(
        "--sip-host",
        default=None,
        metavar="ADDRESS",
        help="this node's SIP address instead of [sip] host (nodes sharing one center file)",
    )


def _cluster_url(text: str) -> str:
    """Check the store URL given after ``--cluster`` (an ``argparse`` type).

    ``""``, the option without a URL, stands for the center file's store.
    """
    if not text:
        return text
    url = database_url(text)
    if make_url(url).get_backend_name() != "postgresql":
        raise argparse.ArgumentTypeError(
            f"{text!r}: a cluster's nodes share a PostgreSQL store:"
            " write postgresql+psycopg://user@host/db"
        )
    return url


def _out(line: str) -> None:
    print(line, flush=True)


def _run(args: argparse.Namespace) -> int:
    missing = web_missing()
    if missing is not None:
        print(f"callcenter serve: error: {missing}", file=sys.stderr)
        return 2
    setup = load_center(args.config)
    if args.sip_host is not None:
        setup = attrs.evolve(setup, sip=attrs.evolve(setup.sip, host=args.sip_host))
    if args.cluster:  # the shared store named on the command line
        setup = attrs.evolve(setup, store_url=args.cluster)
    refused = _cluster_refused(setup, args.cluster is not None, args.node_id)
    if refused is not None:
        print(f"callcenter serve: error: {refused}", file=sys.stderr)
        return 2
    port = setup.web.port if args.port is None else args.port
    with listen(setup.web.host, port, file=args.config, path=("web",)) as sock:
        try:
            if args.cluster is not None:
                anyio.run(serve_cluster, setup, sock, args.virtual, args.node_id, _out)
            else:
                anyio.run(serve, setup, sock, args.virtual, _out)
        except KeyboardInterrupt:  # before the command listened for it
            return 130
        except BaseExceptionGroup as group:
            raise first_error(group) from None
    return 0


def _cluster_refused(setup: CenterSetup, cluster: bool, node: str | None) -> str | None:
    """Why ``--cluster``/``--node-id`` cannot run with this center, ``None`` when they can."""
    if not cluster:
        return None if node is None else "--node-id names a node of a cluster: add --cluster"
    if node is None or not node.strip():
        return "--cluster needs --node-id NAME (this node's name, unique in the cluster)"
    backend = make_url(setup.database_url()).get_backend_name()
    if backend != "postgresql":
        return (
            f"{setup.source}: --cluster needs a PostgreSQL store ([center] store ="
            f' "postgresql+psycopg://..."), not {backend}: the nodes share it'
        )
    return None


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
                async with (
                    open_channels(setup, center, store, out) as channels,
                    serving(
                        center,
                        store,
                        sock,
                        allowed_origins=setup.web.allowed_origins,
                        chat=channels.chat_app,
                        messages=channels.messages_app,
                    ),
                ):
                    people = len(setup.config.seats)
                    out(f"web: {url_of(sock)} ({people} agents; callcenter accounts set-password)")
                    out("Ctrl-C to stop")
                    await stop.wait()
                pace.cancel_scope.cancel()
        tg.cancel_scope.cancel()
    out("stopped")


async def serve_cluster(
    setup: CenterSetup, sock: socket.socket, virtual: bool, node: str, out: _Out
) -> None:
    """Run one node of the center's cluster on ``sock`` until SIGINT or SIGTERM.

    The node stands by, serving its status only, until it takes the lease of
    the center's routing domain; then it opens the center (which restores
    the stored promises) and serves the whole web app until the term ends.
    """
    from ..web._forward import CHANNELS, Hints, NodeFront  # noqa: PLC0415 - the web extra
    from ..web._standby import ClusterFront  # noqa: PLC0415 - the web extra is optional

    domain = setup.config.node
    async with anyio.create_task_group() as tg:
        stop = anyio.Event()
        await tg.start(_watch, stop)
        with setup.open_store() as store:
            leases = Leases(store)
            reasons: list[str] = []
            elector = Elector(
                leases,
                domain,
                node,
                on_gained=lambda lease: out(f"elected {node} epoch {lease.epoch}: opening"),
                on_lost=lambda _lease, reason: reasons.append(reason),
                ttl=setup.cluster.ttl,
            )
            hints = Hints(Notifications(store, CHANNELS))
            standby = NodeFront(
                store,
                setup.config,
                domain=domain,
                node=node,
                hints=hints,
                allowed_origins=setup.web.allowed_origins,
                chat=setup.channels.chat is not None,  # relayed to the leader's chat
            )
            front = ClusterFront(lambda: _status(elector, leases, front), standby=standby)
            media = _NodeMedia(setup, store, node, virtual)
            term = _Term(
                setup,
                store,
                elector=elector,
                front=front,
                hints=hints,
                media=media,
                reasons=reasons,
                out=out,
            )
            ops = NodeOperations(
                setup,
                store,
                elector=elector,
                front=front,
                status=lambda: _status(elector, leases, front),
                web=url_of(sock).rstrip("/"),
                standby_applied=lambda: standby.feed.head,
                node_media=media.current,
            )
            async with serving_app(ops.app, sock):
                out(f"web: {url_of(sock)} (node {node!r} of the cluster of {domain!r})")
                out(f"standby {node} for {domain}")
                out("Ctrl-C to stop")
                async with (
                    media.running(),
                    anyio.create_task_group() as nodes,
                    standby.running(),
                    open_relayed_smtp(setup, standby.ask_mail, node, out),
                ):
                    await nodes.start(hints.run)
                    await nodes.start(elector.run)
                    await nodes.start(ops.heartbeat.run)
                    async with anyio.create_task_group() as work:
                        work.start_soon(elector.lead, term.run)
                        await stop.wait()
                        term.stopping = True
                        work.cancel_scope.cancel()  # the center closes while its lease holds
                    nodes.cancel_scope.cancel()  # then the elector gives the lease back
        tg.cancel_scope.cancel()
    out("stopped")


async def _status(elector: Elector, leases: Leases, front: ClusterFront) -> ClusterStatus:
    """This node's view of the cluster, for ``GET /api/cluster``."""
    lease = elector.lease
    serving = front.active is not None
    if lease is None:
        try:
            lease = await anyio.to_thread.run_sync(
                leases.current, elector.domain, abandon_on_cancel=True
            )
        except StoreError:
            lease = None
    return {
        "node": elector.node,
        "leader": None if lease is None else lease.holder,
        "epoch": None if lease is None else lease.epoch,
        "role": "leader" if serving and elector.is_leader else "standby",
    }


class _Term:
    """What a node does while it leads: the center open on the store, its web app served."""

    def __init__(
        self,
        setup: CenterSetup,
        store: Store,
        *,
        elector: Elector,
        front: ClusterFront,
        hints: Hints,
        media: _NodeMedia,
        reasons: list[str],
        out: _Out,
    ) -> None:
        self.setup = setup
        self.store = store
        self.elector = elector
        self.front = front
        self.hints = hints
        self.media = media
        self.reasons = reasons
        self.out = out
        self.stopping = False

    async def run(self, lease: Lease) -> None:
        """Open the center and serve it until this term's scope is cancelled (step-down)."""
        from ..web import create_app  # noqa: PLC0415 - the web extra is optional
        from ..web._forward import Forwarder, announce_events  # noqa: PLC0415

        setup, node = self.setup, self.elector.node
        self.reasons.clear()
        try:
            node_media = self.media
            async with (
                open_cluster_media(
                    node_media.agent, node_media.rows, self.elector, epoch=lease.epoch
                ) as cluster_media,
                open_call_center(
                    cluster_media,
                    setup.config,
                    store=self.store,
                    clock=node_media.clock,
                    run_timers=not isinstance(node_media.backend, VirtualBackend),
                    elector=self.elector,
                ) as center,
                open_channels(setup, center, self.store, self.out, smtp=False) as channels,
                anyio.create_task_group() as pace,
            ):
                if isinstance(node_media.backend, VirtualBackend):
                    pace.start_soon(node_media.lead_pace, center)
                app = create_app(
                    center,
                    accounts=Accounts(self.store),
                    allowed_origins=setup.web.allowed_origins,
                    chat=channels.chat_app,
                    chat_relay=channels.chat.relay if channels.chat is not None else None,
                    mail_relay=channels.email.deliver if channels.email is not None else None,
                    messages=channels.messages_app,
                )
                async with app.router.lifespan_context(app):
                    pace.start_soon(announce_events, app.state.api.feed, self.store)
                    forwarder = Forwarder(
                        app,
                        ForwardedRequests(self.store),
                        self.elector.fenced(),
                        self.hints,
                        domain=self.elector.domain,
                        node=node,
                        epoch=lease.epoch,
                    )
                    await pace.start(forwarder.run)
                    self.front.active = app
                    try:
                        self.out(f"leader {node} epoch {lease.epoch}")
                        await anyio.sleep_forever()
                    finally:
                        self.front.active = None
                        cluster_media.hand_over()  # the next leader takes the calls over
                        pace.cancel_scope.cancel()
        except LeaseLost as exc:  # lost between taking the lease and opening the center
            self.reasons.append(str(exc))
        finally:
            self.front.active = None
            if self.stopping:
                reason = "stopping"
            elif self.reasons:
                reason = self.reasons[-1]
            else:
                reason = "the term ended"
            self.out(f"standby {node} epoch {lease.epoch}: {reason}")


class _NodeMedia:
    """A cluster node's own media, for the process's life: its pool (or virtual backend) and agent.

    Every node runs it, standby or leader, so any node takes calls; the
    leader's center drives them all through :class:`ClusterMedia`.
    """

    def __init__(self, setup: CenterSetup, store: Store, node: str, virtual: bool) -> None:
        self.setup = setup
        self.rows = MediaRows(store, setup.config.node)
        self.node = node
        self.virtual = virtual
        self.backend: MediaBackend
        self.clock: Clock
        self.agent: MediaAgent
        self._center: CallCenter | None = None
        self._running: MediaBackend | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start the media and its agent; stop them when the block ends."""
        async with (
            _backend(self.setup, self.virtual, _quiet) as (backend, clock),
            anyio.create_task_group() as tg,
        ):
            self.backend, self.clock = backend, clock
            self.agent = MediaAgent(backend, self.rows, self.node)
            await tg.start(self.agent.run)
            if isinstance(backend, VirtualBackend):
                tg.start_soon(self._pace, backend)
            self._running = backend
            try:
                yield
            finally:
                self._running = None
                tg.cancel_scope.cancel()

    def current(self) -> MediaBackend | None:
        """The node's media backend while it runs (``None`` before and after)."""
        return self._running

    async def _pace(self, backend: VirtualBackend) -> None:
        """Move the virtual backend's time with the wall clock (the leader's center's too)."""
        last = time.monotonic()
        while True:
            await anyio.sleep(0.05)
            now = time.monotonic()
            if self._center is None:
                await backend.advance(now - last)
            else:
                await run_virtual(self._center, backend, now - last)
            last = now

    async def lead_pace(self, center: CallCenter) -> None:
        """Pace ``center`` with the backend while it runs (a virtual node's term)."""
        self._center = center
        try:
            await anyio.sleep_forever()
        finally:
            self._center = None


def _quiet(_line: str) -> None:
    """Drop a line: a cluster node says what it serves once, not at every term."""


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
            sip_ports=sip.worker_ports,
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
