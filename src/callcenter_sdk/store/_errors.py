"""Translating database errors into :class:`~callcenter_sdk.StoreError`.

Callers of the store should only ever have to catch the library's own
exceptions; SQLAlchemy's (and through it sqlite3's and psycopg's) stay inside
this package, chained as ``__cause__`` for debugging.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy.exc

from .._errors import StoreError

__all__ = ["is_conflict", "is_unwritable", "store_errors"]


@contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Re-raise any SQLAlchemy error raised inside the block as :class:`StoreError`.

    Args:
        action: What was being done, in words (``"append events"``); it starts
            the message so the log says what failed, not only how.
    """
    try:
        yield
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise StoreError(f"{action}: {type(exc).__name__}: {exc}") from exc


def is_conflict(error: StoreError) -> bool:
    """Whether ``error`` is a uniqueness or integrity conflict (someone else won a race)."""
    return isinstance(error.__cause__, sqlalchemy.exc.IntegrityError)


def is_unwritable(error: StoreError) -> bool:
    """Whether ``error`` is about the data rather than the database: a retry fails again.

    A value the driver cannot encode (not JSON-ready) or one the database refuses
    (``DataError``: NaN in a PostgreSQL JSON column, a number out of range). An
    outage (no connection, a full disk, a missing table) is never this.
    """
    cause = error.__cause__
    if isinstance(cause, sqlalchemy.exc.DataError):
        return True
    return isinstance(cause, sqlalchemy.exc.StatementError) and not isinstance(
        cause, sqlalchemy.exc.DBAPIError
    )
