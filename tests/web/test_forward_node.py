"""A web node that does not lead, in-process: it checks, forwards, and the leader's app answers.

The ACME center's app is the leader's (the ``rig``); a :class:`NodeFront` on
the same store is the standby, and a :class:`Forwarder` runs what the node
forwards through the leader's app. On SQLite nothing is notified: both
sides find the rows by polling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import httpx
import pytest
from sqlalchemy import func, select

from callcenter_sdk.acd import AgentState
from callcenter_sdk.store import ForwardedRequests, Notifications, Store
from callcenter_sdk.store._forward import ForwardedRequestRow
from callcenter_sdk.web._forward import CHANNELS, Forwarder, Hints, NodeFront
from callcenter_sdk.web._presence import DESKTOP_LOST, DesktopWatch

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
    """An agent's desktop opening on the node is counted by the leader's desktop watch (the
    node's snapshot, through the table), and its closing uncounts it; the same route asked over
    HTTP, of the leader or of the node, even signed in and with the would-be internal headers,
    is not found."""
    watch = rig.app.state.desktops
    node.desktop("ag.alice", opened=True)
    await node.tell_desktops()
    assert watch.open_desktops("ag.alice") == 1
    node.desktop("ag.alice", opened=False)
    await node.tell_desktops()
    assert watch.open_desktops("ag.alice") == 0

    forged = {"X-Callcenter-Forwarded": "b", "callcenter.forwarded": "b", "Forwarded": "by=b"}
    body = {"desktops": {"ag.alice": 1}}
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


async def _until(check: Callable[[], bool], what: str) -> None:
    """Wait until ``check()`` holds (the watch's and the node's own timers decide when)."""
    with anyio.fail_after(30.0):
        while not check():  # noqa: ASYNC110 - the timers tested fire no event of their own
            await anyio.sleep(0.01)
    assert check(), what


async def test_a_node_that_stops_telling_counts_no_desktop_and_its_agents_are_paused(
    rig: Rig,
) -> None:
    """The leader counts the desktops each node's snapshots say are open (with its own);
    a snapshot replaces the node's last one; a node whose snapshot is older than ``stale``
    (it died) counts none, so its agent, still ready, is paused desktop-lost after the
    grace time, while an agent whose desktop is open on a node that keeps telling is not."""
    center = rig.center
    for agent in ("ag.alice", "ag.karim"):
        await center.set_ready(agent, actor=agent)
    watch = DesktopWatch(center, grace=0.2, stale=0.5)
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch.run)
        watch.node_desktops("b", {"ag.alice": 1})
        watch.node_desktops("c", {"ag.karim": 2})
        watch.opened("ag.karim")
        assert (watch.open_desktops("ag.alice"), watch.open_desktops("ag.karim")) == (1, 3)
        watch.node_desktops("c", {"ag.karim": 1})  # a whole snapshot, not a change
        assert watch.open_desktops("ag.karim") == 2

        async def keep_telling() -> None:  # node c lives on; b went silent
            while True:
                watch.node_desktops("c", {"ag.karim": 1})
                await anyio.sleep(0.1)

        tg.start_soon(keep_telling)
        await _until(
            lambda: center.engine.agent_status("ag.alice").state is AgentState.NOT_READY,
            "alice, whose only desktop was on the silent node, was never paused",
        )
        assert center.engine.agent_status("ag.alice").reason == DESKTOP_LOST
        assert watch.open_desktops("ag.alice") == 0
        assert center.engine.agent_status("ag.karim").state is AgentState.READY
        tg.cancel_scope.cancel()


async def test_the_node_tells_its_desktops_again_every_period(rig: Rig, store: Store) -> None:
    """A node repeats its snapshot every ``desktop_period`` even when nothing changes, so a
    leader that forgot it (here: a watch that lost the node's snapshot, as a new leader has
    none) counts the node's open desktops again within a period."""
    hints = Hints(Notifications(store, CHANNELS), timeout=0.05)
    front = NodeFront(
        store, _config(), domain="acme", node="b", hints=hints, poll=0.02, desktop_period=0.2
    )
    forwarder = Forwarder(
        rig.app, ForwardedRequests(store), store, hints, domain="acme", node="a", epoch=1, poll=0.02
    )
    watch = rig.app.state.desktops
    async with anyio.create_task_group() as tg, front.running():
        await tg.start(hints.run)
        await tg.start(forwarder.run)
        front.desktop("ag.alice", opened=True)
        await _until(lambda: watch.open_desktops("ag.alice") == 1, "never told")
        watch.node_desktops("b", {})  # forgotten, as by a leader that just took over
        assert watch.open_desktops("ag.alice") == 0
        await _until(lambda: watch.open_desktops("ag.alice") == 1, "never told again")
        tg.cancel_scope.cancel()
