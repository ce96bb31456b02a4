"""``callcenter report``: KPIs from the store, by interval, queue, team, agent, campaign, client.

The report reads the stored interval aggregates, catching up with the event
log first::

    callcenter report --by queue --interval 30min
    callcenter report --center center.toml --as pm.mercier --by organisation --format csv
    callcenter report --by queue --format parquet --output day.parquet
    callcenter report --interval 30min --plot pictures/
    callcenter report --center center.toml --client fibrenet --from 2026-11-01 --to 2026-12-01 \
        --html fibrenet-november.html

``--as PERSON`` reports only what that person may see (``--center`` or
``--org`` give the org that says so); a file (``csv``, ``json``,
``parquet``) needs their ``export-reports`` permission. ``--plot DIR``
draws the service level and volume by interval (``--interval``, else half
hours) and the staffing curve of the busiest interval, as PNG and SVG.
``--client ORG --html FILE`` writes that client's page for the period
(``--from``, ``--to``): figures by campaign, the chart, the tickets and their SLA.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from .._errors import ConfigError
from ..org import Action, Org, load_org
from ..reports import GROUPS, INTERVALS, IntervalAggregator, Report, report_from_store
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
    if args.viewer and org is None:
        raise ConfigError("<command line>", ("--as",), "--center or --org to say what they see")
    action = Action.VIEW_KPIS if args.format == "table" else Action.EXPORT_REPORTS
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
        report = report_from_store(
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
    finally:
        store.close()
    if args.plot:
        for path in _plot(report, Path(args.plot)):
            sys.stdout.write(f"{path}\n")
        return 0
    if args.format == "parquet":
        write_parquet(report, args.output)
        return 0
    text = render(report, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


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


def _plot(report: Report, folder: Path) -> list[Path]:
    from ..reports._plots import save_figure, service_level_chart, staffing_curve  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    figures = {"service_level": service_level_chart(report)}
    busiest = max(report.rows, key=lambda r: r.offered, default=None)
    if busiest is not None and busiest.offered and busiest.aht:
        length = INTERVALS[report.interval or "30min"]
        figures["staffing_curve"] = staffing_curve(
            busiest.offered / length, busiest.aht, threshold_s=report.threshold_s
        )
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
