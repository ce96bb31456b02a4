"""The chaos tests' cluster: three ``callcenter serve --cluster`` nodes in network namespaces.

Shared by ``test_chaos.py`` (virtual backend, the agent over HTTP) and
``test_chaos_sip.py`` (Kamailio, sipp callers and pjsua2 desk phones, see
``chaos_sip.py``). The namespaces and the private PostgreSQL are made once
per test module by the ``private`` fixture of ``conftest.py``; each test gets a
fresh database of its own on it, with audit triggers (``netns.py``).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import httpx

from callcenter_sdk.store import Accounts, AgentSessions, Store, create_store

from ..cli.processes import hotline_center_file
from . import netns
from .netns import Network, Node, PostgreSQL, entered

AGENT = "agent1"
POSITION = "hotline:1"
START = 120.0
"""Seconds a node may take to start and stand by (or lead) on a busy machine."""
TAKEOVER = 60.0
"""Seconds allowed for another node to lead after a fault (the lease lasts 5 s)."""
NAMES = ("n1", "n2", "n3")
_databases = itertools.count(1)


class Chaos:
    """One test's cluster: its database, three nodes, and the agents' tokens."""

    def __init__(
        self,
        net: Network,
        server: PostgreSQL,
        folder: Path,
        *,
        agents: tuple[str, ...] = (AGENT,),
    ) -> None:
        self.net = net
        self.server = server
        self.database = f"chaos_{next(_databases)}"
        server.create_database(self.database)
        with entered(net.web):
            self.store: Store = create_store(server.url(self.database, "chaos-test"))
            accounts = Accounts(self.store)
            self.tokens = {
                agent: accounts.create_token(agent, at=time.time(), label="chaos")
                for agent in agents
            }
        self.token = self.tokens[agents[0]]
        self.engine = server.engine(self.database)
        netns.install_audit(self.engine, net.web)
        self.folder = folder
        self.nodes = [Node(net, k, name, self.command) for k, name in enumerate(NAMES, 1)]

    def command(self, node: Node) -> list[str]:
        """The command that runs ``node``: ``serve --virtual --cluster`` on its center file."""
        return netns.serve_command(self.center_file)(node)

    def edit(self, node: Node, text: str) -> str:
        """The center file's text for ``node`` after the common edits (none here)."""
        return text

    def center_file(self, node: Node) -> Path:
        """The hotline's center file for ``node``: the shared store, its own address."""
        folder = self.folder / node.name
        folder.mkdir(exist_ok=True)
        file = hotline_center_file(folder)
        text = file.read_text(encoding="utf-8")
        text = text.replace(
            'store = "sqlite:///center.sqlite"',
            f'store = "{self.server.url(self.database, node.name)}"',
        )
        text = text.replace(
            '[web]\nhost = "127.0.0.1"', f'[web]\nhost = "{self.net.node_web_address(node.k)}"'
        )
        file.write_text(self.edit(node, text), encoding="utf-8")
        return file

    def start(self) -> None:
        """Start n1 (it leads at epoch 1), then n2 and n3 (they stand by)."""
        first, *others = self.nodes
        first.start().wait_for_line("leader n1 epoch 1", START)
        for node in others:
            node.start().wait_for_line(f"standby {node.name} for hotline", START)
        for node in self.nodes:
            netns.wait_until(f"{node.name} answers", node.cluster, START)

    def close(self) -> None:
        """Stop every node, print its output (shown when the test failed); drop the engines."""
        for node in self.nodes:
            node.close()
            if node.process is not None:
                print(f"--- {node.name} (exit {node.process.process.returncode})")
                print("\n".join(node.process.lines + node.process.errors[-40:]))
        self.engine.dispose()
        with entered(self.net.web):
            self.store.close()

    def request(
        self, node: Node, method: str, path: str, *, agent: str = AGENT, **body: Any
    ) -> httpx.Response:
        """``agent``'s request to ``node``'s API, made from the clients' namespace."""
        with entered(self.net.web):
            return httpx.request(
                method,
                f"{node.url}{path}",
                json=body or None,
                headers={"Authorization": f"Bearer {self.tokens[agent]}"},
                timeout=30,
            )

    def api(
        self, node: Node, method: str, path: str, *, agent: str = AGENT, **body: Any
    ) -> dict[str, Any]:
        """``agent``'s request to ``node``'s API; its JSON answer (it must be 200)."""
        response = self.request(node, method, path, agent=agent, **body)
        assert response.status_code == 200, (node.name, path, response.text)
        answer: dict[str, Any] = response.json()
        return answer

    def agent(self, node: Node, agent: str = AGENT) -> dict[str, Any]:
        """``agent`` as ``node`` (the leader) sees it."""
        for seen in self.api(node, "GET", "/api/agents", agent=agent)["agents"]:
            if seen["agent"] == agent:
                found: dict[str, Any] = seen
                return found
        raise AssertionError(f"{agent} is not among {node.name}'s agents")

    def open_sessions(self, agent: str = AGENT) -> list[Any]:
        """``agent``'s open sessions in the store."""
        with entered(self.net.web):
            sessions = AgentSessions(self.store).open_sessions()
        return [s for s in sessions if s.agent_id == agent]

    def stale(self) -> list[netns.Stale]:
        """Writes of a deposed leader committed after the next term's first write."""
        return netns.stale_commits(netns.commits(self.engine, self.net.web), set(NAMES))

    def leader(self, *, above: int = 0, among: list[Node] | None = None) -> tuple[Node, int]:
        """The one node that leads above epoch ``above`` (waits for it)."""
        node, epoch, _ = netns.one_leader(among or self.nodes, above=above, timeout=TAKEOVER)
        return node, epoch
