"""Cluster nodes in network namespaces on one machine, a private PostgreSQL, and faults.

The chaos tests (``test_chaos.py``) and ``benchmarks/bench_cluster.py`` build
on this. As root, with ``ip`` and PostgreSQL's server binaries, it makes:

* ``<prefix>-db`` (the prefix is ``ccx`` and this process's pid in base 36,
  :data:`PREFIX`, so that runs at the same time do not clash): the
  database's namespace, with a bridge at ``10.231.1.1/24``
  where a private PostgreSQL listens (``initdb``/``pg_ctl`` as ``postgres``,
  ``track_commit_timestamp`` on, ``pg_hba`` trusting ``10.231.0.0/16``);
* ``<prefix>-web``: the clients' namespace (the test's HTTP requests and its
  database reads), with a bridge at ``10.231.2.1/24`` and a leg on the
  database's bridge at ``10.231.1.2``;
* ``<prefix>-n1`` … ``<prefix>-nN``: one namespace per node, each joined by one veth
  pair to the database's bridge (``db0``, ``10.231.1.1K``) and one to the
  clients' bridge (``web0``, ``10.231.2.1K``), so a node can be cut off from
  the database (``db0`` down) while its web port still answers.

Nothing gets an address outside those namespaces: the test process reaches
them by entering ``<prefix>-web`` in the calling thread (:func:`entered`, setns(2)
on the thread only) around each request or database connection. Everything
is deleted on the way out, also after a failure, and what a killed run left
behind (namespaces whose prefix names a process that no longer runs) is
deleted before a new one starts; a run still going keeps its own.

Faults: :meth:`Node.kill` (SIGKILL), :meth:`Node.stalled` (SIGSTOP, then
SIGCONT), :meth:`Node.partitioned` (its link to the database down, then up).
Every wait polls a condition with a deadline; none sleeps to synchronise.

The center's tables carry audit triggers (:func:`install_audit`): every write
records the writing node (its connection's ``application_name``) and its
transaction, whose commit time PostgreSQL keeps; :func:`stale_commits` finds
any write a deposed leader committed after another node's term had written.

Kamailio in front of the nodes (calls with sipp, agents on pjsua2 phones)
runs in a namespace of its own added with :meth:`Network.add_namespace` (a
namespace on both bridges): ``chaos_sip.py`` and ``test_chaos_sip.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).parents[2]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


PREFIX = f"ccx{_base36(os.getpid())}"
"""This run's names: ``ccx`` and the pid in base 36 (at most 8 characters, so a veth's name,
the prefix and a 5-character tag, stays within Linux's 15)."""
DB_NET = "10.231.1"
WEB_NET = "10.231.2"
RANGE = "10.231.0.0/16"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 5432
WEB_PORT = 8080
CLONE_NEWNET = 0x40000000
POLL = 0.05
"""Seconds between two looks at a condition being waited for (a pace, not a synchronisation)."""

_libc = ctypes.CDLL(None, use_errno=True)


def missing() -> str | None:
    """Why namespaces cannot be made here, ``None`` when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "network namespaces need iproute2's ip"
    if not (PG_BIN / "initdb").exists():
        return f"the private PostgreSQL needs {PG_BIN}/initdb (postgresql-15)"
    return None


def require() -> None:
    """Skip the calling test, with the reason, when namespaces cannot be made here."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)


def run(*args: str, ns: str | None = None, check: bool = True) -> str:
    """Run a command (inside namespace ``ns``); its output, or an error naming it."""
    command = ["ip", "netns", "exec", ns, *args] if ns else list(args)
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


@contextlib.contextmanager
def entered(ns: str) -> Iterator[None]:
    """Run the block with the calling thread in network namespace ``ns``.

    Only this thread moves (a network namespace is per thread); sockets made
    inside stay in ``ns`` after the block. Start no process inside it.
    """
    own = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(target)
        os.close(own)


def owner(name: str) -> int | None:
    """The pid of the run that made namespace ``name`` (``None``: not a chaos namespace)."""
    match = re.fullmatch(r"ccx([0-9a-z]{1,5})-.+", name)
    return None if match is None else int(match.group(1), 36)


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> None:
    """Delete the namespaces (and so their links) that runs no longer running left behind."""
    for line in run("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        pid = owner(name)
        if pid is not None and pid != os.getpid() and not _runs(pid):
            run("ip", "netns", "del", name, check=False)


@dataclass
class Network:
    """The namespaces, bridges and veth pairs; see the module's docstring."""

    nodes: int
    db: str = f"{PREFIX}-db"
    web: str = f"{PREFIX}-web"
    made: list[str] = field(default_factory=list)

    def node_ns(self, k: int) -> str:
        """Node ``k``'s namespace (from 1)."""
        return f"{PREFIX}-n{k}"

    def node_db_address(self, k: int) -> str:
        """Node ``k``'s address on the database's bridge."""
        return f"{DB_NET}.{10 + k}"

    def node_web_address(self, k: int) -> str:
        """Node ``k``'s address on the clients' bridge."""
        return f"{WEB_NET}.{10 + k}"

    def _namespace(self, name: str) -> None:
        run("ip", "netns", "add", name)
        self.made.append(name)
        run("ip", "link", "set", "lo", "up", ns=name)

    def _bridge(self, ns: str, address: str) -> None:
        run("ip", "link", "add", "br0", "type", "bridge", ns=ns)
        run("ip", "addr", "add", f"{address}/24", "dev", "br0", ns=ns)
        run("ip", "link", "set", "br0", "up", ns=ns)

    def _leg(self, tag: str, ns: str, name: str, address: str, bridge_ns: str) -> None:
        """A veth pair: ``name`` at ``address`` in ``ns``, its peer on ``bridge_ns``'s bridge."""
        inner, outer = f"{PREFIX}{tag}i", f"{PREFIX}{tag}o"
        run("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
        run("ip", "link", "set", inner, "netns", ns)
        run("ip", "link", "set", outer, "netns", bridge_ns)
        run("ip", "link", "set", inner, "name", name, ns=ns)
        run("ip", "addr", "add", f"{address}/24", "dev", name, ns=ns)
        run("ip", "link", "set", name, "up", ns=ns)
        run("ip", "link", "set", outer, "master", "br0", ns=bridge_ns)
        run("ip", "link", "set", outer, "up", ns=bridge_ns)

    def add_namespace(self, name: str, host: int) -> tuple[str, str]:
        """One more namespace on both bridges (Kamailio's, say): its (db, web) addresses.

        ``host`` is the last byte of both addresses (2-9 and 30-250 are free).
        """
        self._namespace(f"{PREFIX}-{name}")
        db, web = f"{DB_NET}.{host}", f"{WEB_NET}.{host}"
        self._leg(f"{host}d", f"{PREFIX}-{name}", "db0", db, self.db)
        self._leg(f"{host}w", f"{PREFIX}-{name}", "web0", web, self.web)
        return db, web

    def build(self) -> None:
        """Make every namespace and link."""
        self._namespace(self.db)
        self._bridge(self.db, f"{DB_NET}.1")
        self._namespace(self.web)
        self._bridge(self.web, f"{WEB_NET}.1")
        self._leg("cd", self.web, "db0", f"{DB_NET}.2", self.db)
        for k in range(1, self.nodes + 1):
            ns = self.node_ns(k)
            self._namespace(ns)
            self._leg(f"{k}d", ns, "db0", self.node_db_address(k), self.db)
            self._leg(f"{k}w", ns, "web0", self.node_web_address(k), self.web)

    def remove(self) -> None:
        """Delete every namespace made (their links go with them)."""
        for name in reversed(self.made):
            run("ip", "netns", "del", name, check=False)
        self.made.clear()


@contextlib.contextmanager
def network(nodes: int) -> Iterator[Network]:
    """:class:`Network` with ``nodes`` node namespaces, removed on the way out."""
    remove_leftovers()
    net = Network(nodes)
    try:
        net.build()
        yield net
    finally:
        net.remove()


@dataclass
class PostgreSQL:
    """The private PostgreSQL server in the database's namespace."""

    net: Network
    folder: Path
    host: str = f"{DB_NET}.1"
    port: int = PG_PORT

    def url(self, database: str, application: str) -> str:
        """A SQLAlchemy URL of ``database`` for a client named ``application``."""
        return (
            f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"
            f"?application_name={application}&connect_timeout=3"
        )

    def engine(self, database: str = "postgres") -> Engine:
        """An engine for the test's own reads (connections made in the clients' namespace)."""
        return create_engine(self.url(database, "chaos-test"), isolation_level="AUTOCOMMIT")

    def create_database(self, name: str, *, within: float = 60.0) -> None:
        """Create an empty database ``name``, connecting again for up to ``within`` seconds.

        A connection attempt gives up after 3 s (``connect_timeout``): on a
        machine kept busy the server may take longer to answer one.
        """
        deadline = time.monotonic() + within
        while True:
            engine = self.engine()
            try:
                with entered(self.net.web), engine.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                return
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
            finally:
                engine.dispose()


def _as_postgres(command: str, ns: str) -> None:
    run("su", "postgres", "-c", command, ns=ns)


@contextlib.contextmanager
def postgresql(net: Network) -> Iterator[PostgreSQL]:
    """A fresh PostgreSQL 15 listening on the database's bridge only; stopped and deleted after."""
    folder = Path(tempfile.mkdtemp(prefix="ccx-pg-"))
    shutil.chown(folder, "postgres")
    data = folder / "data"
    server = PostgreSQL(net, folder)
    _as_postgres(f"{PG_BIN}/initdb -D {data} -A trust -U postgres", net.db)
    with (data / "pg_hba.conf").open("a", encoding="utf-8") as hba:
        hba.write(f"host all all {RANGE} trust\n")
    options = (
        f"-c listen_addresses={server.host} -p {server.port} -k {folder}"
        " -c track_commit_timestamp=on -c max_connections=300 -c fsync=off"
    )
    start = f"{PG_BIN}/pg_ctl -D {data} -w -t 60 -o '{options}' -l {folder}/log start"
    try:
        _as_postgres(start, net.db)  # -w: pg_ctl polls until the server accepts connections
        yield server
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            _as_postgres(f"{PG_BIN}/pg_ctl -D {data} -m immediate stop", net.db)
        shutil.rmtree(folder, ignore_errors=True)


AUDIT = """
CREATE TABLE chaos_audit (
    id bigserial PRIMARY KEY,
    tbl text NOT NULL,
    op text NOT NULL,
    app text NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    holder text,
    epoch bigint
);
CREATE FUNCTION chaos_audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chaos_audit (tbl, op, app)
    VALUES (TG_TABLE_NAME, TG_OP, current_setting('application_name'));
    RETURN NULL;
END $$;
CREATE FUNCTION chaos_audit_lease() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chaos_audit (tbl, op, app, holder, epoch)
    VALUES (TG_TABLE_NAME, TG_OP, current_setting('application_name'), NEW.holder, NEW.epoch);
    RETURN NULL;
END $$;
"""

NOT_THE_LEADERS = frozenset(
    {
        "leader_leases",
        "alembic_version",
        "chaos_audit",
        "cluster_nodes",
        "forwarded_requests:INSERT",
        "media_events",
        "media_calls",
        "media_commands:UPDATE",
    }
)
"""Writes any node may make at any time (``table`` or ``table:OPERATION``): the lease itself,
each node's heartbeat, a command forwarded to the leader, its own media's events and live
calls and the media commands it claims and completes; and the audit's own table."""


def install_audit(engine: Engine, ns: str) -> list[str]:
    """Add the audit triggers to every table of ``engine``'s database; the tables audited."""
    with entered(ns), engine.connect() as connection:
        connection.execute(text(AUDIT))
        tables = list(
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'chaos_audit' ORDER BY tablename"
                )
            ).scalars()
        )
        for table in tables:
            if table == "leader_leases":
                trigger = (
                    f"CREATE TRIGGER chaos_audit AFTER INSERT OR UPDATE ON {table}"
                    " FOR EACH ROW EXECUTE FUNCTION chaos_audit_lease()"
                )
            else:
                trigger = (
                    f'CREATE TRIGGER chaos_audit AFTER INSERT OR UPDATE OR DELETE ON "{table}"'
                    " FOR EACH STATEMENT EXECUTE FUNCTION chaos_audit_statement()"
                )
            connection.execute(text(trigger))
    return tables


@dataclass(frozen=True)
class Commit:
    """One committed transaction's audited writes."""

    committed: float
    app: str
    tables: frozenset[str]
    """``table:OPERATION`` for each kind of write (``events:INSERT``), as
    :data:`NOT_THE_LEADERS` names them."""
    lease: tuple[str, int] | None
    """(holder, epoch) when it wrote the lease row to a new epoch or holder."""


def commits(engine: Engine, ns: str) -> list[Commit]:
    """Every committed audited transaction, in commit order (the database's commit times)."""
    query = text(
        "SELECT * FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xid::xid))"
        " AS committed, app, array_agg(DISTINCT tbl || ':' || op) AS tables, max(holder) AS holder,"
        " max(epoch) AS epoch FROM chaos_audit GROUP BY xid, app) AS done"
        " WHERE committed IS NOT NULL ORDER BY committed"
    )
    with entered(ns), engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        Commit(
            float(row.committed),
            str(row.app),
            frozenset(row.tables),
            None if row.holder is None else (str(row.holder), int(row.epoch)),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Stale:
    """A deposed leader's write committed after the next term's first write."""

    commit: Commit
    writer: str
    """The node whose term had written last before it (and so held the newer epoch)."""


def stale_commits(
    found: list[Commit], nodes: set[str], *, every_node: frozenset[str] = NOT_THE_LEADERS
) -> list[Stale]:
    """Writes to the leader's tables committed by a node after another node's newer term wrote.

    The terms come from the lease row's audited changes (holder and epoch,
    at their commit times). Walking the commits in order, the current writer
    is the holder of the newest term that has committed a write of the
    leader's tables; a commit of those tables by any other node is stale
    unless that node took a newer lease since (its own new term). Only the
    commits of ``nodes`` (their ``application_name``) count: the test's own
    writes are not a term's.
    """
    taken: dict[str, int] = {}  # node -> newest epoch it took so far
    writer: tuple[str, int] | None = None  # (node, epoch) of the newest term that wrote
    stale: list[Stale] = []
    for commit in found:
        if commit.lease is not None:
            holder, epoch = commit.lease
            taken[holder] = max(taken.get(holder, 0), epoch)
        leaders = {
            w for w in commit.tables if w not in every_node and w.split(":")[0] not in every_node
        }
        if commit.app not in nodes or not leaders:
            continue
        epoch = taken.get(commit.app, 0)
        if writer is None or epoch > writer[1]:
            writer = (commit.app, epoch)
        elif commit.app != writer[0]:
            stale.append(Stale(commit, writer[0]))
    return stale


class Process:
    """A command run inside a namespace, its output read line by line as it comes."""

    def __init__(self, ns: str, args: list[str], *, cwd: Path = ROOT) -> None:
        self.args = args
        # ip netns exec execs the command: this pid is the command's own
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", ns, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "CALLCENTER_TRACEBACK": "1"},  # a crash shows its traceback
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(
                target=self._read, args=(self.process.stdout, self.lines), daemon=True
            ),
            threading.Thread(
                target=self._read, args=(self.process.stderr, self.errors), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, prefix: str, timeout: float, *, after: int = 0) -> str:
        """The first output line from index ``after`` starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if line.startswith(prefix):
                        return line
                if self.process.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise AssertionError(
                        f"{self.args} exited {self.process.returncode} before {prefix!r}:\n"
                        + "\n".join(self.lines + self.errors[-30:])
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {prefix!r} line within {timeout} s:\n" + "\n".join(self.lines)
                    )
                self._changed.wait(min(left, 1.0))

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the command (if it still runs)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signum)

    def close(self) -> None:
        """Kill it (and anything it started) if it still runs, and wait for it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class Node:
    """One cluster node: its namespace, addresses and (while it runs) its process."""

    net: Network
    k: int
    name: str
    command: Callable[[Node], list[str]]
    process: Process | None = None

    @property
    def ns(self) -> str:
        """The node's namespace."""
        return self.net.node_ns(self.k)

    @property
    def url(self) -> str:
        """Its web server, on the clients' bridge."""
        return f"http://{self.net.node_web_address(self.k)}:{WEB_PORT}"

    def start(self) -> Process:
        """Start the node's process (again, after a kill)."""
        if self.process is not None:
            self.process.close()
        self.process = Process(self.ns, self.command(self))
        return self.process

    def running(self) -> Process:
        """The node's process; fails when it is not started."""
        assert self.process is not None, f"{self.name} is not started"
        return self.process

    def kill(self) -> None:
        """Send SIGKILL to the node's process (kill -9) and reap it."""
        process = self.running()
        process.signal(signal.SIGKILL)
        process.process.wait(timeout=60)

    @contextlib.contextmanager
    def stalled(self) -> Iterator[None]:
        """SIGSTOP of the node's process for the block, SIGCONT after it (also on failure)."""
        process = self.running()
        process.signal(signal.SIGSTOP)
        try:
            yield
        finally:
            process.signal(signal.SIGCONT)

    @contextlib.contextmanager
    def partitioned(self) -> Iterator[None]:
        """The node cut off from the database for the block (its web port still answers)."""
        run("ip", "link", "set", "db0", "down", ns=self.ns)
        try:
            yield
        finally:
            run("ip", "link", "set", "db0", "up", ns=self.ns)

    def cluster(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """Its ``GET /api/cluster`` answer, ``None`` when it does not answer."""
        try:
            with entered(self.net.web):
                response = httpx.get(f"{self.url}/api/cluster", timeout=timeout)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        answer: dict[str, Any] = response.json()
        return answer

    def close(self) -> None:
        """Stop the node's process for good."""
        if self.process is not None:
            self.process.close()


def serve_command(center_file: Callable[[Node], Path]) -> Callable[[Node], list[str]]:
    """``callcenter serve FILE --virtual --cluster --node-id NAME --port 8080`` for a node.

    ``center_file(node)`` is the node's center file: the shared store's URL
    with the node's ``application_name``, and ``[web] host`` its address on
    the clients' bridge.
    """

    def command(node: Node) -> list[str]:
        return [
            sys.executable,
            "-m",
            "callcenter_sdk",
            "serve",
            str(center_file(node)),
            "--virtual",
            "--cluster",
            "--node-id",
            node.name,
            "--port",
            str(WEB_PORT),
        ]

    return command


def wait_until(what: str, condition: Callable[[], Any], timeout: float) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(POLL)  # polling a condition with a deadline


def leaders(nodes: list[Node]) -> list[tuple[Node, int]]:
    """The nodes answering that they lead (serving the center), with their epochs."""
    found = []
    for node in nodes:
        answer = node.cluster()
        if answer is not None and answer["role"] == "leader":
            found.append((node, int(answer["epoch"])))
    return found


def one_leader(nodes: list[Node], *, above: int, timeout: float) -> tuple[Node, int, float]:
    """Wait until exactly one node leads at an epoch above ``above``: it, its epoch, seconds."""
    since = time.monotonic()

    def found() -> tuple[Node, int] | None:
        now = leaders(nodes)
        if len(now) == 1 and now[0][1] > above:
            return now[0]
        return None

    node, epoch = wait_until(f"one leader above epoch {above}", found, timeout)
    return node, epoch, time.monotonic() - since
