"""Argument parsing, dispatch and the error boundary of the ``callcenter`` command.

Subcommands are imported lazily: :data:`SUBCOMMANDS` names each one's module
and help line, so ``callcenter --help`` imports no subcommand and
``callcenter staff`` imports only the staffing code. A module registers its
:class:`Command` in :data:`COMMANDS` when imported.

Every error that comes from the user's input ends in :func:`main` as one
line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

import attrs

from .._errors import CallCenterError

__all__ = ["COMMANDS", "SUBCOMMANDS", "Command", "main"]

TRACEBACK_ENV = "CALLCENTER_TRACEBACK"
"""Set to 1 to see the traceback of an unexpected error (a bug) instead of one line."""


@attrs.frozen
class Command:
    """One subcommand.

    Attributes:
        name: The word typed after ``callcenter``.
        help: One line shown by ``callcenter --help``.
        configure: Adds the subcommand's arguments to its parser.
        run: Runs the command with the parsed arguments; returns the exit code.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}
"""Every subcommand imported so far, by name; each module fills in its own."""

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "accounts": (
        "callcenter_sdk.cli._accounts",
        "set people's passwords, make API tokens for the web app",
    ),
    "campaign": ("callcenter_sdk.cli._dialer", "check outbound campaign files"),
    "cluster": (
        "callcenter_sdk.cli._cluster",
        "list a center's cluster nodes, forget one taken out",
    ),
    "db": (
        "callcenter_sdk.cli._db",
        "create or migrate the database schema, import customers",
    ),
    "demo": (
        "callcenter_sdk.cli._demo",
        "run the hotline demo: real SIP calls on loopback, live figures, KPI report",
    ),
    "import": (
        "callcenter_sdk.cli._import",
        "translate an Asterisk or FreeSWITCH queue configuration",
    ),
    "ivr": ("callcenter_sdk.cli._ivr", "check IVR flow files"),
    "kamailio": (
        "callcenter_sdk.cli._kamailio",
        "write Kamailio's dispatcher configuration over every node's media workers",
    ),
    "leads": ("callcenter_sdk.cli._dialer", "import lead lists and do-not-call numbers"),
    "org": ("callcenter_sdk.cli._org", "check an org TOML file or print its hierarchy"),
    "report": (
        "callcenter_sdk.cli._report",
        "print KPIs from the store by interval, queue, team, agent or client",
    ),
    "serve": (
        "callcenter_sdk.cli._serve",
        "run a call center from its TOML file, with its web server",
    ),
    "staff": ("callcenter_sdk.cli._staff", "print the agents a forecast needs (Erlang C/A)"),
    "survey": (
        "callcenter_sdk.cli._dialer",
        "check questionnaires, export their answers",
    ),
    "version": ("callcenter_sdk.cli._version", "print the version (and plugins)"),
}
"""Each subcommand's module and help line; the module is imported only to run it."""


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in SUBCOMMANDS else None
    return None


def _build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    chosen = _chosen(argv)
    if chosen is not None:
        importlib.import_module(SUBCOMMANDS[chosen][0])
    parser = argparse.ArgumentParser(
        prog="callcenter", description="Tools for callcenter_sdk deployments."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in sorted(SUBCOMMANDS.keys() | COMMANDS.keys()):
        help_text = COMMANDS[name].help if name in COMMANDS else SUBCOMMANDS[name][1]
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen or (name in COMMANDS and name not in SUBCOMMANDS):
            COMMANDS[name].configure(sub)
            sub.set_defaults(_run=COMMANDS[name].run)
    return parser


def _message(exc: BaseException) -> str:
    """One line saying what is wrong with the input, from an error raised for it."""
    if isinstance(exc, CallCenterError):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError):
        return (
            f"this needs the Python package {exc.name!r}, which is not installed"
            " (see the extras: pip install 'callcenter_sdk[postgresql,web,channels,reports]')"
        )
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "input"
        return f"{where}: {exc.strerror or exc}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: {exc}"
    return f"{type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``callcenter`` command line and return its exit code.

    The one error boundary of the command line: an error raised for bad
    input (a :class:`~callcenter_sdk.CallCenterError`, an unreadable file,
    a missing optional package) is printed as one line naming the file and,
    where known, the line and column, with exit status 2. An unexpected
    error is a bug: it is printed as one line with exit status 70
    (``EX_SOFTWARE``), and its traceback shown when ``CALLCENTER_TRACEBACK=1``.
    Ctrl-C exits with 130 without a traceback.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser(words)
    args = parser.parse_args(words)
    run: Callable[[argparse.Namespace], int] = args._run
    prefix = f"callcenter {args.command}"
    try:
        return run(args)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except (CallCenterError, ModuleNotFoundError, OSError, UnicodeDecodeError) as exc:
        print(f"{prefix}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        print(
            f"{prefix}: internal error: {_message(exc)} (a bug: please report it;"
            f" {TRACEBACK_ENV}=1 shows the traceback)",
            file=sys.stderr,
        )
        return 70
