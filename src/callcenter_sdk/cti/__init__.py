"""CTI: who is calling, and what the agent should see before answering.

When a contact arrives, :func:`lookup_customer` runs every
``callcenter_lookup_customer`` plugin within a time budget (the built-in one
searches the store's :class:`CustomerDirectory` by customer number, e-mail or
E.164 phone number); :func:`screen_pop` adds the customer's past contacts and
open tickets. A slow or broken plugin never delays routing beyond the budget
and never loses the contact: it becomes an event. :class:`ClickToDial` places
an agent-initiated outbound call through the media backend. Every number the
center dials passes one :class:`OutboundGuard` applying an
:class:`OutboundPolicy` (allowed patterns, denied ranges, caps). When the
agent disposes the contact, :func:`write_back` hands what they achieved (an
:class:`Outcome`: an order, an appointment, a quote...) to every
``callcenter_record_outcome`` plugin, the CRM's side, within a budget too.
"""

from __future__ import annotations

from ._crm import WRITE_BACK_BUDGET as WRITE_BACK_BUDGET
from ._crm import Outcome as Outcome
from ._crm import OutcomeFailed as OutcomeFailed
from ._crm import OutcomeKind as OutcomeKind
from ._crm import OutcomeTimedOut as OutcomeTimedOut
from ._crm import OutcomeWritten as OutcomeWritten
from ._crm import WriteBackResult as WriteBackResult
from ._crm import write_back as write_back
from ._csv import ImportReport as ImportReport
from ._csv import import_customers_csv as import_customers_csv
from ._dial import ClickToDial as ClickToDial
from ._dial import DialConnected as DialConnected
from ._dial import DialFailed as DialFailed
from ._dial import DialState as DialState
from ._directory import CustomerDirectory as CustomerDirectory
from ._events import CustomerIdentified as CustomerIdentified
from ._events import CustomerLookupFailed as CustomerLookupFailed
from ._events import CustomerLookupTimedOut as CustomerLookupTimedOut
from ._lookup import DEFAULT_BUDGET as DEFAULT_BUDGET
from ._lookup import LookupResult as LookupResult
from ._lookup import lookup_customer as lookup_customer
from ._model import Customer as Customer
from ._model import CustomerQuery as CustomerQuery
from ._model import ScreenPop as ScreenPop
from ._phone import to_e164 as to_e164
from ._policy import DENIED_BY_DEFAULT as DENIED_BY_DEFAULT
from ._policy import DialPurpose as DialPurpose
from ._policy import OutboundDenied as OutboundDenied
from ._policy import OutboundGuard as OutboundGuard
from ._policy import OutboundPolicy as OutboundPolicy
from ._policy import OutboundRefused as OutboundRefused
from ._screen import screen_pop as screen_pop

__all__ = [
    "DEFAULT_BUDGET",
    "DENIED_BY_DEFAULT",
    "WRITE_BACK_BUDGET",
    "ClickToDial",
    "Customer",
    "CustomerDirectory",
    "CustomerIdentified",
    "CustomerLookupFailed",
    "CustomerLookupTimedOut",
    "CustomerQuery",
    "DialConnected",
    "DialFailed",
    "DialPurpose",
    "DialState",
    "ImportReport",
    "LookupResult",
    "OutboundDenied",
    "OutboundGuard",
    "OutboundPolicy",
    "OutboundRefused",
    "Outcome",
    "OutcomeFailed",
    "OutcomeKind",
    "OutcomeTimedOut",
    "OutcomeWritten",
    "ScreenPop",
    "WriteBackResult",
    "import_customers_csv",
    "lookup_customer",
    "screen_pop",
    "to_e164",
    "write_back",
]
