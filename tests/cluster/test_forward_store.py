"""``store.ForwardedRequests``: at most once, through the fence, outcome unknown after a leader.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture); the
fenced store is the leases' own ``fenced`` view, as the leader uses it.
"""

from __future__ import annotations

import threading
import time

import pytest

from callcenter_sdk.store import (
    ForwardedRequest,
    ForwardedRequests,
    LeaseLost,
    Leases,
    Notifications,
    Store,
    temporary_store,
)
from callcenter_sdk.store._forward import ANSWERS_CHANNEL, REQUESTS_CHANNEL, ForwardedRequestRow

DOMAIN = "hotline"


def _request(number: int, *, domain: str = DOMAIN) -> ForwardedRequest:
    return ForwardedRequest(
        id=f"r{number}",
        domain=domain,
        method="POST",
        scheme="http",
        path=f"/api/agents/a{number}/ready",
        query="",
        headers=[("x-csrf-token", "t"), ("cookie", "callcenter_session=s")],
        body=b"{}",
        person=f"a{number}",
        node="b",
        client="127.0.0.1",
        created_at=1_000.0 + number,
    )


def _leader(store: Store, node: str) -> tuple[Store, int]:
    leases = Leases(store)
    lease = leases.acquire(DOMAIN, node, ttl=30.0)
    assert lease is not None
    return leases.fenced(DOMAIN, lambda: lease), lease.epoch


def test_a_request_is_claimed_once_answered_once_and_read_back(store: Store) -> None:
    """The leader claims the oldest requests of its domain (the request as the node sent it),
    a second claim finds none of them, the answer is written once (a second answer and one at
    another epoch are refused) and erases the request's headers and body, and the node reads
    it; other domains' requests stay."""
    requests = ForwardedRequests(store)
    for number in (2, 1):
        requests.submit(_request(number))
    requests.submit(_request(3, domain="sales"))
    fenced, epoch = _leader(store, "a")

    claimed = requests.claim(fenced, DOMAIN, node="a", epoch=epoch, at=2_000.0)
    assert claimed == [_request(1), _request(2)]
    assert requests.claim(fenced, DOMAIN, node="a", epoch=epoch, at=2_001.0) == []
    assert requests.answer_of("r1") is None

    headers = [("content-type", "application/json"), ("set-cookie", "x=1")]

    def answer(epoch: int, status: int) -> bool:
        body = b'{"ok":true}'
        return requests.answer(
            fenced, "r1", epoch=epoch, status=status, headers=headers, body=body, at=2_002.0
        )

    assert not answer(epoch + 1, 200)
    assert answer(epoch, 200)
    assert not answer(epoch, 500)
    got = requests.answer_of("r1")
    assert got is not None
    assert (got.status, got.headers, got.body) == (200, tuple(headers), b'{"ok":true}')
    with store.reading("the answered row") as session:
        row = session.get(ForwardedRequestRow, "r1")
        assert row is not None
        assert (row.headers, row.body, row.person) == ("[]", b"", "a1"), "no credentials kept"
    assert not requests.withdraw("r2"), "claimed: it may run, the node cannot take it back"
    assert requests.withdraw("r3"), "unclaimed: withdrawn, it never runs"
    assert requests.claim(fenced, "sales", node="a", epoch=epoch, at=2_003.0) == []


def test_a_deposed_leader_neither_claims_nor_answers_and_the_next_one_calls_it_unknown(
    store: Store,
) -> None:
    """Leader a claims a request and loses the lease (released, b takes it at the next epoch):
    a's answer and a's next claim are refused by the fence and commit nothing; b answers a's
    unanswered claim 503 "outcome unknown" without running it (it is never claimed again), and
    leaves the requests it claimed itself alone."""
    requests = ForwardedRequests(store)
    requests.submit(_request(1))
    leases = Leases(store)
    lease_a = leases.acquire(DOMAIN, "a", ttl=30.0)
    assert lease_a is not None
    fenced_a = leases.fenced(DOMAIN, lambda: lease_a)
    assert [r.id for r in requests.claim(fenced_a, DOMAIN, node="a", epoch=1, at=1.0)] == ["r1"]

    leases.release(lease_a)
    lease_b = leases.acquire(DOMAIN, "b", ttl=30.0)
    assert lease_b is not None
    assert lease_b.epoch == 2
    fenced_b = leases.fenced(DOMAIN, lambda: lease_b)
    requests.submit(_request(2))
    with pytest.raises(LeaseLost):
        requests.answer(fenced_a, "r1", epoch=1, status=200, headers=[], body=b"", at=2.0)
    with pytest.raises(LeaseLost):
        requests.claim(fenced_a, DOMAIN, node="a", epoch=1, at=2.0)
    assert [r.id for r in requests.claim(fenced_b, DOMAIN, node="b", epoch=2, at=3.0)] == ["r2"]

    assert requests.abandon(fenced_b, DOMAIN, epoch=2, at=4.0) == 1
    unknown = requests.answer_of("r1")
    assert unknown is not None
    assert unknown.status == 503
    assert b"outcome-unknown" in unknown.body
    assert requests.answer_of("r2") is None, "b's own claim waits for b's answer"
    assert requests.claim(fenced_b, DOMAIN, node="b", epoch=2, at=5.0) == []
    assert requests.abandon(fenced_b, DOMAIN, epoch=2, at=6.0) == 0


def test_prune_deletes_the_requests_forwarded_before_a_time(store: Store) -> None:
    """prune(before) deletes the rows created before ``before``, answered or not, and no other."""
    requests = ForwardedRequests(store)
    for number in (1, 2, 3):
        requests.submit(_request(number))
    assert requests.prune(1_002.5) == 2
    fenced, epoch = _leader(store, "a")
    assert [r.id for r in requests.claim(fenced, DOMAIN, node="a", epoch=epoch, at=1.0)] == ["r3"]


@pytest.mark.postgresql
def test_notifications_wake_a_listener_on_postgresql(postgresql_url: str) -> None:
    """A node listening on the channels gets a hint when a request is submitted and when it is
    answered (the payloads: the domain, the request's id); without one, wait returns empty at
    its timeout."""
    with temporary_store(postgresql_url) as store:
        listener = Notifications(store, [REQUESTS_CHANNEL, ANSWERS_CHANNEL])
        try:
            assert listener.wait(0.05) == []  # connected and listening from here on
            requests = ForwardedRequests(store)
            got: list[tuple[str, str]] = []
            woke = threading.Event()

            def listen() -> None:
                deadline = time.monotonic() + 30
                while len(got) < 2 and time.monotonic() < deadline:
                    got.extend(listener.wait(1.0))
                woke.set()

            thread = threading.Thread(target=listen)
            thread.start()
            requests.submit(_request(1))
            fenced, epoch = _leader(store, "a")
            requests.claim(fenced, DOMAIN, node="a", epoch=epoch, at=1.0)
            requests.answer(fenced, "r1", epoch=epoch, status=200, headers=[], body=b"", at=2.0)
            assert woke.wait(60)
            thread.join()
            assert (REQUESTS_CHANNEL, DOMAIN) in got
            assert (ANSWERS_CHANNEL, "r1") in got
        finally:
            listener.close()
