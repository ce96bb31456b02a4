"""The ticket workflow: transitions, escalation, notes and SLA clocks."""

from __future__ import annotations

import pytest

from callcenter_sdk import StateError, TransitionError, ValidationError
from callcenter_sdk.tickets import (
    DEFAULT_SLA,
    Priority,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketEscalated,
    TicketFirstResponse,
    TicketOrigin,
    TicketSlaBreached,
    TicketSlaWarning,
    TicketStatus,
    TicketStatusChanged,
    add_note,
    check_sla,
    close,
    customer_replied,
    escalate,
    link_contact,
    next_sla_check,
    open_ticket,
    reopen,
    resolve,
    sla_elapsed,
    wait_for_customer,
)

POLICY = SlaPolicy(first_response=100.0, resolution=1000.0, warn_before=20.0)


def _ticket(now: float = 0.0) -> Ticket:
    return open_ticket(ticket_id="t1", subject="no internet", now=now, sla=POLICY).ticket


def test_opening_from_a_contact_needs_the_identified_customer() -> None:
    """A ticket is opened from a contact only once the customer is identified."""
    with pytest.raises(ValidationError):
        open_ticket(ticket_id="t", subject="s", now=0, origin=TicketOrigin.CONTACT, contact_id="c1")
    change = open_ticket(
        ticket_id="t",
        subject="s",
        now=5,
        origin=TicketOrigin.CONTACT,
        contact_id="c1",
        customer_id=7,
        priority=Priority.URGENT,
    )
    assert change.ticket.contact_ids == ("c1",)
    assert change.ticket.sla == DEFAULT_SLA[Priority.URGENT]
    assert change.ticket.opened_at == 5
    assert [e.kind for e in change.events] == ["ticket.opened"]


def test_first_public_note_is_the_first_response_internal_notes_are_not() -> None:
    """Only what the customer sees stops the first-response clock."""
    ticket = add_note(_ticket(), 10, author="a1", text="checking", internal=True).ticket
    assert ticket.first_response_at is None
    change = add_note(ticket, 30, author="a1", text="we are on it")
    assert change.ticket.first_response_at == 30
    assert next(e for e in change.events if isinstance(e, TicketFirstResponse)).after == 30
    again = add_note(change.ticket, 40, author="a1", text="still on it")
    assert not any(isinstance(e, TicketFirstResponse) for e in again.events)
    assert len(again.ticket.notes) == 3


def test_warning_then_breach_each_fire_once_with_the_exact_due_time() -> None:
    """Warnings come warn_before seconds ahead; breaches carry the moment they happened."""
    ticket = _ticket()
    assert next_sla_check(ticket) == 80.0
    assert check_sla(ticket, 79.9).events == ()
    warned = check_sla(ticket, 80.0)
    assert warned.events == (
        TicketSlaWarning(at=80.0, ticket_id="t1", target=SlaTarget.FIRST_RESPONSE, due_at=100.0),
    )
    assert check_sla(warned.ticket, 90.0).events == ()
    assert next_sla_check(warned.ticket) == 100.0
    late = check_sla(warned.ticket, 150.0)
    assert late.events == (
        TicketSlaBreached(at=150.0, ticket_id="t1", target=SlaTarget.FIRST_RESPONSE, due_at=100.0),
    )
    assert check_sla(late.ticket, 500.0).events == ()


def test_a_breach_noticed_late_skips_the_stale_warning() -> None:
    """When the check comes after the deadline only the breach is reported."""
    change = check_sla(_ticket(), 2000.0)
    assert [type(e) for e in change.events] == [TicketSlaBreached, TicketSlaBreached]
    assert {e.target for e in change.events if isinstance(e, TicketSlaBreached)} == set(SlaTarget)
    assert next_sla_check(change.ticket) is None


def test_waiting_for_the_customer_stops_the_resolution_clock() -> None:
    """Time spent waiting for the customer does not count against resolution."""
    ticket = add_note(_ticket(), 10, author="a", text="hi").ticket
    ticket = wait_for_customer(ticket, 100).ticket
    assert next_sla_check(ticket) is None
    assert sla_elapsed(ticket, SlaTarget.RESOLUTION, 5000) == 100
    assert check_sla(ticket, 5000).events == ()
    ticket = customer_replied(ticket, 5000).ticket
    assert ticket.status is TicketStatus.OPEN
    assert ticket.paused_total == 4900
    assert sla_elapsed(ticket, SlaTarget.RESOLUTION, 5100) == 200
    assert next_sla_check(ticket) == 0 + 4900 + 980


def test_escalation_goes_from_level_1_to_level_2_once() -> None:
    """Escalation hands over to the technical service; there is no level 3."""
    change = escalate(_ticket(), 10, reason="line test failed")
    assert change.ticket.level == 2
    assert change.ticket.status is TicketStatus.ESCALATED
    assert any(isinstance(e, TicketEscalated) for e in change.events)
    with pytest.raises(TransitionError):
        escalate(change.ticket, 20, reason="again")
    pending = wait_for_customer(change.ticket, 30).ticket
    assert customer_replied(pending, 40).ticket.status is TicketStatus.ESCALATED


def test_resolve_reopen_close_and_closed_is_final() -> None:
    """Resolved tickets reopen with the clock resuming; closed ones never change."""
    resolved = resolve(_ticket(), 50)
    assert resolved.ticket.first_response_at == 50
    assert [e.kind for e in resolved.events] == ["ticket.status_changed", "ticket.first_response"]
    reopened = reopen(resolved.ticket, 500).ticket
    assert reopened.status is TicketStatus.REOPENED
    assert reopened.resolved_at is None
    assert sla_elapsed(reopened, SlaTarget.RESOLUTION, 600) == 150
    closed = close(resolve(reopened, 700).ticket, 800).ticket
    assert closed.closed_at == 800
    with pytest.raises(TransitionError):
        reopen(closed, 900)
    with pytest.raises(StateError):
        add_note(closed, 900, author="a", text="x")
    with pytest.raises(StateError):
        link_contact(closed, 900, "c9")


def test_illegal_transitions_and_time_going_back_are_refused() -> None:
    """Only the drawn transitions exist, and the clock never runs backwards."""
    ticket = _ticket(100)
    with pytest.raises(TransitionError):
        close(ticket, 110)
    with pytest.raises(TransitionError):
        customer_replied(ticket, 110)
    with pytest.raises(ValidationError):
        resolve(ticket, 50)


def test_linking_contacts_keeps_order_and_ignores_repeats() -> None:
    """Each contact is linked once, in the order they came."""
    ticket = link_contact(_ticket(), 1, "c1").ticket
    ticket = link_contact(ticket, 2, "c2").ticket
    again = link_contact(ticket, 3, "c1")
    assert again.ticket.contact_ids == ("c1", "c2")
    assert again.events == ()


def test_sla_events_come_before_the_change_that_revealed_them() -> None:
    """A transition after a deadline reports the breach first, then the transition."""
    change = resolve(_ticket(), 5000)
    kinds = [type(e) for e in change.events]
    assert kinds.index(TicketSlaBreached) < kinds.index(TicketStatusChanged)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first_response": 0, "resolution": 1},
        {"first_response": 1, "resolution": -1},
        {"first_response": 1, "resolution": 1, "warn_before": -1},
    ],
)
def test_sla_policy_rejects_impossible_targets(kwargs: dict[str, float]) -> None:
    """Targets are positive and warnings come before, not after."""
    with pytest.raises(ValidationError):
        SlaPolicy(**kwargs)
