"""Hypothesis state machine over the ticket workflow and its SLA clocks."""

from __future__ import annotations

from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from callcenter_sdk import StateError, TransitionError
from callcenter_sdk.tickets import (
    SlaPolicy,
    SlaTarget,
    TicketChange,
    TicketSlaBreached,
    TicketSlaWarning,
    TicketStatus,
    TicketStatusChanged,
    add_note,
    check_sla,
    close,
    customer_replied,
    escalate,
    open_ticket,
    reopen,
    resolve,
    sla_elapsed,
    wait_for_customer,
)


class TicketMachine(RuleBasedStateMachine):
    """Random operations at random times on one ticket."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        policy = SlaPolicy(first_response=50.0, resolution=300.0, warn_before=10.0)
        self.ticket = open_ticket(ticket_id="t", subject="s", now=0.0, sla=policy).ticket
        self.sla_events: Counter[tuple[SlaTarget, str]] = Counter()
        self.last_resolution_elapsed = 0.0
        self.was_closed = False

    def _take(self, change: TicketChange) -> None:
        before = self.ticket.status
        for event in change.events:
            if isinstance(event, TicketSlaWarning | TicketSlaBreached):
                self.sla_events[(event.target, event.kind)] += 1
                assert event.at == self.now
            if isinstance(event, TicketSlaBreached):
                assert event.due_at <= event.at
            if isinstance(event, TicketStatusChanged):
                assert event.source is before
                before = event.target
        assert before is change.ticket.status
        self.ticket = change.ticket

    @rule(seconds=st.floats(min_value=0, max_value=120, allow_nan=False))
    def advance(self, seconds: float) -> None:
        """Time passes."""
        self.now += seconds

    @rule()
    def check(self) -> None:
        """After a check, every target past its deadline and unmet is reported."""
        self._take(check_sla(self.ticket, self.now))
        for target in SlaTarget:
            met = (
                self.ticket.first_response_at is not None
                if target is SlaTarget.FIRST_RESPONSE
                else not self.ticket.is_active
            )
            late = sla_elapsed(self.ticket, target, self.now) >= self.ticket.sla.target(target)
            if late and not met:
                assert f"{target.value}.breach" in self.ticket.sla_flags

    @rule(
        operation=st.sampled_from(
            [wait_for_customer, customer_replied, resolve, reopen, close, "note", "escalate"]
        )
    )
    def operate(self, operation: object) -> None:
        """Any operation either applies or is refused without changing the ticket."""
        try:
            if operation == "note":
                change = add_note(self.ticket, self.now, author="a", text="x")
            elif operation == "escalate":
                change = escalate(self.ticket, self.now, reason="r")
            else:
                change = operation(self.ticket, self.now)  # type: ignore[operator]
        except (TransitionError, StateError):
            assert self.was_closed or operation in {
                customer_replied,
                close,
                reopen,
                resolve,
                wait_for_customer,
                "escalate",
            }
            return
        assert not self.was_closed
        self._take(change)

    @invariant()
    def each_sla_event_fires_at_most_once(self) -> None:
        """No warning or breach is ever repeated."""
        assert all(count == 1 for count in self.sla_events.values())

    @invariant()
    def resolution_clock_is_monotone_and_bounded(self) -> None:
        """The resolution clock never goes back nor runs faster than real time."""
        elapsed = sla_elapsed(self.ticket, SlaTarget.RESOLUTION, self.now)
        # float sums of pause lengths may differ from a direct difference by rounding
        slack = 1e-6
        assert self.last_resolution_elapsed - slack <= elapsed
        assert elapsed <= self.now - self.ticket.opened_at + slack
        self.last_resolution_elapsed = elapsed
        assert self.ticket.paused_total >= 0

    @invariant()
    def closed_is_final(self) -> None:
        """Once closed, always closed."""
        if self.was_closed:
            assert self.ticket.status is TicketStatus.CLOSED
        self.was_closed = self.ticket.status is TicketStatus.CLOSED


TestTicketMachine = TicketMachine.TestCase
TestTicketMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
