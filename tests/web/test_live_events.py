"""Live events over a real uvicorn server: scoped, replayed after a restart, once each."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import attrs
import httpx
import uvicorn
from starlette.applications import Starlette

from callcenter_sdk.web import create_app

from .conftest import PASSWORD, Rig

STATE = "acd.agent_state_changed"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def _serving(
    app: Starlette, port: int, *, lifespan: Literal["on", "off"]
) -> AsyncIterator[None]:
    """Serve ``app`` with uvicorn on this event loop until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning")
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while True:  # poll the port: it is up when it accepts
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.01)
                continue
            await stream.aclose()
            break
        try:
            yield
        finally:
            server.should_exit = True


@attrs.define
class _Sse:
    """One parsed message of a stream."""

    id: int
    event: str
    data: dict[str, Any]


async def _messages(response: httpx.Response, seen: list[str]) -> AsyncIterator[_Sse | None]:
    """Parse a text/event-stream: a message, or ``None`` for a block without data
    (a comment, a ping, a retry hint); every raw line is also kept in ``seen``."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        seen.append(line)
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "data" in fields:
            yield _Sse(int(fields["id"]), fields["event"], json.loads(fields["data"]))
        else:
            yield None
        fields = {}


async def _token(client: httpx.AsyncClient, person: str) -> dict[str, str]:
    answer = await client.post("/api/tokens", json={"person": person, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_a_stream_resumes_after_a_server_restart_without_loss_or_repeat(rig: Rig) -> None:
    """Alice follows her events over uvicorn; the server stops; while it is
    down she goes on a break, takes a call and farid changes state; a new
    server (a new app on the same center) starts on the same port and her
    reconnection with Last-Event-ID replays every event of hers written
    meanwhile, once each and in log order, then goes on live; farid's never
    reach her. The stream starts with a retry hint and pings when idle."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    timeout = httpx.Timeout(10.0, read=None)
    center = rig.center
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as client:
        async with _serving(rig.app, port, lifespan="off"):  # the fixture runs its lifespan
            bearer = await _token(client, "ag.alice")
            lines: list[str] = []
            async with client.stream("GET", "/api/events", headers=bearer) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                await center.set_ready("ag.farid", actor="ag.farid")
                await center.set_ready("ag.alice", actor="ag.alice")
                async for message in _messages(response, lines):
                    if message is None:
                        continue
                    assert message.data.get("agent_id") != "ag.farid"
                    if message.event == STATE and message.data["state"] == "ready":
                        last = message.id
                        break
            assert "retry: 1000" in lines
        assert last is not None

        # the server is gone: work goes on and is written to the log
        await center.set_not_ready("ag.alice", "lunch", actor="ag.alice")
        await center.set_not_ready("ag.farid", "lunch", actor="ag.farid")
        contact = await rig.call("ag.alice")
        await center.writer.flush()
        missed = list(center.log.read(after=last))
        mine = [e.seq for e in missed if getattr(e.event, "agent_id", "") == "ag.alice"]
        farids = [e.seq for e in missed if getattr(e.event, "agent_id", "") == "ag.farid"]
        assert len(mine) >= 5
        assert farids

        restarted = create_app(center, accounts=rig.accounts, ping=0.2)
        async with _serving(restarted, port, lifespan="on"):
            received: list[_Sse] = []
            resume = {**bearer, "Last-Event-ID": str(last)}
            lines = []
            async with client.stream("GET", "/api/events", headers=resume) as response:
                replayed = live = False
                async for message in _messages(response, lines):
                    if message is not None and not live:
                        received.append(message)
                        if message.id == max(mine):
                            replayed = True  # everything missed is in: now something live
                            await center.end_wrap_up("ag.alice", actor="ag.alice")
                        live = replayed and message.id > max(mine) and message.event == STATE
                    if live and any(line.startswith(": ping") for line in lines):
                        break  # idle since: kept alive
    ids = [m.id for m in received]
    assert all(i > last for i in ids)
    assert ids == sorted(set(ids))  # in order, none twice
    assert [i for i in ids if i in set(mine)] == mine  # every missed event of hers, once
    assert not set(ids) & set(farids)
    assert any(
        m.event == "acd.contact_connected" and m.data["contact_id"] == contact for m in received
    )
    assert received[-1].id > max(mine)


async def test_replay_from_a_query_parameter_and_bad_event_ids(rig: Rig) -> None:
    """``?from=`` replays like Last-Event-ID over uvicorn (a new EventSource sends
    no header); an id that is not a sequence number is a 422."""
    port = _free_port()
    await rig.center.set_ready("ag.alice", actor="ag.alice")
    await rig.center.writer.flush()
    first = next(
        e.seq
        for e in rig.center.log.read()
        if e.event.kind == STATE and getattr(e.event, "agent_id", "") == "ag.alice"
    )
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=httpx.Timeout(10.0, read=None)
        ) as client,
        _serving(rig.app, port, lifespan="off"),
    ):
        bearer = await _token(client, "d.moreau")
        bad = await client.get("/api/events", headers={**bearer, "Last-Event-ID": "x"})
        assert (bad.status_code, bad.json()["error"]) == (422, "invalid")
        lines: list[str] = []
        async with client.stream(
            "GET", "/api/events", params={"from": first - 1}, headers=bearer
        ) as response:
            message = None
            async for message in _messages(response, lines):
                if message is not None:
                    break
    assert message is not None
    assert message.id == first
    assert message.data["agent_id"] == "ag.alice"
