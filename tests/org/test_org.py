"""The Org aggregate: queries over the tree and validation of orgs built in Python."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from callcenter_sdk import ConfigError, NotFoundError, ValidationError
from callcenter_sdk.org import PYTHON_SOURCE, Campaign, Org, Person, Role, Seat, Team

from .conftest import build_sample_org


def _ids(people: tuple[Person, ...] | tuple[Team, ...] | tuple[Campaign, ...]) -> list[str]:
    return [p.id for p in people]


def test_supervisor_of_walks_up_to_the_enclosing_team(sample_org: Org) -> None:
    """An agent's supervisor is their team's, else the parent team's; none without a team."""
    assert sample_org.supervisor_of("a1") == sample_org.person("s1")
    assert sample_org.supervisor_of("a1c") == sample_org.person("s1")  # T1s has no supervisor
    assert sample_org.supervisor_of("a2") == sample_org.person("s2")
    assert sample_org.supervisor_of("a3") is None


def test_agents_supervised_by_include_subteams(sample_org: Org) -> None:
    """A supervisor supervises their teams' agents and those of the sub-teams."""
    assert _ids(sample_org.agents_supervised_by("s1")) == ["a1", "a1b", "a1c"]
    assert _ids(sample_org.agents_supervised_by("s2")) == ["a2"]
    assert sample_org.agents_supervised_by("d1") == ()


def test_supervision_queries_agree(sample_org: Org) -> None:
    """Whoever supervisor_of names supervises that agent, for every agent."""
    for agent in sample_org.people_with_role(Role.AGENT):
        supervisor = sample_org.supervisor_of(agent.id)
        if supervisor is not None:
            assert agent in sample_org.agents_supervised_by(supervisor.id)


def test_escalation_chain_skips_missing_levels(sample_org: Org) -> None:
    """Team lead, supervisor, enclosing teams, floor manager, director; gaps skipped."""
    assert _ids(sample_org.escalation_chain("a1")) == ["tl1", "s1", "fm1", "d1"]
    assert _ids(sample_org.escalation_chain("a1c")) == ["tl2", "tl1", "s1", "fm1", "d1"]
    assert _ids(sample_org.escalation_chain("a3")) == ["fm1", "d1"]
    assert _ids(sample_org.escalation_chain("a5")) == ["fm3", "d2"]


def test_escalation_chain_needs_an_agent(sample_org: Org) -> None:
    """Asking for a supervisor's chain is a mistake, reported as such."""
    with pytest.raises(ValidationError, match="s1 is a supervisor, not an agent"):
        sample_org.escalation_chain("s1")


def test_tree_queries(sample_org: Org) -> None:
    """Teams of a floor, campaigns of an organisation, agents of a campaign, and so on."""
    org = sample_org
    assert _ids(org.teams_of_floor("F1")) == ["T1", "T1s", "T2", "T3"]
    assert _ids(org.teams_of_floor("F3")) == ["T5"]
    assert _ids(org.campaigns_of_organisation("O2")) == ["K3", "K4"]
    assert _ids(org.agents_of_campaign("K1")) == ["a1", "a1b", "a1c", "a2"]
    assert _ids(org.agents_of_team("T1")) == ["a1", "a1b", "a1c"]
    assert _ids(org.subteams("T1")) == ["T1", "T1s"]
    assert [f.id for f in org.floors_of_center("C1")] == ["F1", "F2"]
    assert org.center_of_floor("F3").id == "C2"
    assert org.team_of("a1c") == org.team("T1s")
    assert org.team_of("s1") is None


def test_seat_queries(sample_org: Org) -> None:
    """Seats belong to the center; a campaign's seats are those assigned to it."""
    org = sample_org
    assert org.seats_of_campaign("K2") == (Seat("C1", 9, "K2"), Seat("C1", 10, "K2"))
    seats = org.seats("C1")
    assert len(seats) == 40
    assert [s.number for s in seats if s.campaign == "K1"] == list(range(1, 9))
    assert len(org.free_seats("C1")) == 30
    assert org.seats_of_campaign("K3") == ()
    assert org.seat("C1", 9) == Seat("C1", 9, "K2")
    assert org.seat("C1", 40) == Seat("C1", 40)
    with pytest.raises(NotFoundError, match="no seat 41"):
        org.seat("C1", 41)


def test_reach_of_each_role_holder(sample_org: Org) -> None:
    """A person's reach follows the slots they hold, nested levels included."""
    reach = sample_org.reach("s1")
    assert reach.teams == {"T1", "T1s"}
    assert reach.campaigns == {"K1"}
    assert reach.floors == {"F1"}
    assert reach.centers == {"C1"}
    assert sample_org.reach("pm1").teams == frozenset()
    assert sample_org.reach("pm1").campaigns == {"K1"}
    assert sample_org.reach("ad1").centers == {"C1"}
    assert sample_org.reach("ad1").floors == frozenset()


def test_unknown_ids_raise_not_found(sample_org: Org) -> None:
    """Every lookup reports an unknown id the same way."""
    for lookup in (sample_org.person, sample_org.team, sample_org.campaign, sample_org.floor):
        with pytest.raises(NotFoundError, match="'nobody'"):
            lookup("nobody")
    with pytest.raises(NotFoundError):
        sample_org.supervisor_of("nobody")


def test_orgs_compare_by_content() -> None:
    """Two orgs built from the same values are equal; the source file does not matter."""
    first, second = build_sample_org(), build_sample_org()
    assert first == second
    assert attrs.evolve(first, source="elsewhere.toml") == first


def _broken(**changes: Any) -> ConfigError:
    org = build_sample_org()
    with pytest.raises(ConfigError) as info:
        attrs.evolve(org, **changes)
    assert info.value.file == PYTHON_SOURCE
    return info.value


def test_python_built_org_errors_use_list_paths() -> None:
    """An org built in code is checked like a file, with paths into the lists given."""
    org = build_sample_org()
    campaigns = list(org.campaigns)
    campaigns[2] = attrs.evolve(campaigns[2], floor="F9")
    error = _broken(campaigns=campaigns)
    assert (error.dotted_path, error.expected, error.got) == (
        "campaigns[2].floor",
        "the id of a floor",
        "F9",
    )


def test_python_built_team_loop_is_found() -> None:
    """A loop of three parent teams is reported at the first team of the loop."""
    org = build_sample_org()
    teams = [
        *org.teams,
        Team(id="X", campaign="K1", parent="Z"),
        Team(id="Y", campaign="K1", parent="X"),
        Team(id="Z", campaign="K1", parent="Y"),
    ]
    error = _broken(teams=teams)
    assert error.dotted_path == f"teams[{len(org.teams)}].parent"
    assert "X -> Z -> Y -> X" in error.detail


def test_activities_are_a_parameter() -> None:
    """The set of allowed activities is given to the org, not read from anywhere."""
    with pytest.raises(ConfigError) as info:
        attrs.evolve(build_sample_org(), activities={"support"})
    assert info.value.dotted_path == "campaigns[1].activity"
    assert info.value.expected == "one of the known activities: support"
