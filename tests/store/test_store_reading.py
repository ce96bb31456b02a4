"""Transactions that only read do not take SQLite's write lock; writers of one process queue."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from callcenter_sdk.store import Accounts, create_store


def _write_elsewhere(database: Path) -> None:
    """Insert a row from another connection, giving up after 0.2 s of waiting for the lock."""
    other = sqlite3.connect(database, timeout=0.2, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO api_tokens (token_hash, person_id, created_at, label)"
            " VALUES (hex(randomblob(16)), 'p', 1.0, 'l')"
        )
        other.execute("COMMIT")
    finally:
        other.close()


def test_a_reading_transaction_lets_others_write_and_a_writing_one_does_not(
    tmp_path: Path,
) -> None:
    """While ``reading`` is open, another connection writes at once; while
    ``transaction`` is open, it waits for the write lock and gives up."""
    database = tmp_path / "center.sqlite"
    with create_store(f"sqlite:///{database}") as store:
        with store.reading("read") as session:
            session.execute(text("SELECT count(*) FROM api_tokens")).scalar()
            _write_elsewhere(database)
        with store.transaction("write") as session:
            session.execute(text("SELECT count(*) FROM api_tokens")).scalar()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                _write_elsewhere(database)


def test_writers_of_one_process_all_get_through(tmp_path: Path) -> None:
    """Eight threads making 25 bearer tokens each at once, on a SQLite file,
    all succeed (they queue for the write lock in the process) and every
    token is known afterwards."""
    with create_store(f"sqlite:///{tmp_path / 'center.sqlite'}") as store:
        accounts = Accounts(store)
        made: list[str] = []
        lock = threading.Lock()

        def make() -> None:
            for _ in range(25):
                token = accounts.create_token("ag.alice", at=1.0)
                with lock:
                    made.append(token)

        threads = [threading.Thread(target=make) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(made) == 200
        assert all(accounts.token_owner(token) == "ag.alice" for token in made)
