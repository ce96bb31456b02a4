"""Kamailio before a cluster: calls reach every node's pool, and the survivor's after kill -9.

Two ``callcenter serve --cluster`` nodes with pjsua2 media run on one
PostgreSQL schema, each on a loopback address of its own (``--sip-host``
127.0.0.2 and 127.0.0.3, the same ``[sip] worker_port`` on both). Kamailio
runs the configuration ``callcenter kamailio --node 127.0.0.2 --node
127.0.0.3`` writes, on 127.0.0.1. sipp callers dial Kamailio only. Which
node answered is read twice: from the Contact of the 200 OK sipp received
(the worker's address, behind Kamailio's Record-Route) and from the
center's event log (``media.call_answered``, whose call id ``node/leg`` names
the node whose pool holds the call).
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from callcenter_sdk.cli import main
from callcenter_sdk.media import CallAnswered, free_udp_port
from callcenter_sdk.runtime._cluster import DEFAULT_TTL
from callcenter_sdk.store import EventLog, Store, temporary_store

from ..cli.processes import Command, free_port, hotline_center_file, running

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.slow,
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
    pytest.mark.skipif(
        shutil.which("kamailio") is None, reason="kamailio is not installed (Debian package)"
    ),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed (sip-tester)"),
]

SCENARIO = Path(__file__).parent / "sipp" / "caller_through_proxy.xml"
NODES = {"a": "127.0.0.2", "b": "127.0.0.3"}
KAMAILIO = "127.0.0.1"
WORKERS = 2
START = 120.0
"""Seconds a node may take to start, lead and start its media workers on a busy machine."""
REACH = 60.0
"""Seconds a caller keeps trying until a call through Kamailio is answered (a bound, not a pace)."""
CALLS = 3


def _free_run(count: int, hosts: list[str]) -> int:
    """The first of ``count`` consecutive UDP ports free on every one of ``hosts`` now."""
    for _ in range(50):
        base = free_udp_port(hosts[0])
        if base + count > 65535:
            continue
        socks = []
        try:
            for host in hosts:
                for port in range(base, base + count):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    socks.append(sock)
                    sock.bind((host, port))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise AssertionError(f"no {count} consecutive free UDP ports on {hosts}")


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh, migrated PostgreSQL schema for this test only."""
    with temporary_store(postgresql_url) as store:
        yield store


@pytest.fixture
def center_file(tmp_path: Path, database: Store, postgresql_url: str) -> Path:
    """The hotline on the test's schema: two workers per node on fixed ports, trusting Kamailio."""
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    hosts = list(NODES.values())
    front = _free_run(1, hosts)
    file = hotline_center_file(tmp_path, sip_port=front)
    sip = f'port = {front}\nworker_port = {_free_run(WORKERS, hosts)}\ntrusted = ["{KAMAILIO}"]'
    edited = (
        file.read_text(encoding="utf-8")
        .replace('store = "sqlite:///center.sqlite"', f'store = "{url.render_as_string(False)}"')
        .replace(f"port = {front}", sip)
    )
    file.write_text(edited, encoding="utf-8")
    return file


class Front:
    """Kamailio on the generated configuration, and the address callers dial."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port


@pytest.fixture
def kamailio(
    tmp_path: Path, center_file: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Front]:
    """``callcenter kamailio`` over both nodes' workers, and Kamailio running it."""
    port = free_udp_port(KAMAILIO)
    directory = tmp_path / "kamailio"
    nodes = [word for address in NODES.values() for word in ("--node", address)]
    listen = f"{KAMAILIO}:{port}"
    assert (
        main(
            [
                "kamailio",
                str(center_file),
                *nodes,
                "--listen",
                listen,
                "--directory",
                str(directory),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert f"{WORKERS * len(NODES)} workers on {len(NODES)} nodes" in printed
    listed = (directory / "dispatcher.list").read_text(encoding="utf-8").splitlines()
    assert [line.split()[1].split(":")[1] for line in listed] == [
        host for host in NODES.values() for _ in range(WORKERS)
    ]
    command = [
        "kamailio",
        "-DD",
        "-E",
        "-m",
        "64",
        "-M",
        "8",
        "-f",
        str(directory / "kamailio.cfg"),
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield Front(process, port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _node(center_file: Path, name: str) -> Iterator[Command]:
    args = ("serve", str(center_file), "--cluster", "--node-id", name)
    with running(*args, "--sip-host", NODES[name], "--port", str(free_port())) as command:
        yield command


@pytest.fixture
def node_a(center_file: Path) -> Iterator[Command]:
    """Node ``a`` on 127.0.0.2, started first: it leads at epoch 1 and runs media."""
    yield from _node(center_file, "a")


@pytest.fixture
def node_b(center_file: Path, node_a: Command) -> Iterator[Command]:
    """Node ``b`` on 127.0.0.3, started once ``a`` leads: it stands by, its media taking calls."""
    node_a.wait_for_line("leader a epoch 1", START)
    yield from _node(center_file, "b")


def _failure(messages: Path, result: subprocess.CompletedProcess[bytes]) -> str:
    """The final status line of a failed call, or the end of sipp's output."""
    if messages.exists():
        statuses = [
            line
            for line in messages.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.startswith("SIP/2.0 ") and not line.startswith(("SIP/2.0 1", "SIP/2.0 2"))
        ]
        if statuses:
            return statuses[-1]
    return (result.stdout + result.stderr).decode(errors="replace").strip()[-300:]


class Caller:
    """sipp calls through Kamailio, one at a time, each bounded by a timeout."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.made = 0
        self.media_port = _free_run(4, ["127.0.0.1"])  # sipp's RTP and RTCP, audio and video
        self.sip_port = free_udp_port()
        while self.media_port <= self.sip_port < self.media_port + 4:
            self.sip_port = free_udp_port()
        self.failures: list[str] = []
        """Why each failed call failed: the final response sipp got, or its last words."""

    def call(self) -> str | None:
        """One call, held half a second; the answering worker's host, ``None`` if it failed."""
        self.made += 1
        messages = self.folder / f"call{self.made}.log"
        command = [
            "timeout", "40", "sipp", "-sf", str(SCENARIO),
            "-i", "127.0.0.1", "-p", str(self.sip_port),
            "-mi", "127.0.0.1", "-mp", str(self.media_port),
            "-s", "hotline", "-m", "1", "-d", "500", "-nostdin",
            "-timeout", "30", "-timeout_error",
            "-trace_msg", "-message_file", str(messages),
            f"{KAMAILIO}:{self.port}",
        ]  # fmt: skip
        result = subprocess.run(command, cwd=self.folder, capture_output=True, check=False)
        if result.returncode != 0:
            self.failures.append(_failure(messages, result))
            return None
        contacts = [
            line.split("@", 1)[1].split(":", 1)[0]
            for line in messages.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.startswith("Contact: <sip:callcenter@")
        ]
        assert contacts, f"no worker Contact in {messages}"
        return contacts[-1]

    def until_answered(self, timeout: float) -> str:
        """Call again until a call is answered; the host that answered it."""
        deadline = time.monotonic() + timeout
        while (host := self.call()) is None:
            assert time.monotonic() < deadline, f"no call answered within {timeout} s"
            time.sleep(0.2)  # a caller dialling again: nothing to wait on
        return host


def _answered_by(database: Store) -> list[str]:
    """The host of the node each ``media.call_answered`` of the event log was answered on.

    A cluster's call id is ``node/leg``: the node whose media holds the call.
    """
    return [
        NODES[logged.event.call_id.split("/", 1)[0]]
        for logged in EventLog(database).read()
        if isinstance(logged.event, CallAnswered)
    ]


def test_calls_through_kamailio_reach_every_node_and_after_kill_9_the_survivor(
    tmp_path: Path, kamailio: Front, node_a: Command, node_b: Command, database: Store
) -> None:
    """Node a leads (media on 127.0.0.2), node b stands by (media on 127.0.0.3): every call
    through Kamailio is answered, by a's pool or b's (both answer OPTIONS probes; the leader's
    center drives b's calls through the database); after kill -9 of a, b leads at epoch 2
    and new calls to the same Kamailio address are answered by b's pool; the center's event
    log shows each answered call on the node sipp saw answer, and no call answered elsewhere."""
    node_b.wait_for_line("standby b for hotline", START)
    caller = Caller(tmp_path, kamailio.port)
    first_host = caller.until_answered(START)
    before = [first_host] + [caller.call() for _ in range(CALLS)]
    assert set(before) <= set(NODES.values()), f"{before} {caller.failures}"
    print(f"before the kill, calls answered by {before}")

    killed = time.monotonic()
    node_a.process.kill()
    node_b.wait_for_line("leader b epoch 2", DEFAULT_TTL + START)
    serving = time.monotonic() - killed
    first = caller.until_answered(REACH)
    answered = time.monotonic() - killed
    print(
        f"kill -9 of the leader: b leads (its center open) after {serving:.2f} s,"
        f" the first call through Kamailio is answered by b after {answered:.2f} s"
    )
    assert first == NODES["b"]
    after = [caller.call() for _ in range(CALLS)]
    assert after == [NODES["b"]] * CALLS, (after, caller.failures)

    logged = _answered_by(database)
    assert logged == before + [NODES["b"]] * (1 + CALLS), logged
