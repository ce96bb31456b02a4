"""Argument parsing and dispatch for the ``callcenter`` command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

import attrs

from .._errors import CallCenterError

__all__ = ["COMMANDS", "Command", "main"]


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
"""Every subcommand by name; modules listed in ``_COMMAND_MODULES`` fill it."""

_COMMAND_MODULES: tuple[str, ...] = (
    "callcenter_sdk.cli._version",
    "callcenter_sdk.cli._org",
    "callcenter_sdk.cli._db",
    "callcenter_sdk.cli._staff",
    "callcenter_sdk.cli._ivr",
    "callcenter_sdk.cli._dialer",
    "callcenter_sdk.cli._demo",
    "callcenter_sdk.cli._serve",
    "callcenter_sdk.cli._accounts",
    "callcenter_sdk.cli._report",
    "callcenter_sdk.cli._import",
)


def _build_parser() -> argparse.ArgumentParser:
    for module in _COMMAND_MODULES:
        importlib.import_module(module)
    parser = argparse.ArgumentParser(
        prog="callcenter", description="Tools for callcenter_sdk deployments."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in sorted(COMMANDS):
        command = COMMANDS[name]
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``callcenter`` command line and return its exit code.

    Library errors are printed as one clear line (exit code 2) instead of a
    traceback: they are the user's to fix, not bugs.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args._run
    try:
        return run(args)
    except CallCenterError as exc:
        print(f"callcenter {args.command}: error: {exc}", file=sys.stderr)
        return 2
