"""The wheel is all a user needs: installed in a fresh environment, the demo runs.

Built from this checkout, installed with its dependencies from the package
index into a virtual environment outside the repository, and run from an
empty directory, as a new user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout (hatchling from the test environment, no download)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("-q", "--wheel-dir", str(out), str(ROOT)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("callcenter_sdk-*.whl")
    return built


def test_the_wheel_carries_license_examples_and_extras(wheel: Path) -> None:
    """LICENSE, the examples (no bytecode), the extras named by use and the project's
    links (home, docs, repository, issues, changelog) are in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "callcenter_sdk/examples/hotline/main.py" in names
    assert "callcenter_sdk/examples/hotline/org.toml" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    lines = metadata.decode().splitlines()
    assert "License-Expression: MIT" in lines
    extras = {line.split(": ", 1)[1] for line in lines if line.startswith("Provides-Extra: ")}
    assert {"postgresql", "web", "channels", "reports", "testing"} <= extras
    testing = [
        line for line in lines if "extra == 'testing'" in line or 'extra == "testing"' in line
    ]
    assert len(testing) == 1
    assert testing[0].startswith("Requires-Dist: hypothesis")
    urls = {
        line.split(": ", 1)[1].split(", ", 1)[0]
        for line in lines
        if line.startswith("Project-URL: ")
    }
    assert urls == {"Homepage", "Documentation", "Repository", "Issues", "Changelog"}


def test_demo_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    """``callcenter demo --virtual`` runs from a fresh venv in an empty directory,
    writes nothing there nor in the data directory, and the test helpers say which
    extra they need when hypothesis is missing."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "somewhere"
    work.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [str(bin_dir / "callcenter"), "demo", "--virtual", "--duration", "10"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "service level" in done.stdout
    assert "events stored" in done.stdout
    assert list(work.iterdir()) == []
    assert not (home / "data").exists() or not any((home / "data").rglob("*.sqlite3"))
    helpers = subprocess.run(
        [str(bin_dir / "python"), "-c", "import callcenter_sdk.testing"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "pip install 'callcenter_sdk[testing]'" in helpers.stderr
