"""Test helpers for the dialer: lead factories and hypothesis strategies.

.. versionadded:: 0.1
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from hypothesis import strategies as st

from ..dialer import Lead
from ..media import PartyScript, VirtualBackend
from ..sim import OutcomeModel

__all__ = ["dialer_leads", "sample_leads", "script_virtual_phones"]

# Zones on several continents, with and without daylight saving time.
ZONES = (
    ("FR", "Europe/Paris", "+331"),
    ("GB", "Europe/London", "+4420"),
    ("US", "America/New_York", "+1212"),
    ("US", "America/Los_Angeles", "+1415"),
    ("AU", "Australia/Sydney", "+612"),
    ("JP", "Asia/Tokyo", "+813"),
)


def sample_leads(
    count: int,
    *,
    campaign: str,
    lists: Sequence[str] = ("list-a",),
    zones: Sequence[tuple[str, str, str]] = ZONES[:1],
) -> list[Lead]:
    """``count`` distinct leads spread over ``lists`` and ``zones`` (country, zone, prefix)."""
    out = []
    for i in range(count):
        country, zone, prefix = zones[i % len(zones)]
        out.append(
            Lead(
                lead_id=f"{campaign}-lead-{i}",
                phone=f"{prefix}{i:08d}",
                campaign=campaign,
                list_id=lists[i % len(lists)],
                timezone=zone,
                country=country,
                priority=0,
            )
        )
    return out


@st.composite
def dialer_leads(
    draw: st.DrawFn, *, campaign: str, min_size: int = 1, max_size: int = 30
) -> list[Lead]:
    """A list of leads with distinct numbers in varied zones, priorities and consent."""
    size = draw(st.integers(min_size, max_size))
    out = []
    for i in range(size):
        country, zone, prefix = draw(st.sampled_from(ZONES))
        out.append(
            Lead(
                lead_id=f"{campaign}-{i}",
                phone=f"{prefix}{i:08d}",
                campaign=campaign,
                list_id=draw(st.sampled_from(("a", "b"))),
                timezone=zone,
                country=country,
                priority=draw(st.integers(0, 3)),
                consent=draw(st.sampled_from((True, None, False))),
            )
        )
    return out


def script_virtual_phones(
    backend: VirtualBackend,
    leads: Iterable[Lead],
    model: OutcomeModel,
    *,
    number_uri: Callable[[Lead], str],
    seed: int = 0,
) -> frozenset[str]:
    """Give each lead's phone on ``backend`` a behaviour drawn from ``model``'s rates.

    Live people answer after a ring time and talk for a talk time; busy lines
    answer 486; invalid numbers are left undeclared (the backend answers
    404); the rest never answer. Returns the ids of the leads whose phone is
    an answering machine (they answer too): a ``machine_detector`` for
    :class:`~callcenter_sdk.dialer.Dialer` checks membership in it.
    """
    rng = random.Random(seed)
    machines = set()
    for lead in leads:
        u = rng.random()
        uri = number_uri(lead)
        if u < model.live + model.machine:
            ring, talk = model.ring.sample(rng), model.talk.sample(rng)
            backend.add_phone(uri, PartyScript(answer_after=ring, talk_for=talk))
            if u >= model.live:
                machines.add(lead.lead_id)
        elif u < model.live + model.machine + model.busy:
            backend.add_phone(uri, PartyScript(reject=486))
        elif u >= model.live + model.machine + model.busy + model.invalid:
            backend.add_phone(uri, PartyScript(answer_after=None))
    return frozenset(machines)
