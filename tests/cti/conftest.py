"""The ``store`` fixture: the customer directory runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callcenter_sdk.store import Store, temporary_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh migrated store: a SQLite file, or a private PostgreSQL schema."""
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgresql_url")
    with temporary_store(url) as fresh:
        yield fresh
