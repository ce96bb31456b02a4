"""A node's heartbeat task: it joins at start, beats on demand, rides out a refused beat and
marks the node as left when it stops."""

from __future__ import annotations

import anyio
import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.runtime import NodeHeartbeat, node_health
from callcenter_sdk.store import Heartbeat, NodeHealth, NodeRole, Nodes, Store


def _describe(role: list[NodeRole]) -> Heartbeat:
    return Heartbeat(domain="hotline", node="a", role=role[0], epoch=1, web="http://a:8080")


async def test_the_heartbeat_joins_beats_and_leaves(store: Store) -> None:
    """Started, the row is up (first beat written before start returns); a beat after a change
    of role shows it; cancelling the task marks the row left at once."""
    nodes = Nodes(store)
    role = [NodeRole.STANDBY]
    heartbeat = NodeHeartbeat(nodes, lambda: _describe(role), ttl=30.0)
    async with anyio.create_task_group() as tg:
        await tg.start(heartbeat.run)
        (row,) = nodes.view("hotline").nodes
        assert row.up
        assert row.role is NodeRole.STANDBY
        assert heartbeat.last is not None
        role[0] = NodeRole.LEADER
        assert (await heartbeat.beat()) is not None
        (row,) = nodes.view("hotline").nodes
        assert row.role is NodeRole.LEADER
        tg.cancel_scope.cancel()
    (row,) = nodes.view("hotline").nodes
    assert not row.up
    assert row.left_at is not None


async def test_a_refused_beat_is_counted_and_the_next_one_recovers(store: Store) -> None:
    """A beat the store refuses (its table gone) returns None and counts a failure without
    raising, so the node keeps running; once the table is back the next beat resets the count."""
    nodes = Nodes(store)
    heartbeat = NodeHeartbeat(nodes, lambda: _describe([NodeRole.STANDBY]), ttl=30.0)
    with store.transaction("rename the table away") as session:
        session.connection().exec_driver_sql("ALTER TABLE cluster_nodes RENAME TO gone")
    assert await heartbeat.beat() is None
    assert await heartbeat.beat() is None
    assert heartbeat.failures == 2
    assert heartbeat.last is None
    with store.transaction("put the table back") as session:
        session.connection().exec_driver_sql("ALTER TABLE gone RENAME TO cluster_nodes")
    assert await heartbeat.beat() is not None
    assert heartbeat.failures == 0


def test_the_period_must_fall_within_the_ttl(store: Store) -> None:
    """A period of zero, or not shorter than the ttl, is refused when the task is built."""
    nodes = Nodes(store)
    for period in (0.0, 5.0, 6.0):
        with pytest.raises(ValidationError, match="period"):
            NodeHeartbeat(nodes, lambda: _describe([NodeRole.STANDBY]), ttl=5.0, period=period)
    assert NodeHeartbeat(nodes, lambda: _describe([NodeRole.STANDBY]), ttl=6.0).period == 2.0


def test_a_standby_reports_a_healthy_store_and_no_media() -> None:
    """Without a center or a pool, the health is the store ok and no media workers."""
    assert node_health(None, None, 2) == NodeHealth()
