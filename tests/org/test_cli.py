"""``callcenter org check`` and ``callcenter org tree`` on real files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from callcenter_sdk.cli import main
from callcenter_sdk.org import Role, load_org

if TYPE_CHECKING:
    import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "org" / "acme.toml"
FIXTURES = Path(__file__).parent / "fixtures"


def test_check_summarises_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The check action exits 0, and its counts are those of the loaded org."""
    assert main(["org", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    org = load_org(EXAMPLE)
    assigned = sum(len(c.seats) for c in org.campaigns)
    assert out.startswith(f"{EXAMPLE}: valid\n")
    assert f"100 seats: {assigned} assigned, {100 - assigned} free" in out
    assert f"{len(org.campaigns)} campaigns" in out
    assert f"{len(org.people_with_role(Role.AGENT))} agents" in out


def test_check_reports_a_broken_file(capsys: pytest.CaptureFixture[str]) -> None:
    """The check action exits 2 and prints the file, path and expectation on stderr."""
    broken = FIXTURES / "broken_dangling_floor.toml"
    assert main(["org", "check", str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}: at campaigns[1].floor: expected the id of a floor, got 'f9'" in err


def test_tree_shows_everyone_with_agents_under_their_team(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The tree action names every person of the example and nests agents in their team."""
    assert main(["org", "tree", str(EXAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    org = load_org(EXAMPLE)
    text = "\n".join(lines)
    for person in org.people:
        assert len(re.findall(rf"\b{re.escape(person.id)}\b", text)) >= 1, person.id
    for agent in org.people_with_role(Role.AGENT):
        team = org.team_of(agent.id)
        assert team is not None
        (agent_line,) = [i for i, line in enumerate(lines) if f"agent {agent.id} " in line]
        (team_line,) = [i for i, line in enumerate(lines) if f"team {team.id}:" in line]
        depth = len(lines[agent_line]) - len(lines[agent_line].lstrip("|` -"))
        team_depth = len(lines[team_line]) - len(lines[team_line].lstrip("|` -"))
        assert team_line < agent_line
        assert depth == team_depth + 4
    assert "not placed" not in text


def test_tree_lists_people_placed_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person in no slot is listed at the end rather than silently dropped."""
    text = (FIXTURES / "valid.toml").read_text(encoding="utf-8")
    org_file = tmp_path / "org.toml"
    org_file.write_text(text + '\n[[people]]\nid = "newbie"\nrole = "agent"\n', encoding="utf-8")
    assert main(["org", "tree", str(org_file)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "not placed: newbie"
