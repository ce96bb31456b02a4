"""Properties of every org the public strategy generates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import attrs
from hypothesis import Phase, assume, find, given, settings
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.org import (
    Action,
    Org,
    Placement,
    Role,
    Scope,
    assign_seats,
    can,
    dumps_org,
    loads_org,
    relation,
)
from callcenter_sdk.testing import org_trees

# Where each role may appear in an escalation chain, nearest first.
RANK = {Role.TEAM_LEAD: 0, Role.SUPERVISOR: 0, Role.FLOOR_MANAGER: 1, Role.DIRECTOR: 2}

SMALL = settings(max_examples=40, deadline=None)
# Small enough that hypothesis never reports an overly large repr of what it found.
SMALL_TREES = org_trees(max_floors=1, max_campaigns=2, max_teams=3, max_agents=2)
NO_SHRINK = settings(phases=[Phase.generate], database=None, deadline=None)


@SMALL
@given(org_trees())
def test_generated_orgs_validate_again(org: Org) -> None:
    """Rebuilding a generated org from its own values passes validation and gives it back."""
    fields = {f.name: getattr(org, f.name) for f in attrs.fields(Org) if f.init}
    assert Org(**fields) == org


@SMALL
@given(org_trees())
def test_toml_round_trip(org: Org) -> None:
    """Writing a generated org as TOML and loading it back gives the same org."""
    assert loads_org(dumps_org(org), activities=org.activities) == org


@SMALL
@given(org_trees())
def test_escalation_chain_ends_at_the_director_without_repeats(org: Org) -> None:
    """Every agent in a team escalates through team levels and floor to their director."""
    for agent in org.people_with_role(Role.AGENT):
        team = org.team_of(agent.id)
        assert team is not None
        chain = org.escalation_chain(agent.id)
        director = org.center_of_floor(org.campaign(team.campaign).floor).director
        assert chain[-1].id == director
        assert len({p.id for p in chain}) == len(chain)
        assert agent not in chain
        ranks = [RANK[p.role] for p in chain]
        assert ranks == sorted(ranks)


@SMALL
@given(org_trees())
def test_seat_assignments_never_exceed_the_center(org: Org) -> None:
    """Assigned seats exist, are disjoint and fit in their center."""
    for center in org.centers:
        owners = Counter(
            number
            for floor in org.floors_of_center(center.id)
            for campaign in org.campaigns_of_floor(floor.id)
            for number in campaign.seats
        )
        assert all(count == 1 for count in owners.values())
        assert set(owners) <= set(range(1, center.seats + 1))
        assert len(org.free_seats(center.id)) == center.seats - len(owners)


@SMALL
@given(org_trees(max_centers=1), st.data())
def test_seat_assignment_keeps_the_invariant(org: Org, data: st.DataObject) -> None:
    """Whatever an administrator asks, seats stay disjoint and within the center."""
    center = org.centers[0]
    admins = center.administrators
    assume(org.campaigns and admins)
    campaign = data.draw(st.sampled_from(org.campaigns))
    wanted = data.draw(st.frozensets(st.integers(1, center.seats + 3), max_size=10))
    try:
        after = assign_seats(org, admins[0], campaign.id, wanted)
    except ValidationError:
        taken = {s.number for s in org.seats(center.id) if s.campaign not in (None, campaign.id)}
        assert wanted & taken or max(wanted) > center.seats
        return
    assert after.campaign(campaign.id).seats == campaign.seats | wanted
    assert len(after.free_seats(center.id)) == len(org.free_seats(center.id)) - len(
        wanted - campaign.seats
    )


def _center_of(org: Org, agent_id: str) -> str:
    team = org.team_of(agent_id)
    assert team is not None
    return org.floor_of_campaign(team.campaign).center


@SMALL
@given(org_trees(max_floors=2, max_campaigns=2, max_teams=2, max_agents=2))
def test_nobody_acts_outside_their_center_and_directors_act_inside(org: Org) -> None:
    """No role reaches another center; a director may do everything in theirs."""
    for person in org.people:
        centers = org.reach(person.id).centers
        for agent in org.people_with_role(Role.AGENT):
            target = Placement(person=agent.id)
            if agent == person:
                assert relation(org, person, target) is Scope.SELF
            elif _center_of(org, agent.id) not in centers:
                assert relation(org, person, target) is Scope.OUTSIDE
                assert not any(can(org, person, action, target) for action in Action)
            elif person.role is Role.DIRECTOR:
                assert all(can(org, person, action, target) for action in Action)


def test_strategy_reaches_the_interesting_shapes() -> None:
    """The strategy does produce nested teams, several centers and profile-less agents.

    ``find`` raises ``NoSuchExample`` when no generated org has the shape.
    """
    shapes: dict[str, Callable[[Org], bool]] = {
        "nested teams": lambda org: any(team.parent for team in org.teams),
        "several centers": lambda org: len(org.centers) > 1,
        "agent without profile": lambda org: any(
            p.profile is None for p in org.people_with_role(Role.AGENT)
        ),
    }
    for name, shape in shapes.items():
        assert shape(find(SMALL_TREES, shape, settings=NO_SHRINK)), name
