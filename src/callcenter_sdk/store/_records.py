"""Contact records (:class:`~callcenter_sdk.kpi.ContactRecord`) in the store."""

from __future__ import annotations

import enum
from typing import Any

import attrs
from sqlalchemy import select

from ..kpi import ContactRecord
from ._rows import ContactRecordRow
from ._store import Store

__all__ = ["ContactRecords"]


def _plain(_inst: object, _field: object, value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


class ContactRecords:
    """Saves contact records and finds a customer's history for the screen pop.

    Saving a record again (a live contact, then its final version) replaces it.

    Args:
        store: Where records live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, *records: ContactRecord) -> None:
        """Insert or replace records, committed on return."""
        with self._store.transaction(f"save {len(records)} contact records") as session:
            for record in records:
                session.merge(_to_row(record))

    def get(self, contact_id: str) -> ContactRecord | None:
        """Return the record of ``contact_id``, or ``None``."""
        with self._store.transaction(f"load contact record {contact_id}") as session:
            row = session.get(ContactRecordRow, contact_id)
            return None if row is None else ContactRecord(**row.data)

    def for_customer(self, customer: str, *, limit: int = 20) -> list[ContactRecord]:
        """Return the customer's latest contacts, newest first."""
        query = (
            select(ContactRecordRow)
            .where(ContactRecordRow.customer == customer)
            .order_by(ContactRecordRow.arrived_at.desc(), ContactRecordRow.contact_id)
            .limit(limit)
        )
        with self._store.transaction(f"load history of {customer}") as session:
            return [ContactRecord(**row.data) for row in session.scalars(query)]


def _to_row(record: ContactRecord) -> ContactRecordRow:
    return ContactRecordRow(
        contact_id=record.contact_id,
        channel=record.channel.value,
        direction=record.direction.value,
        outcome=record.outcome.value,
        customer=record.customer,
        queue=record.queue,
        agent=record.agent,
        arrived_at=record.arrived_at,
        answered_at=record.answered_at,
        ended_at=record.ended_at,
        data=attrs.asdict(record, value_serializer=_plain),
    )
