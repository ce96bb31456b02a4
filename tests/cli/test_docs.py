"""docs/cli.md shows errors exactly as the command line prints them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcenter_sdk.cli import SUBCOMMANDS, main

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def test_the_error_lines_shown_are_the_ones_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each line of the page's error block is what the command prints for that input."""
    (shown,) = re.findall(r"```text\n(.*?)```", DOC, re.DOTALL)
    monkeypatch.chdir(tmp_path)
    Path("day.csv").write_text("queue,start,volume,aht\nq,25:99,10,180\n", encoding="utf-8")
    Path("leads.csv").write_text(
        "lead_id,phone\nL-17,+33612345678\nL-17,+33612345679\n", encoding="utf-8"
    )
    acme = (ROOT / "examples" / "org" / "acme.toml").read_text(encoding="utf-8")
    Path("org.toml").write_text(acme.replace('floor = "lyon-1"', 'floor = "f9"', 1), "utf-8")
    assert acme.splitlines()[43] == 'floor = "lyon-1"'  # line 44, as the page says
    runs = [
        ["staff", "--forecast", "day.csv", "--sl", "0.8", "--within", "20"],
        [
            "leads",
            "import",
            "leads.csv",
            "--campaign",
            "c",
            "--list",
            "l",
            "--url",
            "sqlite:///x.db",
        ],
        ["org", "check", "org.toml"],
    ]
    printed = []
    for args in runs:
        assert main(args) == 2
        printed.append(capsys.readouterr().err.strip())
    assert printed == shown.strip().splitlines()


def test_the_page_lists_every_command() -> None:
    """The command table names each subcommand the parser knows."""
    for name in SUBCOMMANDS:
        assert f"| `{name}" in DOC, name
