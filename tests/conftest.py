"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

from callcenter_sdk.store import Store, create_engine, temporary_store

# Tests never fail because the machine is slow or busy: no per-example deadline,
# no "too slow" health check (a loaded CI machine is not a bug in our code).
settings.register_profile("callcenter", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("callcenter")

POSTGRESQL_ENV = "CALLCENTER_TEST_POSTGRESQL_URL"
REQUIRE_ENV = "CALLCENTER_REQUIRE_POSTGRESQL"


@pytest.fixture(autouse=True, scope="session")
def private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the data directory at a temporary folder for the whole run.

    A test that opens the default store or leaves a voicemail without naming a
    folder must not write into the real ``~/.local/share/callcenter``.
    """
    folder = tmp_path_factory.mktemp("data")
    folder.chmod(0o700)
    saved = os.environ.get("CALLCENTER_DATA_DIR")
    os.environ["CALLCENTER_DATA_DIR"] = str(folder)
    yield
    if saved is None:
        os.environ.pop("CALLCENTER_DATA_DIR", None)
    else:
        os.environ["CALLCENTER_DATA_DIR"] = saved


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    """The SQLAlchemy URL of a PostgreSQL test database.

    Skips (with the reason shown in the summary) when the variable is unset,
    unless CALLCENTER_REQUIRE_POSTGRESQL is set, as in CI, where that is an error.
    """
    url = os.environ.get(POSTGRESQL_ENV, "")
    if not url:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but {POSTGRESQL_ENV} is empty")
        pytest.skip(f"PostgreSQL tests need {POSTGRESQL_ENV} (CI sets it)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh migrated store: a SQLite file, or a private PostgreSQL schema.

    Every test using it runs on both databases, so the embedded default and
    production behave alike.
    """
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgresql_url")
    with temporary_store(url) as fresh:
        yield fresh


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Run with umask 022, so the file modes a test sees are the ones our code sets."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs, so a test can fill a disk without filling the machine's."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def _postgresql_admin(url: str, sql: str) -> None:
    """Run ``sql`` (``{name}``: the database of ``url``) from the server's ``postgres`` database."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.exec_driver_sql(sql.format(name=parsed.database))
    finally:
        admin.dispose()


@pytest.fixture
def postgresql_admin() -> Callable[[str, str], None]:
    """``admin(url, sql)`` runs ``sql`` on the server of ``url``, ``{name}`` being its database.

    For tests that drop and recreate their database (an outage): ``admin(url,
    'DROP DATABASE "{name}" WITH (FORCE)')``.
    """
    return _postgresql_admin


@pytest.fixture
def private_postgresql(postgresql_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own (the test may drop and recreate it), dropped afterwards."""
    name = f"cc_outage_{uuid.uuid4().hex[:12]}"
    url = make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
    _postgresql_admin(url, 'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        _postgresql_admin(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
