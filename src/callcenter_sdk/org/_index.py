"""Checking an org and indexing it, in one pass.

:class:`~callcenter_sdk.org.Org` calls :func:`build_index` when it is built;
the checks report :class:`~callcenter_sdk.ConfigError` with a path into the
lists the org was given, which are also the arrays of its TOML file.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs

from .._errors import ConfigError
from ._model import Campaign, ContactCenter, Floor, Organisation, Person, Role, Team

if TYPE_CHECKING:
    from ._org import Org

__all__ = ["Reach"]

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
"""What an id looks like: it is used in file names, URLs and log lines."""

ID_EXPECTED = "an id made of letters, digits, '.', '_', '@' or '-'"

_Path = tuple[str | int, ...]
T = TypeVar("T")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


V = TypeVar("V", bound=_HasId)


@attrs.frozen
class Reach:
    """The parts of the tree a person is attached to, directly or through nesting.

    A supervisor of a team reaches its sub-teams, that team's campaign, the
    campaign's floor and the floor's center. Permissions compare a target's
    place with this.

    Attributes:
        teams: Teams the person is in or leads, with their sub-teams.
        campaigns: Campaigns of those teams, plus those the person manages or
            reports on.
        floors: Floors of those campaigns, plus the floors the person manages.
        centers: Centers of those floors, plus the centers the person directs
            or administers.
    """

    teams: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()
    floors: frozenset[str] = frozenset()
    centers: frozenset[str] = frozenset()


@attrs.frozen
class OrgIndex:
    """Everything an org looks up, computed once when it is built."""

    organisations: dict[str, Organisation]
    centers: dict[str, ContactCenter]
    floors: dict[str, Floor]
    campaigns: dict[str, Campaign]
    teams: dict[str, Team]
    people: dict[str, Person]
    team_of_agent: dict[str, str]
    children: dict[str, tuple[str, ...]]
    reach: dict[str, Reach]
    floors_of_center: dict[str, tuple[Floor, ...]]
    campaigns_of_floor: dict[str, tuple[Campaign, ...]]
    campaigns_of_organisation: dict[str, tuple[Campaign, ...]]
    teams_of_campaign: dict[str, tuple[Team, ...]]


def build_index(org: Org) -> OrgIndex:
    """Check ``org`` and return its indexes.

    Raises:
        ConfigError: The first rule the org breaks, with its path.
    """
    return _Validator(org).run()


class _Validator:
    """Checks an org in one pass per rule and builds its indexes."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.source = org.source

    def fail(self, path: _Path, expected: str, got: object = None, detail: str = "") -> ConfigError:
        return ConfigError(self.source, path, expected, got, detail=detail)

    def run(self) -> OrgIndex:
        org = self.org
        organisations = self.unique("organisations", org.organisations)
        centers = self.unique("centers", org.centers)
        floors = self.unique("floors", org.floors)
        campaigns = self.unique("campaigns", org.campaigns)
        teams = self.unique("teams", org.teams)
        people = self.unique("people", org.people)
        self.people = people
        for i, center in enumerate(org.centers):
            self.slot(("centers", i, "director"), center.director, Role.DIRECTOR)
            for j, admin in enumerate(center.administrators):
                self.slot(("centers", i, "administrators", j), admin, Role.ADMINISTRATOR)
        for i, floor in enumerate(org.floors):
            self.ref(("floors", i, "center"), floor.center, centers, "a center")
            self.slot(("floors", i, "manager"), floor.manager, Role.FLOOR_MANAGER)
        for i, campaign in enumerate(org.campaigns):
            self.campaign(i, campaign, organisations, floors)
        team_of_agent = self.teams(teams, campaigns)
        children: dict[str, list[str]] = defaultdict(list)
        for team in org.teams:
            if team.parent is not None:
                children[team.parent].append(team.id)
        self.seats(centers, floors)
        index = OrgIndex(
            organisations=organisations,
            centers=centers,
            floors=floors,
            campaigns=campaigns,
            teams=teams,
            people=people,
            team_of_agent=team_of_agent,
            children={k: tuple(v) for k, v in children.items()},
            reach={},
            floors_of_center=_group(org.floors, lambda f: f.center),
            campaigns_of_floor=_group(org.campaigns, lambda c: c.floor),
            campaigns_of_organisation=_group(org.campaigns, lambda c: c.organisation),
            teams_of_campaign=_group(org.teams, lambda t: t.campaign),
        )
        index.reach.update(_reaches(org, index))
        return index

    def unique(self, name: str, values: Sequence[V]) -> dict[str, V]:
        seen: dict[str, int] = {}
        for i, value in enumerate(values):
            if not ID.match(value.id):
                raise self.fail((name, i, "id"), ID_EXPECTED, value.id)
            if value.id in seen:
                raise self.fail(
                    (name, i, "id"),
                    f"an id not already used by {name}[{seen[value.id]}]",
                    value.id,
                )
            seen[value.id] = i
        return {value.id: value for value in values}

    def ref(self, path: _Path, value: str, table: Mapping[str, object], what: str) -> None:
        if value not in table:
            raise self.fail(path, f"the id of {what}", value)

    def slot(self, path: _Path, person_id: str | None, role: Role) -> None:
        if person_id is None:
            return
        person = self.people.get(person_id)
        if person is None:
            raise self.fail(path, f"the id of a person with role {role.value}", person_id)
        if person.role is not role:
            raise self.fail(
                path,
                f"the id of a person with role {role.value}",
                person_id,
                detail=f"{person_id} has role {person.role.value}",
            )

    def campaign(
        self,
        i: int,
        campaign: Campaign,
        organisations: dict[str, Organisation],
        floors: dict[str, Floor],
    ) -> None:
        path: _Path = ("campaigns", i)
        self.ref((*path, "organisation"), campaign.organisation, organisations, "an organisation")
        self.ref((*path, "floor"), campaign.floor, floors, "a floor")
        if campaign.activity not in self.org.activities:
            raise self.fail(
                (*path, "activity"),
                "one of the known activities: " + ", ".join(sorted(self.org.activities)),
                campaign.activity,
            )
        self.slot((*path, "project_manager"), campaign.project_manager, Role.PROJECT_MANAGER)
        for j, analyst in enumerate(campaign.analysts):
            self.slot((*path, "analysts", j), analyst, Role.ANALYST)

    def teams(self, teams: dict[str, Team], campaigns: dict[str, Campaign]) -> dict[str, str]:
        team_of_agent: dict[str, str] = {}
        where: dict[str, _Path] = {}
        for i, team in enumerate(self.org.teams):
            path: _Path = ("teams", i)
            self.ref((*path, "campaign"), team.campaign, campaigns, "a campaign")
            self.slot((*path, "supervisor"), team.supervisor, Role.SUPERVISOR)
            self.slot((*path, "team_lead"), team.team_lead, Role.TEAM_LEAD)
            self.slot((*path, "coach"), team.coach, Role.COACH)
            if team.parent is not None:
                parent = teams.get(team.parent)
                if parent is None:
                    raise self.fail((*path, "parent"), "the id of a team", team.parent)
                if parent.campaign != team.campaign:
                    raise self.fail(
                        (*path, "parent"),
                        f"the id of a team of campaign {team.campaign}",
                        team.parent,
                        detail=f"{team.parent} works {parent.campaign}",
                    )
            for j, agent in enumerate(team.agents):
                self.slot((*path, "agents", j), agent, Role.AGENT)
                if agent in team_of_agent:
                    raise self.fail(
                        (*path, "agents", j),
                        "an agent who is in no other team",
                        agent,
                        detail=f"already at {_dotted(where[agent])}",
                    )
                team_of_agent[agent] = team.id
                where[agent] = (*path, "agents", j)
        self.no_loops(teams)
        return team_of_agent

    def no_loops(self, teams: dict[str, Team]) -> None:
        position = {team.id: i for i, team in enumerate(self.org.teams)}
        for team in self.org.teams:
            chain = [team.id]
            parent = team.parent
            while parent is not None:
                if parent in chain:
                    loop = [*chain[chain.index(parent) :], parent]
                    first = min(loop[:-1], key=position.__getitem__)
                    raise self.fail(
                        ("teams", position[first], "parent"),
                        "a parent team that does not contain this team",
                        teams[first].parent,
                        detail="loop " + " -> ".join(loop),
                    )
                chain.append(parent)
                parent = teams[parent].parent

    def seats(self, centers: dict[str, ContactCenter], floors: dict[str, Floor]) -> None:
        taken: dict[tuple[str, int], int] = {}
        for i, campaign in enumerate(self.org.campaigns):
            center = centers[floors[campaign.floor].center]
            path: _Path = ("campaigns", i, "seats")
            for number in sorted(campaign.seats):
                if not 1 <= number <= center.seats:
                    raise self.fail(
                        path,
                        f"seat numbers from 1 to {center.seats} (the seats of center {center.id})",
                        number,
                    )
                other = taken.setdefault((center.id, number), i)
                if other != i:
                    raise self.fail(
                        path,
                        "seats not assigned to another campaign",
                        number,
                        detail=f"seat {number} of {center.id} is assigned to "
                        f"campaigns[{other}] ({self.org.campaigns[other].id})",
                    )


def _group(values: Iterable[T], key: Callable[[T], str]) -> dict[str, tuple[T, ...]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for value in values:
        groups[key(value)].append(value)
    return {k: tuple(v) for k, v in groups.items()}


def _dotted(path: _Path) -> str:
    return ConfigError("", path, "").dotted_path


def below(team_id: str, children: Mapping[str, tuple[str, ...]]) -> set[str]:
    out = [team_id]
    for team in out:
        out.extend(children.get(team, ()))
    return set(out)


def _reaches(org: Org, index: OrgIndex) -> dict[str, Reach]:
    teams: dict[str, set[str]] = defaultdict(set)
    campaigns: dict[str, set[str]] = defaultdict(set)
    floors: dict[str, set[str]] = defaultdict(set)
    centers: dict[str, set[str]] = defaultdict(set)
    for team in org.teams:
        nested = below(team.id, index.children)
        for member in (team.supervisor, team.team_lead, team.coach, *team.agents):
            if member is not None:
                teams[member] |= nested
    for campaign in org.campaigns:
        for person in (campaign.project_manager, *campaign.analysts):
            if person is not None:
                campaigns[person].add(campaign.id)
    for floor in org.floors:
        if floor.manager is not None:
            floors[floor.manager].add(floor.id)
    for center in org.centers:
        for person in (center.director, *center.administrators):
            if person is not None:
                centers[person].add(center.id)
    out: dict[str, Reach] = {}
    for person in index.people:
        my_campaigns = campaigns[person] | {index.teams[t].campaign for t in teams[person]}
        my_floors = floors[person] | {index.campaigns[c].floor for c in my_campaigns}
        my_centers = centers[person] | {index.floors[f].center for f in my_floors}
        out[person] = Reach(
            frozenset(teams[person]),
            frozenset(my_campaigns),
            frozenset(my_floors),
            frozenset(my_centers),
        )
    return out
