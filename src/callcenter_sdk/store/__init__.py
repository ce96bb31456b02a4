"""Persistence: SQLAlchemy 2 on SQLite (embedded default) or PostgreSQL.

What must survive a crash lives here: the append-only event log, waiting
non-voice contacts and callbacks, tickets, the knowledge base, customers,
outbound lists, agent sessions, the org configuration and people's
accounts (password hashes, API tokens). Async code writes
the event log through :func:`create_event_writer`, which keeps events in a
bounded buffer and retries while the database is down. The schema is
managed by Alembic migrations shipped inside this package
(``callcenter db upgrade``).
"""

from __future__ import annotations

from ._accounts import Accounts as Accounts
from ._accounts import PasswordCheck as PasswordCheck
from ._accounts import ScryptCost as ScryptCost
from ._aggregates import COUNTS as COUNTS
from ._aggregates import SUMS as SUMS
from ._aggregates import AggregateCell as AggregateCell
from ._aggregates import AggregateState as AggregateState
from ._aggregates import IntervalAggregates as IntervalAggregates
from ._contacts import contact_from_record as contact_from_record
from ._contacts import restore_callbacks as restore_callbacks
from ._contacts import restore_waiting as restore_waiting
from ._contacts import waiting_record as waiting_record
from ._engine import DEFAULT_URL as DEFAULT_URL
from ._engine import create_engine as create_engine
from ._errors import is_unwritable as is_unwritable
from ._errors import store_errors as store_errors
from ._eventlog import EventLog as EventLog
from ._eventlog import LoggedEvent as LoggedEvent
from ._forward import ForwardedAnswer as ForwardedAnswer
from ._forward import ForwardedRequest as ForwardedRequest
from ._forward import ForwardedRequests as ForwardedRequests
from ._forward import Notifications as Notifications
from ._lease import FencedStore as FencedStore
from ._lease import Lease as Lease
from ._lease import LeaseLost as LeaseLost
from ._lease import Leases as Leases
from ._media import LiveCall as LiveCall
from ._media import MediaCommand as MediaCommand
from ._media import MediaOutcome as MediaOutcome
from ._media import MediaRows as MediaRows
from ._media import StoredMediaEvent as StoredMediaEvent
from ._nodes import ClusterView as ClusterView
from ._nodes import Heartbeat as Heartbeat
from ._nodes import NodeHealth as NodeHealth
from ._nodes import NodeRole as NodeRole
from ._nodes import Nodes as Nodes
from ._nodes import NodeStatus as NodeStatus
from ._outbound import OutboundAttempt as OutboundAttempt
from ._outbound import OutboundEntry as OutboundEntry
from ._outbound import OutboundLists as OutboundLists
from ._pending import CallbackRecord as CallbackRecord
from ._pending import PendingWork as PendingWork
from ._pending import WaitingContactRecord as WaitingContactRecord
from ._records import ContactRecords as ContactRecords
from ._scan import scan_events as scan_events
from ._sessions import AgentSession as AgentSession
from ._sessions import AgentSessions as AgentSessions
from ._sessions import Document as Document
from ._sessions import Documents as Documents
from ._store import MIGRATIONS as MIGRATIONS
from ._store import Store as Store
from ._store import create_store as create_store
from ._store import head_revision as head_revision
from ._temporary import temporary_store as temporary_store
from ._writer import DEFAULT_WRITER_CAPACITY as DEFAULT_WRITER_CAPACITY
from ._writer import Backoff as Backoff
from ._writer import EventWriter as EventWriter
from ._writer import StoreDegraded as StoreDegraded
from ._writer import StoreRecovered as StoreRecovered
from ._writer import create_event_writer as create_event_writer

__all__ = [
    "COUNTS",
    "DEFAULT_URL",
    "DEFAULT_WRITER_CAPACITY",
    "MIGRATIONS",
    "SUMS",
    "Accounts",
    "AgentSession",
    "AgentSessions",
    "AggregateCell",
    "AggregateState",
    "Backoff",
    "CallbackRecord",
    "ClusterView",
    "ContactRecords",
    "Document",
    "Documents",
    "EventLog",
    "EventWriter",
    "FencedStore",
    "ForwardedAnswer",
    "ForwardedRequest",
    "ForwardedRequests",
    "Heartbeat",
    "IntervalAggregates",
    "Lease",
    "LeaseLost",
    "Leases",
    "LiveCall",
    "LoggedEvent",
    "MediaCommand",
    "MediaOutcome",
    "MediaRows",
    "NodeHealth",
    "NodeRole",
    "NodeStatus",
    "Nodes",
    "Notifications",
    "OutboundAttempt",
    "OutboundEntry",
    "OutboundLists",
    "PasswordCheck",
    "PendingWork",
    "ScryptCost",
    "Store",
    "StoreDegraded",
    "StoreRecovered",
    "StoredMediaEvent",
    "WaitingContactRecord",
    "contact_from_record",
    "create_engine",
    "create_event_writer",
    "create_store",
    "head_revision",
    "is_unwritable",
    "restore_callbacks",
    "restore_waiting",
    "scan_events",
    "store_errors",
    "temporary_store",
    "waiting_record",
]
