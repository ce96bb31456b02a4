"""Contact records (:class:`~callcenter_sdk.kpi.ContactRecord`) in the store."""

from __future__ import annotations

import enum
from typing import Any

import attrs
from sqlalchemy import select

from ..kpi import ContactRecord
from ._limits import (
    ID,
    NAME,
    check_float,
    check_json,
    check_optional_float,
    check_optional_text,
    check_text,
)
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
        """Insert or replace records, committed on return.

        Raises:
            ValidationError: A field breaks the store's limits; nothing is stored.
        """
        rows = [_to_row(record) for record in records]
        with self._store.transaction(f"save {len(records)} contact records") as session:
            for row in rows:
                session.merge(row)

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
    data = attrs.asdict(record, value_serializer=_plain)
    check_text("ContactRecord.contact_id", record.contact_id, ID)
    check_optional_text("ContactRecord.customer", record.customer, ID)
    check_optional_text("ContactRecord.queue", record.queue, NAME)
    check_optional_text("ContactRecord.agent", record.agent, NAME)
    check_float("ContactRecord.arrived_at", record.arrived_at)
    check_optional_float("ContactRecord.answered_at", record.answered_at)
    check_optional_float("ContactRecord.ended_at", record.ended_at)
    check_json("ContactRecord", data)
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
        data=data,
    )
