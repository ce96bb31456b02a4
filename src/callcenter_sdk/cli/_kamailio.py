"""``callcenter kamailio CONFIG``: write the front door of a center's nodes for Kamailio.

::

    callcenter kamailio center.toml --node 10.0.0.11 --node 10.0.0.12 --listen 10.0.0.5:5060

One dispatcher set names every worker of every node (``[sip] worker_port``
on, ``[sip] workers`` of them, on each ``--node`` address). Each starts
inactive and turns active once it answers an OPTIONS probe: only a node
that runs media (the leader of a ``serve --cluster``) takes calls, a dead
node's workers are inactive after one missed probe, and calls are spread by
load (algorithm 10) over the active ones, with failover to the next on
486, 408, 5xx or no answer. Without ``--node``, the one node is ``[sip]
host``. The files are :func:`~callcenter_sdk.media.kamailio_config`'s.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from .._errors import ValidationError
from ..media import cluster_destinations, kamailio_config
from ..runtime import load_center
from ._main import COMMANDS, Command

STOCK_CAPACITY = 4
"""Legs one worker holds on the stock pjsua2 wheel (``docs/media.md``)."""
PING_INTERVAL = 1
"""Seconds between probes: a new leader's workers take calls at most this long after they start."""


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the center's TOML file (see docs/serve.md)")
    parser.add_argument(
        "--node",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a node's SIP address (serve --sip-host); repeat for each node (default: [sip] host)",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:5060",
        metavar="HOST:PORT",
        help="Kamailio's public UDP address, the one callers dial (default: 127.0.0.1:5060)",
    )
    parser.add_argument(
        "--directory",
        type=Path,
        default=Path(),
        help="where to write kamailio.cfg and dispatcher.list (default: here)",
    )
    parser.add_argument(
        "--trunk",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a trunk's address or network whose caller identity headers are kept; repeatable",
    )
    parser.add_argument(
        "--worker-capacity",
        type=int,
        default=STOCK_CAPACITY,
        metavar="LEGS",
        help=f"legs one worker holds (default: {STOCK_CAPACITY}, the stock pjsua2 wheel)",
    )
    parser.add_argument(
        "--ping-interval",
        type=int,
        default=PING_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between OPTIONS probes of each worker (default: {PING_INTERVAL})",
    )
    parser.add_argument(
        "--module-path", default=None, help="Kamailio's module directory, if not its default"
    )


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not 0 < number <= 65535:
        raise ValidationError(f"--listen {text!r}: expected HOST:PORT, such as 10.0.0.5:5060")
    return host, number


def _run(args: argparse.Namespace) -> int:
    setup = load_center(args.config)
    sip = setup.sip
    ports = sip.worker_ports
    if ports is None:
        print(
            f"callcenter kamailio: error: {setup.source}: at sip.worker_port: expected the first"
            " worker's port (worker n listens on worker_port + n, on every node), got 0",
            file=sys.stderr,
        )
        return 2
    host, port = _listen(args.listen)
    nodes = list(args.node) or [sip.host]
    if not args.node and sip.host in ("0.0.0.0", "::"):  # noqa: S104 - a bind-all address
        print(
            f"callcenter kamailio: error: {setup.source}: [sip] host is {sip.host}, no"
            " address Kamailio can send to: name each node with --node ADDRESS",
            file=sys.stderr,
        )
        return 2
    workers = cluster_destinations(nodes, ports, capacity=args.worker_capacity)
    args.directory.mkdir(parents=True, exist_ok=True)
    config = kamailio_config(
        workers,
        args.directory.resolve(),
        host=host,
        port=port,
        ping_interval=args.ping_interval,
        module_path=args.module_path,
        trusted=args.trunk,
    )
    print(f"wrote {config} and {config.with_name('dispatcher.list')}")
    print(f"  {len(workers)} workers on {len(nodes)} nodes, calls to sip:NUMBER@{args.listen}")
    if host not in sip.trusted:
        print(f'  the nodes should trust Kamailio: [sip] trusted = ["{host}"]')
    print(f"run: kamailio -DD -E -f {config}")
    return 0


COMMANDS["kamailio"] = Command(
    name="kamailio",
    help="write Kamailio's dispatcher configuration over every node's media workers",
    configure=_configure,
    run=_run,
)
