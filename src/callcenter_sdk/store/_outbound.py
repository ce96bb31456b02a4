"""Outbound lists, their numbers and every dial attempt: what a dialer must not forget."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
from sqlalchemy import func, select

from .._errors import NotFoundError, StoreError
from ._errors import is_conflict
from ._limits import (
    ID,
    INT32,
    NAME,
    OUTCOME,
    PHONE,
    TITLE,
    check_float,
    check_int,
    check_json,
    check_optional_text,
    check_text,
)
from ._pending import _insert_new
from ._rows import OutboundAttemptRow, OutboundEntryRow, OutboundListRow
from ._store import Store

__all__ = ["OutboundAttempt", "OutboundEntry", "OutboundLists"]


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class OutboundEntry:
    """A number to call in an outbound list.

    Attributes:
        phone: The number, in E.164 (normalise with :func:`callcenter_sdk.cti.to_e164`).
        customer: The customer number, if known.
        priority: Higher is called first.
        data: What the agent's script needs (name, offer...), JSON-ready.
    """

    phone: str
    customer: str | None = None
    priority: int = 0
    data: dict[str, Any] = attrs.field(factory=dict, converter=_plain_dict)


@attrs.frozen(kw_only=True)
class OutboundAttempt:
    """One dial attempt.

    Attributes:
        phone: The number dialled.
        at: When it was dialled.
        outcome: What happened (``"answered"``, ``"busy"``, ``"no_answer"``...).
    """

    phone: str
    at: float
    outcome: str


class OutboundLists:
    """Outbound lists for the dialer; every attempt is recorded before the next one.

    Retry rules and the legal caps on attempts per number are the dialer's;
    this keeps the durable facts they are computed from.

    Args:
        store: Where lists live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, list_id: str, *, campaign: str, name: str, at: float) -> None:
        """Create a list (a no-op if ``list_id`` exists).

        Raises:
            ValidationError: A field breaks the store's limits.
        """
        check_text("list_id", list_id, ID)
        check_text("campaign", campaign, NAME)
        check_text("name", name, TITLE)
        check_float("at", at)
        row = {"list_id": list_id, "campaign": campaign, "name": name, "created_at": at}
        with self._store.transaction(f"create outbound list {list_id}") as session:
            _insert_new(session, OutboundListRow, [row])

    def add(self, list_id: str, *entries: OutboundEntry) -> None:
        """Add numbers to a list; numbers already in it are left as they are.

        Raises:
            NotFoundError: No such list.
            ValidationError: A field breaks the store's limits; nothing is stored.
        """
        check_text("list_id", list_id, ID)
        for entry in entries:
            check_text("OutboundEntry.phone", entry.phone, PHONE)
            check_optional_text("OutboundEntry.customer", entry.customer, ID)
            check_int("OutboundEntry.priority", entry.priority, INT32)
            check_json("OutboundEntry.data", entry.data)
        rows = [{"list_id": list_id, **attrs.asdict(entry)} for entry in entries]
        with (
            _list_must_exist(list_id),
            self._store.transaction(f"add {len(rows)} numbers to {list_id}") as session,
        ):
            _insert_new(session, OutboundEntryRow, rows)

    def entries(self, list_id: str) -> list[OutboundEntry]:
        """Return the numbers of a list, highest priority first."""
        query = (
            select(OutboundEntryRow)
            .where(OutboundEntryRow.list_id == list_id)
            .order_by(OutboundEntryRow.priority.desc(), OutboundEntryRow.phone)
        )
        with self._store.transaction(f"load numbers of {list_id}") as session:
            return [
                OutboundEntry(phone=r.phone, customer=r.customer, priority=r.priority, data=r.data)
                for r in session.scalars(query)
            ]

    def record_attempt(self, list_id: str, attempt: OutboundAttempt) -> None:
        """Record a dial attempt, committed on return.

        Raises:
            NotFoundError: No such list.
            ValidationError: A field breaks the store's limits.
        """
        check_text("list_id", list_id, ID)
        check_text("OutboundAttempt.phone", attempt.phone, PHONE)
        check_float("OutboundAttempt.at", attempt.at)
        check_text("OutboundAttempt.outcome", attempt.outcome, OUTCOME)
        row = OutboundAttemptRow(
            list_id=list_id, phone=attempt.phone, at=attempt.at, outcome=attempt.outcome
        )
        with (
            _list_must_exist(list_id),
            self._store.transaction(f"record attempt on {list_id}") as session,
        ):
            session.add(row)

    def attempts(self, list_id: str, phone: str | None = None) -> list[OutboundAttempt]:
        """Return a list's attempts (for one number if given), oldest first."""
        query = (
            select(OutboundAttemptRow)
            .where(OutboundAttemptRow.list_id == list_id)
            .order_by(OutboundAttemptRow.at, OutboundAttemptRow.id)
        )
        if phone is not None:
            query = query.where(OutboundAttemptRow.phone == phone)
        with self._store.transaction(f"load attempts of {list_id}") as session:
            return [
                OutboundAttempt(phone=r.phone, at=r.at, outcome=r.outcome)
                for r in session.scalars(query)
            ]

    def attempt_counts(self, list_id: str) -> dict[str, int]:
        """Return how many times each number of a list was dialled."""
        query = (
            select(OutboundAttemptRow.phone, func.count())
            .where(OutboundAttemptRow.list_id == list_id)
            .group_by(OutboundAttemptRow.phone)
        )
        with self._store.transaction(f"count attempts of {list_id}") as session:
            return {phone: int(count) for phone, count in session.execute(query)}


@contextmanager
def _list_must_exist(list_id: str) -> Iterator[None]:
    """Turn the foreign-key failure of an unknown list into :class:`NotFoundError`."""
    try:
        yield
    except StoreError as exc:
        if is_conflict(exc):
            raise NotFoundError(f"no outbound list {list_id!r}") from exc
        raise
