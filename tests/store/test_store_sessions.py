"""Agent sessions and versioned configuration documents."""

from __future__ import annotations

import pytest

from callcenter_sdk import NotFoundError, StateError
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
