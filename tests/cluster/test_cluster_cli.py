"""``callcenter cluster CONFIG nodes|forget`` and ``serve --cluster URL``, on PostgreSQL.

The nodes' heartbeats are written with :class:`~callcenter_sdk.store.Nodes`
as ``serve --cluster`` writes them, in a schema of the test's own; the
commands read the same rows. The last test runs a real ``serve --virtual
--cluster URL`` process whose center file names a SQLite store, and finds
it leading from the PostgreSQL store the URL names.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from callcenter_sdk.cli import main
from callcenter_sdk.cli._cluster import HEADERS
from callcenter_sdk.store import Heartbeat, NodeHealth, NodeRole, Nodes, Store, temporary_store

from ..cli.processes import ROOT, free_port, hotline_center_file, running

pytestmark = [pytest.mark.postgresql]

DOMAIN = "hotline"
"""The routing domain of the hotline's center file (its name)."""


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh, migrated PostgreSQL schema for this test only."""
    with temporary_store(postgresql_url) as store:
        yield store


@pytest.fixture
def url(database: Store, postgresql_url: str) -> str:
    """The URL of the test's schema (its search path set), as an operator would write it."""
    with database.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    found = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return found.render_as_string(hide_password=False)


def _beat(nodes: Nodes, node: str, role: NodeRole, *, epoch: int | None = None) -> None:
    nodes.beat(
        Heartbeat(
            domain=DOMAIN,
            node=node,
            role=role,
            epoch=epoch,
            web=f"http://10.0.0.1{node[-1]}:8080",
            media=f"sip:10.0.0.1{node[-1]}:5060",
            applied_seq=0,
            health=NodeHealth(media_alive=2, media_total=2),
        ),
        ttl=600.0,
        join=True,
    )


def _cluster(
    capsys: pytest.CaptureFixture[str], config: Path, url: str, *args: str
) -> tuple[int, str, str]:
    code = main(["cluster", str(config), "--url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_nodes_lists_each_node_with_its_state(
    database: Store, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cluster nodes`` prints one line per node of the center's domain, with its role,
    epoch, state (up, left) and media health; a node of another domain is not shown, and
    an empty cluster says so instead of printing an empty table."""
    config = hotline_center_file(tmp_path)
    code, out, _ = _cluster(capsys, config, url, "nodes")
    assert (code, out) == (0, f"no node of {DOMAIN!r} has reported in this store\n")
    nodes = Nodes(database)
    _beat(nodes, "node1", NodeRole.LEADER, epoch=3)
    _beat(nodes, "node2", NodeRole.STANDBY)
    nodes.leave(DOMAIN, "node2")
    nodes.beat(Heartbeat(domain="elsewhere", node="node9", role=NodeRole.LEADER), ttl=600.0)
    code, out, _ = _cluster(capsys, config, url, "nodes")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == list(HEADERS)
    assert len(lines) == 2
    first, second = (line.split() for line in lines)
    assert first[:4] == ["node1", "leader", "3", "up"]
    assert "media 2/2" in lines[0]
    assert second[0:2] == ["node2", "standby"]
    assert second[2:4] == ["-", "left"]  # no lease was ever taken: no epoch to stand by on


def test_forget_removes_a_stopped_node_and_refuses_an_up_one(
    database: Store, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cluster forget`` removes the row of a node that left, refuses a node that is up
    (it would report itself again) and a name that is no node, each in one line with exit
    code 2, and leaves the other rows alone."""
    config = hotline_center_file(tmp_path)
    nodes = Nodes(database)
    _beat(nodes, "node1", NodeRole.LEADER, epoch=1)
    _beat(nodes, "node2", NodeRole.STANDBY)
    nodes.leave(DOMAIN, "node2")

    code, _, err = _cluster(capsys, config, url, "forget", "node1")
    assert code == 2
    up = f"callcenter cluster: error: node 'node1' of {DOMAIN!r} is up (heartbeat "
    assert err.startswith(up)
    assert err.endswith("stop it first, it would report itself again\n")
    assert err.count("\n") == 1

    code, _, err = _cluster(capsys, config, url, "forget", "node7")
    assert code == 2
    assert err == (
        f"callcenter cluster: error: 'node7' is no node of {DOMAIN!r} (nodes: node1, node2)\n"
    )

    code, out, _ = _cluster(capsys, config, url, "forget", "node2")
    assert (code, out) == (0, f"forgot node 'node2' of {DOMAIN!r} (left)\n")
    assert [n.node for n in nodes.view(DOMAIN).nodes] == ["node1"]


def test_serve_cluster_refuses_a_url_that_is_not_postgresql(tmp_path: Path) -> None:
    """``serve --cluster sqlite:///…`` is refused as the option is read, in one line saying
    the nodes share a PostgreSQL store; no store file is made."""
    config = hotline_center_file(tmp_path)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "callcenter_sdk", "serve", str(config), "--virtual"),
            *("--node-id", "a", "--cluster", f"sqlite:///{tmp_path / 'x.db'}"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "--cluster: " in done.stderr
    assert "a cluster's nodes share a PostgreSQL store" in done.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.slow
def test_serve_cluster_url_runs_the_node_on_that_store(
    database: Store, url: str, tmp_path: Path
) -> None:
    """``serve --node-id a --cluster URL`` (the issue's command line) runs the node on the
    PostgreSQL store the URL names, though the center file says SQLite: it leads at epoch
    1, its heartbeat is in that store, and no SQLite store file is made."""
    config = hotline_center_file(tmp_path)
    port = free_port()
    args = ("serve", str(config), "--virtual", "--node-id", "a", "--cluster", url)
    with running(*args, "--port", str(port)) as node:
        node.wait_for_line("leader a epoch 1", 120)
        deadline = time.monotonic() + 60
        while not [n for n in Nodes(database).view(DOMAIN).nodes if n.node == "a" and n.up]:
            assert time.monotonic() < deadline, "node a never reported in the URL's store"
            time.sleep(0.2)  # polling another process's heartbeat: nothing to wait on
    assert not (tmp_path / "center.sqlite").exists()
