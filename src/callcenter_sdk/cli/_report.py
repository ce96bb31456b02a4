"""``callcenter report``: KPIs from the store, by interval, queue, team, agent, campaign, client.

The report reads the stored interval aggregates, catching up with the event
log first::

    callcenter report --by queue --interval 30min
    callcenter report --center center.toml --as pm.mercier --by organisation --format csv
    callcenter report --by queue --format parquet --output day.parquet
    callcenter report --interval 30min --plot pictures/
    callcenter report --conversations --interval day --format csv
    callcenter report --center center.toml --client fibrenet --from 2026-11-01 --to 2026-12-01 \
        --html fibrenet-november.html

``--as PERSON`` reports only what that person may see (``--center`` or
``--org`` give the org that says so); a file (``csv``, ``json``,
``parquet``) needs their ``export-reports`` permission. ``--plot DIR``
draws, as PNG and SVG, the service level and volume by interval
(``--interval``, else half hours), the staffing curve of the busiest
interval, the agents' states through the last day with state changes, the
dialer's drop rate through its last dialling day against the legal cap (the
busiest campaign, measured at the end of each interval) and the survey
answers' distributions; a picture the store holds no data for is left out
with a one-line note on stderr. ``--conversations`` reports the written
conversations (e-mail, chat, SMS, social) by channel instead: first response
time and its service level, resolution time, messages per conversation,
from the stored events.
``--client ORG --html FILE`` writes that client's page for the period
(``--from``, ``--to``): figures by campaign, the chart, the tickets and their SLA.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._errors import CallCenterError, ConfigError
from ..org import Action, Org, Placement, can, load_org
from ..reports import (
    GROUPS,
    INTERVALS,
    ConversationReport,
    IntervalAggregator,
    Report,
    conversation_report_from_store,
    report_from_store,
)
from ..reports._export import FORMATS, render, write_parquet
from ..store import DEFAULT_URL, Store, create_store
from ._db import URL_ENV
from ._main import COMMANDS, Command
from ._url import database_url


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        type=database_url,
        help=f"SQLAlchemy URL (default: ${URL_ENV}, else the data directory's database)",
    )
    parser.add_argument("--schema", default=None, help="PostgreSQL only: the schema")
    parser.add_argument(
        "--by", action="append", choices=GROUPS, default=[], help="group by (repeatable)"
    )
    parser.add_argument("--interval", choices=tuple(INTERVALS), help="and by this interval")
    parser.add_argument("--from", dest="start", help="first day or time (ISO 8601, UTC)")
    parser.add_argument("--to", dest="end", help="first day or time not reported (ISO 8601)")
    parser.add_argument(
        "--center", help="center TOML: its org and which queue serves which campaign"
    )
    parser.add_argument("--org", help="org TOML (when there is no --center)")
    parser.add_argument("--as", dest="viewer", help="report what this person may see")
    parser.add_argument("--threshold", type=float, default=20.0, help="service level T, s (20)")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--output", help="write to this file (needed for parquet)")
    parser.add_argument(
        "--plot", metavar="DIR", help="draw the pictures (PNG and SVG) into DIR instead"
    )
    parser.add_argument(
        "--conversations",
        action="store_true",
        help="written conversations' KPIs by channel (first response, resolution, messages)",
    )
    parser.add_argument("--client", metavar="ORG", help="the client organisation of --html")
    parser.add_argument("--html", metavar="FILE", help="write the client's page (with --client)")


def _time(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)  # 3.11 reads a final Z
    except ValueError as exc:
        raise ConfigError("<command line>", (flag,), "an ISO 8601 date or time") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _setup(args: argparse.Namespace) -> tuple[Org | None, dict[str, str]]:
    if args.center:
        from ..runtime import load_center  # noqa: PLC0415 - only with --center

        setup = load_center(args.center)
        return setup.config.org, dict(setup.config.campaigns)
    return (load_org(args.org) if args.org else None), {}


def _run(args: argparse.Namespace) -> int:
    if args.format == "parquet" and not args.output:
        raise ConfigError("<command line>", ("--output",), "a file name for Parquet")
    org, campaigns = _setup(args)
    if args.conversations and (args.plot or args.by or args.client or args.html):
        raise ConfigError(
            "<command line>", ("--conversations",), "no --by, --plot, --client or --html with it"
        )
    if args.viewer and org is None:
        raise ConfigError("<command line>", ("--as",), "--center or --org to say what they see")
    store = create_store(args.url, schema=args.schema)
    try:
        aggregator = IntervalAggregator(
            store, org=org, campaigns=campaigns, threshold_s=args.threshold
        )
        if args.client or args.html:
            return _client_page(args, store, aggregator, org, campaigns)
        if args.plot:
            args.interval = args.interval or "30min"
            args.by = []  # the pictures show the whole of what the viewer sees
        report = _report(args, store, aggregator, org, campaigns)
        figures = _pictures(args, report, store, org) if isinstance(report, Report) else {}
    finally:
        store.close()
    if args.plot:
        for path in _plot(figures, Path(args.plot)):
            sys.stdout.write(f"{path}\n")
        return 0
    if args.format == "parquet":
        write_parquet(report, args.output)
        return 0
    if args.format == "table" and not args.output:  # Rich on a terminal, plain columns elsewhere
        from ..reports._export import table_cells  # noqa: PLC0415
        from ._tables import print_table  # noqa: PLC0415

        print_table(*table_cells(report))
        return 0
    text = render(report, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _report(
    args: argparse.Namespace,
    store: Store,
    aggregator: IntervalAggregator,
    org: Org | None,
    campaigns: dict[str, str],
) -> Report | ConversationReport:
    action = Action.VIEW_KPIS if args.format == "table" else Action.EXPORT_REPORTS
    if args.conversations:
        return conversation_report_from_store(
            store,
            interval=args.interval,
            start=_time(args.start, "--from"),
            end=_time(args.end, "--to"),
            org=org,
            viewer=args.viewer,
            action=action,
            campaigns=campaigns,
        )
    return report_from_store(
        store,
        by=tuple(args.by),
        interval=args.interval,
        start=_time(args.start, "--from"),
        end=_time(args.end, "--to"),
        org=org,
        viewer=args.viewer,
        action=action,
        aggregator=aggregator,
    )


def _client_page(
    args: argparse.Namespace,
    store: Store,
    aggregator: IntervalAggregator,
    org: Org | None,
    campaigns: dict[str, str],
) -> int:
    from ..reports import client_report, render_client_html  # noqa: PLC0415 - only for --html

    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    if not (args.client and args.html) or start is None or end is None:
        raise ConfigError("<command line>", ("--client",), "--client, --html, --from and --to")
    if org is None:
        raise ConfigError("<command line>", ("--client",), "--center or --org to name the client")
    aggregator.catch_up()
    report = client_report(
        store,
        org,
        args.client,
        start=start,
        end=end,
        now=min(end, time.time()),
        campaigns=campaigns,
        viewer=args.viewer,
        interval=args.interval or ("60min" if end - start <= 86_400 else "day"),
    )
    Path(args.html).write_text(render_client_html(report), encoding="utf-8")
    return 0


_MOST_AGENTS = 40  # rows of the timeline: more would not read


def _visible(org: Org | None, viewer: str | None) -> Callable[[Placement], bool]:
    """Whether the viewer may see a place (everything without ``--as``)."""

    def visible(place: Placement) -> bool:
        if viewer is None or org is None:
            return True
        try:
            return can(org, viewer, Action.VIEW_KPIS, place)
        except CallCenterError:
            return False

    return visible


def _pictures(
    args: argparse.Namespace, report: Report, store: Store, org: Org | None
) -> dict[str, Any]:
    """The figures ``--plot`` draws; a picture without data is left out with a note."""
    if not args.plot:
        return {}
    from ..reports._plots import (  # noqa: PLC0415 - matplotlib only for --plot
        agent_timeline,
        drop_rate_chart,
        service_level_chart,
        staffing_curve,
        survey_chart,
    )
    from ..reports._stored import (  # noqa: PLC0415
        DAY_S,
        agent_day,
        clock_day,
        drop_rates_through_day,
        survey_answers,
    )

    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    length = INTERVALS[report.interval or "30min"]
    visible = _visible(org, args.viewer)
    figures: dict[str, Any] = {}
    notes: list[str] = []
    if report.rows:
        figures["service_level"] = service_level_chart(report)
    else:
        notes.append("service_level: no contacts in the period")
    busiest = max(report.rows, key=lambda r: r.offered, default=None)
    if busiest is not None and busiest.offered and busiest.aht:
        figures["staffing_curve"] = staffing_curve(
            busiest.offered / length, busiest.aht, threshold_s=report.threshold_s
        )
    else:
        notes.append("staffing_curve: no handled contacts in the period")
    day, intervals = agent_day(store, start=start, end=end)
    agents = sorted({iv.agent for iv in intervals if visible(Placement(person=iv.agent))})
    if agents:
        shown = set(agents[:_MOST_AGENTS])
        more = f", the first {_MOST_AGENTS} of {len(agents)}" if len(agents) > _MOST_AGENTS else ""
        figures["agent_timeline"] = agent_timeline(
            [iv for iv in intervals if iv.agent in shown],
            start=day,
            end=day + DAY_S,
            title=f"Agent states, {clock_day(day)}{more}",
        )
    else:
        notes.append("agent_timeline: no agent state in the store")
    campaign, rates = drop_rates_through_day(store, step=length, start=start, end=end)
    if rates and visible(Placement(campaign=campaign)):
        figures["drop_rate"] = drop_rate_chart(
            rates, title=f"Dialer drop rate, {campaign}, {clock_day(rates[0].window_end - 1)}"
        )
    else:
        notes.append("drop_rate: no dialer call in the store")
    centers = tuple(org.centers) if org is not None else ()
    answers = survey_answers(store, start=start, end=end)
    if answers and visible(Placement(center=centers[0].id if len(centers) == 1 else None)):
        figures["survey"] = survey_chart(answers)
    else:
        notes.append("survey: no survey answer in the store")
    for note in notes:
        sys.stderr.write(f"callcenter report: not drawn: {note}\n")
    return figures


def _plot(figures: dict[str, Any], folder: Path) -> list[Path]:
    from ..reports._plots import save_figure  # noqa: PLC0415 - matplotlib only for --plot

    folder.mkdir(parents=True, exist_ok=True)
    return [
        save_figure(fig, folder / f"{name}.{kind}")
        for name, fig in figures.items()
        for kind in ("png", "svg")
    ]


COMMANDS["report"] = Command(
    "report",
    "print KPIs from the store by interval, queue, team, agent or client",
    _configure,
    _run,
)
