"""``callcenter kamailio``, ``cluster_destinations``: one dispatcher set over all nodes' workers."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.cli import main
from callcenter_sdk.media import DispatcherDestination, cluster_destinations, kamailio_config
from callcenter_sdk.runtime import load_center

from ..cli.processes import hotline_center_file


def test_cluster_destinations_name_every_worker_of_every_node() -> None:
    """Each node's address with each worker port, IPv6 in brackets, named uniquely."""
    found = cluster_destinations(["10.0.0.11", "2001:db8::7"], [5070, 5071], capacity=8)
    assert found == [
        DispatcherDestination("10.0.0.11-w0", "10.0.0.11:5070", 8),
        DispatcherDestination("10.0.0.11-w1", "10.0.0.11:5071", 8),
        DispatcherDestination("2001.db8..7-w0", "[2001:db8::7]:5070", 8),
        DispatcherDestination("2001.db8..7-w1", "[2001:db8::7]:5071", 8),
    ]


@pytest.mark.parametrize(
    ("nodes", "ports", "message"),
    [
        ([], [5070], "at least one node"),
        (["10.0.0.11"], [], "at least one node and one worker port"),
        (["10.0.0.11", "10.0.0.11"], [5070], "listed twice"),
        (["node1.example"], [5070], "'node1.example' is not an IP address"),
        (["0.0.0.0"], [5070], "'0.0.0.0' is no address Kamailio can send to"),  # noqa: S104
    ],
)
def test_cluster_destinations_refuse_what_kamailio_could_not_route(
    nodes: list[str], ports: list[int], message: str
) -> None:
    """No node, no port, a node twice or a host name (the list needs addresses) is refused."""
    with pytest.raises(ValidationError, match=message):
        cluster_destinations(nodes, ports)


def test_a_clusters_destinations_start_inactive_until_they_answer_a_probe(tmp_path: Path) -> None:
    """Destinations of a cluster are listed inactive (state flag 1): Kamailio sends no call
    to a node until it answers OPTIONS, which only a node running media does; a running
    pool's workers are listed active. The INVITE and the probes fail over after the
    answer timeout. An IPv6 listening address is written in brackets."""
    destinations = cluster_destinations(["127.0.0.2", "127.0.0.3"], [5070])
    config = kamailio_config(destinations, tmp_path, answer_timeout=1.5).read_text()
    listed = (tmp_path / "dispatcher.list").read_text().splitlines()
    assert listed == [
        "1 sip:127.0.0.2:5070 1 0 duid=127.0.0.2-w0;maxload=2",
        "1 sip:127.0.0.3:5070 1 0 duid=127.0.0.3-w0;maxload=2",
    ]
    assert 'modparam("tm", "fr_timer", 1500)' in config
    assert 'modparam("dispatcher", "ds_probing_mode", 1)' in config
    assert 'ds_select_dst("1", "10")' in config
    ipv6 = kamailio_config(destinations, tmp_path, host="2001:db8::5", port=5060)
    assert "listen=udp:[2001:db8::5]:5060\n" in ipv6.read_text()
    assert '"sip:front@[2001:db8::5]:5060"' in ipv6.read_text()
    with pytest.raises(ValidationError, match="answer_timeout"):
        kamailio_config(destinations, tmp_path, answer_timeout=0)
    with pytest.raises(ValidationError, match="ping_interval must be whole seconds >= 1, got 0"):
        kamailio_config(destinations, tmp_path, ping_interval=0)
    with pytest.raises(ValidationError, match="letters, digits"):
        kamailio_config([DispatcherDestination("a b", "127.0.0.2:5070", 4)], tmp_path)


def _center(tmp_path: Path, sip: str) -> Path:
    """The hotline's center file, its ``[sip]`` host and port lines replaced by ``sip``."""
    file = hotline_center_file(tmp_path)
    text = file.read_text(encoding="utf-8")
    text = text.replace('host = "127.0.0.1"\nport = 5060', sip)
    file.write_text(text, "utf-8")
    return file


def test_the_command_writes_one_set_over_the_nodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``callcenter kamailio`` lists ``[sip] workers`` ports from ``worker_port`` on each
    ``--node``, listens where ``--listen`` says, keeps the trunks' identity headers, and says
    how to run it and that the nodes should trust Kamailio."""
    center = _center(tmp_path, "port = 5060\nworker_port = 5070")
    out = tmp_path / "front"
    args = ["kamailio", str(center), "--node", "10.0.0.11", "--node", "10.0.0.12"]
    assert main([*args, "--listen", "10.0.0.5:5060", "--directory", str(out)]) == 0
    assert main([*args, "--trunk", "198.51.100.0/24", "--directory", str(out / "t")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1:4] == [
        "  4 workers on 2 nodes, calls to sip:NUMBER@10.0.0.5:5060",
        '  the nodes should trust Kamailio: [sip] trusted = ["10.0.0.5"]',
        f"run: kamailio -DD -E -f {out.resolve() / 'kamailio.cfg'}",
    ]
    listed = (out / "dispatcher.list").read_text().splitlines()
    assert [line.split()[1] for line in listed] == [
        "sip:10.0.0.11:5070",
        "sip:10.0.0.11:5071",
        "sip:10.0.0.12:5070",
        "sip:10.0.0.12:5071",
    ]
    assert "listen=udp:10.0.0.5:5060" in (out / "kamailio.cfg").read_text()
    assert "src_ip == 198.51.100.0/24" in (out / "t" / "kamailio.cfg").read_text()


@pytest.mark.parametrize(
    ("sip", "args", "error"),
    [
        (
            "port = 5060",
            [],
            (
                "at sip.worker_port: expected the first worker's port (worker n listens on"
                " worker_port + n, on every node), got 0"
            ),
        ),
        (
            "port = 5060\nworker_port = 5070",
            ["--listen", "kamailio:5060"],
            "--listen 'kamailio:5060': expected HOST:PORT, such as 10.0.0.5:5060",
        ),
        (
            "port = 5060\nworker_port = 5070",
            ["--node", "node1"],
            "node 'node1' is not an IP address",
        ),
        (
            'host = "0.0.0.0"\nport = 5060\nworker_port = 5070',
            [],
            (
                "[sip] host is 0.0.0.0, no address Kamailio can send to: name each node with"
                " --node ADDRESS"
            ),
        ),
    ],
)
def test_the_command_refuses_what_it_cannot_list_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sip: str, args: list[str], error: str
) -> None:
    """No fixed worker ports (named with the file and path), a listen address that is not
    HOST:PORT, a node that is not an address, or no --node while the file's host is a
    bind-all address: exit 2 with one line on stderr."""
    center = _center(tmp_path, sip)
    assert main(["kamailio", str(center), *args, "--directory", str(tmp_path / "k")]) == 2
    printed = capsys.readouterr().err.strip()
    assert printed.startswith("callcenter kamailio: error: ")
    assert printed.endswith(error)
    assert "\n" not in printed


DOCS = Path(__file__).parents[2] / "docs" / "cluster.md"


def _section(name: str) -> str:
    """The text of ``docs/cluster.md`` from the heading ``name`` to the next of its level."""
    page = DOCS.read_text(encoding="utf-8")
    start = page.index(f"### {name}\n")
    end = page.find("\n### ", start + 1)
    return page[start : end if end >= 0 else len(page)]


def _blocks(text: str) -> list[str]:
    """The fenced blocks of ``text``, their indentation removed."""
    found = []
    for match in re.finditer(r"^( *)```\w*\n(.*?)^\1```", text, re.MULTILINE | re.DOTALL):
        indent = len(match[1])
        found.append("\n".join(line[indent:] for line in match[2].splitlines()))
    return found


def test_the_front_door_page_shows_what_the_command_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/cluster.md "The front door": the center file's tables it shows (the hotline's
    other tables kept) load; its ``callcenter kamailio`` session prints what the page
    shows; the dispatcher list and the configuration on the page are the files written
    (the page's directory standing for the test's)."""
    toml_block, _nodes, session, listed, config, _measure = _blocks(_section("The front door"))
    shown = tomllib.loads(toml_block)
    center = hotline_center_file(tmp_path)
    text = center.read_text(encoding="utf-8")
    sip = "\n".join(f"{key} = {json.dumps(value)}" for key, value in shown["sip"].items())
    text = re.sub(r"\[sip\]\n(?:[^\[\n][^\n]*\n|\n)*", f"[sip]\n{sip}\n\n", text, count=1)
    text = text.replace(
        'store = "sqlite:///center.sqlite"', f'store = "{shown["center"]["store"]}"'
    )
    center.write_text(text, encoding="utf-8")
    setup = load_center(center)
    assert setup.sip.worker_ports == (5070, 5071, 5072, 5073)
    assert setup.store_url == shown["center"]["store"]

    command, *printed = session.splitlines()
    words = shlex.split(command.removeprefix("$ "))
    assert words[:2] == ["callcenter", "kamailio"]
    directory = words[words.index("--directory") + 1]
    args = [*words[1:2], str(center), *words[3:]]
    args[args.index(directory)] = str(tmp_path / "front")
    assert main(args) == 0
    out = tmp_path / "front"
    written = capsys.readouterr().out.replace(str(out.resolve()), directory)
    assert written.splitlines() == printed
    assert (out / "dispatcher.list").read_text() == listed + "\n"
    assert (out / "kamailio.cfg").read_text().replace(str(out.resolve()), directory) == (
        config + "\n"
    )
