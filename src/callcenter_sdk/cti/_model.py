"""CTI values: customers, lookup queries and the screen pop."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._events import Event
from ..kpi import ContactRecord
from ..tickets import Ticket

__all__ = ["Customer", "CustomerQuery", "ScreenPop"]


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _records(values: Iterable[ContactRecord]) -> tuple[ContactRecord, ...]:
    return tuple(values)


def _tickets(values: Iterable[Ticket]) -> tuple[Ticket, ...]:
    return tuple(values)


def _events(values: Iterable[Event]) -> tuple[Event, ...]:
    return tuple(values)


def _mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    return dict(values)


@attrs.frozen(kw_only=True)
class Customer:
    """A customer record, as shown to the agent.

    Attributes:
        customer_id: The directory's id (0 until stored); plugins backed by
            another CRM may leave it 0.
        number: The customer number: the stable key shared with the CRM and
            used in contact records.
        name: Display name.
        email: Lower-case e-mail address, if known.
        phones: Numbers in E.164.
        attributes: Anything else the CRM knows (segment, contract...).
    """

    customer_id: int = 0
    number: str
    name: str
    email: str | None = None
    phones: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_mapping)


@attrs.frozen(kw_only=True)
class CustomerQuery:
    """What is known about who is contacting us, for a customer lookup.

    Attributes:
        contact_id: The contact being identified.
        phone: Caller id in E.164 (voice, SMS, callback), if any.
        email: Sender address (email channel), if any.
        number: A customer number typed in the IVR or given to the agent.
    """

    contact_id: str
    phone: str | None = None
    email: str | None = None
    number: str | None = None


@attrs.frozen(kw_only=True)
class ScreenPop:
    """What the agent sees when a contact is offered, before answering.

    Attributes:
        query: What the lookup started from (contact id, caller id...).
        customer: The identified customer, or ``None`` (an unknown caller).
        identified_by: The plugin that identified the customer.
        past_contacts: The customer's latest contacts, newest first.
        open_tickets: The customer's tickets still being worked on.
        faults: Events about lookup plugins that failed or were too slow.
    """

    query: CustomerQuery
    customer: Customer | None = None
    identified_by: str | None = None
    past_contacts: tuple[ContactRecord, ...] = attrs.field(default=(), converter=_records)
    open_tickets: tuple[Ticket, ...] = attrs.field(default=(), converter=_tickets)
    faults: tuple[Event, ...] = attrs.field(default=(), converter=_events)
