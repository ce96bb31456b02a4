"""The engine factory, error translation and the shipped migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from callcenter_sdk import ConfigError, StoreError
from callcenter_sdk.store import Store, create_engine, create_store, store_errors
from callcenter_sdk.store._rows import Base
from callcenter_sdk.store._store import _migration_filter


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: object) -> None:
    """Every new SQLite connection gets WAL and foreign keys, set by the connect event."""
    engine = create_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_foreign_key_violation_becomes_store_error(store: Store) -> None:
    """A database error leaves the store as StoreError, with the driver error chained."""
    with (
        pytest.raises(StoreError, match="link a contact") as info,
        store.transaction("link a contact") as session,
    ):
        session.execute(
            text("INSERT INTO ticket_contacts (ticket_id, contact_id) VALUES ('nope', 'c1')")
        )
    assert info.value.__cause__ is not None


def test_store_errors_leaves_other_exceptions_alone() -> None:
    """Only SQLAlchemy errors are translated; our own bugs stay visible as they are."""
    with pytest.raises(KeyError), store_errors("anything"):
        raise KeyError("x")


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("mysql://localhost/db", None),
        ("postgresql+psycopg2://localhost/db", None),
        ("sqlite:///x.db", "someschema"),
        ("postgresql+psycopg://localhost/db", "Bad-Name"),
    ],
)
def test_unsupported_urls_are_config_errors(url: str, schema: str | None) -> None:
    """Databases, drivers or schema names we do not support are refused up front."""
    with pytest.raises(ConfigError):
        create_engine(url, schema=schema)


def test_unreachable_database_is_a_store_error() -> None:
    """A PostgreSQL server that is not there is reported as StoreError, not a driver error."""
    with pytest.raises(StoreError):
        create_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_migrations_reach_head_and_match_the_rows(store: Store) -> None:
    """The shipped migrations create exactly the tables the ORM rows declare."""
    assert store.revision() == "0001"
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _migration_filter, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_twice_is_harmless(store: Store) -> None:
    """Running the migrations on an up-to-date database changes nothing."""
    store.upgrade()
    assert store.revision() == "0001"


def test_create_store_without_upgrade_leaves_the_database_empty(tmp_path: object) -> None:
    """``upgrade=False`` lets deployments migrate explicitly (``callcenter db upgrade``)."""
    with create_store(f"sqlite:///{tmp_path}/y.sqlite3", upgrade=False) as store:
        assert store.revision() is None
        assert store.dialect == "sqlite"


def test_an_unknown_revision_is_a_store_error(store: Store) -> None:
    """Alembic's own errors leave the store as StoreError too."""
    with pytest.raises(StoreError, match="no-such-revision"):
        store.upgrade("no-such-revision")
    assert store.revision() == "0001"
