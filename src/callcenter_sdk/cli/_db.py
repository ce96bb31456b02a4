"""``callcenter db``: create or migrate the database schema, import customers."""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy.engine import make_url

from ..cti import CustomerDirectory, import_customers_csv
from ..store import DEFAULT_URL, create_store
from ._main import COMMANDS, Command
from ._url import database_url

URL_ENV = "CALLCENTER_DATABASE_URL"
"""Environment variable read when ``--url`` is not given."""


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, help_text in (
        ("upgrade", "apply the migrations shipped with callcenter_sdk"),
        ("current", "print the schema revision of the database"),
        ("import-customers", "import customers from a CRM's CSV export"),
    ):
        action = sub.add_parser(name, help=help_text, description=help_text)
        action.add_argument(
            "--url",
            default=os.environ.get(URL_ENV, DEFAULT_URL),
            type=database_url,
            help=f"SQLAlchemy URL (default: ${URL_ENV}, else the data directory's {DEFAULT_URL})",
        )
        action.add_argument(
            "--schema", default=None, help="PostgreSQL only: work inside this schema"
        )
        if name == "upgrade":
            action.add_argument("--revision", default="head", help="target revision (head)")
        if name == "import-customers":
            action.add_argument("file", help="CSV with a header: number, name, email, phones...")
            action.add_argument(
                "--region", default="FR", help="country of numbers without a prefix (FR)"
            )


def _run(args: argparse.Namespace) -> int:
    if args.db_command == "import-customers":
        return _import(args)
    shown = make_url(args.url).render_as_string(hide_password=True)
    with create_store(args.url, schema=args.schema, upgrade=False) as store:
        if args.db_command == "upgrade":
            store.upgrade(args.revision)
        print(f"{shown}: schema revision {store.revision() or 'none'}")
    return 0


def _import(args: argparse.Namespace) -> int:
    """Import the CSV; exit 1 when rows were rejected, so scripts notice."""
    with create_store(args.url, schema=args.schema) as store:
        report = import_customers_csv(CustomerDirectory(store, region=args.region), args.file)
    print(f"{args.file}: {report.saved} customers saved, {len(report.rejected)} rejected")
    for line, reason in report.rejected:
        print(f"{args.file}:{line}: {reason}", file=sys.stderr)
    return 1 if report.rejected else 0


COMMANDS["db"] = Command(
    "db", "create or migrate the database schema, import customers", _configure, _run
)
