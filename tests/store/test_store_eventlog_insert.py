"""The event log's fast batch insert (COPY on PostgreSQL, the driver's
executemany on SQLite) stores the rows SQLAlchemy's ``insert()`` stores."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert, text

from callcenter_sdk import StoreError
from callcenter_sdk.store import EventLog, Store, temporary_store
from callcenter_sdk.store._errors import is_unwritable
from callcenter_sdk.store._eventlog import _Row
from callcenter_sdk.store._rows import EventRow

ROWS: list[dict[str, Any]] = [
    {"kind": "test.plain", "at": 0.0, "payload": {}},
    {"kind": "test.floats", "at": 1.7e9 + 0.1234567890123, "payload": {"x": 0.1, "y": -2.5e-300}},
    {"kind": "test.ints", "at": -1.0, "payload": {"big": 2**62, "neg": -7, "ok": True, "no": None}},
    {
        "kind": "test.text",
        "at": 3.25,
        "payload": {
            "tab\tkey": "a\tb\nc\\d\re",
            "quote": 'say "hi"',
            "accents": "Élodie à l’accueil — 電話 😀",
            "backslash-n": "\\n\\N\\.",
        },
    },
    {"kind": "test.nested", "at": 4.0, "payload": {"a": [1, [2, {"b": []}]], "c": {"d": {}}}},
]


def _rows(rows: list[dict[str, Any]]) -> list[_Row]:
    """The event log's rows for ``rows``: the payload with json.dumps' text."""
    return [_Row(r["kind"], r["at"], json.dumps(r["payload"]), r["payload"]) for r in rows]


def _stored(store: Store) -> list[tuple[Any, ...]]:
    with store.transaction("read rows back") as session:
        result = session.execute(
            text("SELECT kind, at, CAST(payload AS TEXT) FROM events ORDER BY seq")
        )
        return [tuple(row) for row in result]


def test_fast_insert_stores_the_rows_insert_stores(store: Store) -> None:
    """The same rows, written by SQLAlchemy's insert() and then by the event
    log's batch path, read back identical: kinds, exact floats and the JSON
    text, escapes and non-ASCII text included; and read as events alike."""
    with store.transaction("insert the reference rows") as session:
        session.execute(insert(EventRow), [dict(r) for r in ROWS])
    EventLog(store)._write(_rows(ROWS))
    stored = _stored(store)
    expected, fast = stored[: len(ROWS)], stored[len(ROWS) :]
    assert fast == expected
    assert [r[0] for r in expected] == [r["kind"] for r in ROWS]
    assert [r[1] for r in expected] == [r["at"] for r in ROWS]
    with store.transaction("read payloads") as session:
        payloads = list(session.scalars(text("SELECT payload FROM events ORDER BY seq")))
    if store.dialect == "sqlite":  # raw JSON text there; jsonb comes back decoded
        payloads = [json.loads(p) for p in payloads]
    assert payloads == [r["payload"] for r in ROWS] * 2


def test_fast_insert_is_one_transaction(store: Store) -> None:
    """A batch the database refuses midway leaves nothing behind, and the
    log keeps working on the same store afterwards."""
    log = EventLog(store)
    bad = _rows([ROWS[0], {"kind": "x" * 101, "at": 1.0, "payload": {}}])
    if store.dialect == "sqlite":  # SQLite does not enforce VARCHAR lengths
        bad[1] = bad[1]._replace(kind=None)  # type: ignore[arg-type]  # NOT NULL
    with pytest.raises(StoreError):
        log._write(bad)
    assert _stored(store) == []
    log._write(_rows(ROWS[:1]))
    assert len(_stored(store)) == 1


@pytest.mark.postgresql
def test_a_row_postgresql_refuses_is_unwritable_not_an_outage(postgresql_url: str) -> None:
    """Through COPY, a value jsonb refuses (a NUL character, a NaN) is a
    data error, so the event writer drops that row instead of retrying for
    ever, exactly as with insert()."""
    with temporary_store(postgresql_url) as store:
        log = EventLog(store)
        for payload in ({"text": "a\u0000b"}, {"x": float("nan")}):
            with pytest.raises(StoreError) as caught:
                log._write(_rows([{"kind": "test.bad", "at": 1.0, "payload": payload}]))
            assert is_unwritable(caught.value), caught.value
        log._write(_rows(ROWS[:1]))
        assert len(_stored(store)) == 1
