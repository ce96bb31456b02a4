"""Hypothesis strategies for org trees and agent profiles.

The trees are valid by construction, and varied where bugs hide: several
centers, floors without campaigns, campaigns without seats, teams nested in
teams, teams missing a supervisor, team lead or coach, agents with and without
profiles. Every center has a director, so every agent in a team has someone to
escalate to.

.. versionadded:: 0.1
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from hypothesis import strategies as st

from ..org import (
    BUILTIN_ACTIVITIES,
    AgentProfile,
    Campaign,
    ContactCenter,
    Direction,
    Floor,
    Org,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    Team,
)

__all__ = ["agent_profiles", "org_trees"]

_SKILLS = ("billing", "internet", "mobile", "tv", "sales", "complaints", "survey", "collections")
_LANGUAGES = ("fr", "en", "es", "de", "en-GB")
_NAMES = st.text(max_size=6)
"""Free text, quotes and control characters included: names are only displayed."""
_CAPACITY = {"voice": 1, "chat": 5, "email": 10, "sms": 5, "callback": 3}


def agent_profiles() -> st.SearchStrategy[AgentProfile]:
    """Generate agent profiles: skills at 1-5, languages, capacities, maybe a SIP URI."""
    return st.builds(
        AgentProfile,
        skills=st.dictionaries(st.sampled_from(_SKILLS), st.integers(1, 5), max_size=4),
        languages=st.frozensets(st.sampled_from(_LANGUAGES), max_size=3),
        capacity=st.fixed_dictionaries(
            {},
            optional={channel: st.integers(0, high) for channel, high in _CAPACITY.items()},
        ),
        sip_uri=st.none() | st.from_regex(r"\Asip:[a-z]{1,8}@127\.0\.0\.1\Z"),
    )


class _Cast:
    """Hands out people with fresh ids as the tree is drawn."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.people: list[Person] = []
        self._ids = itertools.count(1)

    def hire(self, role: Role) -> str:
        person_id = f"{role.value}-{next(self._ids)}"
        profile = self.draw(st.none() | agent_profiles()) if role is Role.AGENT else None
        name = self.draw(_NAMES)
        self.people.append(Person(id=person_id, role=role, name=name, profile=profile))
        return person_id

    def maybe(self, role: Role) -> str | None:
        return self.hire(role) if self.draw(st.booleans()) else None

    def some(self, role: Role, most: int) -> list[str]:
        return [self.hire(role) for _ in range(self.draw(st.integers(0, most)))]


@st.composite
def org_trees(
    draw: st.DrawFn,
    *,
    max_centers: int = 2,
    max_floors: int = 3,
    max_campaigns: int = 3,
    max_teams: int = 3,
    max_agents: int = 4,
    max_seats: int = 120,
    activities: Iterable[str] = BUILTIN_ACTIVITIES,
) -> Org:
    """Generate valid :class:`~callcenter_sdk.org.Org` trees.

    Args:
        draw: Supplied by hypothesis.
        max_centers: At most this many centers (at least one).
        max_floors: At most this many floors per center (at least one).
        max_campaigns: At most this many campaigns per floor.
        max_teams: At most this many teams per campaign (at least one).
        max_agents: At most this many agents per team.
        max_seats: At most this many seats per center.
        activities: The activities campaigns are drawn from and the org
            is validated against.
    """
    known = sorted(set(activities))
    cast = _Cast(draw)
    organisations = [
        Organisation(f"client-{i}", draw(_NAMES), draw(st.sampled_from(OrganisationKind)))
        for i in range(draw(st.integers(1, 3)))
    ]
    centers: list[ContactCenter] = []
    floors: list[Floor] = []
    campaigns: list[Campaign] = []
    teams: list[Team] = []
    for c in range(draw(st.integers(1, max_centers))):
        seats = draw(st.integers(1, max_seats))
        center = ContactCenter(
            f"center-{c}",
            seats=seats,
            director=cast.hire(Role.DIRECTOR),
            administrators=cast.some(Role.ADMINISTRATOR, 2),
        )
        centers.append(center)
        next_free = 1
        for f in range(draw(st.integers(1, max_floors))):
            floor = Floor(
                f"{center.id}-floor-{f}", center.id, manager=cast.maybe(Role.FLOOR_MANAGER)
            )
            floors.append(floor)
            for k in range(draw(st.integers(0, max_campaigns))):
                first = next_free + draw(st.integers(0, 3))
                taken = draw(st.integers(0, max(0, min(seats + 1 - first, 12))))
                campaign = Campaign(
                    id=f"{floor.id}-campaign-{k}",
                    organisation=draw(st.sampled_from(organisations)).id,
                    floor=floor.id,
                    direction=draw(st.sampled_from(Direction)),
                    activity=draw(st.sampled_from(known)),
                    project_manager=cast.maybe(Role.PROJECT_MANAGER),
                    analysts=cast.some(Role.ANALYST, 2),
                    seats=range(first, first + taken),
                )
                next_free = first + taken
                campaigns.append(campaign)
                teams += _teams(draw, cast, campaign.id, max_teams, max_agents)
    return Org(
        organisations=organisations,
        centers=centers,
        floors=floors,
        campaigns=campaigns,
        teams=teams,
        people=cast.people,
        activities=known,
    )


def _teams(
    draw: st.DrawFn, cast: _Cast, campaign: str, max_teams: int, max_agents: int
) -> list[Team]:
    teams: list[Team] = []
    for t in range(draw(st.integers(1, max_teams))):
        parent = draw(st.none() | st.sampled_from([team.id for team in teams])) if teams else None
        teams.append(
            Team(
                id=f"{campaign}-team-{t}",
                campaign=campaign,
                supervisor=cast.maybe(Role.SUPERVISOR),
                team_lead=cast.maybe(Role.TEAM_LEAD),
                coach=cast.maybe(Role.COACH),
                parent=parent,
                agents=cast.some(Role.AGENT, max_agents),
            )
        )
    return teams
