"""Remembered judgements answer as ``may_see`` does, and forget a replaced org at once."""

from __future__ import annotations

from pathlib import Path

import attrs

from callcenter_sdk.org import Action, Placement, load_org
from callcenter_sdk.web import Grant, Judgements, Visibility, may_see

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")


def _state_of(agent: str) -> Visibility:
    return Visibility((Grant(Placement(person=agent), (Action.VIEW_KPIS,)),), center="lyon")


def test_judgements_follow_the_org_of_the_moment() -> None:
    """André (lead of hotline-b) sees Farid's state and not Alice's, as ``may_see``
    says; once Farid moves to hotline-a in a new org, the same questions asked of
    the new org get the new answers, and asking the old org again the old ones."""
    judge = Judgements()
    people = ("tl.andre", "tl.dubois", "sup.lambert", "ag.alice", "pm.mercier")
    for person in people:
        for agent in ("ag.farid", "ag.alice"):
            for _ in range(2):  # the second answer comes from memory
                assert judge.may_see(ACME, person, _state_of(agent)) == may_see(
                    ACME, person, _state_of(agent)
                )
    assert judge.may_see(ACME, "tl.andre", _state_of("ag.farid"))
    teams = {t.id: t for t in ACME.teams}
    a, b = teams["hotline-a"], teams["hotline-b"]
    moved = attrs.evolve(
        ACME,
        teams=[
            *(t for t in ACME.teams if t.id not in ("hotline-a", "hotline-b")),
            attrs.evolve(a, agents=(*a.agents, "ag.farid")),
            attrs.evolve(b, agents=tuple(x for x in b.agents if x != "ag.farid")),
        ],
    )
    assert not may_see(moved, "tl.andre", _state_of("ag.farid"))
    assert not judge.may_see(moved, "tl.andre", _state_of("ag.farid"))
    assert judge.may_see(ACME, "tl.andre", _state_of("ag.farid"))


def test_a_full_memory_starts_again() -> None:
    """With room for two answers, a third question still gets the right answer."""
    judge = Judgements(limit=2)
    agents = ("ag.alice", "ag.farid", "ag.karim")
    answers = [judge.may_see(ACME, "tl.andre", _state_of(agent)) for agent in agents]
    assert answers == [False, True, False]
