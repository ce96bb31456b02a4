"""``callcenter db upgrade`` and ``callcenter db current``."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from callcenter_sdk.cli import main
from callcenter_sdk.cti import CustomerDirectory
from callcenter_sdk.store import create_engine, create_store, head_revision

HEAD = head_revision()
"""The newest migration's revision: what a database upgraded to head reports."""


def test_db_upgrade_creates_the_schema_then_current_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new SQLite file is migrated to head; running it again is harmless."""
    url = f"sqlite:///{tmp_path / 'cc.sqlite3'}"
    assert main(["db", "current", "--url", url]) == 0
    assert capsys.readouterr().out.strip().endswith("schema revision none")
    assert main(["db", "upgrade", "--url", url]) == 0
    assert main(["db", "upgrade", "--url", url]) == 0
    assert main(["db", "current", "--url", url]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith(f"schema revision {HEAD}")


def test_db_upgrade_reports_an_unreachable_database_as_a_clear_error(tmp_path: Path) -> None:
    """A database that cannot be reached is one line on stderr and exit code 2."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "callcenter_sdk",
            "db",
            "upgrade",
            "--url",
            "postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "callcenter db: error:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.postgresql
def test_db_upgrade_inside_a_postgresql_schema(
    postgresql_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--schema`` migrates one tenant's schema of a shared PostgreSQL database."""
    schema = f"tmp_{uuid.uuid4().hex[:16]}"
    try:
        assert main(["db", "upgrade", "--url", postgresql_url, "--schema", schema]) == 0
        assert capsys.readouterr().out.strip().endswith(f"schema revision {HEAD}")
        with create_store(postgresql_url, schema=schema, upgrade=False) as store:
            assert store.revision() == HEAD
    finally:
        engine = create_engine(postgresql_url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def test_import_customers_reports_rejected_lines_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good rows land in the directory; bad ones are listed with their line number."""
    url = f"sqlite:///{tmp_path / 'cc.sqlite3'}"
    csv = tmp_path / "crm.csv"
    csv.write_text("number,name,phone\nC-1,Ana,0612345678\nC-2,Bo,12\n", encoding="utf-8")
    assert main(["db", "import-customers", str(csv), "--url", url]) == 1
    out, err = capsys.readouterr()
    assert "1 customers saved, 1 rejected" in out
    assert f"{csv}:3:" in err
    with create_store(url) as store:
        found = CustomerDirectory(store).by_phone("+33612345678")
    assert found is not None
    assert found.name == "Ana"
