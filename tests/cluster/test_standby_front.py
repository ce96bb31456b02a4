"""The web front of a cluster node (``ClusterFront``), driven in-process without a server."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from callcenter_sdk.web._standby import ClusterFront, ClusterStatus


def _front() -> ClusterFront:
    async def status() -> ClusterStatus:
        return {"node": "b", "leader": "a", "epoch": 3, "role": "standby"}

    return ClusterFront(status, retry_after=4)


def _client(front: ClusterFront) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=front), base_url="http://node")


async def test_a_standby_answers_its_status_and_503_with_retry_after_elsewhere() -> None:
    """Standing by, the front answers ``GET /api/cluster`` with the status (no authentication,
    not cached), refuses other methods there with 405, and answers any other path with 503 and
    the ``Retry-After`` it was given."""
    async with _client(_front()) as client:
        status = await client.get("/api/cluster")
        assert status.status_code == 200
        assert status.json() == {"node": "b", "leader": "a", "epoch": 3, "role": "standby"}
        assert status.headers["Cache-Control"] == "no-store"
        assert (await client.post("/api/cluster")).status_code == 405
        for path in ("/api/me", "/desk", "/"):
            refused = await client.get(path)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "4"


async def test_a_leader_passes_every_other_request_to_the_center_app() -> None:
    """With the center's app active, every path but the status goes to that app; set back to
    ``None`` (the term ended) the front refuses them again."""

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"center {request.url.path}")

    front = _front()
    front.active = Starlette(routes=[Route("/api/me", echo)])
    async with _client(front) as client:
        served = await client.get("/api/me")
        assert (served.status_code, served.text) == (200, "center /api/me")
        assert (await client.get("/api/cluster")).json()["node"] == "b"
        front.active = None
        assert (await client.get("/api/me")).status_code == 503


async def test_a_standby_with_a_node_app_passes_it_the_other_requests_until_it_leads() -> None:
    """Given a standby app (a web node's), the front sends it every path but the status while
    no center's app is active, and the center's app, once active, takes them all."""

    async def node(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"node {request.url.path}")

    async def center(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"center {request.url.path}")

    async def status() -> ClusterStatus:
        return {"node": "b", "leader": "a", "epoch": 3, "role": "standby"}

    front = ClusterFront(status, standby=Starlette(routes=[Route("/api/me", node)]))
    async with _client(front) as client:
        assert (await client.get("/api/me")).text == "node /api/me"
        assert (await client.get("/api/cluster")).json()["role"] == "standby"
        front.active = Starlette(routes=[Route("/api/me", center)])
        assert (await client.get("/api/me")).text == "center /api/me"
