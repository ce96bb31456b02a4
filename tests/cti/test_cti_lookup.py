"""The budgeted customer lookup and the screen pop."""

from __future__ import annotations

import threading

import anyio
import pytest

from callcenter_sdk import EventStream, ManualClock, create_plugin_host, hookimpl
from callcenter_sdk.cti import (
    Customer,
    CustomerDirectory,
    CustomerIdentified,
    CustomerLookupFailed,
    CustomerLookupTimedOut,
    CustomerQuery,
    lookup_customer,
    screen_pop,
)
from callcenter_sdk.kpi import ContactRecord
from callcenter_sdk.store import ContactRecords, Store
from callcenter_sdk.tickets import TicketOrigin, TicketRepository, open_ticket, resolve

QUERY = CustomerQuery(contact_id="call-1", phone="+33612345678")
CRM_CUSTOMER = Customer(number="CRM-9", name="From the CRM")


class SlowAsyncCrm:
    """An async CRM plugin that never answers in time."""

    @hookimpl
    async def callcenter_lookup_customer(self, query: CustomerQuery) -> Customer | None:
        """Sleep far beyond any budget."""
        await anyio.sleep(3600)
        return CRM_CUSTOMER


class BlockingCrm:
    """A synchronous plugin that blocks its thread until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def callcenter_lookup_customer(self) -> Customer | None:
        """Block (a hung socket, say) until the test releases it."""
        self.release.wait(30)
        return CRM_CUSTOMER


class BrokenCrm:
    """A plugin that raises."""

    @hookimpl
    def callcenter_lookup_customer(self, query: CustomerQuery) -> Customer | None:
        """Fail like a CRM down."""
        raise ConnectionError("CRM unreachable")


class NonsenseCrm:
    """A plugin that answers something that is not a customer."""

    @hookimpl
    async def callcenter_lookup_customer(self) -> object:
        """Answer a plain dict."""
        return {"name": "dict"}


class FastCrm:
    """An async plugin that answers at once."""

    @hookimpl
    async def callcenter_lookup_customer(self, query: CustomerQuery) -> Customer | None:
        """Know everyone calling from the test number."""
        return CRM_CUSTOMER if query.phone == QUERY.phone else None


@pytest.fixture
def directory(store: Store) -> CustomerDirectory:
    """A directory knowing the caller of QUERY."""
    directory = CustomerDirectory(store)
    directory.save(Customer(number="C-1", name="Ana", phones=("06 12 34 56 78",)))
    return directory


async def test_builtin_directory_identifies_the_caller(directory: CustomerDirectory) -> None:
    """With no other plugin the store directory answers, and says so in an event."""
    stream = EventStream(keep=True)
    result = await lookup_customer(
        create_plugin_host(), QUERY, directory=directory, clock=ManualClock(5.0), events=stream
    )
    assert result.customer is not None
    assert result.customer.number == "C-1"
    assert result.plugin == "callcenter_sdk.cti._plugin"
    assert stream.history() == [
        CustomerIdentified(at=5.0, contact_id="call-1", customer="C-1", plugin=result.plugin)
    ]


async def test_a_crm_plugin_is_preferred_over_the_builtin_directory(
    directory: CustomerDirectory,
) -> None:
    """The built-in lookup runs last: a CRM's answer wins when it has one."""
    host = create_plugin_host(entry_points=False, plugins=[FastCrm()])
    result = await lookup_customer(host, QUERY, directory=directory)
    assert result.customer == CRM_CUSTOMER
    unknown = await lookup_customer(
        host, CustomerQuery(contact_id="c2", phone="0612345678"), directory=directory
    )
    assert unknown.customer is not None
    assert unknown.customer.number == "C-1"


@pytest.mark.parametrize("slow", [SlowAsyncCrm, BlockingCrm])
async def test_a_slow_plugin_costs_at_most_the_budget_and_becomes_an_event(
    directory: CustomerDirectory, slow: type[SlowAsyncCrm | BlockingCrm]
) -> None:
    """A hung async or blocking plugin is abandoned at the deadline; the directory still answers."""
    plugin = slow()
    host = create_plugin_host(entry_points=False, plugins=[plugin])
    with anyio.fail_after(20):  # the budget is 0.2 s; this only guards against a hang
        result = await lookup_customer(host, QUERY, directory=directory, budget=0.2)
    if isinstance(plugin, BlockingCrm):
        plugin.release.set()
    assert result.customer is not None
    assert result.customer.number == "C-1"
    timeouts = [e for e in result.events if isinstance(e, CustomerLookupTimedOut)]
    assert len(timeouts) == 1
    assert timeouts[0].budget == 0.2


@pytest.mark.parametrize(
    ("plugin", "error"), [(BrokenCrm, "CRM unreachable"), (NonsenseCrm, "dict")]
)
async def test_a_failing_plugin_becomes_an_event_and_the_contact_goes_on(
    directory: CustomerDirectory, plugin: type[BrokenCrm | NonsenseCrm], error: str
) -> None:
    """Exceptions and nonsense answers are reported; the built-in answer is used."""
    host = create_plugin_host(entry_points=False, plugins=[plugin()])
    result = await lookup_customer(host, QUERY, directory=directory)
    assert result.customer is not None
    failures = [e for e in result.events if isinstance(e, CustomerLookupFailed)]
    assert len(failures) == 1
    assert error in failures[0].error


async def test_without_a_store_an_unknown_caller_is_simply_unidentified() -> None:
    """No directory and no plugin: no customer, no fault."""
    result = await lookup_customer(create_plugin_host(entry_points=False), QUERY)
    assert result.customer is None
    assert result.events == ()


async def test_screen_pop_brings_history_and_open_tickets(
    store: Store, directory: CustomerDirectory
) -> None:
    """The agent sees the customer, their latest contacts and only their open tickets."""
    ana = directory.by_number("C-1")
    assert ana is not None
    records = ContactRecords(store)
    records.save(
        ContactRecord(
            contact_id="old", outcome="abandoned", arrived_at=1, ended_at=2, customer="C-1"
        ),
        ContactRecord(contact_id="other", outcome="abandoned", arrived_at=1, ended_at=2),
    )
    tickets = TicketRepository(store)
    open_one = open_ticket(
        ticket_id="T1",
        subject="slow",
        now=3,
        origin=TicketOrigin.CONTACT,
        contact_id="old",
        customer_id=ana.customer_id,
    ).ticket
    done = open_ticket(ticket_id="T2", subject="bill", now=3, customer_id=ana.customer_id).ticket
    tickets.save(open_one)
    tickets.save(resolve(done, 4).ticket)
    pop = await screen_pop(
        create_plugin_host(entry_points=False, plugins=[BrokenCrm()]),
        QUERY,
        directory=directory,
        records=records,
        tickets=tickets,
    )
    assert pop.customer == ana
    assert [r.contact_id for r in pop.past_contacts] == ["old"]
    assert pop.open_tickets == (open_one,)
    assert [type(f) for f in pop.faults] == [CustomerLookupFailed]
