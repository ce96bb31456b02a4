"""A chat an agent has open when the leader is killed stays theirs at the new leader.

Node processes run ``tests/cluster/adopt_node.py`` (an elector, and in each
term a center on the virtual backend paced on the wall clock, two agents
whose phones never answer). The test kills (-9) the leader, waits on the
nodes' output lines with timeouts, never on sleeps, and checks what reached
the shared event log and the stored waiting contacts.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from callcenter_sdk.store import PendingWork, Store, temporary_store

from .test_failover import Cluster

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

NODE = Path(__file__).with_name("adopt_node.py")
TTL = 2.0
WAIT = 60.0
"""Seconds any one expected line may take before the test fails."""


class Nodes(Cluster):
    """Node processes of ``adopt_node.py``, and every line they printed."""

    def start(self, name: str) -> None:
        """Start node ``name``; its output is collected by a reader thread."""
        process = subprocess.Popen(
            [sys.executable, str(NODE), self.url, self.schema, name, str(TTL)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes[name] = process
        reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        reader.start()
        self.readers.append(reader)


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh PostgreSQL schema with the library's tables."""
    with temporary_store(postgresql_url) as store:
        yield store


@contextmanager
def _nodes(database: Store, url: str) -> Iterator[Nodes]:
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    nodes = Nodes(url, schema)
    try:
        yield nodes
    finally:
        nodes.close()


def _log(store: Store) -> list[tuple[str, dict[str, Any]]]:
    with store.reading("events") as session:
        rows = session.execute(text("SELECT kind, payload FROM events ORDER BY seq")).all()
    return [(kind, payload) for kind, payload in rows]


def test_an_open_chat_is_given_back_to_its_agent_after_kill_9_of_the_leader(
    database: Store, postgresql_url: str
) -> None:
    """Node-a leads; a1 takes chat-1 at the desk, a2 is ready beside; node-a is killed (-9).
    Node-b leads at epoch 2 with a1 busy on chat-1 (adopted, not queued again: never offered
    to a2), a1 disposes of it and is in wrap-up; the log has one answer (contact_connected) and
    one completion of chat-1, by a1, and its waiting row is closed."""
    with _nodes(database, postgresql_url) as nodes:
        nodes.start("node-a")
        nodes.wait_for("connected node-a 1 a1 chat-1", WAIT)
        nodes.start("node-b")
        nodes.wait_for("ready node-b", WAIT)
        killed = time.monotonic()
        nodes.processes["node-a"].kill()
        leading, _ = nodes.wait_for("leading node-b 2 a1=busy:chat-1 a2=ready:", WAIT)
        print(f"kill -9 of the leader to the chat back in a1's hand: {leading - killed:.3f} s")
        nodes.wait_for("disposed node-b 2 a1 chat-1 wrap_up", WAIT)
        nodes.wait_for("written node-b 2", WAIT)
    log = _log(database)
    about = [(kind, p) for kind, p in log if p.get("contact_id") == "chat-1"]
    kinds = [kind for kind, _ in about]
    assert kinds.count("acd.contact_connected") == 1
    assert kinds.count("acd.contact_completed") == 1
    assert kinds.count("acd.contact_offered") == 1  # to a1, in the first term only
    (adopted,) = [p for kind, p in about if kind == "acd.contact_adopted"]
    (completed,) = [p for kind, p in about if kind == "acd.contact_completed"]
    assert (adopted["agent_id"], completed["agent_id"]) == ("a1", "a1")
    first, second = [p for kind, p in log if kind == "runtime.work_restored"]
    assert (second["adopted"], second["waiting"], first["adopted"]) == (1, 0, 0)
    assert PendingWork(database).waiting(now=time.time()) == []
