"""Chaos on three ``callcenter serve --cluster`` nodes in network namespaces.

Three nodes run the hotline's center file on one private PostgreSQL, each in
a namespace of its own (``netns.py``): the test reaches their web ports and
the database from the clients' namespace only. An agent logs in at a
position and goes ready through the leader's HTTP API (the leader is found
by asking each node ``GET /api/cluster``), which stores the agent's session.
Then the leader is killed (kill -9), stalled longer than the lease
(SIGSTOP, then SIGCONT) or cut off from the database (its link down, then
up). Each time:

* exactly one node leads afterwards, at a higher epoch, and the old leader
  stands by once it is back (restarted, resumed, reconnected);
* nothing the old leader wrote to the center's tables committed after the
  new term's first write (audit triggers on every table record the writing
  node and transaction; PostgreSQL keeps each commit's time);
* the agent's session is the same stored row, still open, and the new
  leader seats the agent again.

Every wait polls with a deadline; nothing asserts how long a takeover took
(the tests print it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import netns
from .chaos import AGENT, POSITION, START, Chaos
from .netns import Network, Node, PostgreSQL

pytestmark = [pytest.mark.slow]


@pytest.fixture
def chaos(private: tuple[Network, PostgreSQL], tmp_path: Path) -> Iterator[Chaos]:
    """Three nodes on a fresh database, n1 leading; stopped after the test, also on failure."""
    net, server = private
    cluster = Chaos(net, server, tmp_path)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


def _seat_the_agent(chaos: Chaos) -> tuple[Node, int, Any]:
    """The agent sits and goes ready through the leader; its stored session."""
    leader, epoch = chaos.leader()
    chaos.api(leader, "POST", f"/api/agents/{AGENT}/login", position=POSITION)
    chaos.api(leader, "POST", f"/api/agents/{AGENT}/ready")
    assert chaos.agent(leader)["state"] == "ready"
    sessions = netns.wait_until("the agent's stored session", chaos.open_sessions, 30)
    assert len(sessions) == 1, sessions
    return leader, epoch, sessions[0]


def _after(  # noqa: PLR0917 - the fault's whole context, named at each call
    chaos: Chaos, old: Node, epoch: int, session: Any, fault: str, since: float
) -> None:
    """Exactly one leader above ``epoch``, ``old`` standing by, the session kept, nothing stale."""
    new, new_epoch = chaos.leader(above=epoch)
    print(f"{fault}: {new.name} leads at epoch {new_epoch}, {time.monotonic() - since:.2f} s")
    assert new is not old
    netns.wait_until(
        f"{old.name} stands by",
        lambda: (old.cluster() or {}).get("role") == "standby",
        START,
    )
    assert netns.leaders(chaos.nodes) == [(new, new_epoch)]
    assert old.cluster() == {
        "node": old.name,
        "leader": new.name,
        "epoch": new_epoch,
        "role": "standby",
    }
    assert chaos.open_sessions() == [session], "the agent's session is the same open row"
    state = chaos.agent(new)["state"]
    assert state in {"ready", "not_ready"}, f"seated again on the new leader, not {state}"
    assert chaos.stale() == []


def test_kill_9_of_the_leader(chaos: Chaos) -> None:
    """A kill -9 of the leading node: exactly one other node leads at a higher epoch, the agent's
    stored session is continued there, the killed node restarted stands by, and no write of the
    old term committed after the new term's first."""
    old, epoch, session = _seat_the_agent(chaos)
    since = time.monotonic()
    old.kill()
    others = [n for n in chaos.nodes if n is not old]
    chaos.leader(above=epoch, among=others)
    old.start().wait_for_line(f"standby {old.name} for hotline", START)
    _after(chaos, old, epoch, session, "kill -9", since)


def test_sigstop_of_the_leader_longer_than_the_lease(chaos: Chaos) -> None:
    """SIGSTOP of the leading node until another node leads (longer than the ttl), then SIGCONT:
    the resumed node steps down (prints standby for its old epoch) and stands by, exactly one
    node leads at a higher epoch with the agent's session, and nothing the stalled node had in
    hand committed after the new term's first write."""
    old, epoch, session = _seat_the_agent(chaos)
    others = [n for n in chaos.nodes if n is not old]
    since = time.monotonic()
    with old.stalled():
        chaos.leader(above=epoch, among=others)
    old.running().wait_for_line(f"standby {old.name} epoch {epoch}: ", START)
    _after(chaos, old, epoch, session, "SIGSTOP", since)


def test_partition_of_the_leader_from_the_database(chaos: Chaos) -> None:
    """The leading node's link to the database down until another node leads, then up again:
    once another node leads, the cut-off node does not say it leads, and once reconnected it has
    closed its center (prints standby for its old epoch) and stands by; exactly one node leads
    at a higher epoch with the agent's session, and nothing the cut-off node had in hand
    committed after the new term's first write."""
    old, epoch, session = _seat_the_agent(chaos)
    others = [n for n in chaos.nodes if n is not old]
    since = time.monotonic()
    with old.partitioned():
        chaos.leader(above=epoch, among=others)
        cut_off = old.cluster()  # None: no answer within 5 s (its status reads the database)
        print(f"partition: {old.name} answers {cut_off} while cut off")
        assert cut_off is None or cut_off["role"] == "standby"
    healed = time.monotonic()
    line = old.running().wait_for_line(f"standby {old.name} epoch {epoch}: ", START)
    print(
        f"partition: {old.name} closed its center {time.monotonic() - healed:.2f} s after the heal"
    )
    print(line)
    _after(chaos, old, epoch, session, "partition", since)
