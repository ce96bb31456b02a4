"""``callcenter accounts``: people's passwords and API tokens for the web app.

::

    callcenter accounts set-password agent1 --config center.toml   # asks twice, no echo
    echo "$PASSWORD" | callcenter accounts set-password agent1 --store sqlite:///center.sqlite
    callcenter accounts token agent1 --config center.toml --label crm   # prints a new token

With ``--config`` the person must be in the center's org (a typo would
otherwise make an account nobody can use) and the store is the center's. A
password is read from the terminal without echo, or from standard input's
first line when it is not a terminal (scripts, tests). A token is printed
once; the store keeps only its SHA-256.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time

from .._errors import ConfigError, NotFoundError, ValidationError
from ..runtime import load_center
from ..store import DEFAULT_URL, Accounts, Store, create_store
from ._main import COMMANDS, Command

URL_ENV = "CALLCENTER_DATABASE_URL"


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    setter = sub.add_parser(
        "set-password", help="set a person's password (from the terminal, or stdin)"
    )
    token = sub.add_parser("token", help="print a new API token for a person")
    token.add_argument("--label", default="cli", help="what the token is for (cli)")
    remove = sub.add_parser("remove", help="forget a person's password and tokens")
    for action in (setter, token, remove):
        action.add_argument("person", help="the person's id in the org")
        where = action.add_mutually_exclusive_group()
        where.add_argument("--config", help="the center's TOML file: its store and its org")
        where.add_argument(
            "--store",
            default=None,
            help=f"SQLAlchemy URL (default: ${URL_ENV}, else the data directory's database)",
        )


def _open(args: argparse.Namespace) -> Store:
    """The store named by ``--config`` or ``--store``, after checking the person exists."""
    if args.config is not None:
        setup = load_center(args.config)
        ids = {p.id for p in setup.org.people}
        if args.person not in ids:
            raise NotFoundError(f"{args.config}: the org has no person {args.person!r}")
        return setup.open_store()
    return create_store(args.store or os.environ.get(URL_ENV, DEFAULT_URL))


def _password(person: str) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("<stdin>", (), f"the password of {person} on the first line")
        return line
    first = getpass.getpass(f"password for {person}: ")
    if getpass.getpass("again: ") != first:
        raise ValidationError("the two passwords differ; nothing was changed")
    return first


def _run(args: argparse.Namespace) -> int:
    if args.accounts_command == "set-password":
        password = _password(args.person)  # before the store: a typo costs no migration
        with _open(args) as store:
            Accounts(store).set_password(args.person, password, at=time.time())
        print(f"{args.person}: password set", file=sys.stderr)
        return 0
    with _open(args) as store:
        accounts = Accounts(store)
        if args.accounts_command == "token":
            print(accounts.create_token(args.person, at=time.time(), label=args.label))
            return 0
        accounts.remove(args.person)
    print(f"{args.person}: password and tokens removed", file=sys.stderr)
    return 0


COMMANDS["accounts"] = Command(
    "accounts", "set people's passwords, make API tokens for the web app", _configure, _run
)
