"""Opening a database: SQLite (embedded default) or PostgreSQL (production).

The engine factory sets what each database needs to be safe for a call center
on every new connection, so no code path can forget it:

* SQLite: write-ahead logging (readers never block the writer), foreign keys
  enforced (off by default in SQLite!), a busy timeout instead of immediate
  "database is locked" errors, ``synchronous=FULL`` so a committed row
  survives a power cut, not only a crash, and transactions that begin with
  ``BEGIN IMMEDIATE`` so each one is isolated from the other writers.
  The database file is created with mode 0600 (its parent directory 0700
  when missing) before SQLite opens it; SQLite gives its ``-wal`` and
  ``-shm`` companions the mode of the database, so the customer data in
  them stays private too, whatever the process umask.
* PostgreSQL (``postgresql+psycopg://``, psycopg 3): an optional schema put
  first on the ``search_path``, which lets several deployments (or test runs)
  share one database, and a ``connect_timeout`` of :data:`CONNECT_TIMEOUT`
  seconds unless the URL names one: a host that stopped answering fails a
  write in seconds (the writers then back off and retry) instead of holding
  it for the operating system's TCP timeout, minutes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from .._datadir import DataDir, data_dir
from .._errors import ConfigError, StoreError
from ._errors import store_errors

__all__ = ["DEFAULT_URL", "create_engine"]

_log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5
"""Seconds a new PostgreSQL connection may take, unless the URL sets ``connect_timeout``."""

DEFAULT_URL = DataDir.default().database_url
"""The embedded default: ``callcenter.sqlite3`` in the data directory.

Its value is the data directory's database as found at import
(``$CALLCENTER_DATA_DIR``, else ``~/.local/share/callcenter``); passing it
(or nothing) to :func:`create_engine` or :func:`create_store` looks the data
directory up again, creates it (mode 0700) and checks it, so a
``$CALLCENTER_DATA_DIR`` set after the import is honoured.

.. versionchanged:: 0.1
   Was ``sqlite:///callcenter.sqlite3``, a file in the current directory.
"""

_PRIVATE = 0o600
_COMPANIONS = ("-wal", "-shm", "-journal")

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create_engine(url: str = DEFAULT_URL, *, schema: str | None = None) -> Engine:
    """Return a SQLAlchemy engine for ``url`` with the safety settings applied.

    Args:
        url: A SQLAlchemy URL: ``sqlite:///path.db`` or
            ``postgresql+psycopg://user@host/db``. The default,
            :data:`DEFAULT_URL`, is the data directory's database.
        schema: PostgreSQL only: the schema to work in (created if missing).
            Lower-case letters, digits and underscores.

    Raises:
        ConfigError: The URL names another database, or the schema is invalid.
        UnsafeDirectoryError: With the default URL, the data directory
            belongs to someone else or others may write to it.
        StoreError: The database cannot be reached.
    """
    if url == DEFAULT_URL:
        url = data_dir().database_url
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if schema is not None:
            raise ConfigError("<python>", ("schema",), "None for SQLite", schema)
        engine = sqlalchemy.create_engine(parsed, connect_args={"timeout": 30})
        database = _sqlite_file(parsed.database, parsed.query)
        if database is not None:
            event.listen(engine, "do_connect", _private_file(database))
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigError(
                "<python>", ("url",), "postgresql+psycopg:// (psycopg 3)", parsed.drivername
            )
        if schema is not None and not _SCHEMA.match(schema):
            raise ConfigError("<python>", ("schema",), "a lower-case SQL identifier", schema)
        connect_args = (
            {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
        )
        engine = sqlalchemy.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        if schema is not None:
            with store_errors(f"create schema {schema}"), engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            event.listen(engine, "connect", _search_path(schema))
            engine.dispose()  # connections made before the listener lack the search path
        return engine
    raise ConfigError("<python>", ("url",), "a sqlite:// or postgresql+psycopg:// URL", url)


READ_ONLY = "callcenter_read_only"
"""The execution option :meth:`Store.reading` sets on its connection."""


def _sqlite_file(database: str | None, query: Any) -> Path | None:
    """The file a SQLite URL opens, or None (in memory, or a ``file:`` URI we leave alone)."""
    if not database or database == ":memory:" or str(query.get("uri", "")).lower() == "true":
        return None
    return Path(database).absolute()


def _private_file(database: Path) -> Any:
    def make_private(*_args: object) -> None:
        # Before each new connection, so a file deleted meanwhile comes back private too.
        try:
            if not database.parent.exists():
                database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE))
        except OSError as exc:
            raise StoreError(f"create the database {database}: {exc}") from exc
        for path in (database, *(database.with_name(database.name + s) for s in _COMPANIONS)):
            _restrict(path)

    return make_private


def _restrict(path: Path) -> None:
    """Take group and world access away from an existing database file (made by older versions)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except FileNotFoundError:
        pass
    except OSError as exc:  # another user's file: SQLite decides whether it can open it
        _log.warning("cannot make %s private: %s", path, exc)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    # Take transaction control away from the sqlite3 module (it only begins before
    # writes, so reads of a read-then-write transaction are not isolated) ...
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # ... and begin every transaction holding the write lock: check-then-write code
    # (a version check, "is this agent logged in?") is then safe between processes.
    # A transaction that only reads (Store.reading) begins without it: in WAL mode
    # it sees one snapshot and never waits for, nor delays, a writer.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _search_path(schema: str) -> Any:
    def set_search_path(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f'SET search_path TO "{schema}"')
        finally:
            cursor.close()
        # psycopg opens a transaction for the SET; end it so the pool gets a clean connection
        dbapi_connection.commit()

    return set_search_path
