"""The engine factory, error translation and the shipped migrations."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from callcenter_sdk import DATA_DIR_ENV, ConfigError, StoreError, UnsafeDirectoryError
from callcenter_sdk.store import (
    DEFAULT_URL,
    Store,
    create_engine,
    create_store,
    head_revision,
    store_errors,
)
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
    assert store.revision() == head_revision()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _migration_filter, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_twice_is_harmless(store: Store) -> None:
    """Running the migrations on an up-to-date database changes nothing."""
    store.upgrade()
    assert store.revision() == head_revision()


def test_create_store_without_upgrade_leaves_the_database_empty(tmp_path: object) -> None:
    """``upgrade=False`` lets deployments migrate explicitly (``callcenter db upgrade``)."""
    with create_store(f"sqlite:///{tmp_path}/y.sqlite3", upgrade=False) as store:
        assert store.revision() is None
        assert store.dialect == "sqlite"


def test_an_unknown_revision_is_a_store_error(store: Store) -> None:
    """Alembic's own errors leave the store as StoreError too."""
    with pytest.raises(StoreError, match="no-such-revision"):
        store.upgrade("no-such-revision")
    assert store.revision() == head_revision()


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_sqlite_files_are_private(tmp_path: Path) -> None:
    """Under umask 022 the database, its -wal and -shm files are 0600 and the missing
    parent directory is made 0700: customer data is not readable by other users."""
    database = tmp_path / "new" / "cc.sqlite3"
    with create_store(f"sqlite:///{database}") as store, store.transaction("write") as session:
        session.execute(text("CREATE TABLE t (x)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        wal, shm = (database.with_name(database.name + s) for s in ("-wal", "-shm"))
        assert wal.exists() and shm.exists()  # noqa: PT018 - WAL mode holds both open
        assert (mode(database), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    assert mode(database.parent) == 0o700


@pytest.mark.usefixtures("permissive_umask")
def test_an_existing_database_is_made_private(tmp_path: Path) -> None:
    """A database an older version left 0644 (with its companions) is 0600 once opened;
    an existing parent directory keeps its mode (the user chose it)."""
    database = tmp_path / "old.sqlite3"
    create_store(f"sqlite:///{database}").close()
    for path in (database, database.with_name("old.sqlite3-wal")):
        path.touch()
        path.chmod(0o644)
    tmp_path.chmod(0o755)
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect():
        assert mode(database) == 0o600
        assert mode(database.with_name("old.sqlite3-wal")) == 0o600
    engine.dispose()
    assert mode(tmp_path) == 0o755


def test_in_memory_sqlite_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sqlite://`` and ``sqlite:///:memory:`` stay in memory: no file appears anywhere."""
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        engine.dispose()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("permissive_umask")
def test_the_default_url_is_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_store() with no URL opens callcenter.sqlite3 in the data directory, looked
    up when called ($CALLCENTER_DATA_DIR set after the import counts), made 0700 with its
    subdirectories; nothing is written to the current directory."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    with create_store() as store:
        assert store.revision() is not None
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "callcenter.sqlite3") == 0o600
    assert (tmp_path / "data" / "voicemail").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_the_default_url_refuses_an_unsafe_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A world-writable data directory is refused before any database file is made."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data").chmod(0o777)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    with pytest.raises(UnsafeDirectoryError, match=re.escape(str(tmp_path / "data"))):
        create_engine(DEFAULT_URL)
    assert list((tmp_path / "data").iterdir()) == []


def test_default_url_is_found_at_import(tmp_path: Path) -> None:
    """DEFAULT_URL itself (shown by ``callcenter db --help``) names the data directory
    of the environment the library was imported in, not the current directory."""
    env = {**os.environ, DATA_DIR_ENV: str(tmp_path / "data")}
    shown = subprocess.run(
        [sys.executable, "-c", "from callcenter_sdk.store import DEFAULT_URL; print(DEFAULT_URL)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == f"sqlite:///{tmp_path}/data/callcenter.sqlite3"
    assert not (tmp_path / "data").exists()  # importing writes nothing
