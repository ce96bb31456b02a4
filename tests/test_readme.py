"""The README's example works as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_python_example_runs_and_prints_what_it_claims() -> None:
    """The pasteable example runs in a fresh interpreter, routes the call
    (ASA of 4 s after four seconds of ringing) and prints a staffing answer."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "the README has no python example"
    out = subprocess.run(
        [sys.executable, "-c", blocks[0]], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    assert "acd.contact_completed" in out
    assert "ASA: 4.0 s" in out
    assert re.search(r"\d+ agents, \d+ scheduled: \d+\.\d% in 20 s", out)


def test_readme_gives_exactly_the_two_setup_commands() -> None:
    """A newcomer finds exactly `make demo` and `make test` under the set-up heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Set up on a fresh machine", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", section, re.MULTILINE)
    assert commands == ["demo", "test"]
