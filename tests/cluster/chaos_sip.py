"""The chaos cluster with real SIP: Kamailio in front, sipp callers, pjsua2 desk phones.

On the namespaces of ``netns.py`` (the ``private`` fixture), one more
namespace holds Kamailio (``<prefix>-kam``, ``10.231.2.30`` on the clients'
bridge), running the configuration ``callcenter kamailio CENTER --node …``
writes over the three nodes' SIP addresses: each node runs ``callcenter
serve --cluster --sip-host 10.231.2.1K`` with its media workers on its leg
of the clients' bridge (``[sip] worker_port`` 5080, two workers), trusting
Kamailio. In the clients' namespace (``10.231.2.1``):

* the agents' desk phones: ``desk_phones.py``, one pjsua2 phone per
  position, position ``n``'s device ``sip:posN@10.231.2.1:510N``, each
  answering whatever rings it;
* the callers: sipp (``sipp/caller_with_audio.xml``) dialling Kamailio,
  a bounded count at a bounded rate, each playing G.711 audio to the worker
  that answered, then hanging up after its hold time.

The center's flow sends every caller straight to the ``general`` queue (no
IVR digits to type), without wrap-up, so an agent is free again as soon as
a call ends. Which node answered a call is read from sipp's message trace
(the Contact of the 200 OK behind Kamailio's Record-Route).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from callcenter_sdk.store import MediaRows, Nodes

from . import checks, netns
from .chaos import START, Chaos
from .netns import Network, Node, PostgreSQL, Process, entered

HERE = Path(__file__).parent
SCENARIO = HERE / "sipp" / "caller_with_audio.xml"
KAMAILIO_HOST = 30
"""The last byte of Kamailio's addresses (``Network.add_namespace``)."""
KAMAILIO_PORT = 5060
WORKER_PORT = 5080
WORKERS = 1
"""Media workers per node (4 legs on the stock pjsua2 wheel: two bridged calls). One each,
so that Kamailio's least-loaded choice (ties go to the same worker) uses every node as soon
as three calls are up at once."""
PHONE_PORT = 5100
"""Position ``n``'s desk phone listens on ``PHONE_PORT + n``."""
PHONE_RTP = 7000
CALLER_PORT = 5070
"""sipp run ``n`` (from 1) sends from ``CALLER_PORT + n``, its audio from ``CALLER_RTP + 10 n``."""
CALLER_RTP = 6000
AGENTS = ("agent1", "agent2", "agent3", "agent4")
"""Seated at positions hotline:1 … hotline:4 (FibreNet's agents: all in the ``general`` queue)."""
FLOW = """\
[flow]
name = "chaos-sip"
start = "general"
languages = ["en"]
language = "en"

[nodes.general]
kind = "queue"
queue = "general"
attributes = { topic = "other" }
"""


def missing() -> str | None:
    """Why the SIP chaos tests cannot run here, ``None`` when they can."""
    for tool, package in (("kamailio", "kamailio"), ("sipp", "sip-tester")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {package})"
    if importlib.util.find_spec("pjsua2") is None:
        return "pjsua2 is not installed (pip install pjsua2-python)"
    return netns.missing()


def kamailio_namespace(net: Network) -> tuple[str, str]:
    """Kamailio's namespace (made once per network) and its address on the clients' bridge."""
    name = f"{netns.PREFIX}-kam"
    if name not in net.made:
        net.add_namespace("kam", KAMAILIO_HOST)
    return name, f"{netns.WEB_NET}.{KAMAILIO_HOST}"


@dataclass
class SippCall:
    """One sipp call as its message trace shows it."""

    call_id: str
    answered_by: str | None = None
    """The address of the worker whose 200 OK answered the INVITE."""
    invite_final: int | None = None
    bye_final: int | None = None
    """The final response to the caller's BYE (``None``: none came)."""


def sipp_calls(trace: Path) -> list[SippCall]:
    """Every call of a sipp ``-trace_msg`` file, in the order they started."""
    calls: dict[str, SippCall] = {}
    block: list[str] = []

    def take(lines: list[str]) -> None:
        received = bool(lines) and "received" in lines[0]
        start = next(
            (i for i, line in enumerate(lines) if line.startswith(("SIP/2.0 ", "INVITE "))), None
        )
        if start is None:
            return
        headers: dict[str, str] = {}
        for line in lines[start + 1 :]:
            if not line.strip():
                break
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        call = calls.setdefault(headers.get("call-id", ""), SippCall(headers.get("call-id", "")))
        first = lines[start]
        if not (received and first.startswith("SIP/2.0 ")):
            return
        status = int(first.split()[1])
        method = headers.get("cseq", "").split()[-1] if headers.get("cseq") else ""
        if status < 200:
            return
        if method == "INVITE":
            call.invite_final = status
            contact = headers.get("contact", "")
            if status == 200 and "@" in contact:
                call.answered_by = contact.split("@", 1)[1].split(":", 1)[0].split(">")[0]
        elif method == "BYE":
            call.bye_final = status

    if trace.exists():
        for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("----------------"):
                take(block)
                block = []
            else:
                block.append(line)
        take(block)
    calls.pop("", None)
    return list(calls.values())


@dataclass
class Callers:
    """One sipp run in the clients' namespace: ``count`` calls through Kamailio."""

    process: Process
    trace: Path
    calls: list[SippCall] = field(default_factory=list)

    def wait(self, timeout: float) -> list[SippCall]:
        """Wait for sipp to end (it is bounded by ``timeout`` itself); its calls."""
        self.process.process.wait(timeout=timeout)
        self.calls = sipp_calls(self.trace)
        return self.calls


class ChaosSip(Chaos):
    """The chaos cluster with SIP media on every node, Kamailio, desk phones and callers."""

    def __init__(self, net: Network, server: PostgreSQL, folder: Path) -> None:
        self.kamailio_ns, self.kamailio_host = kamailio_namespace(net)
        super().__init__(net, server, folder, agents=AGENTS)
        self.kamailio: Process | None = None
        self.phones: Process | None = None
        self.sipp_runs = 0
        self.caller_host = f"{netns.WEB_NET}.1"

    def edit(self, node: Node, text: str) -> str:
        """SIP on the node's leg of the clients' bridge (one worker), trusting Kamailio; the
        test's flow; the positions' phones in the clients' namespace; no wrap-up."""
        flow = self.folder / "flow.toml"
        flow.write_text(FLOW, encoding="utf-8")
        sip = (
            f"port = 5060\nworker_port = {WORKER_PORT}\n"
            f'trusted = ["{self.kamailio_host}"]\nmax_new_calls_per_second'
        )
        return (
            re.sub(r'(?m)^flow = ".*"$', f'flow = "{flow}"', text, count=1)
            .replace("port = 5060\nmax_new_calls_per_second", sip)
            .replace(
                'device = "sip:pos{number}@127.0.0.1:5080"',
                f'device = "sip:pos{{number}}@{self.caller_host}:{PHONE_PORT // 10}{{number}}"',
            )
            .replace("wrap_up = 6", "wrap_up = 0")
            .replace("workers = 2", f"workers = {WORKERS}")
        )

    def command(self, node: Node) -> list[str]:
        """``serve --cluster`` with SIP media on the node's address on the clients' bridge."""
        return [
            sys.executable,
            "-m",
            "callcenter_sdk",
            "serve",
            str(self.center_file(node)),
            "--cluster",
            "--node-id",
            node.name,
            "--port",
            str(netns.WEB_PORT),
            "--sip-host",
            self.net.node_web_address(node.k),
        ]

    def start_front(self) -> None:
        """Write Kamailio's configuration with ``callcenter kamailio`` and start Kamailio."""
        directory = self.folder / "kamailio"
        nodes = [w for k in range(1, 4) for w in ("--node", self.net.node_web_address(k))]
        done = subprocess.run(
            [
                sys.executable, "-m", "callcenter_sdk", "kamailio",
                str(self.center_file(self.nodes[0])), *nodes,
                "--listen", f"{self.kamailio_host}:{KAMAILIO_PORT}",
                "--directory", str(directory),
            ],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"{WORKERS * 3} workers on 3 nodes" in done.stdout, done.stdout
        self.kamailio = Process(
            self.kamailio_ns,
            ["kamailio", "-DD", "-E", "-m", "64", "-M", "8", "-f", str(directory / "kamailio.cfg")],
        )

    def start_phones(self) -> None:
        """The agents' desk phones in the clients' namespace, one per position."""
        self.phones = Process(
            self.net.web,
            [
                sys.executable,
                str(HERE / "desk_phones.py"),
                self.caller_host,
                str(PHONE_PORT + 1),
                str(len(AGENTS)),
                str(PHONE_RTP),
            ],
        )
        self.phones.wait_for_line("phones ready", START)

    def media_reported(self) -> bool:
        """Whether every node's heartbeat reports all its media workers alive."""
        with entered(self.net.web):
            view = Nodes(self.store).view("hotline")
        alive = {n.node: n.health.media_alive for n in view.nodes}
        return all(alive.get(node.name) == WORKERS for node in self.nodes)

    def seat(self, leader: Node, agents: tuple[str, ...] = AGENTS) -> None:
        """Each of ``agents`` logs in at their position (agentN at hotline:N) and goes ready."""
        for agent in agents:
            position = f"hotline:{AGENTS.index(agent) + 1}"
            self.api(leader, "POST", f"/api/agents/{agent}/login", agent=agent, position=position)
            self.api(leader, "POST", f"/api/agents/{agent}/ready", agent=agent)

    def on_the_phone(self, *, dead: frozenset[str] = frozenset()) -> set[str]:
        """The agents whose desk phone has a leg that has not ended (but legs from the nodes
        ``dead``, left up on the phone when the node died with no BYE)."""
        assert self.phones is not None
        live: dict[str, str] = {}
        dead_hosts = {self.net.node_web_address(int(name[1:])) for name in dead}
        for line in list(self.phones.lines):
            words = line.split()
            if words[0] == "incoming" and _host(words[3]) not in dead_hosts:
                live[words[1]] = words[2]
            elif words[0] == "ended":
                live.pop(words[1], None)
        positions = {
            uri.split("@")[0].removeprefix("<").removeprefix("sip:pos") for uri in live.values()
        }
        return {AGENTS[int(p) - 1] for p in positions if p.isdigit()}

    def desk_legs(self) -> int:
        """Legs the desk phones were rung with, so far."""
        assert self.phones is not None
        return sum(1 for line in list(self.phones.lines) if line.startswith("incoming "))

    def call(self, count: int, *, rate: float, limit: int, hold_ms: int) -> Callers:
        """Start sipp: ``count`` calls at ``rate`` per second, at most ``limit`` at once."""
        self.sipp_runs += 1
        trace = self.folder / f"sipp{self.sipp_runs}.log"
        bound = int(count / rate + hold_ms / 1000 + 120)
        process = Process(
            self.net.web,
            [
                "timeout", str(bound), "sipp", "-sf", str(SCENARIO),
                "-i", self.caller_host, "-p", str(CALLER_PORT + self.sipp_runs),
                "-mi", self.caller_host, "-mp", str(CALLER_RTP + 10 * self.sipp_runs),
                "-s", "hotline", "-m", str(count), "-r", str(rate), "-l", str(limit),
                "-d", str(hold_ms), "-nostdin", "-trace_msg", "-message_file", str(trace),
                f"{self.kamailio_host}:{KAMAILIO_PORT}",
            ],
            cwd=self.folder,
        )  # fmt: skip
        return Callers(process, trace)

    def bridged(self, node: Node) -> int:
        """Legs bridged on ``node``'s media now (two per call at an agent)."""
        with entered(self.net.web):
            return sum(
                c.state == "bridged" for c in MediaRows(self.store, "hotline").calls(node.name)
            )

    def log(self) -> list[checks.Logged]:
        """The event log's rows, in order."""
        with entered(self.net.web), self.engine.connect() as connection:
            rows = connection.execute(text("SELECT kind, payload FROM events ORDER BY seq")).all()
        return [checks.Logged(str(row.kind), row.payload) for row in rows]

    def log_since(self, seq: int) -> list[checks.Logged]:
        """The event log's rows after ``seq``, in order."""
        query = text("SELECT kind, payload FROM events WHERE seq > :seq ORDER BY seq")
        with entered(self.net.web), self.engine.connect() as connection:
            rows = connection.execute(query, {"seq": seq}).all()
        return [checks.Logged(str(row.kind), row.payload) for row in rows]

    def last_seq(self) -> int:
        """The newest event's ``seq`` (0 when the log is empty)."""
        with entered(self.net.web), self.engine.connect() as connection:
            return int(
                connection.execute(text("SELECT coalesce(max(seq), 0) FROM events")).scalar_one()
            )

    def close(self) -> None:
        """Stop the callers' and phones' processes and Kamailio, then the nodes."""
        for process, name in ((self.phones, "phones"), (self.kamailio, "kamailio")):
            if process is not None:
                process.close()
                print(f"--- {name} (exit {process.process.returncode})")
                print("\n".join(process.lines[-60:] + process.errors[-40:]))
        super().close()


def _host(uri: str) -> str:
    """The host of a SIP URI such as ``<sip:0611@10.231.2.13>`` or ``sip:a@10.0.0.1:5080``."""
    return uri.split("@", 1)[-1].split(">", 1)[0].split(":", 1)[0].split(";", 1)[0]


def node_of(net: Network, address: str | None) -> str | None:
    """The node name (n1, n2, n3) of a SIP address on the clients' bridge."""
    for k in range(1, 4):
        if address == net.node_web_address(k):
            return f"n{k}"
    return None


def stop(process: Process | None) -> None:
    """SIGTERM then close (a sipp run left over at the end of a failed test)."""
    if process is not None:
        process.signal(signal.SIGTERM)
        process.close()


def summary(calls: list[SippCall], net: Network) -> dict[str, Any]:
    """How many calls each node answered, and the final responses seen (for the test's print)."""
    answered: dict[str, int] = {}
    for call in calls:
        name = node_of(net, call.answered_by) or str(call.invite_final)
        answered[name] = answered.get(name, 0) + 1
    byes: dict[str, int] = {}
    for call in calls:
        byes[str(call.bye_final)] = byes.get(str(call.bye_final), 0) + 1
    return {"calls": len(calls), "answered": answered, "bye": byes}
