"""``callcenter org``: check an org file and print its hierarchy."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable, Iterator

from .._plugins import create_plugin_host
from ..org import Campaign, Org, Person, Role, Team, load_org
from ._main import COMMANDS, Command


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="org_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate an org TOML file and summarise it")
    check.add_argument("file", help="the org TOML file")
    tree = sub.add_parser("tree", help="print the hierarchy of an org TOML file")
    tree.add_argument("file", help="the org TOML file")


def _run(args: argparse.Namespace) -> int:
    org = load_org(args.file, activities=create_plugin_host().campaign_activities())
    lines = summary(org) if args.org_command == "check" else tree(org)
    if args.org_command == "check":
        print(f"{args.file}: valid")
    for line in lines:
        print(line)
    return 0


def summary(org: Org) -> list[str]:
    """Return a few lines counting what the org holds."""
    kinds = Counter(o.kind.value for o in org.organisations)
    directions = Counter(c.direction.value for c in org.campaigns)
    roles = Counter(p.role for p in org.people)
    seats = sum(c.seats for c in org.centers)
    assigned = sum(len(c.seats) for c in org.campaigns)
    return [
        f"  {_count(len(org.organisations), 'organisation')} ({_counts(kinds)})",
        (
            f"  {_count(len(org.centers), 'center')}, {_count(seats, 'seat')}: "
            f"{assigned} assigned, {seats - assigned} free"
        ),
        (
            f"  {_count(len(org.floors), 'floor')}, {_count(len(org.campaigns), 'campaign')} "
            f"({_counts(directions)}), {_count(len(org.teams), 'team')}"
        ),
        f"  {_count(len(org.people), 'person')}: "
        + ", ".join(_count(roles[r], r.value.replace("-", " ")) for r in Role if roles[r]),
    ]


def tree(org: Org) -> list[str]:
    """Return the hierarchy, one node per line, centers down to agents."""
    lines: list[str] = []
    for center in org.centers:
        free = len(org.free_seats(center.id))
        admins = ", ".join(center.administrators) or "none"
        lines.append(
            f"center {center.id}{_name(center.name)}: {center.seats} seats ({free} free); "
            f"director {center.director or 'none'}; administrators {admins}"
        )
        floors = org.floors_of_center(center.id)
        lines += _branch(_floor(org, f.id) for f in floors)
    placed = _placed(org)
    unplaced = [p.id for p in org.people if p.id not in placed]
    if unplaced:
        lines.append("not placed: " + ", ".join(unplaced))
    return lines


def _floor(org: Org, floor_id: str) -> list[str]:
    floor = org.floor(floor_id)
    head = f"floor {floor.id}{_name(floor.name)}: manager {floor.manager or 'none'}"
    return [head, *_branch(_campaign(org, c) for c in org.campaigns_of_floor(floor_id))]


def _campaign(org: Org, campaign: Campaign) -> list[str]:
    client = org.organisation(campaign.organisation)
    head = (
        f"campaign {campaign.id}{_name(campaign.name)}: {campaign.direction.value} "
        f"{campaign.activity} for {client.id} ({client.kind.value}); "
        f"seats {_ranges(campaign.seats) or 'none'}; "
        f"project manager {campaign.project_manager or 'none'}"
    )
    if campaign.analysts:
        head += "; analysts " + ", ".join(campaign.analysts)
    top = [t for t in org.teams_of_campaign(campaign.id) if t.parent is None]
    return [head, *_branch(_team(org, t) for t in top)]


def _team(org: Org, team: Team) -> list[str]:
    leaders = [
        f"{label} {who}"
        for label, who in (
            ("supervisor", team.supervisor),
            ("team lead", team.team_lead),
            ("coach", team.coach),
        )
        if who is not None
    ]
    head = f"team {team.id}{_name(team.name)}: " + ("; ".join(leaders) or "no leaders")
    children = [t for t in org.teams if t.parent == team.id]
    return [
        head,
        *_branch(
            [[_agent(org.person(a))] for a in team.agents] + [_team(org, t) for t in children]
        ),
    ]


def _agent(agent: Person) -> str:
    line = f"agent {agent.id}{_name(agent.name)}"
    profile = agent.profile
    if profile is None:
        return line
    skills = ", ".join(f"{s.name} {s.proficiency}" for s in profile.skills)
    capacity = ", ".join(f"{channel} {limit}" for channel, limit in profile.capacity)
    languages = ", ".join(sorted(profile.languages))
    parts = [part for part in (skills, languages, capacity) if part]
    return f"{line} ({'; '.join(parts)})"


def _branch(blocks: Iterable[list[str]]) -> Iterator[str]:
    """Indent child blocks under a parent with ASCII connectors."""
    items = list(blocks)
    for i, block in enumerate(items):
        last = i == len(items) - 1
        yield ("`-- " if last else "|-- ") + block[0]
        for line in block[1:]:
            yield ("    " if last else "|   ") + line


def _placed(org: Org) -> set[str]:
    slots: list[str | None] = []
    for center in org.centers:
        slots += [center.director, *center.administrators]
    slots += [floor.manager for floor in org.floors]
    for campaign in org.campaigns:
        slots += [campaign.project_manager, *campaign.analysts]
    for team in org.teams:
        slots += [team.supervisor, team.team_lead, team.coach, *team.agents]
    return {s for s in slots if s is not None}


def _ranges(numbers: Iterable[int]) -> str:
    """Render ``{1, 2, 3, 7}`` as ``1-3, 7``."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(numbers):
        if run and n != run[-1] + 1:
            out.append(_run_text(run))
            run = []
        run.append(n)
    if run:
        out.append(_run_text(run))
    return ", ".join(out)


def _run_text(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def _name(name: str) -> str:
    return f' "{name}"' if name else ""


def _count(n: int, noun: str) -> str:
    plural = {"person": "people", "coach": "coaches"}.get(noun, f"{noun}s")
    return f"{n} {noun if n == 1 else plural}"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counter.items())) or "none"


COMMANDS["org"] = Command("org", "check an org TOML file or print its hierarchy", _configure, _run)
