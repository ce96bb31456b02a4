"""The values of the org tree: who orders, where they sit, who does what.

Every value here is frozen and refers to the others by id (a string), never by
object: the tree is only assembled, checked and indexed by
:class:`~callcenter_sdk.org.Org`. That keeps each value small, hashable and
trivially serialisable, and lets a TOML file and Python code build exactly the
same objects.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import attrs

from .._errors import ValidationError

__all__ = [
    "CHANNELS",
    "MAX_PROFICIENCY",
    "MAX_SEATS",
    "MIN_PROFICIENCY",
    "AgentProfile",
    "Campaign",
    "ContactCenter",
    "Direction",
    "Floor",
    "Organisation",
    "OrganisationKind",
    "Person",
    "Role",
    "Seat",
    "Skill",
    "Team",
]

MIN_PROFICIENCY = 1
"""The lowest proficiency an agent can have in a skill."""

MAX_PROFICIENCY = 5
"""The highest proficiency an agent can have in a skill."""

MAX_SEATS = 100_000
"""The most seats a center may have: far above any real site, low enough that a
typo such as ``"1-1000000000"`` is refused instead of filling memory."""

CHANNELS: tuple[str, ...] = (
    "voice",
    "email",
    "callback",
    "chat",
    "sms",
    "social",
    "video",
    "ticket",
)
"""The channels a contact can arrive on; an agent's capacity is given per channel."""

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
"""A BCP 47 language tag such as ``fr`` or ``en-GB``."""

SIP_URI = re.compile(r"^sips?:\S+$")
"""A SIP or SIPS URI, where the agent's phone or softphone answers."""


E = TypeVar("E", bound=enum.Enum)


def _member_of(kind: type[E]) -> Callable[[object, object, E], None]:
    """Refuse ``"inbound"`` where ``Direction.INBOUND`` is meant: typos must not pass."""

    def check(_: object, __: object, value: E) -> None:
        if not isinstance(value, kind):
            names = ", ".join(f"{kind.__name__}.{m.name}" for m in kind)
            raise ValidationError(f"expected one of {names}, got {value!r}")

    return check


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _seat_numbers(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


def _language_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


class OrganisationKind(enum.Enum):
    """Whether the client is the center's own company or an outside customer."""

    INTERNAL = "internal"
    OUTSOURCED = "outsourced"


class Direction(enum.Enum):
    """Whether a campaign receives contacts or places them (the dialer)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Role(enum.Enum):
    """What a person does; together with their place in the tree it decides their rights."""

    DIRECTOR = "director"
    PROJECT_MANAGER = "project-manager"
    FLOOR_MANAGER = "floor-manager"
    SUPERVISOR = "supervisor"
    TEAM_LEAD = "team-lead"
    COACH = "coach"
    AGENT = "agent"
    ANALYST = "analyst"
    ADMINISTRATOR = "administrator"


@attrs.frozen
class Organisation:
    """The client company that orders campaigns from the center.

    Attributes:
        id: Unique among organisations.
        name: Shown in reports and on wallboards.
        kind: The center's own company, or an outsourcing customer whose data
            must stay within its own campaigns.
    """

    id: str
    name: str = ""
    kind: OrganisationKind = attrs.field(
        default=OrganisationKind.INTERNAL, validator=_member_of(OrganisationKind)
    )


@attrs.frozen
class ContactCenter:
    """A site: its seats (positions) and its floors belong to it.

    Attributes:
        id: Unique among centers.
        name: Shown in reports.
        seats: How many positions the site has, at most :data:`MAX_SEATS`;
            seats are numbered from 1.
        director: Id of the person with role director who runs the site.
        administrators: Ids of the administrators, who assign seats and set up campaigns.
    """

    id: str
    name: str = ""
    seats: int = attrs.field(default=1)
    director: str | None = None
    administrators: tuple[str, ...] = attrs.field(default=(), converter=_ids)

    @seats.validator
    def _check_seats(self, _: object, value: int) -> None:
        if not 1 <= value <= MAX_SEATS:
            raise ValidationError(
                f"center {self.id}: seats must be from 1 to {MAX_SEATS}, got {value}"
            )


@attrs.frozen
class Seat:
    """One position in a center, free or assigned to a campaign.

    Attributes:
        center: Id of the center that owns the seat.
        number: From 1 to the center's number of seats.
        campaign: Id of the campaign it is assigned to, if any.
    """

    center: str
    number: int
    campaign: str | None = None


@attrs.frozen
class Floor:
    """A floor (plateau) of a center, run by a floor manager.

    Attributes:
        id: Unique among floors.
        center: Id of the center it belongs to.
        name: Shown in reports.
        manager: Id of the person with role floor manager.
    """

    id: str
    center: str
    name: str = ""
    manager: str | None = None


@attrs.frozen(kw_only=True)
class Campaign:
    """Work ordered by an organisation and run on one floor.

    Attributes:
        id: Unique among campaigns.
        organisation: Id of the client that ordered it.
        floor: Id of the floor it runs on; its seats come from that floor's center.
        direction: Inbound (customers call) or outbound (the dialer calls).
        activity: What the work is (``"support"``, ``"survey"``): one of the
            activities known to the plugin host the org is validated against.
        name: Shown in reports.
        project_manager: Id of the person with role project manager.
        analysts: Ids of the analysts who report on it.
        seats: Numbers of the center seats assigned to it by an administrator.
    """

    id: str
    organisation: str
    floor: str
    direction: Direction = attrs.field(validator=_member_of(Direction))
    activity: str
    name: str = ""
    project_manager: str | None = None
    analysts: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    seats: frozenset[int] = attrs.field(default=frozenset(), converter=_seat_numbers)


@attrs.frozen(kw_only=True)
class Team:
    """A group of agents working one campaign, with its leaders.

    A team may sit inside a larger team of the same campaign (``parent``): a
    supervisor's group split into pods under team leads. Escalation and
    permissions follow that nesting.

    Attributes:
        id: Unique among teams.
        campaign: Id of the campaign the team works.
        name: Shown in reports.
        supervisor: Id of the person with role supervisor.
        team_lead: Id of the person with role team lead.
        coach: Id of the person with role coach.
        parent: Id of the enclosing team, if the team is a sub-team.
        agents: Ids of the people with role agent in the team; an agent is in one team.
    """

    id: str
    campaign: str
    name: str = ""
    supervisor: str | None = None
    team_lead: str | None = None
    coach: str | None = None
    parent: str | None = None
    agents: tuple[str, ...] = attrs.field(default=(), converter=_ids)


@attrs.frozen
class Skill:
    """A skill and how well the agent masters it.

    Attributes:
        name: The skill (``"billing"``), matched against a contact's needs.
        proficiency: From 1 (beginner) to 5 (expert).
    """

    name: str
    proficiency: int = attrs.field()

    @proficiency.validator
    def _check(self, _: object, value: int) -> None:
        if not MIN_PROFICIENCY <= value <= MAX_PROFICIENCY:
            raise ValidationError(
                f"skill {self.name}: proficiency must be from {MIN_PROFICIENCY} "
                f"to {MAX_PROFICIENCY}, got {value}"
            )


def _to_skills(value: Mapping[str, int] | Iterable[Skill]) -> tuple[Skill, ...]:
    if isinstance(value, Mapping):
        skills = [Skill(name, level) for name, level in value.items()]
    else:
        skills = list(value)
    names = [skill.name for skill in skills]
    if len(set(names)) != len(names):
        raise ValidationError(f"a skill is listed twice in {names}")
    return tuple(sorted(skills, key=lambda skill: skill.name))


def _to_capacity(
    value: Mapping[str, int] | Iterable[tuple[str, int]],
) -> tuple[tuple[str, int], ...]:
    pairs = list(value.items()) if isinstance(value, Mapping) else list(value)
    for channel, limit in pairs:
        if channel not in CHANNELS:
            raise ValidationError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
        if limit < 0:
            raise ValidationError(f"capacity on {channel} must be at least 0, got {limit}")
    if len({channel for channel, _ in pairs}) != len(pairs):
        raise ValidationError("a channel is listed twice in the capacity")
    return tuple(sorted(pairs))


def _check_languages(_: object, __: object, value: frozenset[str]) -> None:
    for tag in value:
        if not LANGUAGE.match(tag):
            raise ValidationError(f"{tag!r} is not a language tag such as 'fr' or 'en-GB'")


def _check_sip(_: object, __: object, value: str | None) -> None:
    if value is not None and not SIP_URI.match(value):
        raise ValidationError(f"{value!r} is not a SIP URI such as 'sip:alice@10.0.0.5'")


@attrs.frozen(kw_only=True)
class AgentProfile:
    """What an agent can handle: the routing engine matches contacts against it.

    Attributes:
        skills: The agent's skills, sorted by name; give a mapping
            ``{"billing": 4}`` or :class:`Skill` values.
        languages: Language tags the agent speaks (``"fr"``, ``"en-GB"``).
        capacity: How many contacts the agent takes at once per channel, as
            sorted ``(channel, limit)`` pairs; give a mapping such as
            ``{"voice": 1, "chat": 3, "email": 5}``. A channel not listed is 0.
        sip_uri: Where the agent's phone answers, for the media layer.
    """

    skills: tuple[Skill, ...] = attrs.field(default=(), converter=_to_skills)
    languages: frozenset[str] = attrs.field(
        default=frozenset(), converter=_language_set, validator=_check_languages
    )
    capacity: tuple[tuple[str, int], ...] = attrs.field(
        default=(("voice", 1),), converter=_to_capacity
    )
    sip_uri: str | None = attrs.field(default=None, validator=_check_sip)

    def proficiency(self, skill: str) -> int:
        """Return the agent's level in ``skill``, or 0 if they do not have it."""
        return next((s.proficiency for s in self.skills if s.name == skill), 0)

    def capacity_for(self, channel: str) -> int:
        """Return how many contacts on ``channel`` the agent takes at once."""
        return dict(self.capacity).get(channel, 0)


@attrs.frozen(kw_only=True)
class Person:
    """Someone in the center; where they appear in the tree gives their reach.

    Attributes:
        id: Unique among people (a login, an employee number).
        role: What they do.
        name: Shown to colleagues and in reports.
        profile: Skills, languages and capacity, for anyone who takes contacts
            (agents, and team leads or supervisors who help at peaks).
    """

    id: str
    role: Role = attrs.field(validator=_member_of(Role))
    name: str = ""
    profile: AgentProfile | None = None
