"""A media worker process imports only what media needs.

Every module a worker loads is paid for in each of the pool's processes
(about 25 of them for 100 bridged calls with the stock pjsua2), so the
worker's entry point and the modules it runs must not drag in the engines,
the store or the test tooling.
"""

from __future__ import annotations

import json
import subprocess
import sys

# What a worker holds: what the fork server (``python -m
# callcenter_sdk.media._forkserver FD``) loads before it forks it, that is its
# own module, the worker's entry point and the pjsua2 backend (when pjsua2 is
# installed). ``python -m callcenter_sdk.media._worker_main FD`` loads less.
SCRIPT = """
import json, sys
import callcenter_sdk.media._forkserver
import callcenter_sdk.media._worker_main
try:
    import callcenter_sdk.media._pjsua2
except ImportError:  # BackendUnavailableError: no pjsua2 here; the rest still counts
    pass
print(json.dumps(sorted(sys.modules)))
"""

NOT_IN_A_WORKER = (
    "anyio",
    "asyncio",
    "callcenter_sdk.acd",
    "callcenter_sdk.kpi",
    "callcenter_sdk.media._forking",
    "callcenter_sdk.media._front",
    "callcenter_sdk.media._pool",
    "callcenter_sdk.media._testing",
    "callcenter_sdk.media._virtual",
    "callcenter_sdk.runtime",
    "callcenter_sdk.sim",
    "callcenter_sdk.store",
    "hypothesis",
    "pytest",
    "sqlalchemy",
)


def _worker_modules() -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    modules: list[str] = json.loads(out.stdout)
    return modules


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in names or m.startswith(tuple(n + "." for n in names)))


def test_a_worker_imports_neither_engines_nor_store_nor_test_tools() -> None:
    """A fresh interpreter loading the worker's modules loads no ACD, KPI,
    store, simulator, runtime, anyio or hypothesis, and none of the
    supervisor-side media modules (pool, front door, virtual backend)."""
    modules = _worker_modules()
    assert "callcenter_sdk.media._worker_main" in modules
    assert "callcenter_sdk.media._forkserver" in modules
    assert _loaded(modules, NOT_IN_A_WORKER) == []


def test_a_worker_imports_no_plugin_host() -> None:
    """No pluggy and no plugin host in a worker: workers run no plugins."""
    modules = _worker_modules()
    assert _loaded(modules, ("pluggy", "callcenter_sdk._plugins", "callcenter_sdk.hookspecs")) == []
