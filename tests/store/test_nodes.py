"""Cluster nodes' heartbeats: up until their ttl on the database's clock, lag, leave, forget."""

from __future__ import annotations

import pytest

from callcenter_sdk import StoreError, ValidationError
from callcenter_sdk.acd import AgentState, AgentStateChanged
from callcenter_sdk.store import (
    EventLog,
    Heartbeat,
    Leases,
    NodeHealth,
    NodeRole,
    Nodes,
    Store,
)


class Clock:
    """A clock the test moves by hand, in place of the database's."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _beat(node: str, role: NodeRole = NodeRole.STANDBY, **fields: object) -> Heartbeat:
    return Heartbeat(domain="hotline", node=node, role=role, **fields)  # type: ignore[arg-type]


def _events(store: Store, n: int) -> int:
    log = EventLog(store)
    log.extend(
        AgentStateChanged(
            at=float(i), agent_id=f"a{i}", state=AgentState.READY, previous=AgentState.NOT_READY
        )
        for i in range(n)
    )
    return log.last_seq()


def test_a_heartbeat_is_up_until_its_ttl_then_down(store: Store) -> None:
    """A beat makes the node up; it stays up until ttl seconds later (the table's clock), then
    shows as down with its age growing; the next beat brings it back, keeping started_at."""
    clock = Clock()
    nodes = Nodes(store, clock=clock)
    first = nodes.beat(
        _beat("a", NodeRole.LEADER, epoch=3, web="http://10.0.0.1:8080", media="10.0.0.1:5060"),
        5.0,
        join=True,
    )
    assert first.up
    assert first.age == 0.0
    assert first.started_at == clock.now
    clock.now += 4.9
    (seen,) = nodes.view("hotline").nodes
    assert seen.up
    assert seen.age == pytest.approx(4.9)
    assert (seen.role, seen.epoch, seen.web, seen.media) == (
        NodeRole.LEADER,
        3,
        "http://10.0.0.1:8080",
        "10.0.0.1:5060",
    )
    clock.now += 0.1
    (seen,) = nodes.view("hotline").nodes
    assert not seen.up
    assert seen.age == pytest.approx(5.0)
    assert nodes.view("hotline").up == ()
    clock.now += 10
    again = nodes.beat(_beat("a", NodeRole.STANDBY, epoch=4), 5.0)
    assert again.up
    assert again.role is NodeRole.STANDBY
    assert again.started_at == first.started_at
    clock.now += 1
    rejoined = nodes.beat(_beat("a"), 5.0, join=True)
    assert rejoined.started_at == clock.now


def test_nodes_of_a_domain_are_listed_apart_from_other_domains(store: Store) -> None:
    """view() lists a domain's nodes by id, each with its own health, and no other domain's."""
    nodes = Nodes(store)
    nodes.beat(_beat("b", health=NodeHealth(media_alive=2, media_total=3)), 5.0, join=True)
    nodes.beat(_beat("a", NodeRole.LEADER, health=NodeHealth(store_ok=False, unwritten=7)), 5.0)
    nodes.beat(Heartbeat(domain="sales", node="z", role=NodeRole.LEADER), 5.0)
    view = nodes.view("hotline")
    assert [n.node for n in view.nodes] == ["a", "b"]
    assert [n.node for n in view.up] == ["a", "b"]  # the database's own clock: just written
    a, b = view.nodes
    assert a.health == NodeHealth(store_ok=False, unwritten=7)
    assert b.health == NodeHealth(media_alive=2, media_total=3)
    assert [n.node for n in nodes.view("sales").nodes] == ["z"]


def test_lag_is_the_log_head_minus_what_the_node_applied_at_its_heartbeat(store: Store) -> None:
    """At each beat the row records the log's head; lag is that minus the node's applied seq,
    None for a node that applies nothing; the view reads the head now."""
    nodes = Nodes(store)
    assert nodes.view("hotline").head_seq == 0
    head = _events(store, 5)
    behind = nodes.beat(_beat("web", applied_seq=head - 2), 5.0)
    caught_up = nodes.beat(_beat("leader", NodeRole.LEADER, applied_seq=head), 5.0)
    idle = nodes.beat(_beat("idle"), 5.0)
    assert (behind.head_seq, behind.lag) == (head, 2)
    assert caught_up.lag == 0
    assert idle.lag is None
    more = _events(store, 3)
    view = nodes.view("hotline")
    assert view.head_seq == more
    assert {n.node: n.lag for n in view.nodes} == {"idle": None, "leader": 0, "web": 2}


def test_a_beat_without_an_epoch_reports_the_domains_epoch_in_the_database(store: Store) -> None:
    """A standby says no epoch of its own: the row gets the domain's lease epoch at the beat
    (None before any lease), and follows it when the lease changes hands."""
    nodes = Nodes(store)
    assert nodes.beat(_beat("b"), 5.0).epoch is None
    leases = Leases(store)
    lease = leases.acquire("hotline", "a", ttl=5.0)
    assert lease is not None
    assert nodes.beat(_beat("b"), 5.0).epoch == 1
    leases.release(lease)
    assert leases.acquire("hotline", "c", ttl=5.0) is not None
    assert nodes.beat(_beat("b"), 5.0).epoch == 2
    assert nodes.beat(_beat("a", NodeRole.LEADER, epoch=1), 5.0).epoch == 1  # what it says


def test_a_node_that_leaves_is_down_at_once_and_forget_removes_it(store: Store) -> None:
    """leave() marks the row left and down now (not after its ttl); forget() deletes it."""
    clock = Clock()
    nodes = Nodes(store, clock=clock)
    nodes.beat(_beat("a"), 60.0)
    clock.now += 1
    assert nodes.leave("hotline", "a")
    (seen,) = nodes.view("hotline").nodes
    assert not seen.up
    assert seen.left_at == clock.now
    assert not nodes.leave("hotline", "nobody")
    nodes.beat(_beat("a"), 60.0)  # back: up again, no longer left
    (seen,) = nodes.view("hotline").nodes
    assert seen.up
    assert seen.left_at is None
    assert nodes.forget("hotline", "a")
    assert not nodes.forget("hotline", "a")
    assert nodes.view("hotline").nodes == ()


@pytest.mark.parametrize(
    ("beat", "ttl", "message"),
    [
        (_beat("a"), 0.0, "ttl must be a positive"),
        (_beat("a"), float("nan"), "ttl"),
        (_beat(""), 5.0, "must not be empty"),
        (_beat("x" * 65), 5.0, "node is 65 characters"),
        (_beat("a", web="h" * 201), 5.0, "web is 201 characters"),
        (_beat("a", health=NodeHealth(media_alive=-1)), 5.0, "media_alive must be >= 0"),
        (_beat("a", applied_seq=2**70), 5.0, "applied_seq"),
    ],
)
def test_bad_heartbeats_are_refused_alike_on_both_databases(
    store: Store, beat: Heartbeat, ttl: float, message: str
) -> None:
    """A bad field or ttl is a ValidationError before any SQL, on SQLite as on PostgreSQL."""
    with pytest.raises(ValidationError, match=message):
        Nodes(store).beat(beat, ttl)
    assert Nodes(store).view("hotline").nodes == ()


def test_a_closed_database_is_a_store_error(store: Store) -> None:
    """The database failing (here: its table gone) leaves as StoreError."""
    with store.transaction("drop the table") as session:
        session.connection().exec_driver_sql("DROP TABLE cluster_nodes")
    with pytest.raises(StoreError):
        Nodes(store).beat(_beat("a"), 5.0)
