"""Crash recovery: a process killed with SIGKILL loses nothing it acknowledged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter_sdk.store import create_engine

WORKER = Path(__file__).with_name("recovery_worker.py")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A (url, schema) the worker processes share: a SQLite file or a fresh schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'center.sqlite3'}", ""
        return
    url: str = request.getfixturevalue("postgresql_url")
    schema = f"tmp_{uuid.uuid4().hex[:16]}"
    yield url, schema
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _worker(mode: str, url: str, schema: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, url, schema],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_loses_no_acknowledged_work_and_duplicates_nothing(
    database: tuple[str, str],
) -> None:
    """1,000 e-mails (ACD contacts), callbacks and tickets survive SIGKILL, times intact."""
    url, schema = database
    holder = _worker("hold", url, schema)
    assert holder.stdout is not None
    acknowledged: dict[str, dict[str, float]] = {"email": {}, "callback": {}, "ticket": {}}
    for line in holder.stdout:
        if line.strip() == "READY":
            break
        ack = json.loads(line)
        acknowledged[ack["kind"]][ack["id"]] = ack["at"]
    else:
        holder.wait()
        pytest.fail(
            f"the worker died before READY: {holder.stderr.read() if holder.stderr else ''}"
        )
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate()
    assert holder.returncode == -signal.SIGKILL
    assert {kind: len(acks) for kind, acks in acknowledged.items()} == dict.fromkeys(
        acknowledged, 1000
    )

    restarted = _worker("recover", url, schema)
    out, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err
    found = json.loads(out)
    for kind, acks in acknowledged.items():
        ids = Counter(key for key, _ in found[kind])
        assert max(ids.values()) == 1, f"duplicated {kind}"
        times = dict(found[kind])
        assert {key: times.get(key) for key in acks} == acks, f"lost or changed {kind}"
    assert found["changed"] == []
    extras = [key for key, _ in found["email"] if key not in acknowledged["email"]]
    assert len(extras) % 10 == 0, "a batch cut by the kill was half written"
    assert len(found["callback"]) == len(found["ticket"]) == 1000
    # Restored into the ACD (in reverse order), the e-mails keep their original
    # arrival times and are served by priority, then original arrival.
    engine = dict(found["engine"])
    assert len(engine) == len(found["email"])
    assert {key: engine[key] for key in acknowledged["email"]} == acknowledged["email"]
    priority = {key: int(key.removeprefix("mail-")) % 3 for key in engine}
    expected = sorted(engine, key=lambda key: (-priority[key], engine[key]))
    order = [key for key, _ in found["engine"]]
    assert [(priority[k], engine[k]) for k in order] == [(priority[k], engine[k]) for k in expected]
