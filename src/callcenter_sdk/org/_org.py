"""The :class:`Org` aggregate: the whole tree, checked once and indexed.

An ``Org`` is immutable. It is validated when it is built, whether from Python
or from a TOML file (:func:`~callcenter_sdk.org.load_org`), and every error
names the list, index and key at fault (``campaigns[2].floor``) so that the same
message points into the file the user wrote. Changing an org (assigning seats,
for example) builds a new one, which is validated again.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

import attrs

from .._errors import ConfigError, NotFoundError, ValidationError
from ._model import (
    Campaign,
    ContactCenter,
    Floor,
    Organisation,
    Person,
    Role,
    Seat,
    Team,
)
from ._plugin import BUILTIN_ACTIVITIES

__all__ = ["PYTHON_SOURCE", "Org", "Reach"]

PYTHON_SOURCE = "<python>"
"""The ``file`` named in errors about an org built in code."""

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
class _Index:
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


# attrs needs converters with concrete types for mypy to check callers.
def _tuple_of_organisations(values: Iterable[Organisation]) -> tuple[Organisation, ...]:
    return tuple(values)


def _tuple_of_centers(values: Iterable[ContactCenter]) -> tuple[ContactCenter, ...]:
    return tuple(values)


def _tuple_of_floors(values: Iterable[Floor]) -> tuple[Floor, ...]:
    return tuple(values)


def _tuple_of_campaigns(values: Iterable[Campaign]) -> tuple[Campaign, ...]:
    return tuple(values)


def _tuple_of_teams(values: Iterable[Team]) -> tuple[Team, ...]:
    return tuple(values)


def _tuple_of_people(values: Iterable[Person]) -> tuple[Person, ...]:
    return tuple(values)


def _names(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen(kw_only=True)
class Org:
    """A validated, indexed org tree.

    Build it with keyword lists of values; the lists keep their order, which is
    what error paths refer to. Nothing else is needed: every link is by id.

    Attributes:
        organisations: The clients that order campaigns.
        centers: The sites, with their seats, director and administrators.
        floors: The floors of the centers.
        campaigns: The campaigns, each on a floor, with their assigned seats.
        teams: The teams, each working a campaign.
        people: Everyone referred to anywhere above.
        activities: The campaign activities allowed; pass
            ``PluginHost.campaign_activities()`` so plugin activities count.
        source: The file the org came from, named in errors.

    Raises:
        ConfigError: On a duplicate or malformed id, a reference to nothing, a
            person in a slot their role does not fit, a loop of sub-teams, an
            agent in two teams, an unknown activity, or a seat that does not
            exist or is assigned twice.
    """

    organisations: tuple[Organisation, ...] = attrs.field(
        default=(), converter=_tuple_of_organisations
    )
    centers: tuple[ContactCenter, ...] = attrs.field(default=(), converter=_tuple_of_centers)
    floors: tuple[Floor, ...] = attrs.field(default=(), converter=_tuple_of_floors)
    campaigns: tuple[Campaign, ...] = attrs.field(default=(), converter=_tuple_of_campaigns)
    teams: tuple[Team, ...] = attrs.field(default=(), converter=_tuple_of_teams)
    people: tuple[Person, ...] = attrs.field(default=(), converter=_tuple_of_people)
    activities: frozenset[str] = attrs.field(
        default=frozenset(BUILTIN_ACTIVITIES), converter=_names
    )
    source: str = attrs.field(default=PYTHON_SOURCE, eq=False)
    _index: _Index = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", _Validator(self).run())

    # -- lookups -----------------------------------------------------------

    def organisation(self, organisation_id: str) -> Organisation:
        """Return the organisation with this id (:class:`NotFoundError` if none)."""
        return _get(self._index.organisations, organisation_id, "organisation")

    def center(self, center_id: str) -> ContactCenter:
        """Return the center with this id (:class:`NotFoundError` if none)."""
        return _get(self._index.centers, center_id, "center")

    def floor(self, floor_id: str) -> Floor:
        """Return the floor with this id (:class:`NotFoundError` if none)."""
        return _get(self._index.floors, floor_id, "floor")

    def campaign(self, campaign_id: str) -> Campaign:
        """Return the campaign with this id (:class:`NotFoundError` if none)."""
        return _get(self._index.campaigns, campaign_id, "campaign")

    def team(self, team_id: str) -> Team:
        """Return the team with this id (:class:`NotFoundError` if none)."""
        return _get(self._index.teams, team_id, "team")

    def person(self, person_id: str) -> Person:
        """Return the person with this id (:class:`NotFoundError` if none)."""
        return _get(self._index.people, person_id, "person")

    def people_with_role(self, role: Role) -> tuple[Person, ...]:
        """Return everyone with ``role``, in the order they were given."""
        return tuple(p for p in self.people if p.role is role)

    def reach(self, person_id: str) -> Reach:
        """Return the teams, campaigns, floors and centers ``person_id`` is attached to."""
        self.person(person_id)
        return self._index.reach.get(person_id, Reach())

    # -- the tree upwards ---------------------------------------------------

    def center_of_floor(self, floor_id: str) -> ContactCenter:
        """Return the center a floor belongs to."""
        return self.center(self.floor(floor_id).center)

    def floor_of_campaign(self, campaign_id: str) -> Floor:
        """Return the floor a campaign runs on."""
        return self.floor(self.campaign(campaign_id).floor)

    def team_of(self, agent_id: str) -> Team | None:
        """Return the team an agent belongs to, or ``None`` if they are in none."""
        self.person(agent_id)
        team_id = self._index.team_of_agent.get(agent_id)
        return None if team_id is None else self.team(team_id)

    def team_ancestry(self, team_id: str) -> tuple[Team, ...]:
        """Return the team, then its parent, up to the outermost team."""
        chain = [self.team(team_id)]
        while (parent := chain[-1].parent) is not None:
            chain.append(self.team(parent))
        return tuple(chain)

    # -- the tree downwards ---------------------------------------------------

    def floors_of_center(self, center_id: str) -> tuple[Floor, ...]:
        """Return the floors of a center."""
        self.center(center_id)
        return self._index.floors_of_center.get(center_id, ())

    def campaigns_of_floor(self, floor_id: str) -> tuple[Campaign, ...]:
        """Return the campaigns run on a floor."""
        self.floor(floor_id)
        return self._index.campaigns_of_floor.get(floor_id, ())

    def campaigns_of_organisation(self, organisation_id: str) -> tuple[Campaign, ...]:
        """Return the campaigns an organisation ordered, on any floor or center."""
        self.organisation(organisation_id)
        return self._index.campaigns_of_organisation.get(organisation_id, ())

    def teams_of_campaign(self, campaign_id: str) -> tuple[Team, ...]:
        """Return the teams (and sub-teams) working a campaign."""
        self.campaign(campaign_id)
        return self._index.teams_of_campaign.get(campaign_id, ())

    def teams_of_floor(self, floor_id: str) -> tuple[Team, ...]:
        """Return the teams working the campaigns of a floor."""
        return tuple(
            t for c in self.campaigns_of_floor(floor_id) for t in self.teams_of_campaign(c.id)
        )

    def subteams(self, team_id: str) -> tuple[Team, ...]:
        """Return the team and every team nested in it, in the order of :attr:`teams`."""
        self.team(team_id)
        below = _below(team_id, self._index.children)
        return tuple(t for t in self.teams if t.id in below)

    def agents_of_team(self, team_id: str) -> tuple[Person, ...]:
        """Return the agents of a team and of its sub-teams."""
        return tuple(self.person(a) for team in self.subteams(team_id) for a in team.agents)

    def agents_of_campaign(self, campaign_id: str) -> tuple[Person, ...]:
        """Return every agent in a team of the campaign."""
        return tuple(
            self.person(a) for team in self.teams_of_campaign(campaign_id) for a in team.agents
        )

    # -- who answers to whom --------------------------------------------------

    def supervisor_of(self, agent_id: str) -> Person | None:
        """Return the agent's supervisor: their team's, else the nearest enclosing team's."""
        team = self.team_of(agent_id)
        if team is None:
            return None
        for level in self.team_ancestry(team.id):
            if level.supervisor is not None:
                return self.person(level.supervisor)
        return None

    def agents_supervised_by(self, person_id: str) -> tuple[Person, ...]:
        """Return the agents in the teams ``person_id`` supervises, sub-teams included."""
        self.person(person_id)
        seen: dict[str, Person] = {}
        for team in self.teams:
            if team.supervisor == person_id:
                seen.update((a.id, a) for a in self.agents_of_team(team.id))
        return tuple(seen.values())

    def escalation_chain(self, agent_id: str) -> tuple[Person, ...]:
        """Return whom an agent escalates to, nearest first.

        The order is team lead, supervisor (then those of each enclosing team),
        floor manager and director; missing levels are skipped and nobody
        appears twice. An agent in no team escalates to nobody.

        Raises:
            ValidationError: ``agent_id`` is not an agent.
        """
        agent = self.person(agent_id)
        if agent.role is not Role.AGENT:
            raise ValidationError(f"{agent_id} is a {agent.role.value}, not an agent")
        team = self.team_of(agent_id)
        if team is None:
            return ()
        ladder: list[str | None] = []
        for level in self.team_ancestry(team.id):
            ladder += [level.team_lead, level.supervisor]
        floor = self.floor_of_campaign(team.campaign)
        ladder += [floor.manager, self.center(floor.center).director]
        chain = dict.fromkeys(p for p in ladder if p is not None and p != agent_id)
        return tuple(self.person(p) for p in chain)

    # -- seats ------------------------------------------------------------------

    def seats(self, center_id: str) -> tuple[Seat, ...]:
        """Return every seat of a center, numbered from 1, with its campaign if assigned."""
        center = self.center(center_id)
        owner = {
            number: c.id
            for floor in self.floors_of_center(center_id)
            for c in self.campaigns_of_floor(floor.id)
            for number in c.seats
        }
        return tuple(
            Seat(center_id, number, owner.get(number)) for number in range(1, center.seats + 1)
        )

    def free_seats(self, center_id: str) -> tuple[Seat, ...]:
        """Return the seats of a center not assigned to any campaign."""
        return tuple(s for s in self.seats(center_id) if s.campaign is None)

    def seats_of_campaign(self, campaign_id: str) -> tuple[Seat, ...]:
        """Return the seats assigned to a campaign, by number."""
        campaign = self.campaign(campaign_id)
        center = self.floor(campaign.floor).center
        return tuple(Seat(center, n, campaign_id) for n in sorted(campaign.seats))


def _get(table: dict[str, T], key: str, what: str) -> T:
    try:
        return table[key]
    except KeyError:
        raise NotFoundError(f"no {what} with id {key!r}") from None


class _Validator:
    """Checks an org in one pass per rule and builds its indexes."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.source = org.source

    def fail(self, path: _Path, expected: str, got: object = None, detail: str = "") -> ConfigError:
        return ConfigError(self.source, path, expected, got, detail=detail)

    def run(self) -> _Index:
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
        index = _Index(
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


def _below(team_id: str, children: Mapping[str, tuple[str, ...]]) -> set[str]:
    out = [team_id]
    for team in out:
        out.extend(children.get(team, ()))
    return set(out)


def _reaches(org: Org, index: _Index) -> dict[str, Reach]:
    teams: dict[str, set[str]] = defaultdict(set)
    campaigns: dict[str, set[str]] = defaultdict(set)
    floors: dict[str, set[str]] = defaultdict(set)
    centers: dict[str, set[str]] = defaultdict(set)
    for team in org.teams:
        below = _below(team.id, index.children)
        for member in (team.supervisor, team.team_lead, team.coach, *team.agents):
            if member is not None:
                teams[member] |= below
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
