"""The drop cap is a promise: the predictive pacer keeps it at every point, for any team.

A small adversarial world plays the pacer's calls out: hypothesis picks what happens
next (a ringing call answered by a person, a machine or nobody; a waiting person left
beyond the 2-second limit; an agent hanging up; an agent dialling their own callback;
time passing, past a regulatory period's end) and how many of the calls asked for are
placed. Agents are routed as the ACD routes them: a freed agent takes the oldest waiting
call it may take, a person answered goes to any ready agent. After every step, the
drop rate of every regulatory period (calls grouped by when they were dialled, as the
regulator counts them) is checked against the cap; at the end, the KPI module's
``drop_rate`` over each period's contact records agrees.

What the world leaves out is what no pacer controls: agents leaving while calls ring
for them. Then a 5-agent, 1-hour simulated campaign on the real ACD engine, several
seeds: under 3 % by both regulators' definitions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_sdk.dialer import (
    CallResult,
    Campaign,
    Disposition,
    InformationMessage,
    PacingSnapshot,
    PredictivePacer,
    create_pacer,
    drop_window_s,
)
from callcenter_sdk.kpi import ContactRecord, DropRegime, drop_rate
from callcenter_sdk.sim import LogNormal, OutcomeModel, simulate_campaign
from callcenter_sdk.testing import sample_leads

INFO = InformationMessage(company="ACME", callback_number="+33142685300")
LIMIT_S = 2.0
PACE, ANSWER, TIMEOUT, HANG_UP, CALLBACK, TICK = range(6)


@attrs.define
class _Call:
    id: int
    placed_at: float
    owner: int | None = None
    greeted_at: float | None = None


@attrs.define
class _Period:
    dropped: float = 0.0
    live: float = 0.0
    amd: float = 0.0  # Ofcom's estimate of people among the machines


class World:
    """Agents, calls ringing and waiting, and the regulator's tally per period."""

    def __init__(self, pacer: PredictivePacer, agents: int, window_s: float, fp: float) -> None:
        self.pacer, self.window_s, self.fp = pacer, window_s, fp
        self.now = 0.0
        self.ready: list[int] = list(range(agents))
        self.talking: list[int] = []
        self.ringing: list[_Call] = []
        self.waiting: list[_Call] = []
        self.periods: dict[int, _Period] = defaultdict(_Period)
        self.records: list[ContactRecord] = []
        self.seq = 0

    # ---------------------------------------------------------------- the pacer's view

    def warm_up(self, connected: int) -> None:
        """People answered and connected before: calls of the first period that give headroom."""
        for n in range(connected):
            self.finish(_Call(-n, 0.0, greeted_at=0.0), CallResult.CONNECTED)
            self.periods[0].live += 1

    def snapshot(self) -> PacingSnapshot:
        return PacingSnapshot(
            now=self.now,
            ready=len(self.ready),
            talking=len(self.talking),
            in_flight=len(self.ringing),
            waiting=len(self.waiting),
            held=sum(1 for c in self.ringing if c.owner is not None),
        )

    def period(self, call: _Call) -> _Period:
        return self.periods[math.floor(call.placed_at / self.window_s)]

    # ---------------------------------------------------------------- happenings

    def place(self, owner: int | None = None) -> None:
        self.seq += 1
        self.ringing.append(_Call(self.seq, self.now, owner))

    def pace(self, fewer: int) -> None:
        before = self.snapshot()
        asked = self.pacer.calls_to_place(before)
        assert asked >= 0
        if asked > max(0, -before.exposed):
            self.check_worst_case(before, asked)
        for _ in range(asked - fewer % (asked + 1) if fewer % 3 == 0 else asked):
            self.place()

    def answer(self, pick: int, how: float) -> None:
        if not self.ringing:
            return
        call = self.ringing.pop(pick % len(self.ringing))
        if how < 0.55:
            call.greeted_at = self.now
            if call.owner is not None:
                self.free(call.owner)
            self.arrive(call)
            return
        result = CallResult.MACHINE if how < 0.75 else CallResult.NO_ANSWER
        if result is CallResult.MACHINE:
            self.period(call).amd += self.fp
        self.finish(call, result)
        if call.owner is not None:
            self.free(call.owner)

    def arrive(self, call: _Call) -> None:
        """A person's greeting ended: any ready agent who may take the call gets it."""
        agent = next((a for a in self.ready if call.owner in (None, a)), None)
        if agent is None:
            self.waiting.append(call)
        else:
            self.connect(call, agent)

    def free(self, agent: int) -> None:
        """An agent becomes ready and takes the oldest waiting call they may take."""
        call = next((c for c in self.waiting if c.owner in (None, agent)), None)
        if call is None:
            self.ready.append(agent)
            return
        self.waiting.remove(call)
        self.connect(call, agent, ready=False)

    def connect(self, call: _Call, agent: int, *, ready: bool = True) -> None:
        if ready:
            self.ready.remove(agent)
        self.talking.append(agent)
        self.period(call).live += 1
        self.finish(call, CallResult.CONNECTED)

    def time_out(self, pick: int) -> None:
        if not self.waiting:
            return
        call = self.waiting.pop(pick % len(self.waiting))
        tally = self.period(call)
        tally.live += 1
        tally.dropped += 1
        self.finish(call, CallResult.DROPPED)

    def hang_up(self, pick: int) -> None:
        if self.talking:
            self.free(self.talking.pop(pick % len(self.talking)))

    def callback(self, pick: int) -> None:
        """A ready agent no call rings for yet dials their own callback and is held for it."""
        if self.snapshot().exposed < 0:
            self.place(owner=self.ready.pop(pick % len(self.ready)))

    def tick(self, how: float) -> None:
        """Time passes, mostly seconds, now and then most of a period.

        A waiting person whose 2 seconds run out meanwhile is dropped.
        """
        step = 10 * how if how < 0.95 else self.window_s * 14 * (how - 0.95)
        for call in list(self.waiting):
            assert call.greeted_at is not None
            if call.greeted_at + LIMIT_S < self.now + step:
                self.time_out(self.waiting.index(call))
        self.now += step

    def finish(self, call: _Call, result: CallResult) -> None:
        self.pacer.observe(result, answer_s=10.0, placed_at=call.placed_at)
        live = result.live
        answered = self.now if result is CallResult.CONNECTED else None
        self.records.append(
            ContactRecord(
                contact_id=str(call.id),
                direction="outbound",
                outcome=result.outcome.value,
                arrived_at=call.placed_at,
                answered_at=answered,
                ended_at=self.now + (LIMIT_S + 1 if result is CallResult.DROPPED else 0.0),
                campaign="c",
                live_answer=live,
                greeting_ended_at=(
                    (call.greeted_at if call.greeted_at is not None else self.now - LIMIT_S - 1)
                    if live
                    else None
                ),
            )
        )

    # ---------------------------------------------------------------- what is promised

    def check_worst_case(self, before: PacingSnapshot, asked: int) -> None:
        """Calls beyond progressive only when the worst case of the period fits the cap.

        Worst case, from the world's own tally: every call beyond the ready agents
        dropped, every call in flight a machine counted as Ofcom's estimate.
        """
        tally = self.periods[math.floor(self.now / self.window_s)]
        exposed = max(0, before.exposed + asked)
        extra = exposed + self.fp * (before.in_flight + asked)
        dropped = tally.dropped + tally.amd + extra
        live = tally.live + tally.amd + extra
        assert dropped <= self.pacer.cap * live + 1e-9

    def check_cap(self) -> None:
        """No period's rate is over the cap: dropped people over people answered (FCC); with
        no AMD estimate, Ofcom's rate is the same."""
        for index, tally in self.periods.items():
            assert tally.dropped <= self.pacer.cap * tally.live + 1e-9, (index, tally)

    def check_kpi(self, regime: DropRegime) -> None:
        """The KPI module's definition over each period's records agrees with the tally."""
        fp = self.fp if regime is DropRegime.OFCOM else None
        for index, tally in self.periods.items():
            start = index * self.window_s
            mine = [r for r in self.records if start <= r.arrived_at < start + self.window_s]
            rate = drop_rate(
                mine,
                regime,
                now=start + self.window_s,
                campaign="c",
                connect_limit_s=LIMIT_S,
                amd_false_positive_rate=fp,
            )
            assert rate.dropped == pytest.approx(tally.dropped + (tally.amd if fp else 0.0))
            assert rate.live == pytest.approx(tally.live + (tally.amd if fp else 0.0))


def play(world: World, steps: list[tuple[int, int, float]]) -> None:
    """Play ``steps`` out, checking the cap after each."""
    for kind, pick, how in steps:
        if kind == PACE:
            world.pace(pick)
        elif kind == ANSWER:
            world.answer(pick, how)
        elif kind == TIMEOUT:
            world.time_out(pick)
        elif kind == HANG_UP:
            world.hang_up(pick)
        elif kind == CALLBACK:
            world.callback(pick)
        else:
            world.tick(how)
        world.check_cap()


STEPS = st.lists(
    st.tuples(
        st.sampled_from([PACE, PACE, ANSWER, ANSWER, ANSWER, TIMEOUT, HANG_UP, CALLBACK, TICK]),
        st.integers(0, 1000),
        st.floats(0, 1),
    ),
    min_size=100,
    max_size=400,
)
PACERS = st.fixed_dictionaries(
    {
        "prior_live_rate": st.floats(0.02, 1.0),
        "gain": st.floats(0.001, 0.5),
        "margin": st.floats(0.0, 0.9),  # of the cap
        "max_ratio": st.floats(1.0, 20.0),
    }
)


def pacer_for(
    regime: DropRegime, fp: float, cap: float, options: dict[str, float]
) -> PredictivePacer:
    """The campaign's predictive pacer, made by ``create_pacer`` as the drivers make it."""
    campaign = Campaign(
        name="c",
        mode="predictive",
        regime=regime,
        drop_cap=cap,
        amd_false_positive_rate=fp,
        information=INFO,
    )
    pacer = create_pacer(campaign, **{**options, "margin": options["margin"] * cap})
    assert isinstance(pacer, PredictivePacer)
    assert pacer.window_s == drop_window_s(regime)
    return pacer


@settings(max_examples=200, deadline=None)
@given(
    regime=st.sampled_from(list(DropRegime)),
    agents=st.integers(1, 12),
    cap=st.sampled_from([0.03, 0.02, 0.01]),
    options=PACERS,
    warm=st.integers(0, 400),
    steps=STEPS,
)
def test_no_period_ever_goes_over_the_cap(
    *,
    regime: DropRegime,
    agents: int,
    cap: float,
    options: dict[str, float],
    warm: int,
    steps: list[tuple[int, int, float]],
) -> None:
    """Whatever people answer, whenever they are dropped, agents hang up or dial their own
    callbacks, however few of the calls asked for are placed, and across period ends (30 days
    under FCC, 24 hours under Ofcom): after every step, every period's drop rate is within
    the cap, from the first call on and for any team size, by the regulator's count and by
    ``kpi.drop_rate`` (with no AMD estimate, FCC and Ofcom count alike)."""
    world = World(pacer_for(regime, 0.0, cap, options), agents, drop_window_s(regime), 0.0)
    world.warm_up(warm)
    play(world, steps)
    world.check_kpi(regime)


@settings(max_examples=150, deadline=None)
@given(
    agents=st.integers(1, 12),
    fp=st.floats(0.001, 0.2),
    options=PACERS,
    warm=st.integers(0, 400),
    steps=STEPS,
)
def test_under_ofcom_the_amd_estimate_is_charged_to_the_budget(
    agents: int,
    fp: float,
    options: dict[str, float],
    warm: int,
    steps: list[tuple[int, int, float]],
) -> None:
    """With an AMD false-positive estimate, every call beyond progressive is placed only
    when the worst case — each call beyond the ready agents a person dropped, each call in
    flight a machine counted as the estimate — keeps Ofcom's rate within the cap; and people
    actually dropped never exceed the cap of people answered (FCC's rate) at any point.
    (The estimate of calls placed progressively can still lift Ofcom's rate: a single
    machine and no person gives 100 %, whatever the pacer does.)"""
    regime = DropRegime.OFCOM
    world = World(pacer_for(regime, fp, 0.03, options), agents, drop_window_s(regime), fp)
    world.warm_up(warm)
    play(world, steps)
    world.check_kpi(regime)


# ---------------------------------------------------------------- the whole campaign

START = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC).timestamp()  # 09:00 in Paris
NETWORK = OutcomeModel(
    live=0.33,
    machine=0.17,
    busy=0.07,
    invalid=0.03,
    talk=LogNormal(170.0, 90.0),
    dispositions={"sale": 2, "no": 7, "later": 1},
)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_five_agents_for_an_hour_stay_under_the_cap(seed: int) -> None:
    """Five agents dialling predictively for an hour on the real ACD engine (the telesales
    example's network, Ofcom with a 1 % AMD estimate): the drop rate is under 3 % by both
    regulators' definitions (``kpi.drop_rate`` over the records) on every seed; on main
    before the headroom it measured 4.5-7.8 % (FCC)."""
    campaign = Campaign(
        name="spring",
        mode="predictive",
        regime="ofcom",
        amd_false_positive_rate=0.01,
        information=INFO,
        dispositions=(
            Disposition(code="sale", converted=True),
            Disposition(code="no"),
            Disposition(code="later", callback=True),
        ),
    )
    run = simulate_campaign(
        campaign,
        sample_leads(2000, campaign="spring"),
        agents=5,
        start=START,
        duration=3600.0,
        model=NETWORK,
        seed=seed,
    )
    for regime in DropRegime:
        rate = run.drop_rate(regime)
        assert rate.live > 50
        assert rate.rate is not None
        assert rate.rate < 0.03, (regime, rate)
