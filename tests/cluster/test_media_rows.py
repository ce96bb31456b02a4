"""``store.MediaRows``: nodes' media events and live calls, the leader's commands under its fence.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture); the
leader's fenced store is the leases' own ``fenced`` view, as a leader uses it.
"""

from __future__ import annotations

import pytest

from callcenter_sdk.store import LeaseLost, Leases, LiveCall, MediaRows, Store
from callcenter_sdk.store._media import STALE, MediaCommandRow

DOMAIN = "hotline"


def _call(node: str, call_id: str, state: str = "ringing", peer: str | None = None) -> LiveCall:
    return LiveCall(
        node=node,
        call_id=call_id,
        state=state,
        bridged_with=peer,
        from_uri="sip:carla@customer",
        to_uri="sip:hotline@center",
        updated_at=1.0,
    )


def test_a_nodes_events_and_live_calls_are_written_together_and_read_per_node(
    store: Store,
) -> None:
    """Events are read back in order with their payloads, each node after its own mark (a node
    not yet seen after ``since``), without the excluded node's; live calls are upserted and
    deleted with the events, per node, and a node's restart forgets only its own."""
    rows = MediaRows(store, DOMAIN)
    other = MediaRows(store, "sales")
    assert rows.last_seq() == 0
    first = rows.record(
        "a",
        [("w1:1", "media.call_incoming", {"call_id": "w1:1", "n": 1}, 10.0)],
        calls=[_call("a", "w1:1")],
    )
    second = rows.record(
        "b", [("w1:1", "media.call_incoming", {"n": 2}, 11.0)], calls=[_call("b", "w1:1")]
    )
    third = rows.record(
        "a",
        [("w1:1", "media.call_answered", {"n": 3}, 12.0), (None, "media.worker_started", {}, 12.5)],
        calls=[_call("a", "w1:1", "answered")],
    )
    other.record("a", [(None, "media.worker_started", {}, 1.0)], calls=[_call("a", "x")])
    assert first < second < third == rows.last_seq()

    every = rows.events()
    assert [(e.node, e.kind, e.payload.get("n")) for e in every] == [
        ("a", "media.call_incoming", 1),
        ("b", "media.call_incoming", 2),
        ("a", "media.call_answered", 3),
        ("a", "media.worker_started", None),
    ]
    assert every[0].call_id == "w1:1"
    assert every[0].at == 10.0
    assert every[-1].call_id is None
    assert [e.payload.get("n") for e in rows.events(after={"a": first})] == [2, 3, None]
    assert [e.payload.get("n") for e in rows.events(after={"a": third}, since=second)] == []
    assert [e.payload.get("n") for e in rows.events(exclude="a")] == [2]

    assert [(c.node, c.call_id, c.state) for c in rows.calls()] == [
        ("a", "w1:1", "answered"),
        ("b", "w1:1", "ringing"),
    ]
    rows.record("b", [], calls=[_call("b", "w1:2", "bridged", "w1:1")])
    rows.record("b", [("w1:1", "media.call_ended", {}, 13.0)], ended=["w1:1"])
    assert rows.calls("b") == [_call("b", "w1:2", "bridged", "w1:1")]
    assert rows.forget_calls("a") == 1
    assert [c.node for c in rows.calls()] == ["b"]
    assert [c.call_id for c in other.calls()] == ["x"]


def _leader(store: Store, node: str) -> tuple[Leases, Store, int]:
    leases = Leases(store)
    lease = leases.acquire(DOMAIN, node, ttl=30.0)
    assert lease is not None
    return leases, leases.fenced(DOMAIN, lambda: lease), lease.epoch


def test_a_command_is_claimed_once_by_its_node_and_its_outcome_read_back(store: Store) -> None:
    """The leader's command (written through its fence) is claimed by the node it names, once,
    in the order issued, with its arguments; no other node sees it; its outcome is ``None``
    until the node writes it, then the result (or the error) as written."""
    _, fenced, epoch = _leader(store, "leader")
    rows = MediaRows(store, DOMAIN)
    first = rows.issue(fenced, node="b", op="answer", args={"call_id": "w1:1"}, epoch=epoch, at=1.0)
    second = rows.issue(
        fenced,
        node="b",
        op="collect_dtmf",
        args={"call_id": "w1:1", "max_digits": 4},
        epoch=epoch,
        at=2.0,
    )
    assert rows.claim("c", at=3.0) == []
    claimed = rows.claim("b", at=3.0)
    assert [(c.id, c.op, dict(c.args), c.epoch) for c in claimed] == [
        (first, "answer", {"call_id": "w1:1"}, epoch),
        (second, "collect_dtmf", {"call_id": "w1:1", "max_digits": 4}, epoch),
    ]
    assert rows.claim("b", at=4.0) == []
    assert rows.outcome(first) is None
    rows.complete(first, result=None, error=None, at=5.0)
    rows.complete(second, result="1234", error=None, at=5.0)
    rows.complete(second, result="9", error="MediaError: late", at=6.0)  # only the first counts
    done, digits = rows.outcome(first), rows.outcome(second)
    assert done is not None
    assert done.result is None
    assert done.error is None
    assert digits is not None
    assert digits.result == "1234"
    assert digits.error is None


def test_a_deposed_leaders_commands_never_reach_a_node(store: Store) -> None:
    """A command written while its leader held the lease, but claimed after another node took
    the lease, is answered stale and not handed to the node; a write by the deposed leader is
    refused by its fence (nothing stored); the new leader's commands are claimed."""
    leases, fenced, epoch = _leader(store, "old")
    rows = MediaRows(store, DOMAIN)
    before = rows.issue(
        fenced, node="b", op="originate", args={"uri": "sip:alice@phones"}, epoch=epoch, at=1.0
    )
    old = leases.current(DOMAIN)
    assert old is not None
    leases.release(old)
    new = leases.acquire(DOMAIN, "new", ttl=30.0)
    assert new is not None
    assert new.epoch == epoch + 1
    with pytest.raises(LeaseLost):
        rows.issue(
            fenced, node="b", op="originate", args={"uri": "sip:bob@phones"}, epoch=epoch, at=2.0
        )
    with store.reading("count commands") as session:
        assert session.query(MediaCommandRow).count() == 1
    mine = rows.issue(
        leases.fenced(DOMAIN, lambda: new),
        node="b",
        op="originate",
        args={"uri": "sip:carol@phones"},
        epoch=new.epoch,
        at=3.0,
    )
    assert [c.id for c in rows.claim("b", at=4.0)] == [mine]
    stale = rows.outcome(before)
    assert stale is not None
    assert stale.error == STALE
