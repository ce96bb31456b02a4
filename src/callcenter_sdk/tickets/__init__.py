"""Tickets: a customer's request followed from opening to closing, with SLA clocks.

A ticket opens from an identified contact, an email or a back-office
request; its first-response and resolution clocks start at opening. The
workflow is a set of pure functions (:func:`escalate`, :func:`resolve`...)
returning a :class:`TicketChange`; :class:`TicketDesk` wires them to the
clock, the store and the event stream; :func:`ticket_contact` hands a ticket
to the ACD's back-office queue; :class:`TicketMessages` keeps each ticket's
conversation (e-mails, chat lines, SMS) with its attachments.
"""

from __future__ import annotations

from ._backoffice import BACK_OFFICE_PRIORITY as BACK_OFFICE_PRIORITY
from ._backoffice import LEVEL_SKILLS as LEVEL_SKILLS
from ._backoffice import ticket_contact as ticket_contact
from ._desk import TicketDesk as TicketDesk
from ._events import TicketContactLinked as TicketContactLinked
from ._events import TicketEscalated as TicketEscalated
from ._events import TicketFirstResponse as TicketFirstResponse
from ._events import TicketNoteAdded as TicketNoteAdded
from ._events import TicketOpened as TicketOpened
from ._events import TicketSlaBreached as TicketSlaBreached
from ._events import TicketSlaWarning as TicketSlaWarning
from ._events import TicketStatusChanged as TicketStatusChanged
from ._messages import Attachment as Attachment
from ._messages import MessageDirection as MessageDirection
from ._messages import TicketMessage as TicketMessage
from ._messages import TicketMessages as TicketMessages
from ._model import Note as Note
from ._model import Priority as Priority
from ._model import SlaPolicy as SlaPolicy
from ._model import SlaStage as SlaStage
from ._model import SlaTarget as SlaTarget
from ._model import Ticket as Ticket
from ._model import TicketOrigin as TicketOrigin
from ._model import TicketStatus as TicketStatus
from ._repository import TicketRepository as TicketRepository
from ._workflow import DEFAULT_SLA as DEFAULT_SLA
from ._workflow import TicketChange as TicketChange
from ._workflow import add_note as add_note
from ._workflow import check_sla as check_sla
from ._workflow import close as close
from ._workflow import customer_replied as customer_replied
from ._workflow import escalate as escalate
from ._workflow import link_contact as link_contact
from ._workflow import next_sla_check as next_sla_check
from ._workflow import open_ticket as open_ticket
from ._workflow import reopen as reopen
from ._workflow import resolve as resolve
from ._workflow import sla_elapsed as sla_elapsed
from ._workflow import wait_for_customer as wait_for_customer

__all__ = [
    "BACK_OFFICE_PRIORITY",
    "DEFAULT_SLA",
    "LEVEL_SKILLS",
    "Attachment",
    "MessageDirection",
    "Note",
    "Priority",
    "SlaPolicy",
    "SlaStage",
    "SlaTarget",
    "Ticket",
    "TicketChange",
    "TicketContactLinked",
    "TicketDesk",
    "TicketEscalated",
    "TicketFirstResponse",
    "TicketMessage",
    "TicketMessages",
    "TicketNoteAdded",
    "TicketOpened",
    "TicketOrigin",
    "TicketRepository",
    "TicketSlaBreached",
    "TicketSlaWarning",
    "TicketStatus",
    "TicketStatusChanged",
    "add_note",
    "check_sla",
    "close",
    "customer_replied",
    "escalate",
    "link_contact",
    "next_sla_check",
    "open_ticket",
    "reopen",
    "resolve",
    "sla_elapsed",
    "ticket_contact",
    "wait_for_customer",
]
