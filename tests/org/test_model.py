"""The tree's values check what they can on their own."""

from __future__ import annotations

import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.org import MAX_SEATS, AgentProfile, Campaign, ContactCenter, Person, Skill


@pytest.mark.parametrize("level", [0, 6, -1])
def test_proficiency_outside_one_to_five_is_refused(level: int) -> None:
    """A skill's proficiency is 1 to 5."""
    with pytest.raises(ValidationError, match="proficiency must be from 1 to 5"):
        Skill("billing", level)


def test_profile_accepts_mappings_and_sorts() -> None:
    """Skills and capacity given as mappings are stored sorted, and read back by name."""
    profile = AgentProfile(skills={"tv": 2, "billing": 5}, capacity={"voice": 1, "chat": 3})
    assert [s.name for s in profile.skills] == ["billing", "tv"]
    assert profile.proficiency("tv") == 2
    assert profile.proficiency("golf") == 0
    assert profile.capacity == (("chat", 3), ("voice", 1))
    assert AgentProfile().capacity_for("voice") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": {"fax": 1}}, "unknown channel 'fax'"),
        ({"capacity": {"chat": -1}}, "at least 0"),
        ({"capacity": [("chat", 1), ("chat", 2)]}, "listed twice"),
        ({"skills": [Skill("a", 1), Skill("a", 2)]}, "listed twice"),
        ({"languages": {"French"}}, "language tag"),
        ({"sip_uri": "alice@host"}, "SIP URI"),
    ],
)
def test_profile_refuses_impossible_values(kwargs: dict[str, object], message: str) -> None:
    """Unknown channels, negative capacity, duplicates, bad tags and URIs are refused."""
    with pytest.raises(ValidationError, match=message):
        AgentProfile(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("seats", [0, MAX_SEATS + 1])
def test_center_seats_are_bounded(seats: int) -> None:
    """A center has at least one seat and at most MAX_SEATS."""
    with pytest.raises(ValidationError, match=f"from 1 to {MAX_SEATS}"):
        ContactCenter("odd", seats=seats)


def test_enum_fields_refuse_plain_strings() -> None:
    """A string where an enum member is meant is refused, naming the members."""
    with pytest.raises(ValidationError, match=r"Direction\.INBOUND"):
        Campaign(
            id="k",
            organisation="o",
            floor="f",
            direction="inbound",  # type: ignore[arg-type]
            activity="survey",
        )
    with pytest.raises(ValidationError, match=r"Role\.AGENT"):
        Person(id="p", role="agent")  # type: ignore[arg-type]
