"""Subcommands are imported only when they run, so ``callcenter --help`` is quick."""

from __future__ import annotations

import importlib
import subprocess
import sys

from callcenter_sdk.cli import COMMANDS, SUBCOMMANDS

_COUNT = """
import sys
from callcenter_sdk.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith("callcenter_sdk")), file=sys.stderr)
"""


def _imported(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _COUNT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules: list[str] = eval(done.stderr.strip().splitlines()[-1])  # noqa: S307 - our own list
    return modules


def test_help_imports_no_subcommand() -> None:
    """``callcenter --help`` loads the package root and the parser, nothing else."""
    modules = _imported("--help")
    assert len(modules) <= 10, modules
    assert not [
        m
        for m in modules
        if m.startswith("callcenter_sdk.cli._") and m != "callcenter_sdk.cli._main"
    ]
    assert "callcenter_sdk.store" not in modules


def test_a_subcommand_imports_only_its_own_module() -> None:
    """``callcenter staff --help`` imports the staffing code, not the store or the web app."""
    modules = _imported("staff", "--help")
    assert "callcenter_sdk.cli._staff" in modules
    assert "callcenter_sdk.kpi" in modules
    assert "callcenter_sdk.cli._db" not in modules
    assert "callcenter_sdk.store" not in modules
    assert "callcenter_sdk.web" not in modules


def test_the_table_matches_what_each_module_registers() -> None:
    """Each module of the lazy table registers its commands with the help line shown
    by ``callcenter --help``, so the short list never lies about a command."""
    for name, (module, help_text) in SUBCOMMANDS.items():
        importlib.import_module(module)
        assert COMMANDS[name].name == name
        assert COMMANDS[name].help == help_text, name
    assert set(COMMANDS) == set(SUBCOMMANDS)
