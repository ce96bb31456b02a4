"""Who may do what, decided by role and place in the tree.

A permission is a *reach*: for each role and :class:`Action`, the widest
:class:`Scope` of the tree in which the person may act. To decide, the target
(a contact, a team, a seat...) is placed in the tree as a :class:`Placement`,
its :func:`relation` to the person is the narrowest scope containing it (their
own contact, their team, their campaign, their floor, their center, or
outside), and the action is allowed when that relation is within the reach.

The table :data:`PERMISSIONS` is plain data, shown in ``docs/org.md``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from .._errors import PermissionDenied, ValidationError
from ._index import Reach
from ._model import Campaign, ContactCenter, Floor, Organisation, Person, Role, Seat, Team
from ._org import Org

__all__ = [
    "PERMISSIONS",
    "Action",
    "Placement",
    "Scope",
    "Target",
    "can",
    "permission_table",
    "placement_of",
    "reach_of",
    "relation",
    "require",
]


class Action(enum.Enum):
    """Something a person may be allowed to do."""

    VIEW_CONTACTS = "view-contacts"
    HANDLE_CONTACTS = "handle-contacts"
    VIEW_CUSTOMER_RECORDS = "view-customer-records"
    VIEW_KPIS = "view-kpis"
    EXPORT_REPORTS = "export-reports"
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"
    CHANGE_AGENT_STATE = "change-agent-state"
    MANAGE_PEOPLE = "manage-people"
    MANAGE_TEAMS = "manage-teams"
    MANAGE_CAMPAIGNS = "manage-campaigns"
    MANAGE_SEATS = "manage-seats"
    CONFIGURE_ROUTING = "configure-routing"


class Scope(enum.IntEnum):
    """How far from a person something is, narrowest first.

    Used both for a role's reach (``CAMPAIGN``: anything in their campaigns)
    and for a target's relation to a person. ``NONE`` is a reach only (never
    allowed); ``OUTSIDE`` is a relation only (another center, or nowhere).
    """

    NONE = 0
    SELF = 1
    TEAM = 2
    CAMPAIGN = 3
    FLOOR = 4
    CENTER = 5
    OUTSIDE = 6


_N, _SELF, _TEAM, _CAMP, _FLOOR, _CENTER = (
    Scope.NONE,
    Scope.SELF,
    Scope.TEAM,
    Scope.CAMPAIGN,
    Scope.FLOOR,
    Scope.CENTER,
)
_A = Action

_GRANTS: dict[Role, dict[Action, Scope]] = {
    Role.DIRECTOR: dict.fromkeys(Action, _CENTER),
    Role.FLOOR_MANAGER: dict.fromkeys(Action, _FLOOR),
    Role.PROJECT_MANAGER: {
        _A.VIEW_CONTACTS: _CAMP,
        _A.VIEW_CUSTOMER_RECORDS: _CAMP,
        _A.VIEW_KPIS: _CAMP,
        _A.EXPORT_REPORTS: _CAMP,
        _A.LISTEN: _CAMP,
        _A.MANAGE_TEAMS: _CAMP,
        _A.MANAGE_CAMPAIGNS: _CAMP,
        _A.CONFIGURE_ROUTING: _CAMP,
    },
    Role.SUPERVISOR: {
        _A.VIEW_CONTACTS: _CAMP,
        _A.HANDLE_CONTACTS: _CAMP,
        _A.VIEW_CUSTOMER_RECORDS: _CAMP,
        _A.VIEW_KPIS: _CAMP,
        _A.EXPORT_REPORTS: _CAMP,
        _A.LISTEN: _TEAM,
        _A.WHISPER: _TEAM,
        _A.BARGE: _TEAM,
        _A.CHANGE_AGENT_STATE: _TEAM,
        _A.MANAGE_PEOPLE: _TEAM,
        _A.MANAGE_TEAMS: _TEAM,
    },
    Role.TEAM_LEAD: {
        _A.VIEW_CONTACTS: _TEAM,
        _A.HANDLE_CONTACTS: _CAMP,
        _A.VIEW_CUSTOMER_RECORDS: _CAMP,
        _A.VIEW_KPIS: _TEAM,
        _A.EXPORT_REPORTS: _TEAM,
        _A.LISTEN: _TEAM,
        _A.WHISPER: _TEAM,
        _A.BARGE: _TEAM,
        _A.CHANGE_AGENT_STATE: _TEAM,
    },
    Role.COACH: {
        _A.VIEW_KPIS: _TEAM,
        _A.LISTEN: _TEAM,
        _A.WHISPER: _TEAM,
    },
    Role.AGENT: {
        _A.VIEW_CONTACTS: _SELF,
        _A.HANDLE_CONTACTS: _CAMP,
        _A.VIEW_CUSTOMER_RECORDS: _CAMP,
        _A.VIEW_KPIS: _SELF,
        _A.CHANGE_AGENT_STATE: _SELF,
    },
    Role.ANALYST: {
        _A.VIEW_KPIS: _CAMP,
        _A.EXPORT_REPORTS: _CAMP,
    },
    Role.ADMINISTRATOR: {
        _A.MANAGE_PEOPLE: _CENTER,
        _A.MANAGE_TEAMS: _CENTER,
        _A.MANAGE_CAMPAIGNS: _CENTER,
        _A.MANAGE_SEATS: _CENTER,
        _A.CONFIGURE_ROUTING: _CENTER,
    },
}

PERMISSIONS: Mapping[Role, Mapping[Action, Scope]] = MappingProxyType(
    {role: MappingProxyType({a: _GRANTS[role].get(a, Scope.NONE) for a in Action}) for role in Role}
)
"""For every role and action, the widest scope in which it is allowed.

Reaches are nested: a supervisor allowed on their ``CAMPAIGN`` may also act on
their team and on their own contacts.
"""


@attrs.frozen(kw_only=True)
class Placement:
    """Where a target sits in the tree; any level may be unknown.

    Contacts and customer records from other packages are checked through a
    placement: ``Placement(campaign="acme-hotline", person="agent-7")`` is a
    contact of that campaign handled by agent-7. :func:`placement_of` fills in
    the levels above the most specific one given.

    Attributes:
        center: Id of the center.
        floor: Id of the floor.
        campaign: Id of the campaign.
        team: Id of the team.
        person: Id of the person it belongs to: the agent handling a contact,
            or the person themself when the target is a person.
    """

    center: str | None = None
    floor: str | None = None
    campaign: str | None = None
    team: str | None = None
    person: str | None = None


Target = Organisation | ContactCenter | Floor | Campaign | Team | Person | Seat | Placement
"""Anything a permission can be about."""


def reach_of(org: Org, person: Person | str) -> Reach:
    """Return the part of the tree ``person`` is attached to (see :class:`Reach`)."""
    return org.reach(person if isinstance(person, str) else person.id)


def _sole(values: frozenset[str]) -> str | None:
    return next(iter(values)) if len(values) == 1 else None


def _lowest(org: Org, reach: Reach) -> Placement:
    """Return the lowest place containing everything in ``reach``."""
    tops = frozenset(t for t in reach.teams if org.team(t).parent not in reach.teams)
    return Placement(
        center=_sole(reach.centers),
        floor=_sole(reach.floors),
        campaign=_sole(reach.campaigns),
        team=_sole(tops),
    )


def _complete(org: Org, given: Placement) -> Placement:
    if given.person is not None and given.team is None:
        # Something of a person's (their contact) sits where they sit, unless the
        # placement says it belongs elsewhere (a blended agent on another campaign).
        home = _lowest(org, org.reach(given.person))
        if given.campaign is None and given.floor is None and given.center is None:
            given = attrs.evolve(home, person=given.person)
        elif given.campaign is not None and given.campaign == home.campaign:
            given = attrs.evolve(given, team=home.team)
    team = given.team
    campaign = _upward(given.campaign, team and org.team(team).campaign, "team", "campaign")
    floor = _upward(given.floor, campaign and org.campaign(campaign).floor, "campaign", "floor")
    center = _upward(given.center, floor and org.floor(floor).center, "floor", "center")
    return Placement(center=center, floor=floor, campaign=campaign, team=team, person=given.person)


def _upward(given: str | None, derived: str | None, lower: str, level: str) -> str | None:
    if given is not None and derived is not None and given != derived:
        raise ValidationError(f"placement names {level} {given} but its {lower} is in {derived}")
    return given if given is not None else derived


def placement_of(org: Org, target: Target) -> Placement:  # noqa: PLR0911 - one case per kind
    """Place ``target`` in the tree, filling every level above the most specific known.

    A person is placed at the lowest level shared by everything they are
    attached to (an agent at their team, a project manager of two campaigns
    on one floor at that floor). An organisation is placed likewise from its
    campaigns.

    Raises:
        NotFoundError: The target names an id the org does not have.
        ValidationError: A placement's levels contradict each other.
    """
    match target:
        case Placement():
            return _complete(org, target)
        case Person():
            return attrs.evolve(_lowest(org, org.reach(target.id)), person=target.id)
        case Team():
            return _complete(org, Placement(team=org.team(target.id).id))
        case Campaign():
            return _complete(org, Placement(campaign=org.campaign(target.id).id))
        case Floor():
            return _complete(org, Placement(floor=org.floor(target.id).id))
        case ContactCenter():
            return Placement(center=org.center(target.id).id)
        case Seat():
            # The org's own record of the seat decides, not the value handed in.
            seat = org.seat(target.center, target.number)
            if seat.campaign is None:
                return Placement(center=seat.center)
            return _complete(org, Placement(campaign=seat.campaign))
        case Organisation():
            campaigns = frozenset(c.id for c in org.campaigns_of_organisation(target.id))
            floors = frozenset(org.campaign(c).floor for c in campaigns)
            centers = frozenset(org.floor(f).center for f in floors)
            return _lowest(org, Reach(campaigns=campaigns, floors=floors, centers=centers))
    raise TypeError(f"cannot place a {type(target).__name__} in an org")  # pragma: no cover


def relation(org: Org, person: Person | str, target: Target) -> Scope:
    """Return the narrowest scope of ``person``'s that contains ``target``.

    ``SELF`` when the target belongs to the person (their own contact, or
    themself); then ``TEAM``, ``CAMPAIGN``, ``FLOOR``, ``CENTER`` by where the
    person is attached; ``OUTSIDE`` when none of those contains it.
    """
    who = org.person(person if isinstance(person, str) else person.id)
    place = placement_of(org, target)
    reach = org.reach(who.id)
    if place.person == who.id:
        return Scope.SELF
    levels = (
        (Scope.TEAM, place.team, reach.teams),
        (Scope.CAMPAIGN, place.campaign, reach.campaigns),
        (Scope.FLOOR, place.floor, reach.floors),
        (Scope.CENTER, place.center, reach.centers),
    )
    return next((scope for scope, node, mine in levels if node in mine), Scope.OUTSIDE)


def can(org: Org, person: Person | str, action: Action, target: Target) -> bool:
    """Tell whether ``person`` may perform ``action`` on ``target``.

    The person's role comes from ``org`` (a stale :class:`Person` value cannot
    grant itself rights); the rule is :data:`PERMISSIONS`.
    """
    who = org.person(person if isinstance(person, str) else person.id)
    return relation(org, who, target) <= PERMISSIONS[who.role][action]


def require(org: Org, person: Person | str, action: Action, target: Target) -> None:
    """Raise :class:`PermissionDenied` unless :func:`can` allows the action."""
    who = org.person(person if isinstance(person, str) else person.id)
    if not can(org, who, action, target):
        reach = PERMISSIONS[who.role][action]
        where = relation(org, who, target)
        role = who.role.value
        article = "an" if role[0] in "aeiou" else "a"
        raise PermissionDenied(
            f"{role} {who.id} may not {action.value} here: the target is "
            f"{_describe(where)}, and {article} {role} may {action.value} {_allowed(reach)}"
        )


def _describe(scope: Scope) -> str:
    return {
        Scope.SELF: "their own",
        Scope.TEAM: "in their team",
        Scope.CAMPAIGN: "in their campaign",
        Scope.FLOOR: "on their floor",
        Scope.CENTER: "in their center",
        Scope.OUTSIDE: "outside their center",
    }[scope]


def _allowed(scope: Scope) -> str:
    if scope is Scope.NONE:
        return "nowhere"
    return (
        "only on what is their own" if scope is Scope.SELF else f"within their {scope.name.lower()}"
    )


def permission_table() -> str:
    """Render :data:`PERMISSIONS` as a Markdown table (roles across, actions down)."""
    roles = list(Role)
    head = "| action | " + " | ".join(r.value for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    rows = [
        f"| {action.value} | "
        + " | ".join(
            "-" if PERMISSIONS[r][action] is Scope.NONE else PERMISSIONS[r][action].name.lower()
            for r in roles
        )
        + " |"
        for action in Action
    ]
    return "\n".join([head, rule, *rows])
