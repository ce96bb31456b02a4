"""``callcenter serve --cluster``: two nodes on one PostgreSQL, one leads, the other takes over.

Each test runs two ``callcenter serve --virtual --cluster`` processes on a
PostgreSQL schema of its own (the center file's store URL puts it on the
connection's ``search_path``), on two loopback web ports. An agent logs in
at a position and goes ready through the leader's API: a promise the
runtime stores (the agent's session). Then the leader is killed (kill -9)
or stalled (SIGSTOP longer than the lease) and the tests wait, on the
nodes' output lines and HTTP answers with timeouts, for the other node to
lead with that session restored.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from callcenter_sdk.acd import AgentState, AgentStateChanged
from callcenter_sdk.runtime._cluster import DEFAULT_TTL
from callcenter_sdk.store import (
    Accounts,
    AgentSession,
    AgentSessions,
    EventLog,
    Leases,
    Store,
    temporary_store,
)
from callcenter_sdk.store._forward import ForwardedRequestRow

from ..cli.processes import Command, free_port, hotline_center_file, running, wait_for_http

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

TTL = DEFAULT_TTL
PERIOD = TTL / 3
SLACK = 2.0
"""Seconds allowed on top of ttl + renew period for process scheduling on a busy machine."""
OPEN = 10.0
"""Seconds allowed to open the center (migrations checked, promises restored) on a busy machine."""
START = 120.0
"""Seconds a node process may take to start and print its first lines."""
AGENT = "agent1"
POSITION = "hotline:1"


class Node:
    """One ``serve --cluster`` process and its web port."""

    def __init__(self, command: Command, name: str, port: int) -> None:
        self.command = command
        self.name = name
        self.url = f"http://127.0.0.1:{port}"

    def cluster(self) -> dict[str, object]:
        """This node's ``GET /api/cluster`` answer."""
        response = httpx.get(f"{self.url}/api/cluster", timeout=10)
        assert response.status_code == 200, response.text
        answer: dict[str, object] = response.json()
        return answer


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh, migrated PostgreSQL schema for this test only."""
    with temporary_store(postgresql_url) as store:
        yield store


@pytest.fixture
def center_file(tmp_path: Path, database: Store, postgresql_url: str) -> Path:
    """The hotline's center file, its store the test's schema on PostgreSQL."""
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    file = hotline_center_file(tmp_path)
    stored = url.render_as_string(hide_password=False)
    file.write_text(
        file.read_text(encoding="utf-8").replace(
            'store = "sqlite:///center.sqlite"', f'store = "{stored}"'
        ),
        encoding="utf-8",
    )
    return file


@pytest.fixture
def token(database: Store) -> str:
    """An API token of the agent who logs in (the accounts live in the shared store)."""
    return Accounts(database).create_token(AGENT, at=time.time(), label="failover test")


def _start(center_file: Path, name: str) -> Iterator[Node]:
    port = free_port()
    args = ("serve", str(center_file), "--virtual", "--cluster", "--node-id", name)
    with running(*args, "--port", str(port)) as command:
        yield Node(command, name, port)


@pytest.fixture
def node_a(center_file: Path) -> Iterator[Node]:
    """Node ``a``, started first: it takes the lease at epoch 1."""
    yield from _start(center_file, "a")


@pytest.fixture
def node_b(center_file: Path, node_a: Node) -> Iterator[Node]:
    """Node ``b``, started once ``a`` leads: it stands by."""
    node_a.command.wait_for_line("leader a epoch 1", START)
    yield from _start(center_file, "b")


def _agent(node: Node, token: str) -> dict[str, object]:
    response = httpx.get(
        f"{node.url}/api/agents", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    for agent in response.json()["agents"]:
        if agent["agent"] == AGENT:
            found: dict[str, object] = agent
            return found
    raise AssertionError(f"{AGENT} is not in {response.text}")


def _sit_and_get_ready(node: Node, token: str) -> dict[str, object]:
    """The agent logs in at the position and goes ready through ``node``'s API."""
    headers = {"Authorization": f"Bearer {token}"}
    agent = f"{node.url}/api/agents/{AGENT}"
    login = httpx.post(f"{agent}/login", json={"position": POSITION}, headers=headers, timeout=10)
    assert login.status_code == 200, login.text
    ready = httpx.post(f"{agent}/ready", headers=headers, timeout=10)
    assert ready.status_code == 200, ready.text
    state = _agent(node, token)
    assert state["state"] == "ready", state
    return state


def _open_sessions(database: Store) -> list[AgentSession]:
    return [s for s in AgentSessions(database).open_sessions() if s.agent_id == AGENT]


def _stored_session(database: Store, timeout: float) -> AgentSession:
    """The agent's open session once the leader has stored it (it writes it in the background)."""
    deadline = time.monotonic() + timeout
    while not (found := _open_sessions(database)):
        assert time.monotonic() < deadline, f"no open session of {AGENT} within {timeout} s"
        time.sleep(0.1)  # polling a table: nothing to wait on
    assert len(found) == 1, found
    return found[0]


def _ready_in_the_log(database: Store, timeout: float) -> None:
    """Wait until the leader's log holds the agent's change to ready (written in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        changes = [
            e.event
            for e in EventLog(database).read(kinds=[AgentStateChanged.kind])
            if e.event.agent_id == AGENT  # type: ignore[attr-defined]
        ]
        if changes and changes[-1].state is AgentState.READY:  # type: ignore[attr-defined]
            return
        assert time.monotonic() < deadline, f"{AGENT} not ready in the log within {timeout} s"
        time.sleep(0.1)  # polling a table: nothing to wait on


def _take_over(node: Node, fault: str, since: float) -> tuple[float, float]:
    """Seconds from ``since`` until ``node`` took the lease at epoch 2, and until it served."""
    node.command.wait_for_line(f"elected {node.name} epoch 2: ", TTL + PERIOD + SLACK + 30)
    elected = time.monotonic() - since
    node.command.wait_for_line(f"leader {node.name} epoch 2", OPEN + 30)
    serving = time.monotonic() - since
    print(f"serve --cluster after {fault}: elected {elected:.3f} s, serving {serving:.3f} s")
    return elected, serving


def _both_up(node_a: Node, node_b: Node) -> None:
    node_b.command.wait_for_line("standby b for hotline", START)
    wait_for_http(f"{node_b.url}/api/cluster", node_b.command, START)
    assert node_a.cluster() == {"node": "a", "leader": "a", "epoch": 1, "role": "leader"}
    assert node_b.cluster() == {"node": "b", "leader": "a", "epoch": 1, "role": "standby"}
    refused = httpx.get(f"{node_b.url}/api/me", timeout=10)
    assert refused.status_code == 401, "a standby authenticates before it forwards to the leader"


def test_kill_9_of_the_leader_node_hands_the_center_over_with_the_agent_session_kept(
    center_file: Path, node_a: Node, node_b: Node, token: str, database: Store
) -> None:
    """Node a leads and node b stands by (its status, the live feed, the rest forwarded to a);
    an agent sits and goes ready through a, which stores the agent's session; kill -9 of a makes
    b lead at epoch 2 within ttl + renew period and serves once the center is open; b continues
    that session (the same row, still open, no second one) with the agent seated again at the
    position, ready as the event log last showed them; the agent sits (the same position) and
    goes ready on b, and a restarted a joins as standby behind b; SIGTERM stops b (exit 0),
    which gives the lease back as it stops, so a leads at epoch 3 within a renew period, the
    agent's session still open (a cluster member's stop is a handover) and the agent seated
    again on a, ready."""
    _both_up(node_a, node_b)
    _sit_and_get_ready(node_a, token)
    session = _stored_session(database, 30)
    _ready_in_the_log(database, 30)

    killed = time.monotonic()
    node_a.command.process.kill()
    elected, serving = _take_over(node_b, "kill -9", killed)
    assert elected < TTL + PERIOD + SLACK
    assert serving < TTL + PERIOD + SLACK + OPEN

    assert node_b.cluster() == {"node": "b", "leader": "b", "epoch": 2, "role": "leader"}
    assert _open_sessions(database) == [session], "b continues the session a stored"
    seated = _agent(node_b, token)
    assert seated["state"] == "ready", "seated again at the position, ready as they were"
    again = _sit_and_get_ready(node_b, token)
    assert again["agent"] == AGENT
    assert _open_sessions(database) == [session], "sitting again on b is the same session"

    for restarted in _start(center_file, "a"):
        restarted.command.wait_for_line("standby a for hotline", START)
        wait_for_http(f"{restarted.url}/api/cluster", restarted.command, START)
        assert restarted.cluster() == {"node": "a", "leader": "b", "epoch": 2, "role": "standby"}
        assert _agent(restarted, token)["state"] == "ready", "the standby forwards to b"

        assert node_b.command.stop(signal.SIGTERM) == 0, "\n".join(node_b.command.errors)
        assert node_b.command.lines[-2:] == ["standby b epoch 2: stopping", "stopped"]
        restarted.command.wait_for_line("leader a epoch 3", PERIOD + SLACK + OPEN)
        assert _open_sessions(database) == [session], "a handover keeps the agent's session"
        assert _agent(restarted, token)["state"] == "ready", "seated again on a, ready"
    lease = Leases(database).current("hotline")
    assert lease is not None
    assert (lease.holder, lease.epoch) == ("a", 3)


def test_a_stalled_leader_node_steps_down_on_resume_and_commits_nothing(
    node_a: Node, node_b: Node, token: str, database: Store
) -> None:
    """SIGSTOP of the leading node a for longer than the ttl: b takes the lease at epoch 2
    within ttl + renew period and continues the agent's session; a log-out sent to a while it
    was stopped is never committed by a's term: after SIGCONT, a prints that it stepped down
    from epoch 1 and answers as a standby, which forwards the log-out to b (the session is
    closed by b's term, epoch 2, through the forwarded request b claimed) or refuses it (the
    session stays open); a took no new term, and the lease is b's."""
    _both_up(node_a, node_b)
    _sit_and_get_ready(node_a, token)
    session = _stored_session(database, 30)

    answers: list[int | str] = []

    def log_out_through_the_stalled_node() -> None:
        try:
            answer = httpx.post(
                f"{node_a.url}/api/agents/{AGENT}/logout",
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            answers.append(answer.status_code)
        except httpx.HTTPError as exc:
            answers.append(type(exc).__name__)

    queued = threading.Thread(target=log_out_through_the_stalled_node)
    stopped = time.monotonic()
    os.kill(node_a.command.process.pid, signal.SIGSTOP)
    try:
        elected, serving = _take_over(node_b, "SIGSTOP", stopped)
        assert elected < TTL + PERIOD + SLACK
        assert serving < TTL + PERIOD + SLACK + OPEN
        assert _open_sessions(database) == [session]
        queued.start()  # its connection waits in the stopped node's listen backlog
    finally:
        os.kill(node_a.command.process.pid, signal.SIGCONT)
    line = node_a.command.wait_for_line("standby a epoch 1: ", 60)
    queued.join(timeout=90)
    assert not queued.is_alive()
    print(f"the stalled node's answer to the queued log-out: {answers}; {line}")
    assert node_a.cluster() == {"node": "a", "leader": "b", "epoch": 2, "role": "standby"}
    assert node_a.command.lines.count("leader a epoch 1") == 1, "a took no new term"
    if answers == [200]:  # a, a standby by then, forwarded it: b did it
        with database.reading("the forwarded log-out") as read:
            claimed = read.execute(
                select(ForwardedRequestRow.claimed_by, ForwardedRequestRow.claimed_epoch).where(
                    ForwardedRequestRow.path == f"/api/agents/{AGENT}/logout"
                )
            ).one()
        assert tuple(claimed) == ("b", 2)
        assert _open_sessions(database) == []
    else:
        assert _open_sessions(database) == [session], "the stalled leader's log-out never committed"
    lease = Leases(database).current("hotline")
    assert lease is not None
    assert (lease.holder, lease.epoch) == ("b", 2)
