"""``callcenter ivr``: check an IVR flow file before calls run through it."""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

from ..ivr import Flow, FlowWarning, load_flow
from ._main import COMMANDS, Command


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ivr_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate an IVR flow TOML file and summarise it")
    check.add_argument("file", help="the flow TOML file")
    check.add_argument(
        "--no-prompts", action="store_true", help="do not require the prompt files to exist yet"
    )
    check.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1)")


def _run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FlowWarning)
        flow = load_flow(args.file, prompts=not args.no_prompts)
    notes = [str(w.message) for w in caught if issubclass(w.category, FlowWarning)]
    print(f"{args.file}: valid" + (f", {len(notes)} warning(s)" if notes else ""))
    for line in summary(flow):
        print(line)
    for note in notes:
        print(f"warning: {note}")
    return 1 if notes and args.strict else 0


def summary(flow: Flow) -> list[str]:
    """A few lines describing the flow: its nodes by kind, languages and schedules."""
    kinds = Counter(node.kind for node in flow.nodes.values())
    return [
        f"  flow {flow.name!r} starts at {flow.start!r}",
        f"  {len(flow.nodes)} nodes: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())),
        f"  languages: {', '.join(flow.languages)} (default {flow.language})",
        f"  schedules: {', '.join(sorted(flow.schedules)) or 'none'}",
    ]


COMMANDS["ivr"] = Command(name="ivr", help="check IVR flow files", configure=_configure, run=_run)
