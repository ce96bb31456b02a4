"""``callcenter demo``: the hotline from the command line, as ``make demo`` runs it."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def _demo(*args: str, env: dict[str, str] | None = None, timeout: float) -> str:
    """Run ``python -m callcenter_sdk demo ARGS`` from the repository; return its output.

    It runs in a session of its own, so that whatever it started and left
    behind (a media worker) can be found, and must not exist.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "callcenter_sdk", "demo", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        leftovers = _session(process.pid)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        process.kill()
    assert process.returncode == 0, stderr
    assert leftovers == [], "the demo left processes behind"
    return stdout


def _session(sid: int) -> list[int]:
    """The live processes of session ``sid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _figures(output: str) -> dict[str, str]:
    report = output.split("Hotline report (from the stored event log)")[1]
    return {line[:19].strip(): line[19:].strip() for line in report.splitlines() if line.strip()}


def test_demo_in_virtual_time_prints_live_figures_and_a_report() -> None:
    """``--virtual`` runs half a minute of the hotline in virtual time: wallboard
    lines every 10 virtual seconds, then the report with answered calls."""
    output = _demo("--virtual", "--duration", "30", "--every", "10", timeout=120)
    assert "[   10 s] ivr" in output
    figures = _figures(output)
    assert int(figures["answered"]) >= 1
    assert int(figures["tickets opened"]) == int(figures["answered"])


def test_demo_says_so_and_runs_virtual_when_pjsua2_cannot_be_imported(tmp_path: Path) -> None:
    """With a pjsua2 that fails to import, the demo says so clearly and runs the
    same hotline on the virtual backend instead (a real run, with a report)."""
    (tmp_path / "pjsua2.py").write_text("raise ImportError('this pjsua2 is broken on purpose')\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    output = _demo("--duration", "30", env={"PYTHONPATH": path}, timeout=120)
    assert "pjsua2 cannot be used here" in output
    assert "running the same hotline on the virtual backend" in output
    assert int(_figures(output)["offered"]) >= 1


@pytest.mark.sip
@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None,
    reason="pjsua2 is not installed (pip install pjsua2-python)",
)
def test_demo_over_sip_for_a_few_seconds() -> None:
    """``callcenter demo --duration 6`` places real SIP calls for six seconds,
    lets them finish and prints the report; no media worker outlives it."""
    output = _demo("--duration", "6", "--every", "3", timeout=180)
    assert "call center at sip:hotline@127.0.0.1:" in output
    figures = _figures(output)
    assert int(figures["calls received"]) >= 1
    assert int(figures["events stored"]) > 0
