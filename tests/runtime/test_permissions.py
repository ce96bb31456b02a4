"""Every person's operation on the running call center names the person and is checked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter_sdk import CallCenterError, ConflictError, ManualClock, PermissionDenied
from callcenter_sdk.acd import Agent, Membership, Queue
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import group_records
from callcenter_sdk.media import MonitorMode, PartyScript, VirtualBackend
from callcenter_sdk.org import Action, Org, can, load_org
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    ContactDisposed,
    PermissionRefused,
    Seat,
    call_center_records,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Store, temporary_store
from callcenter_sdk.testing import org_trees

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")

Operation = Callable[[CallCenter, str, str], Awaitable[None]]
"""An operation as a person performs it: ``(center, actor, owner's contact or agent id)``."""


def _agent_op(name: str) -> Operation:
    async def run(center: CallCenter, actor: str, agent: str) -> None:
        if name == "set_ready":
            await center.set_ready(agent, actor=actor)
            return
        if name == "set_not_ready":
            await center.set_not_ready(agent, "break", actor=actor)
            return
        if name == "reject":
            await center.reject(agent, actor=actor)
            return
        await center.end_wrap_up(agent, actor=actor)

    return run


def _contact_op(name: str) -> Operation:
    async def run(center: CallCenter, actor: str, contact: str) -> None:
        calls: dict[str, Callable[[], Awaitable[None]]] = {
            "dispose": lambda: center.dispose(contact, "solved", actor=actor),
            "transfer": lambda: center.transfer(contact, "support", actor=actor),
            "blind_transfer": lambda: center.blind_transfer(contact, "+33142685300", actor=actor),
            "attended_transfer": lambda: center.attended_transfer(
                contact, actor=actor, number="+33142685300"
            ),
            "complete_transfer": lambda: center.complete_transfer(contact, actor=actor),
            "cancel_transfer": lambda: center.cancel_transfer(contact, actor=actor),
            "escalate": lambda: center.escalate(contact, "line down", actor=actor),
            "note": lambda: center.note(contact, f"seen by {actor}", actor=actor, internal=True),
        }
        await calls[name]()

    return run


def _monitor_op(mode: MonitorMode) -> Operation:
    async def run(center: CallCenter, actor: str, agent: str) -> None:
        await center.monitor(agent, mode, actor=actor, device=f"sip:{actor}@phones")

    return run


AGENT_OPS: dict[str, tuple[Operation, tuple[Action, ...]]] = {
    name: (_agent_op(name), (Action.CHANGE_AGENT_STATE,))
    for name in ("set_ready", "set_not_ready", "end_wrap_up", "reject")
}
CONTACT_OPS: dict[str, tuple[Operation, tuple[Action, ...]]] = {
    name: (_contact_op(name), (Action.HANDLE_CONTACTS, Action.VIEW_CONTACTS))
    for name in (
        "dispose",
        "transfer",
        "blind_transfer",
        "attended_transfer",
        "complete_transfer",
        "cancel_transfer",
        "escalate",
        "note",
    )
}
MONITOR_OPS: dict[str, tuple[Operation, tuple[Action, ...]]] = {
    f"monitor-{mode.value}": (_monitor_op(mode), (Action[mode.name],)) for mode in MonitorMode
}
"""What each operation needs, written out here independently of the runtime's code."""


def _seat(agent_id: str) -> Seat:
    agent = Agent(id=agent_id, skills={"support": 3}, memberships=[Membership("support")])
    return Seat(agent=agent, device=f"sip:{agent_id}@phones")


@asynccontextmanager
async def _center(
    store: Store, org: Org | None, agents: list[str]
) -> AsyncIterator[tuple[CallCenter, VirtualBackend, dict[str, str]]]:
    """A center whose ``agents`` each handled one finished call: ``contacts[agent]``."""
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    config = CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=10.0, wrap_up=600.0)],
        seats=[_seat(a) for a in agents],
        announce=False,
        org=org,
    )
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    async with open_call_center(
        backend, config, store=store, clock=clock, run_timers=False
    ) as center:
        contacts: dict[str, str] = {}
        for agent in agents:
            backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=1.0))
            await center.set_ready(agent, actor=agent)
            call = backend.inject_call(
                "sip:+33142685399@trunk", "sip:support@center", PartyScript(talk_for=5.0)
            )
            await run_virtual(center, backend, 10.0)
            assert center.access.handler(call) == agent  # the matrix relies on it
            contacts[agent] = call
        yield center, backend, contacts


async def _outcome(operation: Operation, center: CallCenter, actor: str, target: str) -> bool:
    """Whether the runtime let ``actor`` through (a later state error still means yes)."""
    try:
        await operation(center, actor, target)
    except PermissionDenied:
        return False
    except CallCenterError:  # allowed, then refused by the state of the call or agent
        return True
    return True


async def test_without_an_org_an_agent_acts_only_on_their_own_work() -> None:
    """No org: Bob may not dispose of Alice's contact nor make her ready, and each
    refusal is a runtime.permission_refused event; Alice may do both, and the
    disposition names her."""
    with temporary_store() as store:
        async with _center(store, None, ["alice", "bob"]) as (center, _backend, contacts):
            seen: list[object] = []
            center.subscribe(lambda _seq, event: seen.append(event))
            with pytest.raises(PermissionDenied, match="bob may not dispose"):
                await center.dispose(contacts["alice"], "solved", actor="bob")
            with pytest.raises(PermissionDenied, match="bob may not set_ready"):
                await center.set_ready("alice", actor="bob")
            with pytest.raises(PermissionDenied, match="no actor"):
                await center.dispose(contacts["alice"], "solved", actor="")
            refused = [e for e in seen if isinstance(e, PermissionRefused)]
            assert [(e.actor, e.operation) for e in refused] == [
                ("bob", "dispose"),
                ("bob", "set_ready"),
                ("", "dispose"),
            ]
            assert not [e for e in seen if isinstance(e, ContactDisposed)]
            await center.dispose(contacts["alice"], "solved", actor="alice")
            (disposed,) = [e for e in seen if isinstance(e, ContactDisposed)]
            assert disposed.agent_id == "alice"


ACME_OWNERS = ["ag.alice", "ag.farid", "ag.karim", "ag.rose", "ag.adrien"]
"""Agents in a team, a sub-team, another campaign, another organisation, another floor."""


async def test_the_acme_matrix_every_role_every_operation_every_relation() -> None:
    """Over the whole acme org — every person (each role: director, floor managers,
    project managers, supervisors, team leads, coaches, agents, analysts,
    administrators) × every runtime operation × agents at every relation (self, team,
    sub-team, campaign, floor, another floor) — the runtime lets exactly those through
    whom the permission table allows for every action the operation needs."""
    with temporary_store() as store:
        async with _center(store, ACME, ACME_OWNERS) as (center, _backend, contacts):
            checked = 0
            allowed: set[tuple[str, str]] = set()  # (role, operation) let through somewhere
            for person in ACME.people:
                for owner in ACME_OWNERS:
                    for name, (operation, actions) in {**AGENT_OPS, **MONITOR_OPS}.items():
                        expected = all(can(ACME, person.id, a, ACME.person(owner)) for a in actions)
                        got = await _outcome(operation, center, person.id, owner)
                        assert got == expected, (person.id, person.role, name, owner)
                        checked += 1
                        if got:
                            allowed.add((person.role.value, name))
                    for name, (operation, actions) in CONTACT_OPS.items():
                        expected = all(can(ACME, person.id, a, ACME.person(owner)) for a in actions)
                        got = await _outcome(operation, center, person.id, contacts[owner])
                        assert got == expected, (person.id, person.role, name, owner)
                        checked += 1
                        if got:
                            allowed.add((person.role.value, name))
            assert checked == len(ACME.people) * len(ACME_OWNERS) * 15
            # both outcomes happen: agents dispose their own, coaches whisper, nobody barges
            # from outside; analysts and administrators act on no call
            assert {
                ("agent", "dispose"),
                ("coach", "monitor-whisper"),
                ("supervisor", "monitor-barge"),
            } <= allowed
            assert not {op for role, op in allowed if role in ("analyst", "administrator")}
            assert ("coach", "monitor-barge") not in allowed


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=org_trees(max_centers=1, max_floors=2, max_campaigns=2, max_teams=2, max_agents=2),
       data=st.data())  # fmt: skip
async def test_any_org_the_runtime_decides_as_the_permission_table(
    org: Org, data: st.DataObject
) -> None:
    """On generated orgs, any person trying any operation on any agent (or that agent's
    contact) is let through exactly when the permission table allows every action the
    operation needs; unknown people are always refused."""
    agents = sorted({a for team in org.teams for a in team.agents})
    if not agents:
        return
    owners = data.draw(st.lists(st.sampled_from(agents), min_size=1, max_size=2, unique=True))
    operations = {**AGENT_OPS, **MONITOR_OPS, **CONTACT_OPS}
    with temporary_store() as store:
        async with _center(store, org, owners) as (center, _backend, contacts):
            for _ in range(20):
                actor = data.draw(st.sampled_from([p.id for p in org.people] + ["stranger"]))
                owner = data.draw(st.sampled_from(owners))
                name = data.draw(st.sampled_from(sorted(operations)))
                operation, actions = operations[name]
                expected = actor != "stranger" and all(
                    can(org, actor, a, org.person(owner)) for a in actions
                )
                target = contacts[owner] if name in CONTACT_OPS else owner
                assert await _outcome(operation, center, actor, target) == expected, (
                    actor,
                    name,
                    owner,
                )


def test_the_operation_table_covers_every_action_the_runtime_checks() -> None:
    """Every action a person performs at run time appears in the tables above."""
    needed = {a for _op, actions in {**AGENT_OPS, **CONTACT_OPS, **MONITOR_OPS}.values()
              for a in actions}  # fmt: skip
    assert needed == {
        Action.CHANGE_AGENT_STATE,
        Action.HANDLE_CONTACTS,
        Action.VIEW_CONTACTS,
        Action.LISTEN,
        Action.WHISPER,
        Action.BARGE,
    }
    assert attrs.has(PermissionRefused)


async def test_a_stale_note_is_a_conflict_not_a_silent_overwrite() -> None:
    """Two people edit one ticket from the same screen (version): the first note is
    written, the second, made from the stale version, raises ConflictError and
    writes nothing; made from the fresh version, it is written."""
    with temporary_store() as store:
        async with _center(store, None, ["alice"]) as (center, _backend, contacts):
            contact = contacts["alice"]
            ticket_id = center.ticket_id(contact)
            seen = center.tickets.get(ticket_id).version
            await center.note(contact, "first", actor="alice", expected_version=seen)
            with pytest.raises(ConflictError):
                await center.note(contact, "second", actor="alice", expected_version=seen)
            fresh = center.tickets.get(ticket_id)
            assert [n.text for n in fresh.notes] == ["first"]
            await center.note(contact, "second", actor="alice", expected_version=fresh.version)
            assert [n.text for n in center.tickets.get(ticket_id).notes] == ["first", "second"]


async def test_an_escalated_disposition_escalates_the_ticket() -> None:
    """Alice disposes her call as "escalated": its ticket moves to level 2 (the
    technical service) instead of staying at level 1 with a label that escalates
    nothing; a "solved" disposition of another call resolves its ticket."""
    with temporary_store() as store:
        async with _center(store, None, ["alice", "bob"]) as (center, _backend, contacts):
            escalated = center.ticket_id(contacts["alice"])
            solved = center.ticket_id(contacts["bob"])
            await center.dispose(contacts["alice"], "escalated", actor="alice")
            await center.dispose(contacts["bob"], "solved", actor="bob")
            assert center.tickets.get(escalated).level == 2
            assert center.tickets.get(solved).status.value == "resolved"


async def test_records_from_the_log_say_which_client_campaign_team_and_disposition() -> None:
    """Calls of the ACME hotline's queue handled by agents of two teams and disposed:
    the records folded from the center's event log carry the client organisation, the
    campaign, each handler's team and the disposition, so grouping by organisation
    and team needs no join of the user's own."""
    with temporary_store() as store:
        async with _center(store, ACME, ["ag.alice", "ag.farid"]) as (center, _b, contacts):
            await center.dispose(contacts["ag.alice"], "solved", actor="ag.alice")
            await center.dispose(contacts["ag.farid"], "escalated", actor="ag.farid")
            await center.writer.flush()
            events = [logged.event for logged in center.log.read()]
    records, _intervals = call_center_records(
        events, org=ACME, campaigns={"support": "acme-hotline"}
    )
    seen = {(r.agent, r.organisation, r.campaign, r.team, r.disposition) for r in records}
    assert seen == {
        ("ag.alice", "acme", "acme-hotline", "hotline-a", "solved"),
        ("ag.farid", "acme", "acme-hotline", "hotline-b", "escalated"),
    }
    groups = group_records(records, by=("organisation", "team"))
    assert sorted(groups) == [("acme", "hotline-a"), ("acme", "hotline-b")]
