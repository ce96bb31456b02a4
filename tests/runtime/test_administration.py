"""Administering a running center: campaigns stopped and started, live queue settings, seats.

Every change is checked against the org, kept in the store before it applies
(a center reopened on that store starts with it) and published as an event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from callcenter_sdk import ManualClock, NotFoundError, PermissionDenied, StateError, ValidationError
from callcenter_sdk.acd import Agent, ContactConnected, ContactEnteredQueue, Membership, Queue
from callcenter_sdk.ivr import Flow, FlowBuilder, ToQueue
from callcenter_sdk.media import AudioFile, PartyScript, Prompt, VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    CampaignStarted,
    CampaignStopped,
    DialPlan,
    InboundNumber,
    IvrCompleted,
    Position,
    QueueConfigured,
    Seat,
    SeatsChanged,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Store, create_store

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")
CALLER = "sip:+33142685399@trunk"


def _flow(queue: str) -> Flow:
    return FlowBuilder(queue, start="queue").node("queue", ToQueue(queue=queue)).build()


def _seat(agent_id: str, queue: str) -> Seat:
    agent = Agent(id=agent_id, skills={queue: 3}, memberships=[Membership(queue)])
    return Seat(agent=agent, device=f"sip:{agent_id}@phones")


def _config() -> CallCenterConfig:
    return CallCenterConfig(
        flow=_flow("acme"),
        queues=[Queue(name="acme", wrap_up=5.0), Queue(name="globex", wrap_up=5.0)],
        seats=[_seat("ag.alice", "acme"), _seat("ag.rose", "globex")],
        announce=False,
        org=ACME,
        campaigns={"acme": "acme-hotline", "globex": "globex-complaints"},
        numbers=[InboundNumber(number="3900", campaign="globex-complaints", flow=_flow("globex"))],
        positions=[Position("lyon", n, f"sip:pos{n}@lyon") for n in (1, 30)],
        dial_plan=DialPlan(allowed=[r"\+339\d{8}"], gateway="sip:{number}@trunk"),
    )


class Heard(VirtualBackend):
    """The virtual backend, remembering which audio file each leg was played."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.played: list[tuple[str, str]] = []

    async def play(self, call_id: str, prompt: Prompt, *, loop: bool = False) -> None:
        """Play as the virtual backend does, and remember it."""
        if isinstance(prompt, AudioFile):
            self.played.append((call_id, prompt.path))
        await super().play(call_id, prompt, loop=loop)


@asynccontextmanager
async def _center(
    store: Store, clock: ManualClock
) -> AsyncIterator[tuple[CallCenter, Heard, list[object]]]:
    backend = Heard(clock)
    for agent in ("ag.alice", "ag.rose"):
        backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=1.0))
    backend.add_phone("sip:+33912345678@trunk", PartyScript(answer_after=1.0, talk_for=3.0))
    async with open_call_center(
        backend, _config(), store=store, clock=clock, run_timers=False
    ) as center:
        seen: list[object] = []
        center.subscribe(lambda _seq, event: seen.append(event))
        yield center, backend, seen


async def test_a_stopped_campaign_takes_no_new_call_and_a_restart_keeps_it_stopped(
    tmp_path: Path,
) -> None:
    """A project manager of another client may not stop Globex's campaign; its own
    floor manager may. Then a caller on Globex's number and a caller whose IVR
    chooses Globex's queue both leave without queueing (the number's caller
    through the closed flow), while ACME's callers are answered; Globex's agent
    may not click to dial. A center reopened on the store keeps the campaign
    stopped; started again, it answers."""
    clock = ManualClock(1_000.0)
    url = f"sqlite:///{tmp_path / 'center.sqlite'}"
    with create_store(url) as store:
        async with _center(store, clock) as (center, backend, seen):
            with pytest.raises(PermissionDenied):
                await center.stop_campaign("globex-complaints", actor="ag.rose")
            with pytest.raises(NotFoundError):
                await center.stop_campaign("no-such", actor="adm.petit")
            await center.stop_campaign("globex-complaints", actor="adm.petit")
            await center.stop_campaign("globex-complaints", actor="adm.petit")  # once is enough
            assert [e for e in seen if isinstance(e, CampaignStopped)] == [
                CampaignStopped(at=1_000.0, campaign="globex-complaints", actor="adm.petit")
            ]
            for agent in ("ag.alice", "ag.rose"):
                await center.set_ready(agent, actor=agent)
            by_number = backend.inject_call(CALLER, "sip:3900@center", PartyScript(talk_for=5.0))
            acme = backend.inject_call(CALLER, "sip:hotline@center", PartyScript(talk_for=5.0))
            await run_virtual(center, backend, 60.0)
            queued = {e.contact_id for e in seen if isinstance(e, ContactEnteredQueue)}
            assert by_number not in queued
            assert acme in queued
            ivr = {e.call_id: e for e in seen if isinstance(e, IvrCompleted)}
            assert ivr[by_number].trail == ("closed",)
            assert by_number not in backend.calls
            with pytest.raises(StateError, match="stopped"):
                await center.click_to_dial("+33912345678", actor="ag.rose")

        async with _center(store, clock) as (center, backend, seen):
            assert center.admin.stopped == frozenset({"globex-complaints"})
            await center.set_ready("ag.rose", actor="ag.rose")
            refused = backend.inject_call(CALLER, "sip:3900@center", PartyScript(talk_for=5.0))
            await run_virtual(center, backend, 30.0)
            assert not [e for e in seen if isinstance(e, ContactEnteredQueue)]
            await center.start_campaign("globex-complaints", actor="adm.petit")
            assert isinstance(seen[-1], CampaignStarted)
            answered = backend.inject_call(CALLER, "sip:3900@center", PartyScript(talk_for=5.0))
            await run_virtual(center, backend, 30.0)
            connected = {e.contact_id: e.agent_id for e in seen if isinstance(e, ContactConnected)}
            assert connected == {answered: "ag.rose"}
            assert refused not in connected


async def test_a_queue_chosen_in_the_ivr_of_a_stopped_campaign_is_closed(tmp_path: Path) -> None:
    """A caller dialling the center's main number, whose flow sends them to
    Globex's queue, hears the closed prompt after the IVR instead of queueing."""
    clock = ManualClock(1_000.0)
    with create_store(f"sqlite:///{tmp_path / 'center.sqlite'}") as store:
        async with _center(store, clock) as (center, backend, seen):
            await center.stop_campaign("acme-hotline", actor="adm.petit")
            await center.set_ready("ag.alice", actor="ag.alice")
            call = backend.inject_call(CALLER, "sip:hotline@center", PartyScript(talk_for=5.0))
            await run_virtual(center, backend, 60.0)
            assert not [e for e in seen if isinstance(e, ContactEnteredQueue)]
            assert call not in backend.calls
            played = [p for c, p in backend.played if c == call]
            assert played
            assert played[-1].endswith("closed.wav")


async def test_queue_settings_change_live_are_checked_and_kept(tmp_path: Path) -> None:
    """ACME's project manager may not change Globex's queue; the administrator
    sets its offer timeout to 8 s and wrap-up to 12 s: the engine runs with them
    at once, an event names them, a setting that cannot change live or a bad
    value is refused with nothing changed; a reopened center runs with them."""
    clock = ManualClock(1_000.0)
    with create_store(f"sqlite:///{tmp_path / 'center.sqlite'}") as store:
        async with _center(store, clock) as (center, _backend, seen):
            with pytest.raises(PermissionDenied):
                await center.configure_queue("globex", {"wrap_up": 1.0}, actor="pm.lefebvre")
            queue = await center.configure_queue(
                "globex", {"offer_timeout": 8.0, "wrap_up": 12.0}, actor="adm.petit"
            )
            assert (queue.offer_timeout, queue.wrap_up) == (8.0, 12.0)
            assert center.engine.queue_config("globex") == queue
            event = seen[-1]
            assert isinstance(event, QueueConfigured)
            assert event.settings == (("offer_timeout", 8.0), ("wrap_up", 12.0))
            with pytest.raises(ValidationError, match="cannot change while it runs"):
                await center.configure_queue("globex", {"strategy": 1.0}, actor="adm.petit")
            with pytest.raises(ValidationError):
                await center.configure_queue("globex", {"offer_timeout": -3.0}, actor="adm.petit")
            with pytest.raises(NotFoundError):
                await center.configure_queue("nope", {"wrap_up": 1.0}, actor="adm.petit")
            assert center.engine.queue_config("globex").offer_timeout == 8.0
        async with _center(store, clock) as (center, _backend, _seen):
            running = center.engine.queue_config("globex")
            assert (running.offer_timeout, running.wrap_up) == (8.0, 12.0)
            assert center.engine.queue_config("acme").offer_timeout == 15.0


async def test_seat_allocations_survive_a_restart(tmp_path: Path) -> None:
    """Seat 30 allocated to ACME's hotline by the administrator (an event says
    which seats the campaign has now) is still ACME's after a restart: Alice
    logs in there; released, nobody of ACME may sit there after another one."""
    clock = ManualClock(1_000.0)
    with create_store(f"sqlite:///{tmp_path / 'center.sqlite'}") as store:
        async with _center(store, clock) as (center, _backend, seen):
            await center.allocate_seats("acme-hotline", [30], actor="adm.petit")
            changed = [e for e in seen if isinstance(e, SeatsChanged)]
            assert changed
            assert 30 in changed[-1].seats
        async with _center(store, clock) as (center, _backend, _seen):
            await center.login("ag.alice", position="lyon:30", actor="ag.alice")
            await center.logout("ag.alice", actor="ag.alice")
            await center.release_seats("acme-hotline", [30], actor="adm.petit")
        async with _center(store, clock) as (center, _backend, _seen):
            with pytest.raises(ValidationError, match="not allocated"):
                await center.login("ag.alice", position="lyon:30", actor="ag.alice")
