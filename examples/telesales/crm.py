"""ACME's CRM, as much of it as the telesales example needs: orders, appointments, quotes.

A plugin for the ``callcenter_record_outcome`` hook: when an agent disposes a
call, :func:`callcenter_sdk.cti.write_back` hands it the
:class:`~callcenter_sdk.cti.Outcome` and it files an order, an installation
appointment or a quote in three tables of a SQLite file (``orders``,
``appointments``, ``quotes``), answering the reference of the row
(``ORD-000042``). Other kinds of outcome are not for this CRM: it answers
``None``.

Writes are idempotent on the outcome's key (a ``UNIQUE`` column): the same
outcome written twice — a retry after a timeout — finds the row the first
write made and answers its reference, so no order is taken twice. The first
write wins; a second one with the same key changes nothing.

``sqlite3`` blocks, so each write runs in a worker thread
(``anyio.to_thread``), on a connection of its own: the event loop never waits
on the disk, and concurrent writes are serialised by SQLite's own lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import anyio.to_thread

from callcenter_sdk import hookimpl
from callcenter_sdk.cti import Outcome, OutcomeKind

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    contact_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    campaign TEXT NOT NULL,
    customer TEXT,
    lead_id TEXT,
    phone TEXT,
    taken_at REAL NOT NULL,
    items TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS appointments (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    contact_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    campaign TEXT NOT NULL,
    customer TEXT,
    lead_id TEXT,
    phone TEXT,
    taken_at REAL NOT NULL,
    starts_at TEXT NOT NULL,
    place TEXT NOT NULL,
    purpose TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quotes (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    contact_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    campaign TEXT NOT NULL,
    customer TEXT,
    lead_id TEXT,
    phone TEXT,
    taken_at REAL NOT NULL,
    items TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    follow_up TEXT NOT NULL
);
"""

# The table each kind of outcome is filed in, the prefix of its references,
# and the columns its details fill (column <- detail).
FILED: dict[OutcomeKind, tuple[str, str, dict[str, str]]] = {
    OutcomeKind.ORDER: (
        "orders",
        "ORD",
        {"items": "items", "amount": "amount", "currency": "currency"},
    ),
    OutcomeKind.APPOINTMENT: (
        "appointments",
        "APT",
        {"starts_at": "when", "place": "where", "purpose": "what"},
    ),
    OutcomeKind.QUOTE: (
        "quotes",
        "QUO",
        {"items": "items", "amount": "amount", "currency": "currency", "follow_up": "follow_up"},
    ),
}
COMMON = ("key", "contact_id", "agent_id", "campaign", "customer", "lead_id", "phone", "taken_at")


def _cell(value: object) -> str:
    """A detail as stored: several items are one comma-separated cell."""
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


class SqliteCrm:
    """The CRM plugin: files orders, appointments and quotes in the SQLite file at ``path``.

    The tables are created if missing, so the CRM can share the call center's
    own database file or have one of its own.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with contextlib.closing(self._connect()) as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # a generous busy timeout: the call center's store writes to the same file
        return sqlite3.connect(self.path, timeout=30.0)

    @hookimpl
    async def callcenter_record_outcome(self, outcome: Outcome) -> str | None:
        """File ``outcome`` if it is an order, an appointment or a quote; answer its reference."""
        if outcome.kind not in FILED:
            return None
        return await anyio.to_thread.run_sync(self.file, outcome)

    def file(self, outcome: Outcome) -> str:
        """Insert the outcome's row unless its key is known; the row's reference either way.

        Raises:
            KeyError: The outcome lacks a detail its table needs (``amount``...).
        """
        table, prefix, columns = FILED[outcome.kind]
        row = {
            "key": outcome.key,
            "contact_id": outcome.contact_id,
            "agent_id": outcome.agent_id,
            "campaign": outcome.campaign,
            "customer": outcome.customer,
            "lead_id": outcome.lead_id,
            "phone": outcome.phone,
            "taken_at": outcome.at,
        }
        row.update({column: _cell(outcome.details[detail]) for column, detail in columns.items()})
        names = (*COMMON, *columns)
        insert = (
            f"INSERT INTO {table} ({', '.join(names)})"  # noqa: S608 - names are ours, values bound
            f" VALUES ({', '.join(':' + n for n in names)}) ON CONFLICT (key) DO NOTHING"
        )
        with contextlib.closing(self._connect()) as db, db:  # one transaction
            db.execute(insert, row)
            select = f"SELECT id FROM {table} WHERE key = ?"  # noqa: S608 - the table is ours
            (number,) = db.execute(select, (outcome.key,)).fetchone()
        return f"{prefix}-{number:06d}"

    def counts(self) -> dict[str, int]:
        """How many rows each table holds: what the CRM has received."""
        with contextlib.closing(self._connect()) as db:
            return {
                table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table, _, _ in FILED.values()
            }
