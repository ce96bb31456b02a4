"""What a cluster under chaos must never do, read back from the event log and the store.

Pure functions over the event log's rows (``kind`` and ``payload``, in
``seq`` order), used by ``benchmarks/bench_cluster.py`` and proven able to
fail by ``test_chaos_checks.py`` on deliberately broken logs:

* :func:`double_offers`: a contact offered again while an offer of the same
  wait is still open (two agents' desks or phones at once). A wait ends only
  when the contact is connected or ends, so an offer a deposed leader made
  and nobody resolved, followed by the next leader's offer of the same
  contact, counts: that is "offered by two epochs for the same wait";
* :func:`capacity_overruns`: an agent connected to more contacts of a
  channel at once than their capacity allows;
* :func:`lost_contacts`: a contact whose arrival was acknowledged (stored,
  the sender told) that neither ended nor waits at the end;
* :func:`connected_twice`: a contact connected to an agent twice (a
  takeover gave it to a second agent after the first had it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CLOSES_OFFER = frozenset(
    {
        "acd.offer_accepted",
        "acd.offer_rejected",
        "acd.offer_busy",
        "acd.offer_not_answered",
        "acd.offer_rescinded",
    }
)
ENDS = frozenset(
    {
        "acd.contact_completed",
        "acd.contact_abandoned",
        "acd.contact_timed_out",
        "acd.contact_exited",
    }
)
"""Final events: the contact is over (its record written)."""


@dataclass(frozen=True)
class Logged:
    """One row of the event log: its kind and its payload."""

    kind: str
    payload: Mapping[str, Any]


def double_offers(log: Iterable[Logged]) -> list[str]:
    """Contacts offered while another offer of theirs was still open (once each, in order)."""
    open_offers: dict[str, set[str]] = defaultdict(set)
    found: dict[str, None] = {}
    for row in log:
        contact = str(row.payload.get("contact_id", ""))
        if row.kind == "acd.contact_offered":
            offer = str(row.payload["offer_id"])
            if open_offers[contact] - {offer}:
                found[contact] = None
            open_offers[contact].add(offer)
        elif row.kind in CLOSES_OFFER:
            open_offers[contact].discard(str(row.payload.get("offer_id", "")))
        elif row.kind == "acd.contact_connected" or row.kind in ENDS:
            open_offers.pop(contact, None)
    return list(found)


def capacity_overruns(
    log: Iterable[Logged], capacity: int, *, channel_of: Mapping[str, str] | None = None
) -> list[tuple[str, int]]:
    """(agent, contacts held) each time an agent held more than ``capacity`` contacts at once.

    A contact is held from its ``contact_connected`` until it ends, is
    connected to someone else, or queues again (a contact put back in a
    queue after a takeover is no longer at the agent's desk).
    ``channel_of`` (contact -> channel) limits the count to contacts listed.
    """
    held: dict[str, set[str]] = defaultdict(set)
    holder: dict[str, str] = {}
    found: list[tuple[str, int]] = []

    def release(contact: str) -> None:
        agent = holder.pop(contact, None)
        if agent is not None:
            held[agent].discard(contact)

    for row in log:
        contact = str(row.payload.get("contact_id", ""))
        if row.kind == "acd.contact_connected":
            if channel_of is not None and contact not in channel_of:
                continue
            release(contact)
            agent = str(row.payload["agent_id"])
            holder[contact] = agent
            held[agent].add(contact)
            if len(held[agent]) > capacity:
                found.append((agent, len(held[agent])))
        elif row.kind in ENDS or row.kind == "acd.contact_entered_queue":
            release(contact)
    return found


def lost_contacts(
    acknowledged: Iterable[str], log: Iterable[Logged], waiting: set[str]
) -> list[str]:
    """Acknowledged contacts with no final event in the log and not waiting at the end."""
    ended = {str(row.payload.get("contact_id", "")) for row in log if row.kind in ENDS}
    return [c for c in acknowledged if c not in ended and c not in waiting]


def connected_twice(log: Iterable[Logged]) -> list[str]:
    """Contacts connected to an agent more than once (handled again after a takeover)."""
    seen: dict[str, int] = defaultdict(int)
    for row in log:
        if row.kind == "acd.contact_connected":
            seen[str(row.payload.get("contact_id", ""))] += 1
    return [c for c, n in seen.items() if n > 1]


def assignments(log: Iterable[Logged]) -> int:
    """Committed assignments: contacts connected to an agent."""
    return sum(1 for row in log if row.kind == "acd.contact_connected")


def rung_not_connected(log: Iterable[Logged]) -> list[str]:
    """Contacts whose offer was still open when they ended (the caller hung up while offered).

    With desk phones that answer at once and callers who stay on the line for
    seconds, such an offer is an agent's phone answered and never bridged to
    the caller.
    """
    open_offer: dict[str, str] = {}
    found: list[str] = []
    for row in log:
        contact = str(row.payload.get("contact_id", ""))
        if row.kind == "acd.contact_offered":
            open_offer[contact] = str(row.payload["offer_id"])
        elif row.kind == "acd.offer_rescinded" and row.payload.get("reason") == "contact-ended":
            if open_offer.pop(contact, None) is not None:
                found.append(contact)
        elif row.kind in CLOSES_OFFER or row.kind == "acd.contact_connected":
            open_offer.pop(contact, None)
    return found
