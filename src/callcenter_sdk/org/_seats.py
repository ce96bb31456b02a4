"""Assigning a center's seats to campaigns: the administrator's job.

Seats belong to the center; a campaign borrows some (a 100-seat center gives
8, 9 or 10 to one campaign). These functions return a new :class:`Org` and
leave the old one untouched, so a caller can show the change before saving it.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .._errors import ValidationError
from ._model import Person
from ._org import Org
from ._permissions import Action, require

__all__ = ["assign_seats", "release_seats"]


def assign_seats(org: Org, by: Person | str, campaign_id: str, seats: Iterable[int]) -> Org:
    """Return ``org`` with ``seats`` (numbers in the campaign's center) added to the campaign.

    Raises:
        PermissionDenied: ``by`` may not manage seats of that campaign.
        ValidationError: A seat does not exist or belongs to another campaign.
    """
    campaign = org.campaign(campaign_id)
    require(org, by, Action.MANAGE_SEATS, campaign)
    center = org.floor_of_campaign(campaign_id).center
    wanted = frozenset(seats)
    owners = {seat.number: seat.campaign for seat in org.seats(center)}
    for number in sorted(wanted):
        if number not in owners:
            raise ValidationError(f"center {center} has no seat {number} (1 to {len(owners)})")
        owner = owners[number]
        if owner not in (None, campaign_id):
            raise ValidationError(f"seat {number} of {center} is already assigned to {owner}")
    return _with_seats(org, campaign_id, campaign.seats | wanted)


def release_seats(org: Org, by: Person | str, campaign_id: str, seats: Iterable[int]) -> Org:
    """Return ``org`` with ``seats`` taken back from the campaign (unknown ones are ignored).

    Raises:
        PermissionDenied: ``by`` may not manage seats of that campaign.
    """
    campaign = org.campaign(campaign_id)
    require(org, by, Action.MANAGE_SEATS, campaign)
    return _with_seats(org, campaign_id, campaign.seats - frozenset(seats))


def with_campaign_seats(org: Org, campaign_id: str, seats: Iterable[int]) -> Org:
    """Return ``org`` with exactly ``seats`` for the campaign, asking nobody's permission.

    For restoring allocations kept in a store; a person's change goes
    through :func:`assign_seats` or :func:`release_seats`.

    .. versionadded:: 0.2

    Raises:
        NotFoundError: No such campaign.
        ValidationError: A seat does not exist or belongs to another campaign.
    """
    org.campaign(campaign_id)
    center = org.floor_of_campaign(campaign_id).center
    owners = {seat.number: seat.campaign for seat in org.seats(center)}
    wanted = frozenset(seats)
    for number in sorted(wanted):
        if number not in owners:
            raise ValidationError(f"center {center} has no seat {number} (1 to {len(owners)})")
        if owners[number] not in (None, campaign_id):
            raise ValidationError(
                f"seat {number} of {center} is already assigned to {owners[number]}"
            )
    return _with_seats(org, campaign_id, wanted)


def _with_seats(org: Org, campaign_id: str, seats: frozenset[int]) -> Org:
    campaigns = tuple(
        attrs.evolve(c, seats=seats) if c.id == campaign_id else c for c in org.campaigns
    )
    return attrs.evolve(org, campaigns=campaigns)
