"""The chaos checks fail on broken logs: each finds what it looks for, and only that.

``benchmarks/bench_cluster.py`` reports double offers, capacity overruns,
lost contacts and stale commits from a run's event log and store; a check
that cannot fail would prove nothing, so each is fed a log broken on
purpose (and the same log unbroken).
"""

from __future__ import annotations

import os

from .checks import (
    Logged,
    assignments,
    capacity_overruns,
    connected_twice,
    double_offers,
    lost_contacts,
    rung_not_connected,
)
from .netns import PREFIX, Commit, owner, stale_commits


def _offered(contact: str, offer: str, agent: str = "a1") -> Logged:
    return Logged(
        "acd.contact_offered", {"contact_id": contact, "offer_id": offer, "agent_id": agent}
    )


def _closed(kind: str, contact: str, offer: str) -> Logged:
    return Logged(kind, {"contact_id": contact, "offer_id": offer})


def _connected(contact: str, agent: str) -> Logged:
    return Logged("acd.contact_connected", {"contact_id": contact, "agent_id": agent})


def _ended(contact: str, kind: str = "acd.contact_completed") -> Logged:
    return Logged(kind, {"contact_id": contact})


def _queued(contact: str) -> Logged:
    return Logged("acd.contact_entered_queue", {"contact_id": contact})


def test_an_offer_left_open_and_offered_again_is_a_double_offer() -> None:
    """A contact offered, its offer never resolved (a deposed leader's), then offered again by
    the next leader, is one double offer; offers each closed before the next (not answered,
    then accepted) are not; a restore's re-queueing does not close an open offer."""
    fine = [
        _queued("c1"),
        _offered("c1", "o1"),
        _closed("acd.offer_not_answered", "c1", "o1"),
        _offered("c1", "o2", "a2"),
        _closed("acd.offer_accepted", "c1", "o2"),
        _connected("c1", "a2"),
        _ended("c1"),
    ]
    assert double_offers(fine) == []
    broken = [
        _queued("c1"),
        _offered("c1", "o1"),
        _queued("c1"),  # the next leader restored it
        _offered("c1", "o9", "a2"),
        _queued("c2"),
        _offered("c2", "o3"),
        _closed("acd.offer_rescinded", "c2", "o3"),
        _offered("c2", "o4"),
    ]
    assert double_offers(broken) == ["c1"]


def test_an_agent_connected_to_more_than_their_capacity_is_an_overrun() -> None:
    """Three chats at once with capacity 3 are fine, and a freed slot may be taken again; a
    fourth chat while three are held is an overrun, and a contact lost at the agent's desk (not
    ended, not queued again) still holds its slot."""
    fine = [_connected(f"c{i}", "a1") for i in range(3)]
    fine += [_ended("c0"), _connected("c3", "a1"), _queued("c1"), _connected("c4", "a1")]
    assert capacity_overruns(fine, 3) == []
    broken = [_connected(f"c{i}", "a1") for i in range(3)] + [_connected("c3", "a1")]
    assert capacity_overruns(broken, 3) == [("a1", 4)]
    moved = [_connected("c0", "a1"), _connected("c0", "a2"), _connected("c1", "a2")]
    assert capacity_overruns(moved, 1) == [("a2", 2)]


def test_an_acknowledged_contact_neither_ended_nor_waiting_is_lost() -> None:
    """Of four acknowledged contacts, one completed, one abandoned, one still waiting at the end
    and one connected when its leader died and never heard of again: that one is lost; a
    contact connected again after it queued once more is connected twice."""
    log = [_connected("c1", "a1"), _ended("c1"), _ended("c2", "acd.contact_abandoned")]
    log += [_connected("c4", "a1")]
    assert lost_contacts(["c1", "c2", "c3", "c4"], log, {"c3"}) == ["c4"]
    assert lost_contacts(["c1", "c2", "c3"], log, {"c3"}) == []
    assert assignments(log) == 2
    assert connected_twice([*log, _queued("c4"), _connected("c4", "a2")]) == ["c4"]
    assert connected_twice(log) == []


def _lease(at: float, holder: str, epoch: int) -> Commit:
    return Commit(at, holder, frozenset({"leader_leases:UPDATE"}), (holder, epoch))


def _write(at: float, node: str, table: str = "events:INSERT") -> Commit:
    return Commit(at, node, frozenset({table}), None)


def test_a_deposed_leaders_write_after_the_next_terms_first_is_stale() -> None:
    """n1 leads at epoch 1 and writes; n2 takes epoch 2 and writes: a write of n1 committed
    after that is stale (n1 took no newer lease), one committed between n2's lease and its
    first write is not, n1's writes after it took epoch 3 are not, nor are lease writes, the
    test's own writes, heartbeats or commands forwarded to the leader (any node writes those);
    a deposed leader's answer to a forwarded command is stale."""
    history = [
        _lease(1.0, "n1", 1),
        _write(1.1, "n1"),
        _lease(2.0, "n2", 2),
        _write(2.05, "n1"),  # before the new term's first write: allowed
        _write(2.1, "n2"),
        _write(2.2, "chaos-test"),
        _write(2.3, "n1", "leader_leases:UPDATE"),
        _write(2.35, "n1", "cluster_nodes:UPDATE"),
        _write(2.36, "n1", "forwarded_requests:INSERT"),
    ]
    assert stale_commits(history, {"n1", "n2"}) == []
    late = _write(2.4, "n1", "forwarded_requests:UPDATE")
    found = stale_commits([*history, late], {"n1", "n2"})
    assert [(s.commit, s.writer) for s in found] == [(late, "n2")]
    retaken = [*history, _lease(3.0, "n1", 3), _write(3.1, "n1"), _write(3.2, "n2")]
    found = stale_commits(retaken, {"n1", "n2"})
    assert [(s.commit.committed, s.writer) for s in found] == [(3.2, "n1")]


def test_a_runs_namespaces_name_the_pid_that_made_them() -> None:
    """This run's namespaces are named after its pid (so two runs at once do not clash, and a
    run cleaning up leftovers finds whose they are), within a veth name's 15 characters; names
    that are not a run's (the fixed ``ccx-`` of old, anything else) have no owner."""
    assert owner(f"{PREFIX}-db") == os.getpid()
    assert owner(f"{PREFIX}-n3") == os.getpid()
    assert owner("ccx2hwcg-web") == 4194304  # the largest pid Linux gives
    assert owner("ccx-db") is None
    assert owner("ccxabc") is None
    assert owner("other-db") is None
    assert len(f"{PREFIX}250wi") <= 15


def test_an_offer_rescinded_because_the_caller_hung_up_is_rung_not_connected() -> None:
    """A contact whose offer is rescinded because the contact ended (the caller hung up while
    the agent's phone rang or had answered) is found; one whose offer was accepted, or
    rescinded for another reason, is not."""
    log = [
        _offered("c1", "o1"),
        _closed("acd.offer_accepted", "c1", "o1"),
        Logged("acd.contact_connected", {"contact_id": "c1", "agent_id": "a1"}),
        _offered("c2", "o2"),
        Logged(
            "acd.offer_rescinded", {"contact_id": "c2", "offer_id": "o2", "reason": "contact-ended"}
        ),
        _offered("c3", "o3"),
        Logged("acd.offer_rescinded", {"contact_id": "c3", "offer_id": "o3", "reason": "logout"}),
    ]
    assert rung_not_connected(log) == ["c2"]
    assert rung_not_connected(log[:3]) == []
