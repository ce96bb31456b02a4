"""The running call center killed with SIGKILL and restarted: nothing it promised is lost."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_recovery.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_recovery", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_recovery", module)
    spec.loader.exec_module(module)
    return module


def _check(figures: dict[str, Any]) -> None:
    assert figures["promised_callbacks"], "the trials promised no callback: nothing was tested"
    assert figures["kills"] >= 2
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["order_preserved"] is True
    assert figures["tickets_lost"] == 0


def test_a_killed_center_calls_back_every_promise_once_in_order_on_sqlite() -> None:
    """Two crash trials on SQLite: the center in its own process, killed with SIGKILL
    after a random number of promises while callers wait and tickets are open, then
    killed again while serving, and restarted until idle. Every callback promised to a
    caller is called back exactly once, in the callers' queue order, and every ticket
    opened is still in the store."""
    _check(_bench().crash_loop(None, trials=2, seed=11))


@pytest.mark.postgresql
def test_a_killed_center_calls_back_every_promise_once_in_order_on_postgresql(
    postgresql_url: str,
) -> None:
    """The same crash trials on PostgreSQL."""
    _check(_bench().crash_loop(postgresql_url, trials=2, seed=21))
