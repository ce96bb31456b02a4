"""The inbound simulator: the real ACD engine, driven in virtual time.

The simulated people schedule their happenings (arrivals, answers, hang-ups,
shifts and breaks) on the shared :class:`~callcenter_sdk.sim._loop.VirtualLoop`,
which also ticks the engine at its deadlines, and feed the engine exactly the
inputs a live runtime would. The actions the engine returns are carried out
by scheduling what the simulated people do next. Contact records then come
from the engine's own events.

.. versionadded:: 0.1
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Callable, Iterator

import attrs

from .._clock import ManualClock
from .._events import EventStream
from ..acd import (
    Action,
    Agent,
    AgentState,
    Announce,
    Connect,
    Contact,
    Divert,
    Engine,
    Offer,
    Release,
    Rescind,
    StrategyFactory,
)
from ..acd._records import engine_records
from ..acd._unchecked import unchecked
from ..kpi import AgentInterval, ContactRecord, KpiReport, kpi_report
from ._distributions import Distribution, Fixed
from ._loop import CoreFunctions, VirtualLoop
from ._scenario import AgentGroup, QueueLoad, Scenario

__all__ = ["SimResult", "simulate"]

_RETRY_LOGOUT_S = 30.0
_END_OF_SHIFT = "end-of-shift"
_AT_ONCE = Fixed(0.0)
# A contact per arrival, from a template the real constructor checked (its empty,
# read-only attributes shared).
_new_contact = unchecked(Contact)
_new_agent = unchecked(Agent)


@attrs.frozen(kw_only=True)
class SimResult:
    """What one replication produced.

    Attributes:
        scenario: The scenario that was run.
        seed: The seed that reproduces it.
        records: One record per contact, folded from the engine's events.
        intervals: Every agent's state intervals.
        end_time: The virtual time the run stopped at.
        events: How many events the engine published.
    """

    scenario: Scenario
    seed: int
    records: list[ContactRecord]
    intervals: list[AgentInterval]
    end_time: float
    events: int

    def report(self, threshold_s: float | None = None, *, warmup: float = 0.0) -> KpiReport:
        """The KPI report over the arrival window.

        Args:
            threshold_s: The service-level threshold (default: the first queue's).
            warmup: Leave out contacts arriving, and agent time spent, before
                this many seconds: a run starts empty, which flatters the first
                minutes compared with the steady state Erlang formulas describe.
        """
        if threshold_s is None:
            threshold_s = self.scenario.loads[0].queue.service_level_threshold
        return kpi_report(
            [r for r in self.records if r.arrived_at >= warmup],
            self.intervals,
            threshold_s=threshold_s,
            short_abandon_s=self.scenario.short_abandon_s,
            start=warmup,
            end=self.scenario.duration,
            now=self.end_time,
        )


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        strategies: dict[str, StrategyFactory] | None,
        progress: Callable[[float], None] | None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = ManualClock(0.0)
        self.events = EventStream(keep=True)
        self.engine = Engine(
            clock=self.clock, events=self.events, strategies=strategies, policy=scenario.policy
        )
        self.loop = VirtualLoop(self.clock)
        # The engine is the loop's core, its deadline read straight from it (the hot path).
        self.loop.drive(CoreFunctions(self.engine.next_deadline, self.tick))
        self.group_of: dict[str, AgentGroup] = {}
        # Each agent's answer delay; None for none at all (nothing to draw).
        self.answer_of: dict[str, Distribution | None] = {}
        self.load_of: dict[str, QueueLoad] = {}
        self.pending_offers: set[str] = set()
        self.live: set[str] = set()
        self.connected: set[str] = set()
        self.arrivals: list[Iterator[float]] = []
        self.templates: list[Contact] = []
        # The latest patience of a customer connected on arrival (never scheduled).
        self.idle_until = 0.0
        self.progress = progress

    def tick(self) -> None:
        self.carry_out(self.engine.tick())

    def setup(self) -> None:
        engine, rng = self.engine, self.rng
        for load in self.scenario.loads:
            engine.add_queue(load.queue)
        call_at = self.loop.call_at
        for group in self.scenario.agents:
            # The group's agent, checked once; each member is it under their own id.
            like = Agent(
                id=f"{group.prefix}0",
                skills=group.skills,
                memberships=group.memberships,
                capacity=group.capacity,
            )
            delay = group.answer_delay
            answer = None if delay == _AT_ONCE else delay
            start, end = group.shift
            for n in range(1, group.count + 1):
                if group.absence and rng.random() < group.absence:
                    continue
                agent_id = f"{group.prefix}{n}"
                engine.add_agent(
                    _new_agent(
                        id=agent_id,
                        skills=like.skills,
                        memberships=like.memberships,
                        capacity=like.capacity,
                        wrap_up=like.wrap_up,
                    )
                )
                self.group_of[agent_id] = group
                self.answer_of[agent_id] = answer
                call_at(start, self.login, agent_id)
                if math.isfinite(end):
                    call_at(end, self.logout, agent_id)
                for pause in group.breaks:
                    call_at(pause.start, self.pause, (agent_id, pause.reason))
                    call_at(pause.start + pause.duration, self.resume, agent_id)
        for index, load in enumerate(self.scenario.loads):
            self.templates.append(
                Contact(
                    id=f"{load.queue.name}-0",
                    channel=load.channel,
                    priority=load.priority,
                    requirements=load.requirements,
                )
            )
            self.arrivals.append(load.arrivals.times(rng, 0.0, self.scenario.duration))
            self._next_arrival(index)

    def _next_arrival(self, index: int) -> None:
        when = next(self.arrivals[index], None)
        if when is not None:
            self.loop.call_at(when, self.arrive, index)

    def carry_out(self, actions: list[Action]) -> None:
        if not actions:  # a stale timer, an answer nobody awaited...
            return
        now, rng = self.clock.now(), self.rng
        at_once: list[tuple[int, str]] | None = None
        for action in actions:
            # Exact types, most frequent first: the engine makes these final
            # classes itself, and an identity test is cheaper than isinstance.
            if type(action) is Offer:
                offer_id = action.offer_id
                self.pending_offers.add(offer_id)
                answer = self.answer_of[action.agent_id]
                delay = 0.0 if answer is None else answer.sample(rng)
                if delay:
                    self.loop.call_at(now + delay, self.accept, offer_id)
                elif at_once is None:  # its number in the loop's order is taken where
                    at_once = [(self.loop.number(), offer_id)]  # call_at took it
                else:
                    at_once.append((self.loop.number(), offer_id))
            elif type(action) is Connect:
                contact_id = action.contact_id
                self.connected.add(contact_id)
                talk = self.load_of[contact_id].handle_time.sample(rng)
                self.loop.call_at(now + talk, self.hangup, contact_id)
            elif type(action) is Announce:
                continue
            elif type(action) is Rescind:
                self.pending_offers.discard(action.offer_id)
            elif type(action) is Release or type(action) is Divert:
                self.live.discard(action.contact_id)
        if at_once is not None:
            self._accept_now(now, at_once)

    def _accept_now(self, now: float, offers: list[tuple[int, str]]) -> None:
        """Answer offers made with no answer delay at ``now``, as the loop would.

        One such offer with nothing else due by ``now`` is answered at once:
        the loop would run it next anyway, so the trip through its heap is
        saved. Otherwise each goes into the heap with the number it took, so
        happenings at one instant keep their order.
        """
        loop = self.loop
        if len(offers) == 1 and loop.nothing_due_by(now):
            self.accept(offers[0][1])
            return
        for number, offer_id in offers:
            loop.call_numbered(now, number, self.accept, offer_id)

    def arrive(self, index: int) -> None:
        load = self.scenario.loads[index]
        self._next_arrival(index)
        # The load's contact, checked once in setup(), under this arrival's id.
        like = self.templates[index]
        contact = _new_contact(
            id=f"{load.queue.name}-{self.loop.number()}",
            channel=like.channel,
            priority=like.priority,
            requirements=like.requirements,
            attributes=like.attributes,
        )
        cid = contact.id
        self.live.add(cid)
        self.load_of[cid] = load
        if load.patience is None:
            self.carry_out(self.engine.arrive(contact, load.queue.name))
            return
        now = self.clock.now()
        when = now + load.patience.sample(self.rng)
        # The customer's patience takes its place in the loop's order now, but
        # goes into the heap only if they are not connected at once: a
        # connected customer never abandons, so most of these would run for
        # nothing (a due one is scheduled at once, as it may come first). The
        # latest time left out is kept: the loop would have run until then.
        number = self.loop.number()
        if when <= now:
            self.loop.call_numbered(when, number, self.abandon, cid)
            number = 0
        self.carry_out(self.engine.arrive(contact, load.queue.name))
        if not number:
            return
        if cid not in self.connected:
            self.loop.call_numbered(when, number, self.abandon, cid)
        elif when > self.idle_until:
            self.idle_until = when

    def accept(self, offer_id: str) -> None:
        if offer_id in self.pending_offers:
            self.pending_offers.discard(offer_id)
            self.carry_out(self.engine.accept(offer_id))

    def hangup(self, contact_id: str) -> None:
        self.live.discard(contact_id)
        self.connected.discard(contact_id)
        self.load_of.pop(contact_id, None)
        self.carry_out(self.engine.hangup(contact_id))

    def abandon(self, contact_id: str) -> None:
        if contact_id in self.live and contact_id not in self.connected:
            self.live.discard(contact_id)
            self.load_of.pop(contact_id, None)
            self.carry_out(self.engine.hangup(contact_id))

    def login(self, agent_id: str) -> None:
        self.engine.login(agent_id)
        self.carry_out(self.engine.set_ready(agent_id))

    def pause(self, arg: tuple[str, str]) -> None:
        agent_id, reason = arg
        if self.engine.agent_status(agent_id).presence is not AgentState.OFFLINE:
            self.carry_out(self.engine.set_not_ready(agent_id, reason))

    def resume(self, agent_id: str) -> None:
        if self.engine.agent_status(agent_id).presence is not AgentState.OFFLINE:
            self.carry_out(self.engine.set_ready(agent_id))

    def logout(self, agent_id: str) -> None:
        engine = self.engine
        status = engine.agent_status(agent_id)
        if status.offers or status.contacts or status.wrap_up:
            # Work in hand, wrap-up included: pause them so nothing new
            # arrives, and try again once they are likely done.
            self.loop.call_at(self.clock.now() + _RETRY_LOGOUT_S, self.logout, agent_id)
            if status.presence is not AgentState.NOT_READY or status.reason != _END_OF_SHIFT:
                self.carry_out(engine.set_not_ready(agent_id, _END_OF_SHIFT))
        elif status.presence is not AgentState.OFFLINE:
            self.carry_out(engine.logout(agent_id, reason=_END_OF_SHIFT))

    def run(self) -> SimResult:
        self.setup()
        loop, progress, duration = self.loop, self.progress, self.scenario.duration
        if progress is None:
            loop.run()
        else:
            step = duration / 100
            mark = step
            # A patience left out of the heap would still be pending after mark - step.
            while loop.next_deadline() is not None or self.idle_until > mark - step:
                loop.run(until=mark)
                progress(min(1.0, mark / duration))
                mark += step
            progress(1.0)
        if self.idle_until > self.clock.now():  # the loop would have run on to it, for nothing
            self.clock.set(self.idle_until)
        records, intervals = engine_records(self.events.history())
        return SimResult(
            scenario=self.scenario,
            seed=self.seed,
            records=records,
            intervals=intervals,
            end_time=self.clock.now(),
            events=self.events.last_seq,
        )


def simulate(
    scenario: Scenario,
    *,
    seed: int = 0,
    strategies: dict[str, StrategyFactory] | None = None,
    progress: Callable[[float], None] | None = None,
) -> SimResult:
    """Run one replication of ``scenario`` on the real ACD engine in virtual time.

    The cyclic garbage collector is paused during the run and restored after:
    the run frees its objects by reference counting, and the collector's
    rescans of the growing event history would cost about 15% of the run.

    Args:
        scenario: The queues, traffic and agents.
        seed: Makes the run reproducible: the same seed gives the same records.
        strategies: Routing strategy factories by name (for plugin strategies,
            pass :meth:`callcenter_sdk.PluginHost.routing_strategies`); the
            built-ins by default.
        progress: Called with the fraction of the arrival window done (0..1),
            about a hundred times per run.
    """
    # Cycles left by the run (few) are collected once the collector is back.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Run(scenario, seed, strategies, progress).run()
    finally:
        if enabled:
            gc.enable()
