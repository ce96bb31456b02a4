"""``callcenter cluster CONFIG``: the nodes of a center's cluster, and taking one out for good.

::

    callcenter cluster center.toml nodes              # every node: role, epoch, health, lag
    callcenter cluster center.toml forget node3       # a node taken out for good: its row goes

Both read the center file for the routing domain (the center's name) and the
shared store (``[center] store``, or ``--url``, as ``serve --cluster URL``
takes it). A node's row stays after it stops, shown down or left, so that
the status page says what became of it; ``forget`` removes the row of a node
that will not come back. A node that is up is refused (it would write its
row again at its next heartbeat): stop it first.
"""

from __future__ import annotations

import argparse
import sys

import attrs

from .._errors import ValidationError
from ..runtime import load_center
from ..store import Nodes, NodeStatus
from ._main import COMMANDS, Command
from ._tables import print_table
from ._url import database_url

HEADERS = ("node", "role", "epoch", "state", "seen", "lag", "web", "media", "health")
"""The columns of ``cluster nodes``."""


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the center's TOML file (its name is the routing domain)")
    parser.add_argument(
        "--url",
        default=None,
        type=database_url,
        help="the shared store (default: the center file's [center] store)",
    )
    sub = parser.add_subparsers(dest="cluster_command", required=True, metavar="ACTION")
    sub.add_parser("nodes", help="list the nodes: role, epoch, up or down, lag, health")
    forget = sub.add_parser("forget", help="remove the row of a node taken out for good")
    forget.add_argument("node", help="the node's id (its --node-id)")


def state_of(node: NodeStatus) -> str:
    """``up``, ``left`` (stopped cleanly) or ``down`` (its heartbeat ran out)."""
    if node.up:
        return "up"
    return "left" if node.left_at is not None else "down"


def _health(node: NodeStatus) -> str:
    h = node.health
    parts = ["store ok" if h.store_ok else f"store degraded ({h.unwritten} unwritten)"]
    if h.media_total is not None:
        parts.append(f"media {h.media_alive}/{h.media_total}")
    return ", ".join(parts)


def node_row(node: NodeStatus) -> list[str]:
    """One node as ``cluster nodes`` prints it (the columns of :data:`HEADERS`)."""
    return [
        node.node,
        node.role.value,
        "-" if node.epoch is None else str(node.epoch),
        state_of(node),
        f"{node.age:.1f} s ago",
        "-" if node.lag is None else str(node.lag),
        node.web,
        node.media,
        _health(node),
    ]


def _run(args: argparse.Namespace) -> int:
    setup = load_center(args.config)
    if args.url is not None:
        setup = attrs.evolve(setup, store_url=args.url)
    domain = setup.config.node
    with setup.open_store() as store:
        nodes = Nodes(store)
        view = nodes.view(domain)
        if args.cluster_command == "nodes":
            if not view.nodes:
                print(f"no node of {domain!r} has reported in this store")
                return 0
            print_table(HEADERS, [node_row(n) for n in view.nodes])
            return 0
        known = {n.node: n for n in view.nodes}
        node = known.get(args.node)
        if node is None:
            names = ", ".join(sorted(known)) or "none"
            raise ValidationError(f"{args.node!r} is no node of {domain!r} (nodes: {names})")
        if node.up:
            raise ValidationError(
                f"node {args.node!r} of {domain!r} is up (heartbeat {node.age:.1f} s ago):"
                " stop it first, it would report itself again"
            )
        nodes.forget(domain, args.node)
    print(f"forgot node {args.node!r} of {domain!r} ({state_of(node)})", file=sys.stdout)
    return 0


COMMANDS["cluster"] = Command(
    "cluster", "list a center's cluster nodes, forget one taken out", _configure, _run
)
