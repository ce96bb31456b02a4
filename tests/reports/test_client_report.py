"""The client report: one client's figures, chart and tickets, in one self-contained page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcenter_sdk.acd import ContactEnteredQueue
from callcenter_sdk.org import Org, load_org
from callcenter_sdk.reports import (
    IntervalAggregator,
    build_report,
    client_report,
    render_client_html,
    ticket_line,
)
from callcenter_sdk.store import EventLog, IntervalAggregates, Store
from callcenter_sdk.tickets import (
    Priority,
    SlaPolicy,
    TicketRepository,
    open_ticket,
    resolve,
)

from .days import scenario, simulated_day

HOTLINE = Path(__file__).parents[2] / "examples" / "hotline" / "org.toml"
CAMPAIGNS = {"q0": "fibrenet-support", "q1": "streamtv-support"}
SLA = SlaPolicy(first_response=600.0, resolution=3600.0)
NOW = 2 * 3600.0


def _entered(events: list[object], queue: str) -> list[str]:
    return [e.contact_id for e in events if isinstance(e, ContactEnteredQueue) and e.queue == queue]


def _day(store: Store) -> Org:
    """A simulated two hours on q0 (FibreNet) and q1 (StreamTV), aggregated, with three
    tickets: two from FibreNet callers (one still open, one resolved in time), one
    from a StreamTV caller."""
    org = load_org(HOTLINE)
    events, _ = simulated_day(scenario(queues=2, agents=4), seed=5)
    fibre, stream = _entered(list(events), "q0"), _entered(list(events), "q1")
    log = EventLog(store)
    log.extend(events)
    tickets = TicketRepository(store)
    late = open_ticket(ticket_id="T-1", subject="No line", now=600.0, contact_id=fibre[0], sla=SLA)
    done = open_ticket(
        ticket_id="T-2", subject="Slow <Wi-Fi>", now=900.0, contact_id=fibre[1], sla=SLA
    )
    resolved = resolve(done.ticket, 2400.0)
    other = open_ticket(
        ticket_id="T-3", subject="No picture", now=1000.0, contact_id=stream[0],
        priority=Priority.HIGH, sla=SLA,
    )  # fmt: skip
    tickets.save(late.ticket, resolved.ticket, other.ticket)
    log.extend([*late.events, *done.events, *resolved.events, *other.events])
    log.flush()
    IntervalAggregator(store, org=org, campaigns=CAMPAIGNS).catch_up()
    return org


def test_the_page_holds_only_the_clients_figures_and_tickets(store: Store) -> None:
    """FibreNet's page: its campaign's figures, equal to a report over its cells; its two
    tickets (not StreamTV's) with their SLA verdicts; escaped text; nothing to fetch."""
    org = _day(store)
    report = client_report(
        store, org, "fibrenet", start=0.0, end=86_400.0, now=NOW, campaigns=CAMPAIGNS
    )
    cells = [
        c for c in IntervalAggregates(store).read(level="queue") if c.organisation == "fibrenet"
    ]
    assert report.campaigns == build_report(cells, by=("campaign",))
    (row,) = report.campaigns.rows
    assert row.keys == {"campaign": "fibrenet-support"}
    assert row.offered > 10
    assert [t.ticket_id for t in report.tickets] == ["T-1", "T-2"]
    late, done = report.tickets
    assert (late.first_response_met, late.resolution_met) == (False, False)  # open 1 h 50
    assert (done.first_response_met, done.resolution_met) == (False, True)
    page = render_client_html(report)
    assert "FibreNet" in page
    assert "StreamTV" not in page
    assert "T-3" not in page
    assert "Slow &lt;Wi-Fi&gt;" in page
    assert page.count("<svg") == 1
    assert not re.search(r"""(src|href)=["']?(https?:|//|/)""", page)  # self-contained


def test_a_ticket_line_runs_until_its_target_passes() -> None:
    """A ticket within its targets is running; past the first-response target it is missed;
    a reply in time is met."""
    ticket = open_ticket(ticket_id="T", subject="s", now=0.0, sla=SLA).ticket
    assert ticket_line(ticket, now=300.0).first_response_met is None
    assert ticket_line(ticket, now=601.0).first_response_met is False
    assert ticket_line(ticket, now=601.0).first_response_s == 601.0


def test_an_unknown_client_or_an_empty_period_is_refused(store: Store) -> None:
    """A client the org does not know, or a period that ends before it starts, is an error."""
    org = load_org(HOTLINE)
    with pytest.raises(Exception, match="nobody"):
        client_report(store, org, "nobody", start=0.0, end=1.0, now=1.0)
    with pytest.raises(Exception, match="end after it starts"):
        client_report(store, org, "fibrenet", start=1.0, end=1.0, now=1.0)
