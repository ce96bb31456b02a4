"""``callcenter leads``, ``survey`` and ``campaign``: lead lists, questionnaires, campaigns."""

from __future__ import annotations

import argparse
import os
import sys
import time

from ..dialer import (
    export_answers_csv,
    import_do_not_call,
    import_leads_csv,
    load_campaign,
    load_do_not_call,
    load_questionnaire,
    save_do_not_call,
    save_leads,
    stored_answers,
)
from ..store import DEFAULT_URL, Documents, EventLog, OutboundLists, create_store
from ._main import COMMANDS, Command
from ._url import database_url

URL_ENV = "CALLCENTER_DATABASE_URL"


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        type=database_url,
        help=f"SQLAlchemy URL (default: ${URL_ENV} or {DEFAULT_URL})",
    )
    parser.add_argument("--schema", default=None, help="PostgreSQL only: work inside this schema")


def _configure_leads(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    imp = sub.add_parser("import", help="import a CSV of leads into an outbound list")
    imp.add_argument("file", help="CSV with a header: phone, lead_id, priority, timezone...")
    imp.add_argument("--campaign", required=True, help="the campaign the leads are for")
    imp.add_argument("--list", required=True, dest="list_id", help="the list's id")
    imp.add_argument("--region", default="FR", help="country of numbers without a prefix (FR)")
    imp.add_argument("--timezone", default=None, help="zone for numbers spanning several")
    _store_options(imp)
    dnc = sub.add_parser("do-not-call", help="add a CSV of numbers to the do-not-call lists")
    dnc.add_argument("file", help="CSV with a phone column")
    dnc.add_argument("--campaign", default=None, help="the campaign's own list (default: global)")
    dnc.add_argument("--region", default="FR", help="country of numbers without a prefix (FR)")
    _store_options(dnc)


def _report(file: str, what: str, count: int, rejected: tuple[tuple[int, str], ...]) -> int:
    print(f"{file}: {count} {what}, {len(rejected)} rejected")
    for line, reason in rejected:
        print(f"{file}:{line}: {reason}", file=sys.stderr)
    return 1 if rejected else 0


def _run_leads(args: argparse.Namespace) -> int:
    """Import leads or do-not-call numbers; exit 1 when rows were rejected."""
    with create_store(args.url, schema=args.schema) as store:
        if args.leads_command == "import":
            result = import_leads_csv(
                args.file,
                campaign=args.campaign,
                list_id=args.list_id,
                region=args.region,
                timezone=args.timezone,
            )
            saved = save_leads(OutboundLists(store), result.leads, at=time.time())
            return _report(args.file, "leads saved", saved, result.rejected)
        documents = Documents(store)
        dnc, version = load_do_not_call(documents)
        added, rejected = import_do_not_call(
            args.file, dnc, campaign=args.campaign, region=args.region
        )
        save_do_not_call(documents, dnc, at=time.time(), expected_version=version)
        return _report(args.file, "numbers added", added, rejected)


def _configure_survey(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="check a questionnaire file")
    check.add_argument("file", help="the questionnaire's TOML file")
    export = sub.add_parser("export", help="export a questionnaire's stored answers as CSV")
    export.add_argument("file", help="the questionnaire's TOML file")
    export.add_argument("--out", default="-", help="output file (default: standard output)")
    _store_options(export)


def _run_survey(args: argparse.Namespace) -> int:
    """Check a questionnaire, or export its answers from the event log."""
    questionnaire = load_questionnaire(args.file)
    if args.survey_command == "check":
        asked = sum(1 for q in questionnaire.questions if q.kind != "info")
        print(
            f"{args.file}: questionnaire {questionnaire.name!r},"
            f" {len(questionnaire.questions)} steps, {asked} questions: ok"
        )
        return 0
    with create_store(args.url, schema=args.schema) as store:
        answers = stored_answers(EventLog(store))
    if args.out == "-":
        rows = export_answers_csv(questionnaire, answers, sys.stdout)
    else:
        with open(args.out, "w", newline="", encoding="utf-8") as handle:
            rows = export_answers_csv(questionnaire, answers, handle)
    print(f"{questionnaire.name}: {rows} calls exported", file=sys.stderr)
    return 0


def _configure_campaign(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="check an outbound campaign file")
    check.add_argument("file", help="the campaign's TOML file")


def _run_campaign(args: argparse.Namespace) -> int:
    """Check a campaign file and summarise it."""
    c = load_campaign(args.file)
    windows = ", ".join(sorted(c.country_windows)) or "none"
    print(
        f"{args.file}: campaign {c.name!r}, {c.mode} mode, {c.regime} drop rate capped at"
        f" {c.drop_cap:.1%}, {c.max_attempts} attempts, window {c.window.start:%H:%M}-"
        f"{c.window.end:%H:%M} (country windows: {windows}),"
        f" dispositions: {', '.join(c.dispositions) or 'none'}: ok"
    )
    if c.outbound is None:
        print(f"{args.file}: no [outbound] table: the live dialer dials nothing without a policy")
    else:
        print(
            f"{args.file}: outbound: {len(c.outbound.allowed)} allowed ranges,"
            f" {len(c.outbound.denied)} denied"
        )
    return 0


COMMANDS["campaign"] = Command(
    "campaign", "check outbound campaign files", _configure_campaign, _run_campaign
)
COMMANDS["leads"] = Command(
    "leads", "import lead lists and do-not-call numbers", _configure_leads, _run_leads
)
COMMANDS["survey"] = Command(
    "survey", "check questionnaires, export their answers", _configure_survey, _run_survey
)
