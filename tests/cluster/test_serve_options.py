"""``callcenter serve --cluster``: the options it needs, refused in one line before it starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..cli.processes import ROOT, hotline_center_file


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter_sdk", "serve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cluster_on_a_sqlite_store_is_one_line(tmp_path: Path) -> None:
    """``--cluster`` with the center's store on SQLite (which nodes cannot share) is one line
    naming the file and the need for PostgreSQL, exit code 2, and no store file is created."""
    config = hotline_center_file(tmp_path)
    done = _serve(str(config), "--virtual", "--cluster", "--node-id", "a")
    assert done.returncode == 2
    assert done.stderr == (
        f"callcenter serve: error: {config}: --cluster needs a PostgreSQL store ([center] store ="
        ' "postgresql+psycopg://..."), not sqlite: the nodes share it\n'
    )
    assert not (tmp_path / "center.sqlite").exists()


def test_cluster_without_a_node_id_and_a_node_id_alone_are_one_line(tmp_path: Path) -> None:
    """``--cluster`` needs ``--node-id``, and ``--node-id`` means nothing without ``--cluster``:
    each is one line, exit code 2."""
    config = hotline_center_file(tmp_path)
    alone = _serve(str(config), "--virtual", "--cluster")
    assert alone.returncode == 2
    assert alone.stderr == (
        "callcenter serve: error: --cluster needs --node-id NAME"
        " (this node's name, unique in the cluster)\n"
    )
    named = _serve(str(config), "--virtual", "--node-id", "a")
    assert named.returncode == 2
    assert (
        named.stderr
        == "callcenter serve: error: --node-id names a node of a cluster: add --cluster\n"
    )
