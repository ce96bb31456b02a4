"""Structured logs: one JSON object per line, from log calls and from a center's events."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Membership, Queue
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.reports import JsonFormatter, json_log_handler, log_events
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    Seat,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Store, temporary_store

DOCS = Path(__file__).parents[2] / "docs" / "reports.md"


def _docs_blocks() -> tuple[str, dict[str, Any]]:
    """docs/reports.md's logging example and the JSON line shown after it."""
    page = DOCS.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- checked: tests/reports/test_json_logs.py -->\n```python\n(.*?)^```\n.*?"
        r"<!-- output -->\n```json\n(.*?)^```",
        page,
        re.MULTILINE | re.DOTALL,
    )
    assert found is not None
    code, shown = found.group(1), json.loads(found.group(2))
    assert isinstance(shown, dict)
    return code, shown


@asynccontextmanager
async def _center(store: Store) -> AsyncIterator[tuple[CallCenter, VirtualBackend]]:
    """Alice answering the support queue, on the virtual backend from 1,000 s."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    config = CallCenterConfig(
        flow=FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build(),
        queues=[Queue(name="support", offer_timeout=10.0, wrap_up=30.0)],
        seats=[
            Seat(
                agent=Agent(id="alice", skills={"support": 3}, memberships=[Membership("support")]),
                device="sip:alice@phones",
            )
        ],
        announce=False,
    )
    async with open_call_center(
        backend, config, store=store, clock=clock, run_timers=False
    ) as center:
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=2.0))
        yield center, backend


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own (not propagating) writing JSON lines to a string buffer."""
    stream = io.StringIO()
    logger = logging.getLogger(f"test.json_logs.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = json_log_handler(stream)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_its_context(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    """Each record is one line that parses as JSON, with time (ISO 8601, UTC), level,
    logger and the formatted message, plus contact_id/agent_id/queue when passed in
    ``extra`` (and only then); an unknown extra key is left out; a value JSON cannot
    hold is written as its str(); an exception's traceback is under ``exception``."""
    logger, stream = logged
    logger.info("offered %s to %s", "c1", "alice", extra={"contact_id": "c1", "agent_id": "alice"})
    logger.warning("queue %s is long", "support", extra={"queue": "support", "secret": "x"})
    logger.debug("a set", extra={"contact_id": {1}})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed", extra={"contact_id": "c2"})
    first, second, third, fourth = _lines(stream)
    assert first["message"] == "offered c1 to alice"
    assert (first["level"], first["logger"]) == ("INFO", logger.name)
    assert first["time"].endswith("+00:00")
    assert (first["contact_id"], first["agent_id"]) == ("c1", "alice")
    assert "queue" not in first
    assert set(second) == {"time", "level", "logger", "message", "queue"}
    assert (second["level"], second["queue"]) == ("WARNING", "support")
    assert third["contact_id"] == "{1}"
    assert fourth["contact_id"] == "c2"
    assert "RuntimeError: boom" in fourth["exception"]


def test_extra_keys_may_not_shadow_the_standard_fields() -> None:
    """Asking the formatter to write ``message`` from extra is refused with ValueError."""
    with pytest.raises(ValueError, match="message"):
        JsonFormatter(keys=("contact_id", "message"))


async def test_a_center_s_events_become_one_json_line_each(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    """log_events writes one line per event of a call answered by Alice, in order, each
    with its kind as message and ``kind``, its time on the virtual clock and its ids
    (contact_id, agent_id, queue); the caller's number is in no line; after the
    returned function is called, no more lines are written."""
    logger, stream = logged
    with temporary_store() as store:
        async with _center(store) as (center, backend):
            stop = log_events(center, logger)
            await center.set_ready("alice", actor="alice")
            call = backend.inject_call(
                "sip:+33142685399@trunk", "sip:support@center", PartyScript(talk_for=5.0)
            )
            await run_virtual(center, backend, 60.0)
            stop()
            written = len(_lines(stream))
            backend.inject_call(
                "sip:+33142685398@trunk", "sip:support@center", PartyScript(talk_for=5.0)
            )
            await run_virtual(center, backend, 10.0)
    lines = _lines(stream)
    assert len(lines) == written
    assert all(line["message"] == line["kind"] for line in lines)
    assert "+33142685399" not in stream.getvalue()
    by_kind = {line["kind"]: line for line in lines}
    entered = by_kind["acd.contact_entered_queue"]
    assert (entered["contact_id"], entered["queue"], entered["at"]) == (call, "support", 1_000.0)
    connected = by_kind["acd.contact_connected"]
    assert (connected["contact_id"], connected["agent_id"], connected["at"]) == (
        call,
        "alice",
        1_002.0,
    )
    kinds = [line["kind"] for line in lines if line.get("contact_id") == call]
    assert kinds.index("acd.contact_entered_queue") < kinds.index("acd.contact_offered")
    assert kinds.index("acd.contact_offered") < kinds.index("acd.contact_connected")
    assert kinds.index("acd.contact_connected") < kinds.index("acd.contact_completed")
    wrap_end = [
        line
        for line in lines
        if line["kind"] == "acd.agent_state_changed" and line["at"] == 1_037.0
    ]
    assert [line["agent_id"] for line in wrap_end] == ["alice"]


async def test_the_documented_setup_writes_json_lines_to_standard_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The docs/reports.md logging example, run against a center: standard error gets
    one JSON line per event from the callcenter_sdk.events logger, and the line of the
    connection is exactly the one the page shows (the time aside)."""
    code, shown = _docs_blocks()
    package = logging.getLogger("callcenter_sdk")
    handlers, level = list(package.handlers), package.level
    try:
        with temporary_store() as store:
            async with _center(store) as (center, backend):
                namespace: dict[str, object] = {"center": center}
                exec(code, namespace)  # noqa: S102 - the documentation's own example
                await center.set_ready("alice", actor="alice")
                backend.inject_call(
                    "sip:+33142685399@trunk", "sip:support@center", PartyScript(talk_for=5.0)
                )
                await run_virtual(center, backend, 60.0)
                stop = namespace["stop_logging"]
                assert callable(stop)
                stop()
    finally:
        for handler in set(package.handlers) - set(handlers):
            package.removeHandler(handler)
        package.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    events = [line for line in lines if line["logger"] == "callcenter_sdk.events"]
    assert len(events) > 10
    (connected,) = [line for line in events if line["kind"] == "acd.contact_connected"]
    assert connected == shown | {"time": connected["time"]}
