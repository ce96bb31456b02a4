"""Building the screen pop an agent sees before answering."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread

from .._clock import Clock, WallClock
from .._errors import StoreError
from .._events import Event, EventStream
from ..kpi import ContactRecord
from ..store import ContactRecords
from ..tickets import Ticket, TicketRepository
from ._events import CustomerLookupFailed
from ._lookup import DEFAULT_BUDGET, lookup_customer
from ._model import Customer, CustomerQuery, ScreenPop

if TYPE_CHECKING:
    from .._plugins import PluginHost
    from ._directory import CustomerDirectory

__all__ = ["screen_pop"]


async def screen_pop(
    host: PluginHost,
    query: CustomerQuery,
    *,
    directory: CustomerDirectory | None = None,
    records: ContactRecords | None = None,
    tickets: TicketRepository | None = None,
    budget: float = DEFAULT_BUDGET,
    clock: Clock | None = None,
    events: EventStream | None = None,
    history: int = 10,
) -> ScreenPop:
    """Identify the contact's customer and gather their history and open tickets.

    The lookup is budgeted (see :func:`lookup_customer`); if reading the
    history or tickets fails, the pop still comes, without them, and the
    failure is reported as an event. A screen pop never stops a contact.

    Args:
        host: The plugin host running the lookup plugins.
        query: What is known about the contact.
        directory: The store's customer directory (the built-in lookup).
        records: Contact records, for the customer's past contacts.
        tickets: Tickets, for the customer's open tickets.
        budget: Seconds allowed to the lookup plugins.
        clock: Stamps the events.
        events: Where to publish the events.
        history: How many past contacts to show.
    """
    clock = clock or WallClock()
    result = await lookup_customer(
        host, query, directory=directory, budget=budget, clock=clock, events=events
    )
    customer = result.customer
    faults = [e for e in result.events if e.kind != "cti.customer_identified"]
    past: list[ContactRecord] = []
    open_tickets: list[Ticket] = []
    if customer is not None:
        try:
            past, open_tickets = await anyio.to_thread.run_sync(
                _history, customer, records, tickets, history
            )
        except StoreError as exc:
            fault: Event = CustomerLookupFailed(
                at=clock.now(), contact_id=query.contact_id, plugin="store", error=str(exc)
            )
            faults.append(fault)
            if events is not None:
                events.publish(fault)
    return ScreenPop(
        query=query,
        customer=customer,
        identified_by=result.plugin,
        past_contacts=past,
        open_tickets=open_tickets,
        faults=faults,
    )


def _history(
    customer: Customer,
    records: ContactRecords | None,
    tickets: TicketRepository | None,
    limit: int,
) -> tuple[list[ContactRecord], list[Ticket]]:
    past = [] if records is None else records.for_customer(customer.number, limit=limit)
    active: list[Ticket] = []
    if tickets is not None and customer.customer_id:
        active = tickets.active(customer_id=customer.customer_id)
    return past, active
