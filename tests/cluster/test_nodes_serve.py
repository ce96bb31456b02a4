"""Cluster operations over real ``serve --cluster`` processes on PostgreSQL: heartbeats,
``/api/cluster`` with the nodes, ``/metrics``, and the ``/cluster`` page in Chromium.

Two ``callcenter serve --virtual --cluster`` processes share a PostgreSQL
schema of their own, with ``[cluster] ttl = 2`` in the center file. The tests
wait on the nodes' output lines and on HTTP answers, each with a timeout,
never on a fixed sleep.
"""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from callcenter_sdk.store import Accounts, Store, temporary_store

from ..cli.processes import Command, free_port, hotline_center_file, running

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

TTL = 2.0
START = 120.0
"""Seconds a node process may take to start and print its first lines."""
WAIT = 60.0
"""Seconds allowed for something the nodes report within a few heartbeats, on a busy machine."""
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts' password
PUBLIC = {"node", "leader", "epoch", "role"}
"""The fields ``/api/cluster`` shows to anyone (a load balancer's check)."""

T = TypeVar("T")


class Node:
    """One ``serve --cluster`` process and its web port."""

    def __init__(self, command: Command, name: str, port: int) -> None:
        self.command = command
        self.name = name
        self.url = f"http://127.0.0.1:{port}"

    def cluster(self, token: str | None = None) -> dict[str, Any]:
        """This node's ``GET /api/cluster`` answer (as the token's owner, if given)."""
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = httpx.get(f"{self.url}/api/cluster", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def metrics(self) -> str:
        """This node's ``/metrics`` exposition."""
        response = httpx.get(f"{self.url}/metrics", timeout=10)
        assert response.status_code == 200, response.text
        return response.text


def until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``check`` until it returns something; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)  # polling other processes' heartbeats: nothing to wait on here


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh, migrated PostgreSQL schema for this test only."""
    with temporary_store(postgresql_url) as store:
        yield store


@pytest.fixture
def center_file(tmp_path: Path, database: Store, postgresql_url: str) -> Path:
    """The hotline's center file on the test's schema, with a 2 s lease and heartbeat."""
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    file = hotline_center_file(tmp_path)
    stored = url.render_as_string(hide_password=False)
    body = file.read_text(encoding="utf-8").replace(
        'store = "sqlite:///center.sqlite"', f'store = "{stored}"'
    )
    file.write_text(body + f"\n[cluster]\nttl = {TTL}\n", encoding="utf-8")
    return file


@pytest.fixture
def accounts(database: Store) -> Accounts:
    """The shared store's accounts: passwords for the supervisor and an agent."""
    found = Accounts(database)
    for person in ("supervisor", "agent1"):
        found.set_password(person, PASSWORD, at=time.time())
    return found


def _start(center_file: Path, name: str) -> Iterator[Node]:
    port = free_port()
    args = ("serve", str(center_file), "--virtual", "--cluster", "--node-id", name)
    with running(*args, "--port", str(port)) as command:
        yield Node(command, name, port)


@pytest.fixture
def node_a(center_file: Path) -> Iterator[Node]:
    """Node ``a``, started first: it leads at epoch 1."""
    yield from _start(center_file, "a")


@pytest.fixture
def node_b(center_file: Path, node_a: Node) -> Iterator[Node]:
    """Node ``b``, started once ``a`` leads: it stands by."""
    node_a.command.wait_for_line("leader a epoch 1", START)
    yield from _start(center_file, "b")


def _nodes(node: Node, token: str) -> dict[str, dict[str, Any]] | None:
    answer = node.cluster(token)
    return {n["node"]: n for n in answer["nodes"]} if answer.get("nodes") is not None else None


def _metric(exposition: str, name: str, **labels: str) -> float | None:
    """The value of one series of a Prometheus exposition, ``None`` if absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)$"
    for line in exposition.splitlines():
        match = re.match(pattern, line)
        if match:
            return float(match.group(1))
    return None


def test_two_nodes_show_each_other_on_api_cluster_and_metrics(
    node_a: Node, node_b: Node, accounts: Accounts
) -> None:
    """Each node's /api/cluster shows both nodes up (a leading at epoch 1 with its lag and
    store health, b standing by with the epoch it would take over from and the lag of the live
    feed it serves) to a supervisor's token;
    without credentials, or with an agent's token, it shows exactly the four public fields;
    /metrics on each node says who leads, the epoch and both nodes up with their heartbeat age."""
    node_b.command.wait_for_line("standby b for hotline", START)
    supervisor = accounts.create_token("supervisor", at=time.time())
    agent = accounts.create_token("agent1", at=time.time())

    def both_up(node: Node) -> dict[str, dict[str, Any]] | None:
        found = _nodes(node, supervisor)
        if found is None or set(found) != {"a", "b"}:
            return None
        if found["a"]["role"] != "leader" or found["a"]["lag_events"] is None:
            return None
        if found["b"]["lag_events"] is None:
            return None
        return found if all(n["state"] == "up" for n in found.values()) else None

    for node in (node_a, node_b):
        seen = until(functools.partial(both_up, node), WAIT, f"both nodes up on {node.name}")
        a, b = seen["a"], seen["b"]
        assert (a["role"], a["epoch"], a["store"]) == ("leader", 1, "ok")
        assert a["lag_events"] >= 0
        assert a["web"] == node_a.url
        assert (b["role"], b["epoch"]) == ("standby", 1)
        assert b["lag_events"] >= 0  # its live feed tails the shared log
        assert b["web"] == node_b.url
        assert 0 <= a["heartbeat_age_s"] < 60
        assert set(node.cluster()) == PUBLIC
        assert set(node.cluster(agent)) == PUBLIC
        assert node.cluster(supervisor)["ttl"] == TTL

    on_a, on_b = node_a.metrics(), node_b.metrics()
    assert _metric(on_a, "callcenter_cluster_leader") == 1
    assert _metric(on_b, "callcenter_cluster_leader") == 0
    assert _metric(on_a, "callcenter_cluster_epoch") == 1
    for exposition in (on_a, on_b):
        assert _metric(exposition, "callcenter_cluster_nodes_up") == 2
        assert _metric(exposition, "callcenter_cluster_node_up", node="a", role="leader") == 1
        assert _metric(exposition, "callcenter_cluster_node_up", node="b", role="standby") == 1
        age = _metric(
            exposition, "callcenter_cluster_node_heartbeat_age_seconds", node="b", role="standby"
        )
        assert age is not None
        assert age >= 0
    assert _metric(on_a, "callcenter_cluster_node_lag_events", node="a", role="leader") is not None
    assert _metric(on_a, "callcenter_cluster_node_lag_events", node="b", role="standby") is not None
    assert _metric(on_a, "callcenter_queue_waiting", queue="internet") == 0  # the center's too
    assert _metric(on_b, "callcenter_queue_waiting", queue="internet") is None


def test_a_killed_nodes_heartbeat_ages_and_it_shows_as_down(
    node_a: Node, node_b: Node, accounts: Accounts, center_file: Path
) -> None:
    """After kill -9 of the standby, the leader's /api/cluster shows its heartbeat ageing past
    the ttl and the node down, and /metrics counts one node up with b's up gauge at 0; a clean
    stop (SIGTERM) of another node shows it as stopped (left) as soon as its process exits."""
    node_b.command.wait_for_line("standby b for hotline", START)
    token = accounts.create_token("admin", at=time.time())

    def b_is(state: str) -> dict[str, Any] | None:
        found = _nodes(node_a, token)
        b = (found or {}).get("b")
        return b if b is not None and b["state"] == state else None

    until(lambda: b_is("up"), WAIT, "b up on a's page")
    node_b.command.process.kill()
    killed = time.monotonic()
    node_b.command.process.wait()
    down = until(lambda: b_is("down"), WAIT, "b down on a's page")
    shown = time.monotonic() - killed
    assert down["heartbeat_age_s"] >= TTL
    print(f"kill -9 of b: shown down on a's /api/cluster after {shown:.2f} s (ttl {TTL} s)")

    def older_than_before() -> dict[str, Any] | None:
        now = b_is("down")
        return now if now is not None and now["heartbeat_age_s"] > down["heartbeat_age_s"] else None

    older = until(older_than_before, WAIT, "b's heartbeat ageing")
    assert older["role"] == "standby"
    exposition = node_a.metrics()
    assert _metric(exposition, "callcenter_cluster_nodes_up") == 1
    assert _metric(exposition, "callcenter_cluster_node_up", node="b", role="standby") == 0
    assert _metric(exposition, "callcenter_cluster_node_up", node="a", role="leader") == 1

    with contextlib.contextmanager(_start)(center_file, "c") as node_c:
        node_c.command.wait_for_line("standby c for hotline", START)
        until(lambda: (_nodes(node_a, token) or {}).get("c"), WAIT, "c's first heartbeat")
        node_c.command.process.send_signal(signal.SIGTERM)
        assert node_c.command.process.wait(timeout=START) == 0
    nodes = _nodes(node_a, token)
    assert nodes is not None
    assert nodes["c"]["state"] == "left"


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (skips where either is missing)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium): `make test` does")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra has playwright")
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def _sign_in(browser: Any, node: Node, person: str) -> Any:
    """A browser context signed in as ``person`` through ``node``'s /cluster (sent to /login)."""
    from playwright.sync_api import expect

    tab = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    tab.goto(f"{node.url}/cluster")
    expect(tab).to_have_url(re.compile(r"/login\?next=%2Fcluster$|/login\?next=/cluster$"))
    tab.fill("#person", person)
    tab.fill("#password", PASSWORD)
    tab.click("#sign-in")
    expect(tab).to_have_url(f"{node.url}/cluster", timeout=30_000)
    return tab


def test_the_status_page_shows_the_nodes_to_a_supervisor_and_refuses_an_agent(
    chromium: Any, node_a: Node, node_b: Node, accounts: Accounts, tmp_path: Path
) -> None:
    """In Chromium, the supervisor signs in on the leader and its /cluster page lists both nodes
    (a leading, b standing by, both up); the same session opens the standby's page, served by
    b itself; ?lang=fr speaks French; an agent signed in gets the page refused (403)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a loaded 2-core machine
    node_b.command.wait_for_line("standby b for hotline", START)
    token = accounts.create_token("supervisor", at=time.time())
    until(lambda: ((n := _nodes(node_b, token)) and len(n) == 2) or None, WAIT, "both nodes")

    tab = _sign_in(chromium, node_a, "supervisor")
    expect(tab.locator("#domain")).to_have_text("hotline")
    expect(tab.locator("#leader")).to_have_text("a")
    expect(tab.locator("#epoch")).to_have_text("1")
    expect(tab.locator("#this-node")).to_have_text("a")
    expect(tab.locator('#nodes tr[data-node="a"] td').nth(1)).to_have_text("leader")
    expect(tab.locator('#nodes tr[data-node="b"] td').nth(1)).to_have_text("standby")
    expect(tab.locator('#nodes tr[data-node="a"]')).to_have_attribute("data-state", "up")
    expect(tab.locator('#nodes tr[data-node="b"]')).to_have_attribute("data-state", "up")
    tab.screenshot(path=str(tmp_path / "cluster-a.png"), full_page=True)

    tab.goto(f"{node_b.url}/cluster")  # the standby serves the page itself, same session
    expect(tab.locator("#this-node")).to_have_text("b")
    expect(tab.locator("#leader")).to_have_text("a")
    expect(tab.locator("#nodes tbody tr")).to_have_count(2)
    tab.goto(f"{node_b.url}/cluster?lang=fr")
    expect(tab.locator("html")).to_have_attribute("lang", "fr")
    expect(tab.locator('#nodes tr[data-node="b"] td').nth(1)).to_have_text("en attente")
    expect(tab.locator("header .title")).to_have_text("Grappe")

    agent = _sign_in(chromium, node_a, "agent1")
    expect(agent.locator("#refused")).to_be_visible()
    expect(agent.locator("#nodes")).to_have_count(0)
    answer = agent.request.get(f"{node_a.url}/cluster")
    assert answer.status == 403
