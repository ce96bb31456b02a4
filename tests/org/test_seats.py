"""Seat assignment by administrators: permissions and the no-double-booking rule."""

from __future__ import annotations

import pytest

from callcenter_sdk import PermissionDenied, ValidationError
from callcenter_sdk.org import Org, assign_seats, release_seats


def test_administrator_assigns_free_seats(sample_org: Org) -> None:
    """An administrator gives free seats to a campaign; the old org is unchanged."""
    after = assign_seats(sample_org, "ad1", "K3", range(20, 30))
    assert [s.number for s in after.seats_of_campaign("K3")] == list(range(20, 30))
    assert len(after.free_seats("C1")) == len(sample_org.free_seats("C1")) - 10
    assert sample_org.seats_of_campaign("K3") == ()


def test_seat_of_another_campaign_is_refused(sample_org: Org) -> None:
    """A seat already given to K1 cannot also go to K3."""
    with pytest.raises(ValidationError, match="seat 5 of C1 is already assigned to K1"):
        assign_seats(sample_org, "ad1", "K3", [5, 20])


def test_seat_beyond_the_center_is_refused(sample_org: Org) -> None:
    """A 40-seat center has no seat 41."""
    with pytest.raises(ValidationError, match="has no seat 41"):
        assign_seats(sample_org, "ad1", "K3", [41])


def test_only_those_who_manage_seats_may(sample_org: Org) -> None:
    """A supervisor may not assign seats; another center's director may not either."""
    with pytest.raises(PermissionDenied):
        assign_seats(sample_org, "s1", "K1", [30])
    with pytest.raises(PermissionDenied):
        assign_seats(sample_org, "d2", "K1", [30])
    assert assign_seats(sample_org, "fm1", "K1", [30]).campaign("K1").seats >= {30}


def test_release_returns_seats_to_the_center(sample_org: Org) -> None:
    """Released seats become free and can go to another campaign."""
    after = release_seats(sample_org, "ad1", "K1", [1, 2])
    assert {s.number for s in after.free_seats("C1")} >= {1, 2}
    moved = assign_seats(after, "ad1", "K2", [1, 2])
    assert [s.number for s in moved.seats_of_campaign("K2")] == [1, 2, 9, 10]
