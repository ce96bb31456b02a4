"""Media on every node, over SIP: a call to the standby's worker, bridged by the leader; kill -9.

Two ``callcenter serve --cluster`` nodes with pjsua2 media run on one
PostgreSQL schema, each on a loopback address of its own (127.0.0.2 leads,
127.0.0.3 stands by; the same ``[sip] worker_port`` on both). The people are
pjsua2 too, in the test process: a caller's phone (a one-worker pool on
127.0.0.1) dials the standby's worker directly, types an account number and
1 (internet) ahead of the IVR's prompts; agent1's desk phone (another pool,
the hotline's position phones pointed at it) answers when it rings. agent1
logs in at position 1 and goes ready through the leader's HTTP API.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from callcenter_sdk import NotFoundError
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    MediaEvent,
    MediaPool,
    WorkerLost,
    create_media_pool,
)
from callcenter_sdk.runtime._cluster import DEFAULT_TTL
from callcenter_sdk.store import (
    Accounts,
    EventLog,
    LoggedEvent,
    MediaRows,
    Nodes,
    Store,
    temporary_store,
)
from callcenter_sdk.store._media import MediaCommandRow

from ..cli.processes import Command, free_port, hotline_center_file, running
from .test_kamailio_front import _free_run

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.slow,
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

NODES = {"a": "127.0.0.2", "b": "127.0.0.3"}
PHONES = "127.0.0.1"
WORKERS = 1
START = 120.0
"""Seconds a node may take to start, lead and start its media workers on a busy machine."""
CONNECT = 90.0
"""Seconds for the caller to go through the IVR and reach the agent (prompts play in full)."""
AGENT = "agent1"
POSITION = "hotline:1"


class Phones:
    """A pool of pjsua2 phones in the test process, and every event its legs had."""

    def __init__(self, pool: MediaPool, *, answer: bool) -> None:
        self.pool = pool
        self.answer = answer
        self.seen: list[MediaEvent] = []

    async def run(self) -> None:
        """Record events (and answer every incoming call, for a desk phone)."""
        async for event in self.pool.events():
            self.seen.append(event)
            if self.answer and isinstance(event, CallIncoming):
                await self.pool.answer(event.call_id)

    def had(self, kind: type[MediaEvent], call_id: str | None = None) -> bool:
        """Whether a leg (``call_id``, or any) had an event of ``kind``."""
        return any(
            isinstance(e, kind) and (call_id is None or getattr(e, "call_id", None) == call_id)
            for e in self.seen
        )


async def until(what: str, predicate: Callable[[], bool], within: float) -> None:
    """Wait until ``predicate()`` holds (checked every 0.1 s); fail naming ``what``."""
    with anyio.move_on_after(within):
        while not predicate():  # noqa: ASYNC110 - processes and rows offer no event here
            await anyio.sleep(0.1)
    assert predicate(), f"not within {within} s: {what}"


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh, migrated PostgreSQL schema for this test only."""
    with temporary_store(postgresql_url) as store:
        yield store


@pytest.fixture
def ports() -> dict[str, int]:
    """Free UDP ports: the nodes' workers and front, the phones' SIP and RTP."""
    hosts = list(NODES.values())
    return {
        "front": _free_run(1, hosts),
        "worker": _free_run(WORKERS, hosts),
        "caller": _free_run(1, [PHONES]),
        "desk": _free_run(1, [PHONES]),
        "caller_rtp": _free_run(20, [PHONES]),
        "desk_rtp": _free_run(20, [PHONES]),
    }


@pytest.fixture
def center_file(
    tmp_path: Path, database: Store, postgresql_url: str, ports: dict[str, int]
) -> Path:
    """The hotline on the test's schema, one worker per node, its positions' phones the desk's."""
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    file = hotline_center_file(tmp_path, sip_port=ports["front"])
    sip = f"port = {ports['front']}\nworker_port = {ports['worker']}"
    edited = (
        file.read_text(encoding="utf-8")
        .replace('store = "sqlite:///center.sqlite"', f'store = "{url.render_as_string(False)}"')
        .replace(f"port = {ports['front']}", sip)
        .replace("workers = 2", f"workers = {WORKERS}")
        .replace("@127.0.0.1:5080", f"@{PHONES}:{ports['desk']}")
    )
    file.write_text(edited, encoding="utf-8")
    return file


def _node(center_file: Path, name: str) -> Iterator[Command]:
    args = ("serve", str(center_file), "--cluster", "--node-id", name)
    with running(*args, "--sip-host", NODES[name], "--port", str(free_port())) as command:
        command.web = command.wait_for_line("web: ", START).split()[1].rstrip("/")  # type: ignore[attr-defined]
        yield command


@pytest.fixture
def node_a(center_file: Path) -> Iterator[Command]:
    """Node ``a`` on 127.0.0.2, started first: it leads at epoch 1."""
    yield from _node(center_file, "a")


@pytest.fixture
def node_b(center_file: Path, node_a: Command) -> Iterator[Command]:
    """Node ``b`` on 127.0.0.3, started once ``a`` leads: it stands by, its media taking calls."""
    node_a.wait_for_line("leader a epoch 1", START)
    yield from _node(center_file, "b")


@contextlib.asynccontextmanager
async def _phones(ports: dict[str, int]) -> AsyncIterator[tuple[MediaPool, Phones, Phones]]:
    """A caller's phone (answering nothing) and agent1's desk phone (answering), running."""
    async with (
        create_media_pool(
            1, host=PHONES, sip_ports=[ports["caller"]], rtp_port_base=ports["caller_rtp"],
            rtp_ports_per_worker=20,
        ) as caller_pool,
        create_media_pool(
            1, host=PHONES, sip_ports=[ports["desk"]], rtp_port_base=ports["desk_rtp"],
            rtp_ports_per_worker=20,
        ) as desk_pool,
        anyio.create_task_group() as tg,
    ):  # fmt: skip
        caller, desk = Phones(caller_pool, answer=False), Phones(desk_pool, answer=True)
        tg.start_soon(caller.run)
        tg.start_soon(desk.run)
        yield caller_pool, caller, desk
        tg.cancel_scope.cancel()


def _agent_state(web: str, token: str) -> str:
    response = httpx.get(
        f"{web}/api/agents", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    for agent in response.json()["agents"]:
        if agent["agent"] == AGENT:
            return str(agent["state"])
    raise AssertionError(f"{AGENT} is not in {response.text}")


def _sit_and_get_ready(web: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    agent = f"{web}/api/agents/{AGENT}"
    login = httpx.post(f"{agent}/login", json={"position": POSITION}, headers=headers, timeout=10)
    assert login.status_code == 200, login.text
    ready = httpx.post(f"{agent}/ready", headers=headers, timeout=10)
    assert ready.status_code == 200, ready.text


async def test_a_call_on_the_standbys_worker_is_bridged_by_the_leader_and_survives_its_kill(
    node_a: Command, node_b: Command, database: Store, ports: dict[str, int]
) -> None:
    """A caller dialling the standby's worker is answered, goes through the IVR (account and
    topic typed ahead) and is bridged, on the standby's worker, to agent1's desk phone, which
    the leader's center had dialled there; agent1 is busy on the leader. After kill -9 of the
    leader the standby leads at epoch 2 and the call is still up on both phones and bridged
    on its node; then both hang up and the node has no live call left. The standby's
    heartbeat reports its live workers and SIP address."""
    await anyio.to_thread.run_sync(node_b.wait_for_line, "standby b for hotline", START)

    def standby_reports_media() -> bool:
        view = Nodes(database).view("hotline")
        return any(
            n.node == "b" and n.health.media_alive == WORKERS and n.media != "" for n in view.nodes
        )

    await until("b's heartbeat reports its workers", standby_reports_media, START)
    token = Accounts(database).create_token(AGENT, at=time.time(), label="media nodes test")
    _sit_and_get_ready(node_a.web, token)  # type: ignore[attr-defined]
    rows = MediaRows(database, "hotline")
    async with _phones(ports) as (caller_pool, caller, desk):
        leg = await caller_pool.originate(f"sip:hotline@{NODES['b']}:{ports['worker']}")
        await until("the caller answered", lambda: caller.had(CallAnswered, leg), CONNECT)
        await caller_pool.send_dtmf(leg, "1234#1")
        await until("the desk phone answered", lambda: desk.had(CallAnswered), CONNECT)
        (desk_leg,) = [e.call_id for e in desk.seen if isinstance(e, CallIncoming)]

        def bridged() -> bool:
            return [c.state for c in rows.calls("b")] == ["bridged", "bridged"]

        await until("both legs bridged on node b", bridged, CONNECT)
        assert rows.calls("a") == []
        # the node bridges first, then the leader reads the bridge's outcome and connects:
        # on a busy machine agent1 may still be reserved there for a moment
        web: str = node_a.web  # type: ignore[attr-defined]
        await until(
            "agent1 busy on the leader", lambda: _agent_state(web, token) == "busy", CONNECT
        )

        node_a.process.kill()
        await anyio.to_thread.run_sync(
            node_b.wait_for_line, "leader b epoch 2", DEFAULT_TTL + START
        )
        assert not caller.had(CallEnded, leg)
        assert not desk.had(CallEnded, desk_leg)
        assert bridged()

        await caller_pool.hangup(leg)
        # the new leader, which adopted the call, may hang the desk's leg up first
        with contextlib.suppress(NotFoundError):
            await desk.pool.hangup(desk_leg)
        await until("node b has no live call", lambda: rows.calls("b") == [], CONNECT)


async def test_a_stalled_leader_rings_no_phone_and_the_next_one_takes_the_call(
    node_a: Command, node_b: Command, database: Store, ports: dict[str, int]
) -> None:
    """SIGSTOP of the leader a, then a caller dials the standby's worker: it rings there (no
    center runs). b leads at epoch 2 and takes it; after SIGCONT a steps down. The call is
    answered once and bridged to agent1's desk phone, which rang once; no media command of
    epoch 1 was carried out (a's, if it sent any, were refused by its fence or its term's end)."""
    await anyio.to_thread.run_sync(node_b.wait_for_line, "standby b for hotline", START)
    token = Accounts(database).create_token(AGENT, at=time.time(), label="media nodes test")
    _sit_and_get_ready(node_a.web, token)  # type: ignore[attr-defined]
    rows = MediaRows(database, "hotline")
    async with _phones(ports) as (caller_pool, caller, desk):
        os.kill(node_a.process.pid, signal.SIGSTOP)
        try:
            leg = await caller_pool.originate(f"sip:hotline@{NODES['b']}:{ports['worker']}")
            await anyio.to_thread.run_sync(
                node_b.wait_for_line, "leader b epoch 2", DEFAULT_TTL + START
            )
        finally:
            os.kill(node_a.process.pid, signal.SIGCONT)
        await anyio.to_thread.run_sync(node_a.wait_for_line, "standby a epoch 1: ", START)
        await until("the caller answered", lambda: caller.had(CallAnswered, leg), CONNECT)
        await caller_pool.send_dtmf(leg, "1234#1")

        def bridged() -> bool:
            return [c.state for c in rows.calls("b")] == ["bridged", "bridged"]

        await until("the desk phone answered", lambda: desk.had(CallAnswered), CONNECT)
        with anyio.move_on_after(CONNECT):
            while not bridged():  # noqa: ASYNC110
                await anyio.sleep(0.1)
        assert bridged(), "; ".join(
            [f"{c.node}/{c.call_id} {c.state} {c.from_uri} {c.to_uri}" for c in rows.calls()]
            + [f"desk {type(e).__name__} {getattr(e, 'call_id', '')}" for e in desk.seen]
            + [f"caller {type(e).__name__} {getattr(e, 'call_id', '')}" for e in caller.seen]
        )
        assert sum(isinstance(e, CallIncoming) for e in desk.seen) == 1
        assert sum(isinstance(e, CallAnswered) and e.call_id == leg for e in caller.seen) == 1
        with database.reading("media commands") as session:
            done = session.execute(
                select(MediaCommandRow.epoch, MediaCommandRow.op).where(
                    MediaCommandRow.done_at.is_not(None), MediaCommandRow.error.is_(None)
                )
            ).all()
        assert [(epoch, op) for epoch, op in done if epoch != 2] == []
        await caller_pool.hangup(leg)


async def test_kill_of_the_standby_ends_its_bridged_call_on_the_leader_once(
    node_a: Command, node_b: Command, database: Store, ports: dict[str, int]
) -> None:
    """A caller on the standby's worker is bridged to agent1's desk phone there; after kill -9
    of the standby (no end of call written), once its heartbeat expires the leader publishes
    one ``media.worker_lost`` naming node b and both legs, agent1 is no longer busy and the
    contact is connected and ended once in the event log."""
    await anyio.to_thread.run_sync(node_b.wait_for_line, "standby b for hotline", START)

    def standby_reports_media() -> bool:
        view = Nodes(database).view("hotline")
        return any(n.node == "b" and n.health.media_alive == WORKERS for n in view.nodes)

    await until("b's heartbeat reports its workers", standby_reports_media, START)
    token = Accounts(database).create_token(AGENT, at=time.time(), label="media nodes test")
    _sit_and_get_ready(node_a.web, token)  # type: ignore[attr-defined]
    rows = MediaRows(database, "hotline")
    async with _phones(ports) as (caller_pool, caller, desk):
        leg = await caller_pool.originate(f"sip:hotline@{NODES['b']}:{ports['worker']}")
        await until("the caller answered", lambda: caller.had(CallAnswered, leg), CONNECT)
        await caller_pool.send_dtmf(leg, "1234#1")
        await until("the desk phone answered", lambda: desk.had(CallAnswered), CONNECT)
        await until(
            "both legs bridged on node b",
            lambda: [c.state for c in rows.calls("b")] == ["bridged", "bridged"],
            CONNECT,
        )
        legs = {f"b/{c.call_id}" for c in rows.calls("b")}

        node_b.process.kill()

        def lost() -> list[LoggedEvent]:
            return [e for e in EventLog(database).read() if isinstance(e.event, WorkerLost)]

        await until("the leader lost node b's legs", lambda: bool(lost()), DEFAULT_TTL + CONNECT)

        def free() -> bool:
            return _agent_state(node_a.web, token) != "busy"  # type: ignore[attr-defined]

        await until("agent1 is free again", free, CONNECT)
        (record,) = lost()
        assert isinstance(record.event, WorkerLost)
        assert record.event.worker == "b"
        assert set(record.event.lost_calls) == legs
        kinds = [type(e.event).kind for e in EventLog(database).read()]
        assert kinds.count("acd.contact_connected") == 1
        assert kinds.count("acd.contact_completed") == 1
        with contextlib.suppress(NotFoundError):  # b's worker may have ended it as it died
            await caller_pool.hangup(leg)
