"""``callcenter version``: print the library version and the plugins found."""

from __future__ import annotations

import argparse

from .. import __version__
from .._plugins import create_plugin_host
from ._main import COMMANDS, Command


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugins", action="store_true", help="also list the plugins found")


def _run(args: argparse.Namespace) -> int:
    print(f"callcenter_sdk {__version__}")
    if args.plugins:
        for name in create_plugin_host().plugin_names():
            print(f"  plugin: {name}")
    return 0


COMMANDS["version"] = Command("version", "print the version (and plugins)", _configure, _run)
