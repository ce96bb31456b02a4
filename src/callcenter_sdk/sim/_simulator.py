"""The discrete-event loop: the real ACD engine, driven in virtual time.

The simulator owns a :class:`~callcenter_sdk.ManualClock` and a heap of
future happenings (arrivals, answers, hang-ups, shifts and breaks). It jumps
the clock to whichever comes first — its own heap or the engine's next
deadline — and feeds the engine exactly the inputs a live runtime would. The
actions the engine returns are carried out by scheduling what the simulated
people do next. Contact records then come from the engine's own events.

.. versionadded:: 0.1
"""

from __future__ import annotations

import gc
import heapq
import math
import random
from collections.abc import Callable, Iterator
from typing import Any, cast

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
    records_from_events,
)
from ..kpi import AgentInterval, ContactRecord, KpiReport, kpi_report
from ._scenario import AgentGroup, QueueLoad, Scenario

__all__ = ["SimResult", "simulate"]

# Happenings on the simulator's own heap, in tie-break order at equal times.
_LOGIN, _BREAK_END, _ARRIVE, _ACCEPT, _HANGUP, _ABANDON, _BREAK, _LOGOUT = range(8)
_RETRY_LOGOUT_S = 30.0
_END_OF_SHIFT = "end-of-shift"


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
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.group_of: dict[str, AgentGroup] = {}
        self.load_of: dict[str, QueueLoad] = {}
        self.pending_offers: set[str] = set()
        self.live: set[str] = set()
        self.connected: set[str] = set()
        self.arrivals: list[Iterator[float]] = []
        self.progress = progress
        self.next_progress = 0.0

    def push(self, when: float, what: int, arg: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, what, arg))

    def setup(self) -> None:
        engine, rng = self.engine, self.rng
        for load in self.scenario.loads:
            engine.add_queue(load.queue)
        for group in self.scenario.agents:
            for n in range(1, group.count + 1):
                if group.absence and rng.random() < group.absence:
                    continue
                agent_id = f"{group.prefix}{n}"
                engine.add_agent(
                    Agent(
                        id=agent_id,
                        skills=group.skills,
                        memberships=group.memberships,
                        capacity=group.capacity,
                    )
                )
                self.group_of[agent_id] = group
                start, end = group.shift
                self.push(start, _LOGIN, agent_id)
                if math.isfinite(end):
                    self.push(end, _LOGOUT, agent_id)
                for pause in group.breaks:
                    self.push(pause.start, _BREAK, (agent_id, pause.reason))
                    self.push(pause.start + pause.duration, _BREAK_END, agent_id)
        for index, load in enumerate(self.scenario.loads):
            self.arrivals.append(load.arrivals.times(rng, 0.0, self.scenario.duration))
            self._next_arrival(index)

    def _next_arrival(self, index: int) -> None:
        when = next(self.arrivals[index], None)
        if when is not None:
            self.push(when, _ARRIVE, index)

    def carry_out(self, actions: list[Action]) -> None:
        if not actions:  # a stale timer, an answer nobody awaited...
            return
        now, rng = self.clock.now(), self.rng
        for action in actions:
            # Exact types: the engine makes these final classes itself, and one
            # identity test is cheaper than a chain of isinstance calls.
            kind = type(action)
            if kind is Announce:
                continue
            if kind is Offer:
                offer = cast("Offer", action)
                self.pending_offers.add(offer.offer_id)
                delay = self.group_of[offer.agent_id].answer_delay.sample(rng)
                self.push(now + delay, _ACCEPT, offer.offer_id)
            elif kind is Connect:
                contact_id = cast("Connect", action).contact_id
                self.connected.add(contact_id)
                talk = self.load_of[contact_id].handle_time.sample(rng)
                self.push(now + talk, _HANGUP, contact_id)
            elif kind is Rescind:
                self.pending_offers.discard(cast("Rescind", action).offer_id)
            elif kind is Release or kind is Divert:
                self.live.discard(cast("Release | Divert", action).contact_id)

    def arrive(self, index: int) -> None:
        load = self.scenario.loads[index]
        self._next_arrival(index)
        self.seq += 1
        contact = Contact(
            id=f"{load.queue.name}-{self.seq}",
            channel=load.channel,
            priority=load.priority,
            requirements=load.requirements,
        )
        self.live.add(contact.id)
        self.load_of[contact.id] = load
        if load.patience is not None:
            self.push(self.clock.now() + load.patience.sample(self.rng), _ABANDON, contact.id)
        self.carry_out(self.engine.arrive(contact, load.queue.name))

    def step(self, what: int, arg: Any) -> None:
        engine = self.engine
        if what == _ARRIVE:
            self.arrive(arg)
        elif what == _ACCEPT:
            if arg in self.pending_offers:
                self.pending_offers.discard(arg)
                self.carry_out(engine.accept(arg))
        elif what == _HANGUP:
            self.live.discard(arg)
            self.connected.discard(arg)
            self.load_of.pop(arg, None)
            self.carry_out(engine.hangup(arg))
        elif what == _ABANDON:
            if arg in self.live and arg not in self.connected:
                self.live.discard(arg)
                self.load_of.pop(arg, None)
                self.carry_out(engine.hangup(arg))
        elif what == _LOGIN:
            engine.login(arg)
            self.carry_out(engine.set_ready(arg))
        elif what == _BREAK:
            agent_id, reason = arg
            if engine.agent_status(agent_id).presence is not AgentState.OFFLINE:
                self.carry_out(engine.set_not_ready(agent_id, reason))
        elif what == _BREAK_END:
            if engine.agent_status(arg).presence is not AgentState.OFFLINE:
                self.carry_out(engine.set_ready(arg))
        elif what == _LOGOUT:
            self.carry_out(self.logout(arg))

    def logout(self, agent_id: str) -> list[Action]:
        engine = self.engine
        status = engine.agent_status(agent_id)
        if status.offers or status.contacts or status.wrap_up:
            # Work in hand, wrap-up included: pause them so nothing new
            # arrives, and try again once they are likely done.
            self.push(self.clock.now() + _RETRY_LOGOUT_S, _LOGOUT, agent_id)
            if status.presence is AgentState.NOT_READY and status.reason == _END_OF_SHIFT:
                return []
            return engine.set_not_ready(agent_id, _END_OF_SHIFT)
        if status.presence is AgentState.OFFLINE:
            return []
        return engine.logout(agent_id, reason=_END_OF_SHIFT)

    def run(self) -> SimResult:
        self.setup()
        clock, engine, heap = self.clock, self.engine, self.heap
        duration = self.scenario.duration
        next_deadline, tick, step, pop = engine.next_deadline, engine.tick, self.step, heapq.heappop
        progress = self.progress
        # Without a progress callback the next report is never due.
        next_progress = 0.0 if progress is not None else math.inf
        now = clock.now()
        while True:
            due = next_deadline()
            if heap and (due is None or heap[0][0] < due):
                when, _, what, arg = pop(heap)
                if when > now:
                    clock.set(when)
                    now = when
                step(what, arg)
            elif due is not None:
                if due > now:
                    clock.set(due)
                    now = due
                self.carry_out(tick())
            else:
                break
            if now >= next_progress and progress is not None:
                progress(min(1.0, now / duration))
                next_progress = now + duration / 100
        if progress is not None:
            progress(1.0)
        records, intervals = records_from_events(self.events.history())
        return SimResult(
            scenario=self.scenario,
            seed=self.seed,
            records=records,
            intervals=intervals,
            end_time=clock.now(),
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
