"""Bad input never shows a traceback: one line naming the file and line, exit status 2.

Each case runs ``callcenter`` in a process of its own, as a user would,
so what is checked is exactly what the terminal shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_FORECAST = "queue,start,volume,aht\n"
_TARGETS = ("--sl", "0.8", "--within", "20")
_LEADS = ("--campaign", "spring", "--list", "web")


def callcenter(cwd: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """Run the command line in ``cwd``; ``prelude`` runs first (to hide a package)."""
    code = f"{prelude}\nimport sys\nfrom callcenter_sdk.cli import main\nsys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# (file content as bytes, the command after the file name is added, what the message holds)
_CASES: dict[str, tuple[bytes, tuple[str, ...], str]] = {
    "staff: empty file": (b"", ("staff", "--forecast"), "bad.csv:1: expected a header row"),
    "staff: header only": (
        _FORECAST.encode(),
        ("staff", "--forecast"),
        "bad.csv:2: expected at least one forecast row",
    ),
    "staff: BOM and a missing column": (
        b"\xef\xbb\xbfqueue,start,volume\nq,08:00,10\n",
        ("staff", "--forecast"),
        "bad.csv:1: expected a header with the aht column",
    ),
    "staff: ; separators and a bad cell": (
        b"queue;start;volume;aht\nq;08:00;many;180\n",
        ("staff", "--forecast"),
        "bad.csv:2: column 'volume': expected a number",
    ),
    "staff: cp1252": (
        (_FORECAST + "sales,08:00,10,180\nsoci\u00e9t\u00e9,08:30,10,180\n").encode("cp1252"),
        ("staff", "--forecast"),
        "bad.csv:3: expected UTF-8 text (byte 0xe9 at column 5",
    ),
    "staff: start 25:99": (
        (_FORECAST + "q,25:99,10,180\n").encode(),
        ("staff", "--forecast"),
        "bad.csv:2: column 'start'",
    ),
    "staff: start -1": (
        (_FORECAST + "q,-1,10,180\n").encode(),
        ("staff", "--forecast"),
        "bad.csv:2: column 'start'",
    ),
    "staff: interval 0": (
        b"queue,start,volume,aht,interval\nq,08:00,10,180,0\n",
        ("staff", "--forecast"),
        "bad.csv:2: column 'interval': expected an interval from 1 to 1440 minutes",
    ),
    "staff: volume 1e9": (
        (_FORECAST + "q,08:00,1e9,180\n").encode(),
        ("staff", "--forecast"),
        "bad.csv:2: column 'volume': expected an offered load",
    ),
    "staff: volume 1e12": (
        (_FORECAST + "q,08:00,1e12,180\n").encode(),
        ("staff", "--forecast"),
        "bad.csv:2: column 'volume': expected an offered load",
    ),
    "staff: AHT 1e9": (
        (_FORECAST + "q,08:00,10,1e9\n").encode(),
        ("staff", "--forecast"),
        "bad.csv:2: column 'volume': expected an offered load",
    ),
    "leads: duplicate lead id": (
        b"lead_id,phone\nL1,+33612345678\nL2,+33612345679\nL1,+33612345670\n",
        ("leads", "import", *_LEADS, "--url", "sqlite:///cc.db"),
        "bad.csv:4: column 'lead_id': expected a lead id not used before (line 2 has it too)",
    ),
    "leads: field over 128 KiB": (
        b"phone,note\n+33612345678," + b"x" * 200_000 + b"\n",
        ("leads", "import", *_LEADS, "--url", "sqlite:///cc.db"),
        "bad.csv:2: expected fields of at most 128 KiB",
    ),
    "leads: cp1252": (
        "phone,first_name\n+33612345678,Ren\u00e9\n".encode("cp1252"),
        ("leads", "import", *_LEADS, "--url", "sqlite:///cc.db"),
        "bad.csv:2: expected UTF-8 text",
    ),
    "leads: no phone column": (
        b"number,name\n1,Ann\n",
        ("leads", "import", *_LEADS, "--url", "sqlite:///cc.db"),
        "bad.csv:1: expected a header with the phone column",
    ),
    "db import-customers: cp1252": (
        "number,name\nC1,Ren\u00e9e\n".encode("cp1252"),
        ("db", "import-customers", "--url", "sqlite:///cc.db"),
        "bad.csv:2: expected UTF-8 text",
    ),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_bad_files_name_file_and_line_and_exit_2(tmp_path: Path, case: str) -> None:
    """Each bad file the issue lists gives one line with the file and line, status 2."""
    content, command, message = _CASES[case]
    (tmp_path / "bad.csv").write_bytes(content)
    args = [*command, "bad.csv"]
    if command[0] == "staff":
        args += _TARGETS
    done = callcenter(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--volume", "10", "--aht", "180", "--interval", "0"), "--interval"),
        (("--volume", "10", "--aht", "180", "--interval", "1e-300"), "--interval"),
        (("--volume", "1e12", "--aht", "180"), "offered load"),
        (("--volume", "10", "--aht", "1e9"), "offered load"),
    ],
)
def test_bad_staff_options_exit_2(tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    """Options are checked like cells: a bounded load, an interval of a minute or more."""
    done = callcenter(tmp_path, "staff", *options, *_TARGETS)
    assert done.returncode == 2
    assert f"<command line>: at {options[-2] if message == '--interval' else '--volume'}" in (
        done.stderr
    )
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "prelude", "message"),
    [
        (
            ("db", "upgrade", "--url", "cc.db"),
            "",
            "'cc.db' is not a database URL: write sqlite:///cc.db",
        ),
        (
            ("db", "current", "--url", "postgresql+psycopg://u@localhost/db"),
            "sys.modules['psycopg'] = None",
            (
                "PostgreSQL needs psycopg, which is not installed: pip install"
                " 'callcenter_sdk[postgresql]'"
            ),
        ),
    ],
)
def test_bad_database_urls_exit_2(
    tmp_path: Path, args: tuple[str, ...], prelude: str, message: str
) -> None:
    """A file name given as a URL, or PostgreSQL without psycopg, is one clear line."""
    done = callcenter(tmp_path, *args, prelude=f"import sys; {prelude}")
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cc.db").exists()


def test_an_empty_org_file_is_an_error(tmp_path: Path) -> None:
    """An empty org file is not a valid org of nothing: it names the file."""
    (tmp_path / "org.toml").write_text("# nothing yet\n", encoding="utf-8")
    done = callcenter(tmp_path, "org", "check", "org.toml")
    assert done.returncode == 2
    assert "org.toml: at organisations: expected at least one [[organisations]] table" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr


def test_toml_errors_carry_line_and_column(tmp_path: Path) -> None:
    """A TOML syntax error names the line and column; a wrong value names its line."""
    (tmp_path / "org.toml").write_text(
        '[[organisations]]\nid = "acme"\nname = \n', encoding="utf-8"
    )
    done = callcenter(tmp_path, "org", "check", "org.toml")
    assert done.returncode == 2
    assert "org.toml" in done.stderr
    assert "line 3, column 8" in done.stderr
    (tmp_path / "org.toml").write_text(
        '[[organisations]]\nid = "acme"\nname = "Acme"\nkind = 7\n', encoding="utf-8"
    )
    done = callcenter(tmp_path, "org", "check", "org.toml")
    assert done.returncode == 2
    assert "org.toml: at organisations[0].kind" in done.stderr
    assert "(line 4)" in done.stderr
    assert "Traceback" not in done.stderr


def test_testing_without_hypothesis_names_the_extra(tmp_path: Path) -> None:
    """Importing the test helpers without hypothesis says which extra brings it."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['hypothesis'] = None; import callcenter_sdk.testing",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert (
        "ImportError: callcenter_sdk.testing needs hypothesis, which is not installed:"
        " pip install 'callcenter_sdk[testing]'"
    ) in done.stderr
