"""Outbound lists: numbers to call and the durable record of every attempt."""

from __future__ import annotations

import pytest

from callcenter_sdk import NotFoundError
from callcenter_sdk.store import OutboundAttempt, OutboundEntry, OutboundLists, Store


def test_numbers_and_attempts_are_kept_per_list(store: Store) -> None:
    """Entries come by priority, attempts by time, and counts per number add up."""
    lists = OutboundLists(store)
    lists.create("L1", campaign="telesales", name="spring offer", at=1.0)
    lists.create("L1", campaign="ignored", name="ignored", at=2.0)
    lists.add(
        "L1",
        OutboundEntry(phone="+33612345678", customer="C-1", data={"offer": "fibre"}),
        OutboundEntry(phone="+33698765432", priority=5),
    )
    lists.add("L1", OutboundEntry(phone="+33612345678", priority=9))
    assert [(e.phone, e.priority) for e in lists.entries("L1")] == [
        ("+33698765432", 5),
        ("+33612345678", 0),
    ]
    assert lists.entries("L1")[1].data == {"offer": "fibre"}
    lists.record_attempt("L1", OutboundAttempt(phone="+33612345678", at=10.0, outcome="busy"))
    lists.record_attempt("L1", OutboundAttempt(phone="+33698765432", at=11.0, outcome="answered"))
    lists.record_attempt("L1", OutboundAttempt(phone="+33612345678", at=20.0, outcome="no_answer"))
    assert [a.outcome for a in lists.attempts("L1", "+33612345678")] == ["busy", "no_answer"]
    assert lists.attempt_counts("L1") == {"+33612345678": 2, "+33698765432": 1}
    assert len(lists.attempts("L1")) == 3


def test_an_unknown_list_is_not_found(store: Store) -> None:
    """Numbers or attempts for a list that does not exist are refused clearly."""
    lists = OutboundLists(store)
    with pytest.raises(NotFoundError):
        lists.add("nope", OutboundEntry(phone="+33612345678"))
    with pytest.raises(NotFoundError):
        lists.record_attempt("nope", OutboundAttempt(phone="+1", at=1.0, outcome="busy"))
    assert lists.entries("nope") == []
