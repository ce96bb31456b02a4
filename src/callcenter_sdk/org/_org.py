"""The :class:`Org` aggregate: the whole tree, checked once and indexed.

An ``Org`` is immutable. It is validated when it is built, whether from Python
or from a TOML file (:func:`~callcenter_sdk.org.load_org`), and every error
names the list, index and key at fault (``campaigns[2].floor``) so that the same
message points into the file the user wrote. Changing an org (assigning seats,
for example) builds a new one, which is validated again.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import attrs

from .._errors import NotFoundError, ValidationError
from ._index import OrgIndex, Reach, below, build_index
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

__all__ = ["PYTHON_SOURCE", "Org"]

PYTHON_SOURCE = "<python>"
"""The ``file`` named in errors about an org built in code."""

T = TypeVar("T")


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
    _index: OrgIndex = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", build_index(self))

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
        below_team = below(team_id, self._index.children)
        return tuple(t for t in self.teams if t.id in below_team)

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

    def seat(self, center_id: str, number: int) -> Seat:
        """Return seat ``number`` of a center, with the campaign it is assigned to."""
        center = self.center(center_id)
        if not 1 <= number <= center.seats:
            raise NotFoundError(f"center {center_id} has no seat {number} (1 to {center.seats})")
        owner = next(
            (
                c.id
                for floor in self.floors_of_center(center_id)
                for c in self.campaigns_of_floor(floor.id)
                if number in c.seats
            ),
            None,
        )
        return Seat(center_id, number, owner)

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
