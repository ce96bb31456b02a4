"""Without pjsua2 the library still imports, and the pjsua2 backend says how to get it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import callcenter_sdk as cc
from callcenter_sdk.media._pjsua2 import HOW_TO_GET_PJSUA2

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import anyio
    import callcenter_sdk as cc

    # no other module of the library needs pjsua2 to import (a module failing for
    # an unrelated reason, such as a colleague's work in progress, is not our test)
    for info in pkgutil.walk_packages(cc.__path__, "callcenter_sdk."):
        if info.name.startswith("callcenter_sdk.media._pjsua2"):
            continue  # the worker's own modules: they are the ones that need it
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            if "pjsua2" in repr(exc) + repr(exc.__cause__):
                sys.exit(f"{info.name} needs pjsua2 to import: {exc!r}")

    try:
        import callcenter_sdk.media._pjsua2
    except cc.BackendUnavailableError as exc:
        assert isinstance(exc, ImportError) and isinstance(exc, cc.MediaError)
        print("GUARD:", exc)
    else:
        sys.exit("the pjsua2 backend imported without pjsua2")

    async def start_pool():
        from callcenter_sdk.media import create_media_pool
        async with create_media_pool(1):
            pass

    try:
        anyio.run(start_pool)
    except cc.BackendUnavailableError as exc:
        print("POOL:", exc)
    """
)


def test_missing_pjsua2_raises_backend_unavailable_with_instructions(tmp_path: Path) -> None:
    """With a `pjsua2` that fails to import first on the path, the rest of the
    library imports, importing the backend raises BackendUnavailableError with the
    install instructions, and starting a pool raises it too (from the workers'
    fork server)."""
    (tmp_path / "pjsua2.py").write_text("raise ImportError('pjsua2 blocked for this test')\n")
    path = os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    for where in ("GUARD", "POOL"):
        assert "pip install pjsua2-python" in lines[where]
        assert "PJSUA_MAX_CALLS" in lines[where]
        assert "pjsua2 blocked for this test" in lines[where]


def test_the_instructions_name_the_supported_pythons() -> None:
    """The message tells users of CPython 3.13+ (no wheel) what to do instead."""
    assert "3.8-3.12" in HOW_TO_GET_PJSUA2
    assert issubclass(cc.BackendUnavailableError, ImportError)
