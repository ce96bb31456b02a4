"""A web node that does not lead, in-process: it checks, forwards, and the leader's app answers.

The ACME center's app is the leader's (the ``rig``); a :class:`NodeFront` on
the same store is the standby, and a :class:`Forwarder` runs what the node
forwards through the leader's app. On SQLite nothing is notified: both
sides find the rows by polling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from sqlalchemy import func, select

from callcenter_sdk.acd import AgentState
from callcenter_sdk.store import ForwardedRequests, Notifications, Store
from callcenter_sdk.store._forward import ForwardedRequestRow
from callcenter_sdk.web._forward import CHANNELS, Forwarder, Hints, NodeFront

from .conftest import PASSWORD, Rig, _config

BASE = "http://node-b"


@pytest.fixture
async def node(rig: Rig, store: Store) -> AsyncIterator[NodeFront]:
    """Node b, standing by on the rig's store, and the leader's forwarder."""
    hints = Hints(Notifications(store, CHANNELS), timeout=0.05)
    front = NodeFront(store, _config(), domain="acme", node="b", hints=hints, poll=0.02)
    forwarder = Forwarder(
        rig.app, ForwardedRequests(store), store, hints, domain="acme", node="a", epoch=1, poll=0.02
    )
    async with anyio.create_task_group() as tg, front.running():
        await tg.start(hints.run)
        await tg.start(forwarder.run)
        yield front
        tg.cancel_scope.cancel()


def _client(front: NodeFront) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=front), base_url=BASE, headers={"Origin": BASE}
    )


def _rows(store: Store) -> int:
    with store.reading("count") as session:
        return int(
            session.execute(select(func.count()).select_from(ForwardedRequestRow)).scalar_one()
        )


async def test_commands_and_reads_through_the_node_are_the_leaders(
    rig: Rig, node: NodeFront, store: Store
) -> None:
    """Signed in through the node (the leader's answer, its cookie included), an agent goes ready
    and reads their state: the leader's center did it; the origin the node saw is the one the
    leader checks, so the CSRF token and same-origin checks pass; refused requests (no token,
    another site, no credentials on an API route) never reach the table."""
    async with _client(node) as client:
        signed = await client.post("/api/login", json={"person": "ag.alice", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        assert "callcenter_session" in client.cookies
        csrf = signed.json()["csrf_token"]
        ready = await client.post("/api/agents/ag.alice/ready", headers={"X-CSRF-Token": csrf})
        assert ready.status_code == 200, ready.text
        assert rig.center.engine.agent_status("ag.alice").state is AgentState.READY
        me = await client.get("/api/me")
        assert me.json()["person"] == "ag.alice"
        again = await client.post("/api/login", json={"person": "ag.alice", "password": PASSWORD})
        assert again.status_code == 200, "signing in again needs no CSRF token, as on the leader"
        csrf = again.json()["csrf_token"]

        before = _rows(store)
        assert (await client.post("/api/agents/ag.alice/not-ready")).status_code == 403
        elsewhere = await client.post(
            "/api/agents/ag.alice/not-ready",
            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=node), base_url=BASE
        ) as anonymous:
            assert (await anonymous.get("/api/agents")).status_code == 401
            assert (await anonymous.get("/login")).status_code == 200, "the sign-in form is open"
        assert _rows(store) == before + 1, "only the sign-in form reached the table"
        assert rig.center.engine.agent_status("ag.alice").state is AgentState.READY


async def test_the_internal_desktop_route_is_reachable_through_the_table_only(
    rig: Rig, node: NodeFront
) -> None:
    """An agent's desktop opening on the node is counted by the leader's desktop watch (through
    the table), and its closing uncounts it; the same route asked over HTTP, of the leader or of
    the node, even signed in and with the would-be internal headers, is not found."""
    watch = rig.app.state.desktops
    await node.tell_desktop("ag.alice", opened=True)
    assert watch.open_desktops("ag.alice") == 1
    await node.tell_desktop("ag.alice", opened=False)
    assert watch.open_desktops("ag.alice") == 0

    forged = {"X-Callcenter-Forwarded": "b", "callcenter.forwarded": "b", "Forwarded": "by=b"}
    body = {"agent": "ag.alice", "open": True}
    async with rig.client() as leader:
        await rig.login(leader, "ag.alice")
        direct = await leader.post("/internal/desktops", json=body, headers=forged)
        assert direct.status_code == 404
    async with _client(node) as client:
        signed = await client.post("/api/login", json={"person": "ag.alice", "password": PASSWORD})
        csrf = signed.json()["csrf_token"]
        through = await client.post(
            "/internal/desktops", json=body, headers={**forged, "X-CSRF-Token": csrf}
        )
        assert through.status_code == 404
    assert watch.open_desktops("ag.alice") == 0
