"""Events of the CTI (kinds ``cti.*``)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from .._events import Event

__all__ = ["CustomerIdentified", "CustomerLookupFailed", "CustomerLookupTimedOut"]


@attrs.frozen(kw_only=True)
class CustomerIdentified(Event):
    """A lookup plugin identified the customer of a contact.

    Attributes:
        contact_id: The contact.
        customer: The customer number.
        plugin: The plugin that answered.
    """

    kind: ClassVar[str] = "cti.customer_identified"

    contact_id: str
    customer: str
    plugin: str


@attrs.frozen(kw_only=True)
class CustomerLookupFailed(Event):
    """A lookup plugin raised or answered something that is not a customer.

    The contact went on without that plugin's answer.

    Attributes:
        contact_id: The contact.
        plugin: The plugin at fault.
        error: What went wrong, in one line.
    """

    kind: ClassVar[str] = "cti.lookup_failed"

    contact_id: str
    plugin: str
    error: str


@attrs.frozen(kw_only=True)
class CustomerLookupTimedOut(Event):
    """A lookup plugin did not answer within the budget; it was not waited for.

    Attributes:
        contact_id: The contact.
        plugin: The slow plugin.
        budget: The seconds it was given.
    """

    kind: ClassVar[str] = "cti.lookup_timed_out"

    contact_id: str
    plugin: str
    budget: float
