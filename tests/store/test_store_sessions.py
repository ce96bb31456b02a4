"""Agent sessions and versioned configuration documents."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from callcenter_sdk import CallCenterError, NotFoundError, StateError
from callcenter_sdk.store import AgentSessions, Documents, Store


def test_open_sessions_are_what_a_restart_logs_back_in(store: Store) -> None:
    """Log-ins and log-outs are durable; only open sessions come back as open."""
    sessions = AgentSessions(store)
    sessions.start("ag1", 10.0, {"seat": "P1-04"})
    sessions.start("ag2", 20.0)
    with pytest.raises(StateError):
        sessions.start("ag1", 30.0)
    closed = sessions.end("ag1", 40.0)
    assert closed.ended_at == 40.0
    assert closed.data == {"seat": "P1-04"}
    assert [s.agent_id for s in sessions.open_sessions()] == ["ag2"]
    sessions.start("ag1", 50.0)
    assert [(s.started_at, s.ended_at) for s in sessions.history("ag1")] == [
        (10.0, 40.0),
        (50.0, None),
    ]
    with pytest.raises(NotFoundError):
        sessions.end("ag3", 60.0)


def test_documents_refuse_a_save_based_on_a_stale_version(store: Store) -> None:
    """Two editors of one document: the second save from the same version fails."""
    documents = Documents(store)
    first = documents.put("campaign/hotline", {"seats": 8}, at=1.0, expected_version=0)
    assert first.version == 1
    documents.put("campaign/hotline", {"seats": 9}, at=2.0, expected_version=1)
    with pytest.raises(StateError, match="version 2"):
        documents.put("campaign/hotline", {"seats": 10}, at=3.0, expected_version=1)
    with pytest.raises(StateError):
        documents.put("campaign/hotline", {"seats": 10}, at=3.0, expected_version=0)
    forced = documents.put("campaign/hotline", {"seats": 10}, at=4.0, expected_version=None)
    assert forced.version == 3
    assert documents.get("campaign/hotline") == forced
    with pytest.raises(NotFoundError):
        documents.get("nothing")


def _race(attempts: list[Callable[[], object]]) -> list[str]:
    """Run the attempts at once in threads; return 'ok' or the error class per attempt."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = ["?"] * len(attempts)

    def run(index: int) -> None:
        barrier.wait()
        try:
            attempts[index]()
        except CallCenterError as exc:
            outcomes[index] = type(exc).__name__
        else:
            outcomes[index] = "ok"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_racing_log_ins_leave_one_open_session(store: Store) -> None:
    """Two runtimes logging the same agent in at once: one wins, the other is told."""
    sessions = AgentSessions(store)
    outcomes = _race([lambda: sessions.start("ag1", 1.0), lambda: sessions.start("ag1", 1.0)])
    assert outcomes == ["StateError", "ok"]
    assert len(sessions.open_sessions()) == 1


def test_racing_creations_of_one_document_keep_one(store: Store) -> None:
    """Two editors creating the same document at once: one wins, the other is told."""
    documents = Documents(store)
    outcomes = _race(
        [
            lambda: documents.put("org", {"by": "a"}, at=1.0, expected_version=0),
            lambda: documents.put("org", {"by": "b"}, at=1.0, expected_version=0),
        ]
    )
    assert outcomes == ["ConflictError", "ok"]  # a StateError, as before 0.2
    assert documents.get("org").version == 1
