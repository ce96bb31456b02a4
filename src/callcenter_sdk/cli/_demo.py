"""``callcenter demo``: run the hotline reference deployment (``examples/hotline``).

Real SIP calls through pjsua2 on 127.0.0.1 for about two minutes, live
figures every few seconds, then the KPI report computed from the stored
events. Without pjsua2 it says so and runs the same hotline on the virtual
backend in virtual time::

    callcenter demo                 # about two minutes
    callcenter demo --duration 20   # a short run
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import anyio

from .._errors import NotFoundError
from ._main import COMMANDS, Command

_EXAMPLE = Path("examples") / "hotline" / "main.py"


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=float, default=120.0, help="seconds during which callers arrive (120)"
    )
    parser.add_argument(
        "--virtual", action="store_true", help="run on the virtual backend, in virtual time"
    )
    parser.add_argument("--db", help="SQLite file to keep the events in (default: temporary)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the callers (1)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between live lines (5)")


def find_hotline() -> Path:
    """Find ``examples/hotline/main.py``: under the current directory, else the source tree."""
    package_root = Path(__file__).resolve().parents[3]  # src/callcenter_sdk/cli -> repository
    for base in (Path.cwd(), package_root):
        candidate = base / _EXAMPLE
        if candidate.is_file():
            return candidate
    raise NotFoundError(
        f"cannot find {_EXAMPLE} (run `callcenter demo` from the callcenter_sdk repository)"
    )


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("callcenter_hotline_example", path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise NotFoundError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(args: argparse.Namespace) -> int:
    hotline = _load(find_hotline())

    def out(line: str) -> None:
        print(line, flush=True)

    async def main() -> None:
        await hotline.run(
            args.duration,
            virtual=True if args.virtual else None,
            db=args.db,
            seed_value=args.seed,
            out=out,
            every=args.every,
        )

    try:
        anyio.run(main)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


COMMANDS["demo"] = Command(
    name="demo",
    help="run the hotline demo: real SIP calls on loopback, live figures, KPI report",
    configure=_configure,
    run=_run,
)
