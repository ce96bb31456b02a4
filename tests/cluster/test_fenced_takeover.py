"""Fenced offers and takeover between call-center node processes on PostgreSQL.

Node processes run ``tests/cluster/center_node.py`` (an elector, and in each
term a center on the virtual backend paced on the wall clock, agents whose
phones never answer). The tests stall (SIGSTOP past the ttl) or kill (-9) the
leader, wait on the nodes' output lines with timeouts, never on sleeps, and
check what reached the shared event log.
"""

from __future__ import annotations

import os
import signal
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

from callcenter_sdk.store import Store, temporary_store

from .test_failover import Cluster

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

NODE = Path(__file__).with_name("center_node.py")
TTL = 2.0
WAIT = 60.0
"""Seconds any one expected line may take before the test fails."""


class Centers(Cluster):
    """Center node processes running one scenario, and every line they printed."""

    def __init__(self, url: str, schema: str, scenario: str) -> None:
        super().__init__(url, schema)
        self.scenario = scenario

    def start(self, name: str) -> None:
        """Start center node ``name``; its output is collected by a reader thread."""
        process = subprocess.Popen(
            [sys.executable, str(NODE), self.url, self.schema, name, str(TTL), self.scenario],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes[name] = process
        reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        reader.start()
        self.readers.append(reader)

    def rang(self, node: str) -> list[float]:
        """When ``node`` dialled an agent's phone (``time.monotonic()`` of each ring)."""
        with self.changed:
            lines = [line for _, line in self.lines]
        return [float(line.split()[-1]) for line in lines if line.startswith(f"rang {node} ")]


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh PostgreSQL schema with the library's tables."""
    with temporary_store(postgresql_url) as store:
        yield store


@contextmanager
def _centers(database: Store, url: str, scenario: str) -> Iterator[Centers]:
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    nodes = Centers(url, schema, scenario)
    try:
        yield nodes
    finally:
        nodes.close()


def _log(store: Store) -> list[tuple[int, str, dict[str, Any]]]:
    """Every event of the log: (seq, kind, payload), in order."""
    with store.reading("events") as session:
        rows = session.execute(text("SELECT seq, kind, payload FROM events ORDER BY seq")).all()
    return [(seq, kind, payload) for seq, kind, payload in rows]


def _replay(log: list[tuple[int, str, dict[str, Any]]]) -> tuple[int, int, dict[str, str]]:
    """The most live offers any contact and any agent ever had, and the live offers at the end
    (contact -> agent). An offer lives from ``acd.contact_offered`` to its outcome; offer ids
    repeat across terms, and each outcome ends the live offer of its id at that point."""
    outcomes = {
        "acd.offer_accepted",
        "acd.offer_rejected",
        "acd.offer_busy",
        "acd.offer_not_answered",
        "acd.offer_rescinded",
    }
    live: dict[str, dict[str, Any]] = {}
    most_contact = most_agent = 0
    for _seq, kind, payload in log:
        if kind == "acd.contact_offered":
            live[payload["offer_id"]] = payload
        elif kind in outcomes:
            live.pop(payload["offer_id"], None)
        else:
            continue
        contacts = [o["contact_id"] for o in live.values()]
        agents = [o["agent_id"] for o in live.values()]
        most_contact = max([most_contact, *(contacts.count(c) for c in contacts)])
        most_agent = max([most_agent, *(agents.count(a) for a in agents)])
    return most_contact, most_agent, {o["contact_id"]: o["agent_id"] for o in live.values()}


def _term_start(log: list[tuple[int, str, dict[str, Any]]], node: str, epoch: int) -> int:
    """The index in ``log`` of the ``runtime.term_started`` event of that term."""
    (index,) = [
        i
        for i, (_seq, kind, p) in enumerate(log)
        if kind == "runtime.term_started" and (p["node"], p["epoch"]) == (node, epoch)
    ]
    return index


def test_a_stalled_leader_rings_no_phone_after_the_new_leaders_first_offer(
    database: Store, postgresql_url: str
) -> None:
    """Node-a leads and rings its agents' phones (unanswered offers of three callers, made again
    every second); SIGSTOP of it past the ttl: node-b takes over at epoch 2 and rings them for
    its own callers. After SIGCONT node-a steps down, and every phone it ever dialled was dialled
    before node-b's first; in the log, no probe event of node-a and no event about its callers
    (other than node-b's takeover closing them) is after node-b's term start, and no contact
    ever had two live offers nor any agent more than their one call."""
    with _centers(database, postgresql_url, "voice") as nodes:
        nodes.start("node-a")
        nodes.wait_for("seeded node-a 1", WAIT)
        nodes.wait_for(r"rang node-a 1 .*", WAIT)
        nodes.wait_for(r"ticked node-a 1 10", WAIT)
        nodes.start("node-b")
        nodes.wait_for("ready node-b", WAIT)
        mark = nodes.mark()
        stopped = time.monotonic()
        os.kill(nodes.processes["node-a"].pid, signal.SIGSTOP)
        try:
            nodes.wait_for(r"leading node-b 2 .*", WAIT, after=mark)
            nodes.wait_for(r"rang node-b 2 .*", WAIT, after=mark)
            nodes.wait_for(r"ticked node-b 2 10", WAIT, after=mark)
        finally:
            resumed = nodes.mark()
            os.kill(nodes.processes["node-a"].pid, signal.SIGCONT)
        nodes.wait_for(r"lost node-a 1 .*", WAIT, after=resumed)
        nodes.wait_for(r"ticked node-b 2 40", WAIT, after=resumed)  # b goes on meanwhile
        first_new = min(nodes.rang("node-b"))
        print(f"SIGSTOP of the leader to the new leader's first ring: {first_new - stopped:.3f} s")
        old = nodes.rang("node-a")
        assert old, "node-a rang before it was stopped"
        assert max(old) < first_new, "node-a dialled a phone after node-b's first offer"
    log = _log(database)
    start = _term_start(log, "node-b", 2)
    takeover = {"acd.offer_rescinded", "runtime.call_interrupted"}
    late = [
        (seq, kind)
        for seq, kind, p in log[start:]
        if p.get("node") == "node-a"
        or (str(p.get("contact_id", "")).startswith("node-a-") and kind not in takeover)
    ]
    assert late == [], "events of node-a's term after node-b's term start"
    assert any(kind == "test.node_tick" and p["node"] == "node-a" for _, kind, p in log)
    most_contact, most_agent, _live = _replay(log)
    assert (most_contact, most_agent) == (1, 1)


def test_a_takeover_after_kill_9_gives_each_offer_in_flight_exactly_one_live_offer(
    database: Store, postgresql_url: str
) -> None:
    """Node-a offers three emails to its three ready agents (the offers ring for an hour) and is
    killed (-9). Node-b takes over at epoch 2, rescinds the three offers in flight, resumes the
    agents ready, and offers the emails again: each is reserved for an agent once more, and the
    log, replayed, shows no contact with two live offers at any point, no agent with more than
    their one email, no missed offer, and exactly one live offer per email at the end."""
    with _centers(database, postgresql_url, "email") as nodes:
        nodes.start("node-a")
        nodes.wait_for("offered 3", WAIT)
        nodes.start("node-b")
        nodes.wait_for("ready node-b", WAIT)
        killed = time.monotonic()
        nodes.processes["node-a"].kill()
        offered, _ = nodes.wait_for("leading node-b 2 a1=reserved,a2=reserved,a3=reserved", WAIT)
        print(f"kill -9 of the leader to the three emails offered again: {offered - killed:.3f} s")
        nodes.wait_for("seeded node-b 2", WAIT)
        log = _log(database)
    start = _term_start(log, "node-b", 2)
    assert log[start][2]["offers_in_flight"] == 3
    rescinded = [p for _s, k, p in log[start:] if k == "acd.offer_rescinded"]
    assert sorted(p["contact_id"] for p in rescinded) == ["mail-0", "mail-1", "mail-2"]
    assert {p["reason"] for p in rescinded} == {"takeover"}
    assert not [k for _s, k, _p in log if k in {"acd.offer_not_answered", "acd.offer_rejected"}]
    most_contact, most_agent, live = _replay(log)
    assert (most_contact, most_agent) == (1, 1)
    assert sorted(live) == ["mail-0", "mail-1", "mail-2"]
    assert sorted(live.values()) == ["a1", "a2", "a3"]
