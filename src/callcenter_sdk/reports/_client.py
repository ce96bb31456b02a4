"""The client report: one self-contained HTML page per client organisation and period.

What the project manager sends the company that ordered the campaigns: the
period's figures by campaign, the service level and volume by interval as a
picture, and the tickets opened in the period with where each stands
against its SLA. The page is one file with nothing to fetch — styles inline,
charts inlined as SVG — so it can be mailed, archived or printed as is.

The figures come from the stored interval aggregates (cells whose
``organisation`` is the client), scoped to who asks like every report.
Tickets are the client's when one of their contacts entered a queue
serving one of the client's campaigns.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Mapping, Sequence

import attrs

from .._errors import ValidationError
from ..acd import ContactEnteredQueue
from ..org import Action, Org
from ..store import EventLog, IntervalAggregates, Store
from ..tickets import (
    SlaTarget,
    Ticket,
    TicketOpened,
    TicketRepository,
    sla_elapsed,
)
from ._report import Report, build_report, cell_filter

__all__ = ["ClientReport", "TicketLine", "client_report", "render_client_html", "ticket_line"]


@attrs.frozen(kw_only=True)
class TicketLine:
    """A ticket as the client report shows it.

    Attributes:
        ticket_id: The ticket.
        subject: Its subject.
        status: Its status (``open``, ``resolved``...).
        priority: Its priority.
        opened_at: When it was opened.
        first_response_s: Seconds counted against the first-response target.
        first_response_met: Whether that target is met (``None``: still running, in time).
        resolution_s: Active seconds counted against the resolution target.
        resolution_met: Likewise for resolution.
    """

    ticket_id: str
    subject: str
    status: str
    priority: str
    opened_at: float
    first_response_s: float
    first_response_met: bool | None
    resolution_s: float
    resolution_met: bool | None


def _verdict(elapsed: float, allowed: float, done: bool) -> bool | None:
    if elapsed > allowed:
        return False
    return True if done else None


def ticket_line(ticket: Ticket, *, now: float) -> TicketLine:
    """Where ``ticket`` stands against its SLA at ``now`` (:func:`tickets.sla_elapsed`)."""
    first = sla_elapsed(ticket, SlaTarget.FIRST_RESPONSE, now)
    resolution = sla_elapsed(ticket, SlaTarget.RESOLUTION, now)
    done = ticket.resolved_at is not None or ticket.closed_at is not None
    return TicketLine(
        ticket_id=ticket.ticket_id,
        subject=ticket.subject,
        status=ticket.status.value,
        priority=ticket.priority.value,
        opened_at=ticket.opened_at,
        first_response_s=first,
        first_response_met=_verdict(
            first, ticket.sla.first_response, ticket.first_response_at is not None
        ),
        resolution_s=resolution,
        resolution_met=_verdict(resolution, ticket.sla.resolution, done),
    )


@attrs.frozen(kw_only=True)
class ClientReport:
    """What one client's page holds.

    Attributes:
        organisation: The client's id.
        name: The client's name as shown.
        start: First second of the period.
        end: First second after it.
        campaigns: The period's figures by campaign.
        intervals: The same by interval (for the chart).
        tickets: The tickets opened in the period, oldest first.
        now: When the report was made (running SLA clocks stop here).
    """

    organisation: str
    name: str
    start: float
    end: float
    campaigns: Report
    intervals: Report
    tickets: tuple[TicketLine, ...]
    now: float


def _client_tickets(store: Store, ours: set[str], start: float, end: float) -> list[Ticket]:
    """The tickets opened in ``[start, end)`` with a contact that entered one of ``ours``."""
    kinds = (TicketOpened.kind, ContactEnteredQueue.kind)
    opened: list[str] = []
    queue_of: dict[str, str] = {}
    for logged in EventLog(store).read(kinds=kinds):
        event = logged.event
        if isinstance(event, TicketOpened) and start <= event.at < end:
            opened.append(event.ticket_id)
        elif isinstance(event, ContactEnteredQueue):
            queue_of.setdefault(event.contact_id, event.queue)
    repository = TicketRepository(store)
    tickets = [repository.get(t) for t in opened]
    return sorted(
        (t for t in tickets if any(queue_of.get(c) in ours for c in t.contact_ids)),
        key=lambda t: (t.opened_at, t.ticket_id),
    )


def client_report(
    store: Store,
    org: Org,
    organisation: str,
    *,
    start: float,
    end: float,
    now: float,
    campaigns: Mapping[str, str] | None = None,
    viewer: str | None = None,
    interval: str = "day",
) -> ClientReport:
    """Gather one client's page from the store (catch the aggregates up first).

    Args:
        store: The store.
        org: The org (it names the client and says who sees what).
        organisation: The client's id.
        start: First second of the period.
        end: First second after it.
        now: When the report is made.
        campaigns: Queue -> campaign, as in the center file (to find the client's tickets).
        viewer: Who asks: only what they may ``export-reports`` counts.
        interval: The chart's interval (a name of :data:`INTERVALS`).

    Raises:
        NotFoundError: No such organisation (or viewer).
    """
    client = org.organisation(organisation)
    if end <= start:
        raise ValidationError("the report's period must end after it starts")
    scoped = cell_filter(org, viewer, Action.EXPORT_REPORTS) if viewer is not None else None
    cells = [
        c
        for c in IntervalAggregates(store).read(level="queue", start=start, end=end)
        if c.organisation == organisation and (scoped is None or scoped(c))
    ]
    state = IntervalAggregates(store).state()
    threshold, short = (20.0, 5.0) if state is None else (state.threshold_s, state.short_abandon_s)
    ours = {
        queue
        for queue, campaign in (campaigns or {}).items()
        if campaign in {c.id for c in org.campaigns_of_organisation(organisation)}
    }
    return ClientReport(
        organisation=organisation,
        name=client.name or client.id,
        start=start,
        end=end,
        campaigns=build_report(
            cells, by=("campaign",), threshold_s=threshold, short_abandon_s=short
        ),
        intervals=build_report(
            cells, interval=interval, threshold_s=threshold, short_abandon_s=short
        ),
        tickets=tuple(ticket_line(t, now=now) for t in _client_tickets(store, ours, start, end)),
        now=now,
    )


_CSS = """
body { font-family: "DejaVu Sans", sans-serif; margin: 24px; color: #222; width: 800px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 24px 0 8px; }
p.period { color: #555; margin: 0; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
.met { color: #2ca02c; } .missed { color: #d62728; font-weight: bold; } .running { color: #555; }
figure { margin: 0; } figure svg { width: 800px; height: auto; }
"""


def _day(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _sla(met: bool | None, elapsed: float) -> str:
    word, css = {True: ("met", "met"), False: ("missed", "missed"), None: ("running", "running")}[
        met
    ]
    return f'<td class="{css}">{word} ({_duration(elapsed)})</td>'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{html.escape(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row))
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _chart(report: Report) -> str:
    from ._plots import save_svg, service_level_chart  # noqa: PLC0415 - matplotlib is optional

    if not report.rows:
        return "<p>No contacts in the period.</p>"
    buffer = io.StringIO()
    save_svg(service_level_chart(report, title="Service level and volume"), buffer)
    svg = buffer.getvalue()
    return "<figure>" + svg[svg.index("<svg") :] + "</figure>"


def render_client_html(report: ClientReport) -> str:
    """The page: one HTML document with its styles and charts inside."""
    esc = html.escape
    figures = _table(
        ["campaign", "offered", "answered", "abandoned", "service level", "abandon rate",
         "ASA", "AHT"],
        [
            [
                f'<td class="text">{esc(r.keys["campaign"] or "–")}</td>',
                str(r.offered), str(r.answered), str(r.abandoned),
                _pct(r.service_level), _pct(r.abandon_rate), _secs(r.asa), _secs(r.aht),
            ]
            for r in report.campaigns.rows
        ],
    )  # fmt: skip
    tickets = (
        _table(
            ["ticket", "subject", "opened", "status", "priority", "first response", "resolution"],
            [
                [
                    esc(t.ticket_id),
                    f'<td class="text">{esc(t.subject)}</td>',
                    _day(t.opened_at),
                    esc(t.status),
                    esc(t.priority),
                    _sla(t.first_response_met, t.first_response_s),
                    _sla(t.resolution_met, t.resolution_s),
                ]
                for t in report.tickets
            ],
        )
        if report.tickets
        else "<p>No tickets opened in the period.</p>"
    )
    title = f"{report.name}: {_day(report.start)} – {_day(report.end)} UTC"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{esc(report.name)}</h1>"
        f'<p class="period">{esc(_day(report.start))} – {esc(_day(report.end))} UTC'
        f" · service level within {report.campaigns.threshold_s:g} s"
        f" · made {esc(_day(report.now))} UTC</p>"
        f"<h2>Figures by campaign</h2>{figures}"
        f"<h2>Service level and volume</h2>{_chart(report.intervals)}"
        f"<h2>Tickets</h2>{tickets}"
        "</body></html>\n"
    )
