"""A small two-center org built in Python, shared by the org tests.

Layout (every role holder under test sits on the path T1 / K1 / F1 / C1)::

    C1 (40 seats, director d1, administrator ad1)
      F1 (manager fm1)
        K1 (O1, pm1, analyst an1, seats 1-8)
          T1 (supervisor s1, team lead tl1, coach c1): a1, a1b
            T1s (sub-team, team lead tl2): a1c
          T2 (supervisor s2): a2
        K2 (O1, pm2, seats 9-10): T3: a3
      F2 (manager fm2)
        K3 (O2, pm3): T4: a4
    C2 (10 seats, director d2)
      F3 (manager fm3)
        K4 (O2): T5: a5
"""

from __future__ import annotations

import pytest

from callcenter_sdk.org import (
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

_PEOPLE = {
    "d1": Role.DIRECTOR,
    "d2": Role.DIRECTOR,
    "ad1": Role.ADMINISTRATOR,
    "fm1": Role.FLOOR_MANAGER,
    "fm2": Role.FLOOR_MANAGER,
    "fm3": Role.FLOOR_MANAGER,
    "pm1": Role.PROJECT_MANAGER,
    "pm2": Role.PROJECT_MANAGER,
    "pm3": Role.PROJECT_MANAGER,
    "an1": Role.ANALYST,
    "s1": Role.SUPERVISOR,
    "s2": Role.SUPERVISOR,
    "tl1": Role.TEAM_LEAD,
    "tl2": Role.TEAM_LEAD,
    "c1": Role.COACH,
    "a1": Role.AGENT,
    "a1b": Role.AGENT,
    "a1c": Role.AGENT,
    "a2": Role.AGENT,
    "a3": Role.AGENT,
    "a4": Role.AGENT,
    "a5": Role.AGENT,
}


def build_sample_org() -> Org:
    """Return the org drawn in this module's docstring."""
    inbound, support = Direction.INBOUND, "support"
    return Org(
        organisations=[
            Organisation("O1", "Own company"),
            Organisation("O2", "Client", OrganisationKind.OUTSOURCED),
        ],
        centers=[
            ContactCenter("C1", "Lyon", seats=40, director="d1", administrators=["ad1"]),
            ContactCenter("C2", "Nantes", seats=10, director="d2"),
        ],
        floors=[
            Floor("F1", "C1", manager="fm1"),
            Floor("F2", "C1", manager="fm2"),
            Floor("F3", "C2", manager="fm3"),
        ],
        campaigns=[
            Campaign(
                id="K1",
                organisation="O1",
                floor="F1",
                direction=inbound,
                activity=support,
                project_manager="pm1",
                analysts=["an1"],
                seats=range(1, 9),
            ),
            Campaign(
                id="K2",
                organisation="O1",
                floor="F1",
                direction=Direction.OUTBOUND,
                activity="survey",
                project_manager="pm2",
                seats=[9, 10],
            ),
            Campaign(
                id="K3",
                organisation="O2",
                floor="F2",
                direction=inbound,
                activity="complaints",
                project_manager="pm3",
            ),
            Campaign(id="K4", organisation="O2", floor="F3", direction=inbound, activity=support),
        ],
        teams=[
            Team(
                id="T1",
                campaign="K1",
                supervisor="s1",
                team_lead="tl1",
                coach="c1",
                agents=["a1", "a1b"],
            ),
            Team(id="T1s", campaign="K1", parent="T1", team_lead="tl2", agents=["a1c"]),
            Team(id="T2", campaign="K1", supervisor="s2", agents=["a2"]),
            Team(id="T3", campaign="K2", agents=["a3"]),
            Team(id="T4", campaign="K3", agents=["a4"]),
            Team(id="T5", campaign="K4", agents=["a5"]),
        ],
        people=[
            Person(
                id=pid,
                role=role,
                profile=AgentProfile(skills={"billing": 3}) if role is Role.AGENT else None,
            )
            for pid, role in _PEOPLE.items()
        ],
    )


@pytest.fixture(scope="session")
def sample_org() -> Org:
    """The org drawn in this module's docstring (immutable, so shared)."""
    return build_sample_org()
