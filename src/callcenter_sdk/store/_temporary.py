"""Throw-away stores for tests: yours and ours."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from ._engine import create_engine
from ._errors import store_errors
from ._store import Store, create_store

__all__ = ["temporary_store"]


@contextmanager
def temporary_store(url: str = "sqlite://") -> Iterator[Store]:
    """Yield a fresh, migrated store that is deleted afterwards.

    With a SQLite URL (the default) the store is a file in a new temporary
    directory; with a PostgreSQL URL it is a new uniquely named schema in
    that database, dropped with everything in it at the end. Parallel test
    runs sharing one PostgreSQL database therefore never see each other.

    Args:
        url: ``"sqlite://"`` (any SQLite URL: its path is ignored) or a
            ``postgresql+psycopg://`` URL.
    """
    if make_url(url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="callcenter-") as directory:
            store = create_store(f"sqlite:///{Path(directory) / 'store.sqlite3'}")
            try:
                yield store
            finally:
                store.close()
        return
    schema = f"tmp_{uuid.uuid4().hex[:16]}"
    store = create_store(url, schema=schema)
    try:
        yield store
    finally:
        store.close()
        admin = create_engine(url)
        with store_errors(f"drop schema {schema}"), admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
