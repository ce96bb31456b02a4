"""The pages' read endpoints, person by person: ``/api/wallboard`` and ``/api/seats``
show what the org lets each see, nothing more, whatever they ask."""

from __future__ import annotations

from typing import Any

from .conftest import Rig

EVERYONE = {"ag.alice", "ag.farid", "ag.karim"}
TEAMS = {"ag.alice": "hotline-a", "ag.farid": "hotline-b", "ag.karim": "orders"}


async def _board(rig: Rig, person: str) -> dict[str, Any]:
    async with rig.client() as client:
        await rig.login(client, person)
        answer = await client.get("/api/wallboard")
        assert answer.status_code == 200, answer.text
        board: dict[str, Any] = answer.json()
        return board


async def test_the_wallboard_shows_each_person_their_scope(rig: Rig) -> None:
    """While alice talks to a caller: each person's wallboard lists the agents,
    queues and teams their role reaches (the floor manager of the other floor and
    the other client's project manager: none); the analyst sees states but not
    the contact; only those who may barge and handle the call may take it over."""
    contact = await rig.call("ag.alice", talk_for=None)
    expected = {  # person: (agents, queues, teams)
        "ag.alice": ({"ag.alice"}, set(), {"hotline-a"}),
        "tl.andre": ({"ag.farid"}, set(), {"hotline-b"}),
        "sup.lambert": (EVERYONE, {"hotline", "orders"}, set(TEAMS.values())),
        "fm.bernard": (EVERYONE, {"hotline", "orders"}, set(TEAMS.values())),
        "fm.garcia": (set(), set(), set()),
        "an.fournier": (EVERYONE, {"hotline", "orders"}, set(TEAMS.values())),
        "pm.mercier": (set(), set(), set()),
        "d.moreau": (EVERYONE, {"hotline", "orders"}, set(TEAMS.values())),
    }
    boards = {person: await _board(rig, person) for person in expected}
    for person, (agents, queues, teams) in expected.items():
        board = boards[person]
        assert {a["agent"] for a in board["agents"]} == agents, person
        assert {q["queue"] for q in board["queues"]} == queues, person
        assert {t["team"] for t in board["teams"]} == teams, person
        assert sum(t["agents"] for t in board["teams"]) == len(agents), person
        for row in board["agents"]:
            assert row["team"] == TEAMS[row["agent"]]
    alice = {
        p: next(a for a in b["agents"] if a["agent"] == "ag.alice")
        for p, b in boards.items()
        if any(a["agent"] == "ag.alice" for a in b["agents"])
    }
    assert alice["ag.alice"]["contact"] == alice["sup.lambert"]["contact"] == contact
    assert alice["an.fournier"]["contact"] == "…"  # figures, not contacts
    assert {p for p, row in alice.items() if row["take_over"]} == {
        "sup.lambert",
        "fm.bernard",
        "d.moreau",
    }
    assert alice["an.fournier"]["may"] == alice["ag.alice"]["may"] == []
    floor = {t["team"]: t for t in boards["fm.bernard"]["teams"]}
    assert floor["hotline-a"]["agents_by_state"] == {"busy": 1}
    assert floor["hotline-a"]["supervisor"] == "Claire Lambert"
    assert {t["floor"] for t in floor.values()} == {"lyon-1"}


async def test_seats_are_shown_to_those_who_manage_them_only(rig: Rig) -> None:
    """The administrator and the director see every campaign of their center
    with its seats and the grid of the center's 100 seats, the floor manager the
    campaigns of their floor; a client's project manager sees their own
    campaigns (to run them and set their queues) but no seat grid; a
    supervisor and an agent see none."""
    shown: dict[str, dict[str, Any]] = {}
    for person in ("adm.petit", "d.moreau", "sup.lambert", "fm.bernard", "ag.alice", "pm.mercier"):
        async with rig.client() as client:
            await rig.login(client, person)
            shown[person] = (await client.get("/api/seats")).json()
    campaigns = {
        "acme-hotline",
        "acme-orders",
        "globex-complaints",
        "globex-survey",
        "initech-collections",
    }
    for person in ("adm.petit", "d.moreau"):
        assert {c["id"] for c in shown[person]["campaigns"]} == campaigns, person
        (grid,) = shown[person]["centers"].values()
        assert len(grid) == 100
        assert {s["number"] for s in grid if s["campaign"] == "acme-hotline"} == set(range(1, 11))
        assert [s["number"] for s in grid if s["position"]] == [30, 31]
    floor = {c["id"] for c in shown["fm.bernard"]["campaigns"]}
    assert floor == {"acme-hotline", "acme-orders", "globex-complaints"}  # lyon-1's
    for person in ("sup.lambert", "ag.alice"):
        assert shown[person] == {"campaigns": [], "centers": {}}, person
    own = shown["pm.mercier"]
    assert {c["id"] for c in own["campaigns"]} == {"globex-complaints", "globex-survey"}
    assert own["centers"] == {}
    assert all(c["may_run"] and not c["may_seats"] for c in own["campaigns"])
