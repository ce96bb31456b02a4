"""Over SIP: after kill -9 of the leader, the next one adopts the call bridged on its own node.

The setting of ``test_media_nodes.py`` (its fixtures are used here): two
``callcenter serve --cluster`` nodes with pjsua2 media on one PostgreSQL
schema, ``a`` leading on 127.0.0.2 and ``b`` standing by on 127.0.0.3; a
caller's pjsua2 phone dials b's worker, agent1's desk phone answers when it
rings, agent1 sits at position 1 and goes ready through the leader's HTTP API.
"""

from __future__ import annotations

import time

import anyio
import httpx

from callcenter_sdk.acd import records_from_events
from callcenter_sdk.kpi import Outcome
from callcenter_sdk.media import CallAnswered, CallEnded, CallIncoming
from callcenter_sdk.runtime._cluster import DEFAULT_TTL
from callcenter_sdk.store import Accounts, EventLog, MediaRows, PendingWork, Store

from ..cli.processes import Command
from . import test_media_nodes as media_nodes
from .test_media_nodes import (
    CONNECT,
    NODES,
    POSITION,
    START,
    _agent_state,
    _phones,
    _sit_and_get_ready,
    until,
)

pytestmark = media_nodes.pytestmark

database = media_nodes.database
ports = media_nodes.ports
center_file = media_nodes.center_file
node_a = media_nodes.node_a
node_b = media_nodes.node_b


def _post(url: str, token: str, body: dict[str, str] | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.post(url, json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


async def test_kill_of_the_leader_the_next_one_adopts_the_bridged_call_and_ends_it(
    node_a: Command, node_b: Command, database: Store, ports: dict[str, int]
) -> None:
    """A caller on b's worker is bridged there to agent1's desk phone by a's center; kill -9 of
    a. Once b leads (epoch 2), agent1 is busy on it at b (adopted, the call still bridged on
    b); the caller hangs up: b hangs up agent1's leg, the log holds one adoption and one
    completion of the contact, by agent1, who then wraps up, and its record is answered by
    agent1 (a's answer event may have died with it: the adoption carries the answer)."""
    await anyio.to_thread.run_sync(node_b.wait_for_line, "standby b for hotline", START)
    token = Accounts(database).create_token("agent1", at=time.time(), label="adopt sip test")
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
        contacts = {f"b/{c.call_id}" for c in rows.calls("b")}

        killed = time.monotonic()
        node_a.process.kill()
        await anyio.to_thread.run_sync(
            node_b.wait_for_line, "leader b epoch 2", DEFAULT_TTL + START
        )

        def busy_at_b() -> bool:
            return _agent_state(node_b.web, token) == "busy"  # type: ignore[attr-defined]

        await until("agent1 busy at the new leader", busy_at_b, CONNECT)
        print(
            f"kill -9 of the leader to agent1 busy at the next: {time.monotonic() - killed:.1f} s"
        )
        assert bridged()
        assert not desk.had(CallEnded, desk_leg)

        await caller_pool.hangup(leg)
        await until("agent1's leg hung up by b", lambda: desk.had(CallEnded, desk_leg), CONNECT)
        await until("node b has no live call", lambda: rows.calls("b") == [], CONNECT)

        def completed() -> bool:
            return any(e.event.kind == "acd.contact_completed" for e in EventLog(database).read())

        await until("the end is logged", completed, CONNECT)
    log = [e.event for e in EventLog(database).read()]
    mine = [e for e in log if getattr(e, "contact_id", None) in contacts]
    kinds = [(e.kind, getattr(e, "agent_id", "")) for e in mine if e.kind.startswith("acd.contact")]
    # its answer is in the log if a's writer committed it before the kill; answered once anyway
    assert kinds.count(("acd.contact_connected", "agent1")) <= 1
    (record,) = [r for r in records_from_events(log)[0] if r.contact_id in contacts]
    assert (record.outcome, record.agent) == (Outcome.ANSWERED, "agent1")
    assert kinds.count(("acd.contact_adopted", "agent1")) == 1
    assert kinds.count(("acd.contact_completed", "agent1")) == 1
    assert kinds[-1] == ("acd.contact_completed", "agent1")
    after = log[log.index(next(e for e in mine if e.kind == "acd.contact_completed")) :]
    assert any(
        e.kind == "acd.agent_state_changed"
        and getattr(e, "agent_id", "") == "agent1"
        and str(getattr(e, "state", "")) == "wrap_up"
        for e in after
    )


async def test_kill_of_the_leader_the_next_one_queues_the_waiting_caller_again(
    node_a: Command, node_b: Command, database: Store, ports: dict[str, int]
) -> None:
    """A caller on b's worker waits in the queue on hold music (agent1 seated, not ready) when
    a is killed (-9). b leads (epoch 2) and puts them back in the queue (not closed as
    interrupted); agent1 goes ready at b: their desk phone rings beside the caller on b, answers,
    and the two legs are bridged there; the contact is answered once, by agent1."""
    await anyio.to_thread.run_sync(node_b.wait_for_line, "standby b for hotline", START)
    token = Accounts(database).create_token("agent1", at=time.time(), label="adopt sip test")
    agent = f"{node_a.web}/api/agents/agent1"  # type: ignore[attr-defined]
    _post(f"{agent}/login", token, {"position": POSITION})
    rows = MediaRows(database, "hotline")
    async with _phones(ports) as (caller_pool, caller, desk):
        leg = await caller_pool.originate(f"sip:hotline@{NODES['b']}:{ports['worker']}")
        await until("the caller answered", lambda: caller.had(CallAnswered, leg), CONNECT)
        await caller_pool.send_dtmf(leg, "1234#1")

        def waiting() -> bool:  # hold music, or a prompt played over it (answered)
            stored = PendingWork(database).waiting(now=time.time())
            states = [c.state for c in rows.calls("b")]
            return states in (["on_hold_music"], ["answered"]) and len(stored) == 1

        await until("the caller waits on hold music, stored", waiting, CONNECT)
        node_a.process.kill()
        await anyio.to_thread.run_sync(
            node_b.wait_for_line, "leader b epoch 2", DEFAULT_TTL + START
        )
        _post(f"{node_b.web}/api/agents/agent1/ready", token)  # type: ignore[attr-defined]
        await until("the desk phone answered", lambda: desk.had(CallAnswered), CONNECT)

        def bridged() -> bool:
            return [c.state for c in rows.calls("b")] == ["bridged", "bridged"]

        await until("both legs bridged on node b", bridged, CONNECT)
        assert not caller.had(CallEnded, leg)
        await caller_pool.hangup(leg)
        await until("node b has no live call", lambda: rows.calls("b") == [], CONNECT)
    log = [e.event for e in EventLog(database).read()]
    assert not [e for e in log if e.kind == "runtime.call_interrupted"]
    kinds = [(e.kind, getattr(e, "agent_id", "")) for e in log if e.kind.startswith("acd.contact")]
    assert kinds.count(("acd.contact_connected", "agent1")) == 1
