"""``runtime.MediaAgent``: a node's own media driven by the leader's rows, on SQLite and PostgreSQL.

The node's backend is the virtual one (its calls in memory, its time moved by
the test); the leader is this test, writing commands through a fenced store
as :class:`~callcenter_sdk.runtime.ClusterMedia` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from callcenter_sdk import MediaError, NotFoundError, ValidationError
from callcenter_sdk.media import MediaEvent, PartyScript, Tone, VirtualBackend
from callcenter_sdk.runtime._media_node import MediaAgent, encode_args, raise_error
from callcenter_sdk.store import Leases, MediaRows, Store
from callcenter_sdk.store._media import STALE

DOMAIN = "hotline"
AGENT_PHONE = "sip:alice@phones"


async def until(predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate()`` holds (rows offer no event here), failing after 30 s."""
    with anyio.fail_after(30):
        while not predicate():  # noqa: ASYNC110 - the rows are polled, as a leader would
            await anyio.sleep(0.02)


class Leader:
    """The test as the leader: writes commands for node ``b`` and waits for their outcome."""

    def __init__(self, store: Store, rows: MediaRows) -> None:
        self.leases = Leases(store)
        lease = self.leases.acquire(DOMAIN, "leader", ttl=60.0)
        assert lease is not None
        self.lease = lease
        self.fenced = self.leases.fenced(DOMAIN, lambda: lease)
        self.rows = rows

    async def run(self, op: str, **args: Any) -> Any:
        command = self.rows.issue(
            self.fenced, node="b", op=op, args=encode_args(args), epoch=self.lease.epoch, at=0.0
        )
        await until(lambda: self.rows.outcome(command) is not None)
        outcome = self.rows.outcome(command)
        assert outcome is not None
        if outcome.error is not None:
            raise_error(outcome.error)
        return outcome.result


@asynccontextmanager
async def running(store: Store) -> AsyncIterator[tuple[VirtualBackend, MediaRows, MediaAgent]]:
    """Node b: a virtual backend (an agent's phone that answers after 1 s) and its agent."""
    backend = VirtualBackend()
    backend.add_phone(AGENT_PHONE, PartyScript(answer_after=1.0))
    rows = MediaRows(store, DOMAIN)
    agent = MediaAgent(backend, rows, "b", poll=0.05)
    async with anyio.create_task_group() as tg:
        await tg.start(agent.run)
        yield backend, rows, agent
        tg.cancel_scope.cancel()


def _states(rows: MediaRows) -> Mapping[str, tuple[str, str | None]]:
    return {c.call_id: (c.state, c.bridged_with) for c in rows.calls("b")}


async def test_a_call_on_a_node_is_answered_held_and_bridged_by_the_leaders_commands(
    store: Store,
) -> None:
    """A caller reaching node b is a stored event and a ringing live call; the leader's
    commands answer it, play hold music, dial the agent's phone beside it, bridge the two
    (both live calls say bridged, each with the other) and collect digits; when the agent's
    leg is hung up its row goes and the caller's says answered, unbridged; every event the
    virtual backend emitted is stored in order, with its call id."""
    async with running(store) as (backend, rows, agent):
        seen: list[MediaEvent] = []
        agent.on_event = seen.append
        leader = Leader(store, rows)
        caller = backend.inject_call("sip:carla@customer", "sip:hotline@center")
        await backend.advance(0.0)
        await until(lambda: _states(rows) == {caller: ("ringing", None)})
        await leader.run("answer", call_id=caller)
        await leader.run("start_music_on_hold", call_id=caller, prompt=Tone((440,)))
        assert backend.hearing(caller) == {"hold:tone:440"}
        agent_leg = await leader.run("originate", uri=AGENT_PHONE, near=caller, caller_id="100")
        await backend.advance(1.0)
        await until(lambda: _states(rows).get(agent_leg) == ("answered", None))
        assert _states(rows)[caller] == ("on_hold_music", None)
        await leader.run("stop_music_on_hold", call_id=caller)
        await leader.run("bridge", call_a=caller, call_b=agent_leg)
        assert _states(rows) == {caller: ("bridged", agent_leg), agent_leg: ("bridged", caller)}
        assert backend.hearing(caller) == {f"leg:{agent_leg}"}
        await leader.run("hangup", call_id=agent_leg)
        await until(lambda: _states(rows) == {caller: ("answered", None)})
        await until(lambda: any(type(e).kind == "media.call_ended" for e in seen))
        stored = [(e.call_id, e.kind) for e in rows.events()]
        assert stored == [(e.call_id, e.kind) for e in seen]  # type: ignore[attr-defined]
        assert [kind for call, kind in stored if kind != "media.call_media_active"] == [
            "media.call_incoming",
            "media.call_answered",
            "media.call_ringing",
            "media.call_answered",
            "media.call_ended",
        ]
        assert rows.events()[0].payload["from_uri"] == "sip:carla@customer"


async def test_a_commands_failure_is_raised_again_as_its_error(store: Store) -> None:
    """A command for a leg the node does not have fails with ``NotFoundError``, one that the
    backend refuses with ``MediaError``, an unknown operation with ``ValidationError``; digits
    collected (a command that lasts) come back as the string the backend returned."""
    async with running(store) as (backend, rows, agent):
        leader = Leader(store, rows)
        with pytest.raises(NotFoundError):
            await leader.run("answer", call_id="virtual:404")
        caller = backend.inject_call(
            "sip:carla@customer", script=PartyScript(press=((0.5, "42#"),))
        )
        await backend.advance(0.0)
        await until(lambda: caller in agent.calls)
        await leader.run("answer", call_id=caller)
        with pytest.raises(MediaError):
            await leader.run("answer", call_id=caller)
        with pytest.raises(ValidationError):
            await leader.run("aclose")
        async with anyio.create_task_group() as tg:
            digits: list[str] = []

            async def collect() -> None:
                digits.append(await leader.run("collect_dtmf", call_id=caller, max_digits=4))

            tg.start_soon(collect)
            await until(lambda: agent.in_progress == 1)
            await backend.advance(1.0)
        assert digits == ["42"]


async def test_a_deposed_leaders_command_never_rings_a_phone(store: Store) -> None:
    """A dial written by a leader whose lease another node took before node b claimed it is
    never carried out (the virtual backend has no leg, no event is stored) and is answered
    stale; the new leader's dial then rings the phone."""
    rows = MediaRows(store, DOMAIN)
    old = Leader(store, rows)
    stale = rows.issue(
        old.fenced,
        node="b",
        op="originate",
        args={"uri": AGENT_PHONE},
        epoch=old.lease.epoch,
        at=0.0,
    )
    old.leases.release(old.lease)
    new = Leader(store, rows)
    assert new.lease.epoch == old.lease.epoch + 1
    async with running(store) as (backend, _, agent):
        await until(lambda: rows.outcome(stale) is not None)
        outcome = rows.outcome(stale)
        assert outcome is not None
        assert outcome.error == STALE
        assert not backend.calls
        assert agent.carried_out == 0
        leg = await new.run("originate", uri=AGENT_PHONE)
        assert backend.calls == (leg,)
