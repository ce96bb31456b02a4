"""Seats from the organisation file, and the configuration's checks."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from callcenter_sdk import NotFoundError, ValidationError
from callcenter_sdk.acd import Agent
from callcenter_sdk.ivr import load_flow
from callcenter_sdk.kpi import Channel
from callcenter_sdk.org import Role, load_org, loads_org
from callcenter_sdk.runtime import CallCenterConfig, Seat, seats_from_org

ROOT = Path(__file__).parents[2]


def test_a_campaigns_agents_become_seats_with_their_skills_and_phones() -> None:
    """Every agent of the ACME hotline campaign gets a seat ringing their
    profile's SIP URI, their skill levels, the queues of their skills plus the
    catch-all one, and their per-channel capacity."""
    org = load_org(ROOT / "examples" / "org" / "acme.toml")
    people = {p.id: p for p in org.agents_of_campaign("acme-hotline")}
    seats = seats_from_org(org, "acme-hotline", ["internet", "tv", "billing"], general="general")
    assert [s.agent.id for s in seats] == [p for p in people if people[p].profile]
    for seat in seats:
        profile = people[seat.agent.id].profile
        assert profile is not None
        assert seat.device == profile.sip_uri
        assert dict(seat.agent.skills) == {s.name: s.proficiency for s in profile.skills}
        joined = [m.queue for m in seat.agent.memberships]
        assert joined == [q for q in ("internet", "tv", "billing") if q in seat.agent.skills] + [
            "general"
        ]
        assert seat.agent.capacity.limits[Channel.VOICE] == profile.capacity_for("voice")
    with pytest.raises(NotFoundError):
        seats_from_org(org, "no-such-campaign", ["internet"])


def test_an_agent_has_one_seat() -> None:
    """Two seats for the same agent are refused when the configuration is built."""
    seat = Seat(agent=Agent(id="ada"), device="sip:ada@desk")
    flow = load_flow(ROOT / "examples" / "hotline" / "flow.toml")
    with pytest.raises(ValidationError, match="ada"):
        CallCenterConfig(flow=flow, queues=[], seats=[seat, seat])


LEADS = """
[[organisations]]
id = "acme"
name = "ACME"
kind = "internal"

[[centers]]
id = "lyon"
name = "Lyon"
seats = 10

[[floors]]
id = "f1"
center = "lyon"
name = "Floor 1"

[[campaigns]]
id = "hotline"
organisation = "acme"
floor = "f1"
direction = "inbound"
activity = "support"
name = "Hotline"

[[teams]]
id = "t1"
campaign = "hotline"
supervisor = "sup"
team_lead = "lead"
agents = ["ag"]

[[people]]
id = "ag"
role = "agent"
[people.profile]
skills = { internet = 3 }
sip_uri = "sip:ag@desk"

[[people]]
id = "lead"
role = "team-lead"
[people.profile]
skills = { internet = 5 }
sip_uri = "sip:lead@desk"

[[people]]
id = "sup"
role = "supervisor"
[people.profile]
skills = { internet = 4 }
sip_uri = "sip:sup@desk"
"""


def test_team_leads_who_take_calls_are_seated_and_supervisors_when_asked() -> None:
    """A team lead with a profile and a phone gets a seat next to the agents (they take
    calls at peaks); the supervisor only when the deployment seats supervisors too."""
    org = loads_org(LEADS)
    assert [s.agent.id for s in seats_from_org(org, "hotline", ["internet"])] == ["ag", "lead"]
    everyone = seats_from_org(
        org, "hotline", ["internet"], roles=(Role.AGENT, Role.TEAM_LEAD, Role.SUPERVISOR)
    )
    assert [(s.agent.id, s.device) for s in everyone] == [
        ("ag", "sip:ag@desk"),
        ("lead", "sip:lead@desk"),
        ("sup", "sip:sup@desk"),
    ]
    agents_only = seats_from_org(org, "hotline", ["internet"], roles=(Role.AGENT,))
    assert [s.agent.id for s in agents_only] == ["ag"]


def test_a_bound_below_one_is_a_clear_validation_error() -> None:
    """A queue cap or a lookup bound of 0 is refused with a ValidationError naming it."""
    config = CallCenterConfig(
        flow=load_flow(ROOT / "examples" / "hotline" / "flow.toml"), queues=[], seats=[]
    )
    with pytest.raises(ValidationError, match=r"CallCenterConfig.queue_cap must be at least 1"):
        attrs.evolve(config, queue_cap=0)
    with pytest.raises(ValidationError, match=r"CallCenterConfig.max_lookups must be at least 1"):
        attrs.evolve(config, max_lookups=0)
