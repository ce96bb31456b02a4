"""The CRM write-back hook: outcomes, the budgeted write_back, and the example's CRM plugin."""

from __future__ import annotations

import contextlib
import importlib.util
import sqlite3
import threading
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import anyio
import pytest

from callcenter_sdk import (
    EventStream,
    ManualClock,
    PluginHost,
    ValidationError,
    create_plugin_host,
    event_from_dict,
    event_to_dict,
    hookimpl,
)
from callcenter_sdk.cti import (
    Outcome,
    OutcomeFailed,
    OutcomeKind,
    OutcomeTimedOut,
    OutcomeWritten,
    write_back,
)

CRM_MODULE = Path(__file__).parents[2] / "examples" / "telesales" / "crm.py"

ORDER = Outcome(
    contact_id="call-1",
    agent_id="ann",
    campaign="fibre",
    disposition="sale",
    kind=OutcomeKind.ORDER,
    at=100.0,
    lead_id="web-0001",
    phone="+33612345678",
    details={"items": ["fibre-1000"], "amount": "39.99", "currency": "EUR"},
)


def _host(**plugins: object) -> PluginHost:
    """A host with only the given plugins, registered under their keyword names.

    pluggy calls the last registered first: the call order is the reverse.
    """
    host = create_plugin_host(entry_points=False)
    for name, plugin in plugins.items():
        host.register(plugin, name)
    return host


class Barrier:
    """Two async plugins that can only answer once both have started: proves concurrency."""

    def __init__(self) -> None:
        self.started = 0
        self.both = anyio.Event()

    async def meet(self) -> None:
        self.started += 1
        if self.started == 2:
            self.both.set()
        await self.both.wait()


class MeetingCrm:
    def __init__(self, barrier: Barrier, reference: str) -> None:
        self.barrier, self.reference = barrier, reference

    @hookimpl
    async def callcenter_record_outcome(self, outcome: Outcome) -> str:
        await self.barrier.meet()
        return f"{self.reference}/{outcome.key}"


class FastCrm:
    @hookimpl
    async def callcenter_record_outcome(self) -> str:
        return "FAST-1"


class SyncCrm:
    @hookimpl
    def callcenter_record_outcome(self, outcome: Outcome) -> str:
        return f"SYNC-{outcome.contact_id}"


class SilentCrm:
    """A CRM that never answers (a hung connection)."""

    @hookimpl
    async def callcenter_record_outcome(self) -> str:
        await anyio.Event().wait()
        return "never"


class BlockingCrm:
    """A synchronous CRM blocking its thread until the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def callcenter_record_outcome(self) -> str:
        self.release.wait(30)
        return "late"


class BrokenCrm:
    @hookimpl
    async def callcenter_record_outcome(self) -> str:
        raise ConnectionError("CRM unreachable")


class NonsenseCrm:
    @hookimpl
    def callcenter_record_outcome(self) -> object:
        return 42


class NotMineCrm:
    @hookimpl
    def callcenter_record_outcome(self) -> None:
        return None


def test_an_outcome_is_keyed_by_contact_and_kind_and_cannot_change() -> None:
    """The default idempotency key names the contact and the kind (the same order
    written twice has the same key, the call's appointment another); the kind may be
    given by its value; details are read-only and their lists become tuples."""
    assert ORDER.key == "call-1:order"
    same = Outcome(
        contact_id="call-1",
        agent_id="ann",
        campaign="fibre",
        disposition="sale",
        kind="order",
        at=100.0,
        lead_id="web-0001",
        phone="+33612345678",
        details={"items": ("fibre-1000",), "amount": "39.99", "currency": "EUR"},
    )
    assert same == ORDER
    assert same.kind is OutcomeKind.ORDER
    appointment = Outcome(
        contact_id="call-1",
        agent_id="ann",
        campaign="fibre",
        disposition="sale",
        kind=OutcomeKind.APPOINTMENT,
        at=100.0,
    )
    assert appointment.key == "call-1:appointment"
    assert ORDER.details["items"] == ("fibre-1000",)
    assert isinstance(ORDER.details, MappingProxyType)
    with pytest.raises(TypeError):
        ORDER.details["amount"] = "0.00"  # type: ignore[index]
    assert Outcome(**{**_fields(ORDER), "key": "crm-42"}).key == "crm-42"


def _fields(outcome: Outcome) -> dict[str, Any]:
    return {
        name: getattr(outcome, name)
        for name in ("contact_id", "agent_id", "campaign", "disposition", "kind", "at", "details")
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [({"contact_id": ""}, "contact"), ({"key": ""}, "empty key"), ({"kind": "sale"}, "sale")],
)
def test_an_outcome_without_contact_key_or_known_kind_is_refused(
    change: dict[str, str], message: str
) -> None:
    """A nameless outcome could never be recognised again; an unknown kind is no kind."""
    with pytest.raises(ValueError, match=message) as raised:
        Outcome(**{**_fields(ORDER), **change})
    if "kind" not in change:
        assert isinstance(raised.value, ValidationError)


async def test_every_plugin_writes_concurrently_and_their_references_are_kept() -> None:
    """Two CRM plugins that can only answer once both have started both answer (they ran
    at the same time), with a synchronous one beside them; one event lists every
    reference in call order (the last registered first), stamped by the clock, and is
    published to the stream."""
    barrier = Barrier()
    host = _host(erp=MeetingCrm(barrier, "ERP"), crm=MeetingCrm(barrier, "CRM"), billing=SyncCrm())
    stream = EventStream(keep=True)
    result = await write_back(host, ORDER, budget=60.0, clock=ManualClock(7.0), events=stream)
    assert dict(result.references) == {
        "erp": "ERP/call-1:order",
        "crm": "CRM/call-1:order",
        "billing": "SYNC-call-1",
    }
    assert result.unfinished == ()
    assert stream.history() == list(result.events)
    (written,) = result.events
    assert written == OutcomeWritten(
        at=7.0,
        contact_id="call-1",
        key="call-1:order",
        outcome=OutcomeKind.ORDER,
        references=(
            ("billing", "SYNC-call-1"),
            ("crm", "CRM/call-1:order"),
            ("erp", "ERP/call-1:order"),
        ),
    )
    assert event_from_dict(event_to_dict(written)) == written


async def test_a_slow_plugin_is_cut_off_at_the_budget_and_reported() -> None:
    """A CRM that never answers and one that blocks its thread are abandoned at the
    deadline, each reported as timed out and listed as unfinished; the fast plugin's
    reference is written and reported all the same."""
    blocking = BlockingCrm()
    host = _host(fast=FastCrm(), silent=SilentCrm(), blocking=blocking)
    stream = EventStream(keep=True)
    try:
        result = await write_back(host, ORDER, budget=0.2, clock=ManualClock(3.0), events=stream)
    finally:
        blocking.release.set()
    assert dict(result.references) == {"fast": "FAST-1"}
    assert result.unfinished == ("blocking", "silent")
    assert stream.history(OutcomeTimedOut) == [
        OutcomeTimedOut(at=3.0, contact_id="call-1", key="call-1:order", plugin=name, budget=0.2)
        for name in ("blocking", "silent")
    ]
    assert [type(e) for e in result.events] == [OutcomeWritten, OutcomeTimedOut, OutcomeTimedOut]


async def test_a_raising_or_nonsense_plugin_is_reported_and_the_others_kept() -> None:
    """write_back never raises for a plugin: the one that raises and the one answering
    a number are each an OutcomeFailed naming it and the error, the others' references
    stay, and a plugin answering None (not its kind of outcome) is neither."""
    host = _host(broken=BrokenCrm(), good=SyncCrm(), nonsense=NonsenseCrm(), other=NotMineCrm())
    stream = EventStream(keep=True)
    result = await write_back(host, ORDER, clock=ManualClock(1.0), events=stream)
    assert dict(result.references) == {"good": "SYNC-call-1"}
    assert result.unfinished == ("nonsense", "broken")
    assert stream.history(OutcomeFailed) == [
        OutcomeFailed(
            at=1.0,
            contact_id="call-1",
            key="call-1:order",
            plugin="nonsense",
            error="answered 42, not a reference string or None",
        ),
        OutcomeFailed(
            at=1.0,
            contact_id="call-1",
            key="call-1:order",
            plugin="broken",
            error="ConnectionError: CRM unreachable",
        ),
    ]
    assert len(stream.history(OutcomeWritten)) == 1


async def test_an_outcome_no_plugin_takes_is_no_write() -> None:
    """With no CRM plugin (or only ones it is not for) nothing is written and nothing
    claims it was: no reference, no event."""
    for host in (_host(), _host(other=NotMineCrm())):
        result = await write_back(host, ORDER, clock=ManualClock(0.0))
        assert result.references == {}
        assert result.unfinished == ()
        assert result.events == ()


# ---------------------------------------------------------------- the example's CRM


@pytest.fixture(scope="module")
def crm_module() -> ModuleType:
    """examples/telesales/crm.py, loaded from its path as the example loads it."""
    spec = importlib.util.spec_from_file_location("telesales_crm_under_test", CRM_MODULE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def crm(crm_module: ModuleType, tmp_path: Path) -> Any:
    """The example's CRM on a fresh SQLite file."""
    return crm_module.SqliteCrm(tmp_path / "crm.db")


def _rows(crm: Any, table: str) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(crm.path)) as db:
        db.row_factory = sqlite3.Row
        return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608


async def test_the_example_crm_writes_an_outcome_once_whatever_the_retries(crm: Any) -> None:
    """The same order written twice in a row, then twice at the same time (a retry
    racing a late first write), is one row in `orders` with one reference, answered
    every time; its columns hold the outcome and its details."""
    host = _host(crm=crm)
    first = await write_back(host, ORDER, clock=ManualClock(0.0))
    again = await write_back(host, ORDER, clock=ManualClock(1.0))
    raced: list[str] = []

    async def write() -> None:
        raced.append((await write_back(host, ORDER, clock=ManualClock(2.0))).references["crm"])

    async with anyio.create_task_group() as group:
        group.start_soon(write)
        group.start_soon(write)
    assert first.references == again.references == {"crm": "ORD-000001"}
    assert raced == ["ORD-000001", "ORD-000001"]
    (row,) = _rows(crm, "orders")
    assert dict(row) == {
        "id": 1,
        "key": "call-1:order",
        "contact_id": "call-1",
        "agent_id": "ann",
        "campaign": "fibre",
        "customer": None,
        "lead_id": "web-0001",
        "phone": "+33612345678",
        "taken_at": 100.0,
        "items": "fibre-1000",
        "amount": "39.99",
        "currency": "EUR",
    }
    assert crm.counts() == {"orders": 1, "appointments": 0, "quotes": 0}


async def test_the_example_crm_files_each_kind_in_its_table(crm: Any) -> None:
    """An appointment and a quote go to their tables with their own references; a
    survey is not for this CRM (None: no reference); an order missing its amount is
    the plugin's failure, reported, and leaves no row."""
    host = _host(crm=crm)
    base = _fields(ORDER)
    appointment = Outcome(
        **{
            **base,
            "kind": OutcomeKind.APPOINTMENT,
            "details": {"when": "2026-11-26T09:00:00+01:00", "where": "home", "what": "install"},
        }
    )
    quote = Outcome(
        **{
            **base,
            "contact_id": "call-2",
            "kind": OutcomeKind.QUOTE,
            "details": {
                "items": ["fibre-500", "tv"],
                "amount": "35.00",
                "currency": "EUR",
                "follow_up": "2026-12-01",
            },
        }
    )
    survey = Outcome(**{**base, "kind": OutcomeKind.SURVEY, "details": {"q1": "yes"}})
    broken = Outcome(**{**base, "contact_id": "call-3", "details": {"items": ["x"]}})
    assert (await write_back(host, appointment)).references == {"crm": "APT-000001"}
    assert (await write_back(host, quote)).references == {"crm": "QUO-000001"}
    assert (await write_back(host, survey)).references == {}
    failed = await write_back(host, broken)
    assert failed.unfinished == ("crm",)
    (event,) = failed.events
    assert isinstance(event, OutcomeFailed)
    assert event.error == "KeyError: 'amount'"
    assert crm.counts() == {"orders": 0, "appointments": 1, "quotes": 1}
    assert _rows(crm, "appointments")[0]["starts_at"] == "2026-11-26T09:00:00+01:00"
    assert _rows(crm, "quotes")[0]["items"] == "fibre-500,tv"
    assert _rows(crm, "quotes")[0]["follow_up"] == "2026-12-01"
