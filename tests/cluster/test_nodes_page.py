"""The operations routes of a cluster node, in process: who sees the nodes, the page's answers,
the metrics, and every other request passed to the node's own front."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from callcenter_sdk.org import Role, load_org
from callcenter_sdk.reports import ClusterMetrics, create_cluster_metrics_app
from callcenter_sdk.store import Accounts, Heartbeat, NodeRole, Nodes, Store, temporary_store
from callcenter_sdk.web._cluster_page import ClusterOps, may_see_cluster
from callcenter_sdk.web._standby import ClusterStatus

ORG = load_org(Path(__file__).parents[2] / "examples" / "hotline" / "org.toml")
ALLOWED = {
    Role.DIRECTOR,
    Role.PROJECT_MANAGER,
    Role.FLOOR_MANAGER,
    Role.SUPERVISOR,
    Role.ANALYST,
    Role.ADMINISTRATOR,
}
"""The roles whose reach for KPIs or routing covers at least a campaign."""


def test_who_may_see_the_cluster_follows_the_permission_table() -> None:
    """Directors, the floor manager, the supervisor and the administrator of the hotline may see
    the nodes; its agents and someone unknown may not; the rule holds role by role."""
    seen = {p.id: may_see_cluster(ORG, p.id) for p in ORG.people}
    assert {p for p, ok in seen.items() if ok} == {"director", "admin", "floor", "supervisor"}
    assert not may_see_cluster(ORG, "nobody")
    for person in ORG.people:
        assert may_see_cluster(ORG, person.id) == (person.role in ALLOWED), person.role


async def _inner(scope: Scope, receive: Receive, send: Send) -> None:
    """The node's own front: says which path it was given."""
    await PlainTextResponse(f"front {scope['path']}")(scope, receive, send)


async def _status() -> ClusterStatus:
    return {"node": "a", "leader": "a", "epoch": 3, "role": "leader"}


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh SQLite store with node a's heartbeat (leading at epoch 3) and node b's."""
    with temporary_store() as fresh:
        nodes = Nodes(fresh)
        nodes.beat(Heartbeat(domain="hotline", node="a", role=NodeRole.LEADER, epoch=3), 60.0)
        nodes.beat(Heartbeat(domain="hotline", node="b", role=NodeRole.STANDBY), 60.0)
        yield fresh


@pytest.fixture
def client(store: Store) -> httpx.AsyncClient:
    """An HTTP client of the operations app over node a's front."""
    metrics = ClusterMetrics("a")
    nodes = Nodes(store)

    async def scrape() -> None:
        metrics.update(leading=True, epoch=3, view=nodes.view("hotline"))

    ops = ClusterOps(
        _inner,
        status=_status,
        nodes=nodes,
        domain="hotline",
        org=lambda: ORG,
        accounts=Accounts(store),
        ttl=5.0,
        metrics=create_cluster_metrics_app(metrics),
        before_scrape=scrape,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=ops), base_url="http://testserver")


def _bearer(store: Store, person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {Accounts(store).create_token(person, at=time.time())}"}


async def test_api_cluster_shows_the_nodes_only_to_those_allowed(
    client: httpx.AsyncClient, store: Store
) -> None:
    """Without credentials, with a bad token or an agent's, /api/cluster has the four public
    fields only; with the administrator's token it adds the ttl, the log's head and each node;
    anything but GET is refused with 405."""
    public = {"node": "a", "leader": "a", "epoch": 3, "role": "leader"}
    assert (await client.get("/api/cluster")).json() == public
    bad = {"Authorization": "Bearer nonsense"}
    assert (await client.get("/api/cluster", headers=bad)).json() == public
    assert (await client.get("/api/cluster", headers=_bearer(store, "agent1"))).json() == public
    full = (await client.get("/api/cluster", headers=_bearer(store, "admin"))).json()
    assert {k: full[k] for k in public} == public
    assert (full["ttl"], full["head_seq"]) == (5.0, 0)
    assert [(n["node"], n["role"], n["state"], n["epoch"]) for n in full["nodes"]] == [
        ("a", "leader", "up", 3),
        ("b", "standby", "up", None),
    ]
    assert (await client.post("/api/cluster")).status_code == 405


async def test_the_page_sends_strangers_to_login_and_refuses_agents(
    client: httpx.AsyncClient, store: Store
) -> None:
    """/cluster without credentials redirects to /login?next=/cluster; an agent's bearer token
    gets a 403 page; the supervisor's gets the page with a row per node."""
    first = await client.get("/cluster")
    assert (first.status_code, first.headers["location"]) == (303, "/login?next=/cluster")
    refused = await client.get("/cluster", headers=_bearer(store, "agent1"))
    assert refused.status_code == 403
    assert 'id="refused"' in refused.text
    page = await client.get("/cluster", headers=_bearer(store, "supervisor"))
    assert page.status_code == 200
    assert page.text.count("<tr data-node=") == 2
    assert 'data-node="b" data-state="up"' in page.text
    french = await client.get("/cluster?lang=fr", headers=_bearer(store, "supervisor"))
    assert "en attente" in french.text


async def test_metrics_static_files_and_everything_else(client: httpx.AsyncClient) -> None:
    """/metrics is the cluster's exposition (unauthenticated), /static/ serves the pages' files,
    any other path goes to the node's own front untouched."""
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "callcenter_cluster_leader 1.0" in metrics.text
    assert 'callcenter_cluster_node_up{node="b",role="standby"} 1.0' in metrics.text
    assert (await client.get("/static/cluster.js")).status_code == 200
    other = await client.get("/api/agents")
    assert other.text == "front /api/agents"
