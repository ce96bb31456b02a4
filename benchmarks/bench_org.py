"""Permission checks per second on a large org, against an unindexed baseline.

A screen pop, a monitoring request or a report export each ask ``can()``, so
the check must stay cheap as the org grows. The org here has 4 centers, 40
floors, 200 campaigns, 1,000 teams (a third of them nested) and 8,000 agents.
The baseline decides the same questions by scanning the org's lists on every
call, as a naive implementation would, and must agree with ``can()`` on every
answer. Run: ``.venv/bin/python benchmarks/bench_org.py``.
"""

from __future__ import annotations

import json
import random
import time

from callcenter_sdk.org import (
    PERMISSIONS,
    Action,
    Campaign,
    ContactCenter,
    Direction,
    Floor,
    Org,
    Organisation,
    Person,
    Placement,
    Role,
    Scope,
    Team,
    can,
)

CENTERS, FLOORS, CAMPAIGNS, TEAMS, AGENTS = 4, 10, 5, 5, 8
"""Per center floors, per floor campaigns, per campaign teams, per team agents."""
CHECKS = 20_000
BASELINE_CHECKS = 300


def build() -> Org:
    """Return the benchmark org: every slot filled, every third team nested."""
    people: list[Person] = []

    def hire(role: Role, name: str) -> str:
        people.append(Person(id=name, role=role))
        return name

    centers, floors, campaigns, teams = [], [], [], []
    for c in range(CENTERS):
        cid = f"c{c}"
        seats = FLOORS * CAMPAIGNS * 10
        centers.append(
            ContactCenter(
                cid,
                seats=seats,
                director=hire(Role.DIRECTOR, f"{cid}-dir"),
                administrators=[hire(Role.ADMINISTRATOR, f"{cid}-adm")],
            )
        )
        for f in range(FLOORS):
            fid = f"{cid}-f{f}"
            floors.append(Floor(fid, cid, manager=hire(Role.FLOOR_MANAGER, f"{fid}-fm")))
            for k in range(CAMPAIGNS):
                kid = f"{fid}-k{k}"
                first = (f * CAMPAIGNS + k) * 10 + 1
                campaigns.append(
                    Campaign(
                        id=kid,
                        organisation="client",
                        floor=fid,
                        direction=Direction.INBOUND,
                        activity="support",
                        project_manager=hire(Role.PROJECT_MANAGER, f"{kid}-pm"),
                        analysts=[hire(Role.ANALYST, f"{kid}-an")],
                        seats=range(first, first + 10),
                    )
                )
                for t in range(TEAMS):
                    tid = f"{kid}-t{t}"
                    teams.append(
                        Team(
                            id=tid,
                            campaign=kid,
                            supervisor=hire(Role.SUPERVISOR, f"{tid}-sup"),
                            team_lead=hire(Role.TEAM_LEAD, f"{tid}-tl"),
                            coach=hire(Role.COACH, f"{tid}-co"),
                            parent=f"{kid}-t0" if t % 3 == 2 else None,
                            agents=[hire(Role.AGENT, f"{tid}-a{a}") for a in range(AGENTS)],
                        )
                    )
    return Org(
        organisations=[Organisation("client")],
        centers=centers,
        floors=floors,
        campaigns=campaigns,
        teams=teams,
        people=people,
    )


def naive_can(org: Org, person_id: str, action: Action, agent_id: str) -> bool:
    """Decide by scanning the org's lists: no index, no precomputed reach."""
    role = next(p.role for p in org.people if p.id == person_id)
    if person_id == agent_id:
        return PERMISSIONS[role][action] >= Scope.SELF
    team = next(t for t in org.teams if agent_id in t.agents)
    campaign = next(c for c in org.campaigns if c.id == team.campaign)
    floor = next(f for f in org.floors if f.id == campaign.floor)
    mine = [t for t in org.teams if person_id in (t.supervisor, t.team_lead, t.coach, *t.agents)]
    my_teams = {t.id for t in mine} | {t.id for t in org.teams if t.parent in {m.id for m in mine}}
    my_campaigns = {t.campaign for t in mine} | {
        c.id for c in org.campaigns if person_id in (c.project_manager, *c.analysts)
    }
    my_floors = {f.id for f in org.floors if f.manager == person_id} | {
        c.floor for c in org.campaigns if c.id in my_campaigns
    }
    my_centers = {c.id for c in org.centers if person_id in (c.director, *c.administrators)} | {
        f.center for f in org.floors if f.id in my_floors
    }
    levels = (
        (Scope.TEAM, team.id in my_teams),
        (Scope.CAMPAIGN, campaign.id in my_campaigns),
        (Scope.FLOOR, floor.id in my_floors),
        (Scope.CENTER, floor.center in my_centers),
    )
    found = next((scope for scope, inside in levels if inside), Scope.OUTSIDE)
    return found <= PERMISSIONS[role][action]


def _question(
    org: Org, rng: random.Random, agent: str, staff: list[str]
) -> tuple[str, Action, str]:
    """Ask about ``agent`` mostly from people around them, as real requests do."""
    team = org.team_of(agent)
    assert team is not None
    campaign = org.campaign(team.campaign)
    center = org.center_of_floor(campaign.floor)
    near = [
        agent,
        *(p.id for p in org.escalation_chain(agent)),
        *(p for p in (team.coach, campaign.project_manager, *campaign.analysts) if p),
        *center.administrators,
        rng.choice(staff),
    ]
    return rng.choice(near), rng.choice(list(Action)), agent


def main() -> None:
    """Print the figures, then the JSON summary as the last line."""
    start = time.perf_counter()
    org = build()
    build_seconds = time.perf_counter() - start
    rng = random.Random(1)
    agents = [p.id for p in org.people_with_role(Role.AGENT)]
    staff = [p.id for p in org.people if p.role is not Role.AGENT]
    questions = [_question(org, rng, rng.choice(agents), staff) for _ in range(CHECKS)]
    start = time.perf_counter()
    answers = [can(org, who, action, Placement(person=agent)) for who, action, agent in questions]
    indexed = CHECKS / (time.perf_counter() - start)
    start = time.perf_counter()
    for (who, action, agent), answer in zip(questions[:BASELINE_CHECKS], answers, strict=False):
        assert naive_can(org, who, action, agent) == answer, (who, action, agent)
    naive = BASELINE_CHECKS / (time.perf_counter() - start)
    start = time.perf_counter()
    for agent in agents:
        org.escalation_chain(agent)
    chains = len(agents) / (time.perf_counter() - start)
    allowed = sum(answers) / len(answers)
    print(f"org: {len(org.people)} people, {len(agents)} agents, {len(org.teams)} teams")
    print(f"build and validate:       {build_seconds * 1000:10.1f} ms")
    print(f"can() checks:             {indexed:10.0f} /s  ({allowed:.0%} allowed)")
    print(f"unindexed baseline:       {naive:10.0f} /s")
    print(f"ratio can / baseline:     {indexed / naive:10.1f} x")
    print(f"escalation chains:        {chains:10.0f} /s")
    print(
        json.dumps(
            {
                "bench": "org",
                "people": len(org.people),
                "build_ms": round(build_seconds * 1000, 1),
                "can_per_s": round(indexed),
                "baseline_per_s": round(naive),
                "ratio": round(indexed / naive, 1),
                "escalation_chains_per_s": round(chains),
            }
        )
    )


if __name__ == "__main__":
    main()
