"""Bars and tables are drawn on a terminal only: pipes and logs get plain lines.

The commands run as processes of their own, once with standard output and
error piped (as in a script or a CI log) and once on a pseudo-terminal (as a
person at a terminal sees them).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
STAFF = ["-m", "callcenter_sdk.cli", "staff", "--volume", "100", "--aht", "180"]
STAFF += ["--sl", "0.8", "--within", "20"]
STAFFING = [str(ROOT / "examples" / "staffing" / "main.py"), "--replications", "2"]
# What Rich draws: a bar's segments, a table's rule, and escape sequences.
DRAWN = ("\r", "\x1b", "━", "─")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "TERM", "COLUMNS"}}
    return {**env, "PYTHONPATH": str(ROOT / "src"), **extra}


def _piped(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=ROOT,
        env=_env(**env),
    )


def _on_a_terminal(args: list[str]) -> str:
    """Run on a pseudo-terminal (stdout and stderr both) and return all it wrote."""
    main, child = pty.openpty()
    with subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        cwd=ROOT,
        env=_env(TERM="xterm-256color", COLUMNS="200"),
    ) as process:
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child side is closed, everything is read
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=300) == 0
    os.close(main)
    return b"".join(chunks).decode("utf-8")


def test_piped_output_has_no_bar_no_rule_and_no_escape() -> None:
    """Piped, ``callcenter staff`` prints plain right-aligned columns and the staffing
    example's simulation draws no progress bar — even with FORCE_COLOR set, as CI sets
    it — while both still print their results."""
    staff = _piped(STAFF, FORCE_COLOR="1")
    header = "  queue  start  volume    aht  load     model  raw  scheduled  service_level"
    row = "default  00:00   100.0  180.0  10.0  erlang_c   14         14         0.8884"
    assert staff.stdout.splitlines() == [
        header + "   asa  p_abandon  occupancy",
        row + "  7.84        0.0     0.7143",
        "total scheduled: 14 agent-intervals of 30 min (7 agent-hours)",
    ]
    example = _piped(STAFFING, FORCE_COLOR="1")
    assert "Whole day, simulated" in example.stdout
    for process in (staff, example):
        for text in (process.stdout, process.stderr):
            assert not [mark for mark in DRAWN if mark in text], text[:400]


def test_a_terminal_gets_the_rich_table_and_the_bar() -> None:
    """On a terminal the same commands draw: a ruled table with bold headers, and a
    progress bar that reaches 100 % and is left on screen, finished."""
    staff = _on_a_terminal(STAFF)
    assert "─" in staff
    assert "\x1b[1m" in staff  # bold headers
    assert "erlang_c" in staff
    example = _on_a_terminal(STAFFING)
    assert "━" in example
    assert "100%" in example
    assert "\x1b[?25h" in example  # the cursor is shown again after the bar
    assert "Whole day, simulated" in example


def test_the_report_table_is_rich_on_a_terminal_and_plain_in_a_pipe(tmp_path: Path) -> None:
    """``callcenter report`` over an empty store: on a terminal its header is a ruled
    Rich table, piped it is the plain header line with nothing drawn."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    report = ["-m", "callcenter_sdk", "report", "--url", url]
    piped = _piped(report, FORCE_COLOR="1")
    assert piped.stdout.split() == [
        "offered", "answered", "abandoned", "handled", "service_level", "abandon_rate",
        "asa", "average_wait", "longest_wait", "aht", "occupancy", "utilization",
    ]  # fmt: skip
    assert not [mark for mark in DRAWN if mark in piped.stdout]
    drawn = _on_a_terminal(report)
    assert "─" in drawn
    assert "\x1b[1m" in drawn
    assert "service_level" in drawn
