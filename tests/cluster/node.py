"""One cluster node for the elector tests: runs an Elector and reports its leadership on stdout.

Usage: ``python tests/cluster/node.py URL SCHEMA DOMAIN NODE TTL [HOLD]``

Lines printed (flushed at once, one per change):

* ``ready NODE`` once the elector runs;
* ``gained NODE EPOCH`` when a term starts, ``lost NODE EPOCH REASON`` when it ends;
* ``wrote NODE EPOCH`` after the first fenced write of a term committed;
* ``refused NODE EPOCH`` when a fenced write with that term's lease was refused;
* with ``HOLD`` seconds: ``holding NODE EPOCH PID`` once per term, when a fenced
  transaction has passed the fence and holds it that long before committing
  (``PID``: its PostgreSQL backend), as a slow batch of decisions would.

Each term starts a writer thread that keeps writing a row of ``cluster_probe``
(``node``, ``epoch``, ``written_at`` on the database's clock) every 20 ms with
the lease it was given, each write fenced, and stops at the first refusal. It
deliberately does not watch the elector: it is what a commit already under
way looks like when its process is stopped and resumed later, and shows that
the fence alone refuses it.
"""

from __future__ import annotations

import sys
import threading
import time

import anyio
from sqlalchemy import text

from callcenter_sdk import StoreError
from callcenter_sdk.runtime import Elector
from callcenter_sdk.store import Lease, LeaseLost, Leases, create_store

WRITE_EVERY = 0.02
"""Seconds between two fenced writes of the writer thread (a pace, not a synchronisation)."""


def say(*words: object) -> None:
    """Print one line of the protocol and flush it, so the test sees it at once."""
    print(*words, flush=True)


def writer(leases: Leases, lease: Lease, hold: float) -> None:
    """Write fenced rows with ``lease`` until the fence refuses one."""
    first = True
    held = False
    while True:
        try:
            with leases.store.transaction("fenced probe write") as session:
                session.execute(
                    text(
                        "INSERT INTO cluster_probe (node, epoch, written_at)"
                        " VALUES (:node, :epoch, extract(epoch FROM clock_timestamp()))"
                    ),
                    {"node": lease.holder, "epoch": lease.epoch},
                )
                leases.check_fence(session, lease)
                if hold:
                    if not held:
                        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                        say("holding", lease.holder, lease.epoch, backend)
                        held = True
                    time.sleep(hold)  # a slow batch, holding the lease row FOR SHARE
        except LeaseLost:
            say("refused", lease.holder, lease.epoch)
            return
        except StoreError as exc:  # the server ended a stalled transaction: try again
            say("failed", lease.holder, lease.epoch, type(exc.__cause__).__name__)
        else:
            if first:
                say("wrote", lease.holder, lease.epoch)
                first = False
        time.sleep(WRITE_EVERY)


async def main(arguments: list[str]) -> None:
    """Run the elector until killed."""
    url, schema, domain, node, ttl_text, *hold_text = arguments
    ttl = float(ttl_text)
    hold = float(hold_text[0]) if hold_text else 0.0
    leases = Leases(create_store(url, schema=schema, upgrade=False))

    def gained(lease: Lease) -> None:
        say("gained", node, lease.epoch)
        threading.Thread(target=writer, args=(leases, lease, hold), daemon=True).start()

    def lost(lease: Lease, reason: str) -> None:
        say("lost", node, lease.epoch, reason)

    elector = Elector(leases, domain, node, ttl=ttl, on_gained=gained, on_lost=lost)
    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        say("ready", node)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
