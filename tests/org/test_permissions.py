"""Roles and permissions: the full role x action x relation matrix and the target kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import PermissionDenied, ValidationError
from callcenter_sdk.org import (
    PERMISSIONS,
    Action,
    Org,
    Placement,
    Role,
    Scope,
    Seat,
    can,
    permission_table,
    placement_of,
    relation,
    require,
)

# Written by hand from the rules in issue 2, independently of PERMISSIONS.
# Columns: the target is the person's own contact, then a contact handled by an
# agent in their team, in their campaign, on their floor, in their center, in
# another center. "Y" allowed, "." refused, "-" cannot happen: the person sits
# above that level, so such a target is nearer than the column says.
EXPECTED = """
role             action                 self team campaign floor center outside
agent            view-contacts          Y    .    .        .     .      .
agent            handle-contacts        Y    Y    Y        .     .      .
agent            view-customer-records  Y    Y    Y        .     .      .
agent            view-kpis              Y    .    .        .     .      .
agent            export-reports         .    .    .        .     .      .
agent            listen                 .    .    .        .     .      .
agent            whisper                .    .    .        .     .      .
agent            barge                  .    .    .        .     .      .
agent            change-agent-state     Y    .    .        .     .      .
agent            manage-people          .    .    .        .     .      .
agent            manage-teams           .    .    .        .     .      .
agent            manage-campaigns       .    .    .        .     .      .
agent            manage-seats           .    .    .        .     .      .
agent            configure-routing      .    .    .        .     .      .
supervisor       view-contacts          Y    Y    Y        .     .      .
supervisor       handle-contacts        Y    Y    Y        .     .      .
supervisor       view-customer-records  Y    Y    Y        .     .      .
supervisor       view-kpis              Y    Y    Y        .     .      .
supervisor       export-reports         Y    Y    Y        .     .      .
supervisor       listen                 Y    Y    .        .     .      .
supervisor       whisper                Y    Y    .        .     .      .
supervisor       barge                  Y    Y    .        .     .      .
supervisor       change-agent-state     Y    Y    .        .     .      .
supervisor       manage-people          Y    Y    .        .     .      .
supervisor       manage-teams           Y    Y    .        .     .      .
supervisor       manage-campaigns       .    .    .        .     .      .
supervisor       manage-seats           .    .    .        .     .      .
supervisor       configure-routing      .    .    .        .     .      .
team-lead        view-contacts          Y    Y    .        .     .      .
team-lead        handle-contacts        Y    Y    Y        .     .      .
team-lead        view-customer-records  Y    Y    Y        .     .      .
team-lead        view-kpis              Y    Y    .        .     .      .
team-lead        export-reports         Y    Y    .        .     .      .
team-lead        listen                 Y    Y    .        .     .      .
team-lead        whisper                Y    Y    .        .     .      .
team-lead        barge                  Y    Y    .        .     .      .
team-lead        change-agent-state     Y    Y    .        .     .      .
team-lead        manage-people          .    .    .        .     .      .
team-lead        manage-teams           .    .    .        .     .      .
team-lead        manage-campaigns       .    .    .        .     .      .
team-lead        manage-seats           .    .    .        .     .      .
team-lead        configure-routing      .    .    .        .     .      .
coach            view-contacts          .    .    .        .     .      .
coach            handle-contacts        .    .    .        .     .      .
coach            view-customer-records  .    .    .        .     .      .
coach            view-kpis              Y    Y    .        .     .      .
coach            export-reports         .    .    .        .     .      .
coach            listen                 Y    Y    .        .     .      .
coach            whisper                Y    Y    .        .     .      .
coach            barge                  .    .    .        .     .      .
coach            change-agent-state     .    .    .        .     .      .
coach            manage-people          .    .    .        .     .      .
coach            manage-teams           .    .    .        .     .      .
coach            manage-campaigns       .    .    .        .     .      .
coach            manage-seats           .    .    .        .     .      .
coach            configure-routing      .    .    .        .     .      .
project-manager  view-contacts          Y    -    Y        .     .      .
project-manager  handle-contacts        .    -    .        .     .      .
project-manager  view-customer-records  Y    -    Y        .     .      .
project-manager  view-kpis              Y    -    Y        .     .      .
project-manager  export-reports         Y    -    Y        .     .      .
project-manager  listen                 Y    -    Y        .     .      .
project-manager  whisper                .    -    .        .     .      .
project-manager  barge                  .    -    .        .     .      .
project-manager  change-agent-state     .    -    .        .     .      .
project-manager  manage-people          .    -    .        .     .      .
project-manager  manage-teams           Y    -    Y        .     .      .
project-manager  manage-campaigns       Y    -    Y        .     .      .
project-manager  manage-seats           .    -    .        .     .      .
project-manager  configure-routing      Y    -    Y        .     .      .
analyst          view-contacts          .    -    .        .     .      .
analyst          handle-contacts        .    -    .        .     .      .
analyst          view-customer-records  .    -    .        .     .      .
analyst          view-kpis              Y    -    Y        .     .      .
analyst          export-reports         Y    -    Y        .     .      .
analyst          listen                 .    -    .        .     .      .
analyst          whisper                .    -    .        .     .      .
analyst          barge                  .    -    .        .     .      .
analyst          change-agent-state     .    -    .        .     .      .
analyst          manage-people          .    -    .        .     .      .
analyst          manage-teams           .    -    .        .     .      .
analyst          manage-campaigns       .    -    .        .     .      .
analyst          manage-seats           .    -    .        .     .      .
analyst          configure-routing      .    -    .        .     .      .
floor-manager    view-contacts          Y    -    -        Y     .      .
floor-manager    handle-contacts        Y    -    -        Y     .      .
floor-manager    view-customer-records  Y    -    -        Y     .      .
floor-manager    view-kpis              Y    -    -        Y     .      .
floor-manager    export-reports         Y    -    -        Y     .      .
floor-manager    listen                 Y    -    -        Y     .      .
floor-manager    whisper                Y    -    -        Y     .      .
floor-manager    barge                  Y    -    -        Y     .      .
floor-manager    change-agent-state     Y    -    -        Y     .      .
floor-manager    manage-people          Y    -    -        Y     .      .
floor-manager    manage-teams           Y    -    -        Y     .      .
floor-manager    manage-campaigns       Y    -    -        Y     .      .
floor-manager    manage-seats           Y    -    -        Y     .      .
floor-manager    configure-routing      Y    -    -        Y     .      .
director         view-contacts          Y    -    -        -     Y      .
director         handle-contacts        Y    -    -        -     Y      .
director         view-customer-records  Y    -    -        -     Y      .
director         view-kpis              Y    -    -        -     Y      .
director         export-reports         Y    -    -        -     Y      .
director         listen                 Y    -    -        -     Y      .
director         whisper                Y    -    -        -     Y      .
director         barge                  Y    -    -        -     Y      .
director         change-agent-state     Y    -    -        -     Y      .
director         manage-people          Y    -    -        -     Y      .
director         manage-teams           Y    -    -        -     Y      .
director         manage-campaigns       Y    -    -        -     Y      .
director         manage-seats           Y    -    -        -     Y      .
director         configure-routing      Y    -    -        -     Y      .
administrator    view-contacts          .    -    -        -     .      .
administrator    handle-contacts        .    -    -        -     .      .
administrator    view-customer-records  .    -    -        -     .      .
administrator    view-kpis              .    -    -        -     .      .
administrator    export-reports         .    -    -        -     .      .
administrator    listen                 .    -    -        -     .      .
administrator    whisper                .    -    -        -     .      .
administrator    barge                  .    -    -        -     .      .
administrator    change-agent-state     .    -    -        -     .      .
administrator    manage-people          Y    -    -        -     Y      .
administrator    manage-teams           Y    -    -        -     Y      .
administrator    manage-campaigns       Y    -    -        -     Y      .
administrator    manage-seats           Y    -    -        -     Y      .
administrator    configure-routing      Y    -    -        -     Y      .
"""

COLUMNS = (Scope.SELF, Scope.TEAM, Scope.CAMPAIGN, Scope.FLOOR, Scope.CENTER, Scope.OUTSIDE)

# The person of each role under test; all of them sit on the path T1/K1/F1/C1.
HOLDER = {
    Role.AGENT: "a1",
    Role.SUPERVISOR: "s1",
    Role.TEAM_LEAD: "tl1",
    Role.COACH: "c1",
    Role.PROJECT_MANAGER: "pm1",
    Role.ANALYST: "an1",
    Role.FLOOR_MANAGER: "fm1",
    Role.DIRECTOR: "d1",
    Role.ADMINISTRATOR: "ad1",
}

# Contacts at each distance from that path: handled by an agent of T1, of T2
# (same campaign), of K2 (same floor), of K3 (other floor), of K4 (other center).
_FAR = {
    Scope.TEAM: "a1b",
    Scope.CAMPAIGN: "a2",
    Scope.FLOOR: "a3",
    Scope.CENTER: "a4",
    Scope.OUTSIDE: "a5",
}


def _target(role: Role, column: Scope) -> Placement:
    handler = HOLDER[role] if column is Scope.SELF else _FAR[column]
    return Placement(person=handler)


def _cells() -> list[tuple[Role, Action, Scope, str]]:
    lines = [line.split() for line in EXPECTED.strip().splitlines()[1:]]
    return [
        (Role(role), Action(action), column, mark)
        for role, action, *marks in lines
        for column, mark in zip(COLUMNS, marks, strict=True)
    ]


def test_expectation_covers_every_role_action_and_relation() -> None:
    """The hand-written grid has exactly one line per role and action, six cells each."""
    cells = _cells()
    assert {(role, action) for role, action, _, _ in cells} == {
        (r, a) for r in Role for a in Action
    }
    assert len(cells) == len(Role) * len(Action) * len(COLUMNS)


@pytest.mark.parametrize(("role", "action", "column", "mark"), _cells())
def test_permission_matrix(
    sample_org: Org, role: Role, action: Action, column: Scope, mark: str
) -> None:
    """can() agrees with the hand-written grid for this role, action and relation."""
    person = HOLDER[role]
    target = _target(role, column)
    found = relation(sample_org, person, target)
    if mark == "-":
        assert found > column, "the grid says this relation cannot happen for this role"
        return
    assert found == column
    assert can(sample_org, person, action, target) is (mark == "Y")


def test_permission_table_in_docs_matches_data() -> None:
    """docs/org.md shows the permission table exactly as PERMISSIONS defines it."""
    docs = Path(__file__).parents[2] / "docs" / "org.md"
    assert permission_table() in docs.read_text(encoding="utf-8")


def test_reaches_are_nested_and_never_outside() -> None:
    """No role reaches another center, so an outside target is always refused."""
    for role in Role:
        for action in Action:
            assert PERMISSIONS[role][action] < Scope.OUTSIDE


def test_subteam_belongs_to_the_enclosing_team(sample_org: Org) -> None:
    """A supervisor acts on the sub-teams of their team; the sub-team's lead not upwards."""
    in_subteam = Placement(person="a1c")
    assert relation(sample_org, "s1", in_subteam) is Scope.TEAM
    assert can(sample_org, "s1", Action.BARGE, in_subteam)
    assert relation(sample_org, "tl2", Placement(person="a1")) is Scope.CAMPAIGN
    assert not can(sample_org, "tl2", Action.LISTEN, Placement(person="a1"))
    assert can(sample_org, "tl2", Action.LISTEN, in_subteam)


def test_contacts_sit_where_their_handler_sits(sample_org: Org) -> None:
    """A contact handled by a team lead is in the team lead's team; elsewhere if it says so."""
    org = sample_org
    assert placement_of(org, Placement(person="tl1")) == Placement(
        center="C1", floor="F1", campaign="K1", team="T1", person="tl1"
    )
    assert relation(org, "s1", Placement(person="tl1")) is Scope.TEAM
    # A contact of campaign K2 handled by a1 (blended) belongs to K2, not to a1's team.
    assert placement_of(org, Placement(person="a1", campaign="K2")) == Placement(
        center="C1", floor="F1", campaign="K2", person="a1"
    )
    assert relation(org, "s1", Placement(person="a1", campaign="K2")) is Scope.FLOOR
    assert relation(org, "a1", Placement(person="a1", campaign="K2")) is Scope.SELF


def test_targets_of_every_kind_are_placed(sample_org: Org) -> None:
    """Persons, teams, campaigns, floors, centers, seats and organisations get their place."""
    org = sample_org
    assert placement_of(org, org.person("a2")) == Placement(
        center="C1", floor="F1", campaign="K1", team="T2", person="a2"
    )
    assert placement_of(org, org.person("s1")) == Placement(
        center="C1", floor="F1", campaign="K1", team="T1", person="s1"
    )
    assert placement_of(org, org.person("d2")) == Placement(center="C2", person="d2")
    assert placement_of(org, org.team("T3")) == Placement(
        center="C1", floor="F1", campaign="K2", team="T3"
    )
    assert placement_of(org, org.campaign("K3")) == Placement(
        center="C1", floor="F2", campaign="K3"
    )
    assert placement_of(org, org.floor("F3")) == Placement(center="C2", floor="F3")
    assert placement_of(org, org.center("C2")) == Placement(center="C2")
    assert placement_of(org, Seat("C1", 9, "K2")) == Placement(
        center="C1", floor="F1", campaign="K2"
    )
    assert placement_of(org, Seat("C1", 30)) == Placement(center="C1")
    # The org's record wins over the value handed in: seat 9 belongs to K2.
    assert placement_of(org, Seat("C1", 9)) == placement_of(org, Seat("C1", 9, "K1"))
    assert placement_of(org, Seat("C1", 9)).campaign == "K2"
    # O1's campaigns K1 and K2 share floor F1; O2's span two centers.
    assert placement_of(org, org.organisation("O1")) == Placement(center="C1", floor="F1")
    assert placement_of(org, org.organisation("O2")) == Placement()


def test_permissions_on_tree_values(sample_org: Org) -> None:
    """Examples from the issue, on real tree values rather than contacts."""
    org = sample_org
    assert can(org, "s1", Action.MANAGE_PEOPLE, org.person("a1b"))
    assert not can(org, "s1", Action.MANAGE_PEOPLE, org.person("a2"))
    assert can(org, "c1", Action.VIEW_KPIS, org.team("T1"))
    assert not can(org, "c1", Action.VIEW_KPIS, org.team("T2"))
    assert can(org, "an1", Action.VIEW_KPIS, org.campaign("K1"))
    assert not can(org, "an1", Action.VIEW_KPIS, org.campaign("K2"))
    assert not can(org, "an1", Action.VIEW_KPIS, org.organisation("O1"))
    assert can(org, "fm1", Action.VIEW_KPIS, org.floor("F1"))
    assert not can(org, "fm1", Action.VIEW_KPIS, org.floor("F2"))
    assert can(org, "ad1", Action.MANAGE_SEATS, Seat("C1", 33))
    assert not can(org, "ad1", Action.MANAGE_SEATS, Seat("C2", 3))
    assert can(org, "d1", Action.VIEW_KPIS, org.center("C1"))
    assert not can(org, "d1", Action.VIEW_KPIS, org.center("C2"))
    assert can(org, "pm1", Action.MANAGE_CAMPAIGNS, org.campaign("K1"))
    assert not can(org, "pm1", Action.MANAGE_CAMPAIGNS, org.campaign("K2"))


def test_agent_sees_own_contacts_and_records_of_own_campaign(sample_org: Org) -> None:
    """An agent sees the contacts they handled, and customer records of their campaign only."""
    org = sample_org
    waiting_in_k1 = Placement(campaign="K1")
    assert can(org, "a1", Action.VIEW_CONTACTS, Placement(person="a1", campaign="K1"))
    assert not can(org, "a1", Action.VIEW_CONTACTS, waiting_in_k1)
    assert can(org, "a1", Action.VIEW_CUSTOMER_RECORDS, waiting_in_k1)
    assert can(org, "a1", Action.HANDLE_CONTACTS, waiting_in_k1)
    assert not can(org, "a1", Action.VIEW_CUSTOMER_RECORDS, Placement(campaign="K2"))


def test_a_stale_person_value_cannot_grant_rights(sample_org: Org) -> None:
    """The role is read from the org, not from the Person value handed in."""
    forged = sample_org.person("a1").__class__(id="a1", role=Role.DIRECTOR)
    assert not can(sample_org, forged, Action.BARGE, Placement(person="a2"))


def test_require_names_role_action_and_distance(sample_org: Org) -> None:
    """require() passes silently when allowed and explains a refusal."""
    require(sample_org, "s1", Action.BARGE, Placement(person="a1b"))
    with pytest.raises(PermissionDenied) as info:
        require(sample_org, "s1", Action.BARGE, Placement(person="a2"))
    message = str(info.value)
    assert "supervisor s1 may not barge" in message
    assert "in their campaign" in message
    assert "a supervisor may barge within their team" in message
    with pytest.raises(PermissionDenied, match="an agent may barge nowhere"):
        require(sample_org, "a1", Action.BARGE, Placement(person="a1b"))


def test_contradictory_placement_is_rejected(sample_org: Org) -> None:
    """A placement whose team works another campaign is an error, not a silent guess."""
    with pytest.raises(ValidationError, match="campaign"):
        placement_of(sample_org, Placement(team="T1", campaign="K2"))
