"""The simulator drives the real ACD engine in virtual time."""

from __future__ import annotations

import gc
import hashlib
import io
import sys
from pathlib import Path

import attrs
import pytest

from callcenter_sdk.acd import Queue, SkillRequirement
from callcenter_sdk.kpi import ErlangA, ErlangC, Outcome
from callcenter_sdk.sim import (
    AgentGroup,
    Break,
    Exponential,
    Fixed,
    Poisson,
    QueueLoad,
    Scenario,
    replicate,
    simulate,
    text_progress,
)


def _mmn(
    agents: int, rate: float, aht: float, duration: float, patience: float | None = None
) -> Scenario:
    return Scenario(
        loads=(
            QueueLoad(
                queue=Queue(name="q", service_level_threshold=20.0),
                arrivals=Poisson(rate),
                handle_time=Exponential(aht),
                patience=None if patience is None else Exponential(patience),
            ),
        ),
        agents=(AgentGroup(prefix="a", count=agents, memberships=("q",)),),
        duration=duration,
        # Erlang A counts every abandon, however quick.
        short_abandon_s=0.0,
    )


def test_every_arrival_ends_in_exactly_one_record() -> None:
    """Contacts are conserved: one record per arrival, each with a final outcome
    and, when answered, an agent."""
    result = simulate(_mmn(3, 1 / 20, 50, 3600, patience=60), seed=4)
    ids = [r.contact_id for r in result.records]
    assert len(ids) == len(set(ids)) > 100
    assert {r.outcome for r in result.records} <= {Outcome.ANSWERED, Outcome.ABANDONED}
    assert all(r.agent is not None for r in result.records if r.outcome is Outcome.ANSWERED)
    assert any(r.outcome is Outcome.ABANDONED for r in result.records)


def test_same_seed_same_run_and_different_seed_different_run() -> None:
    """A run is a pure function of its scenario and seed."""
    scenario = _mmn(2, 1 / 30, 50, 1800, patience=90)
    a, b, c = (simulate(scenario, seed=s) for s in (1, 1, 2))
    assert a.records == b.records
    assert a.records != c.records


def test_skills_breaks_and_shifts_are_respected() -> None:
    """Contacts needing a skill reach only agents having it; nobody is offered
    work during a break or after the shift ends."""
    queue = Queue(name="support", wrap_up=10.0)
    scenario = Scenario(
        loads=(
            QueueLoad(
                queue=queue,
                arrivals=Poisson(1 / 15),
                handle_time=Exponential(40),
                requirements=(SkillRequirement("french", 3),),
            ),
        ),
        agents=(
            AgentGroup(
                prefix="fr",
                count=3,
                memberships=("support",),
                skills={"french": 4},
                shift=(0.0, 3000.0),
                breaks=(Break(1000.0, 300.0),),
                answer_delay=Fixed(2.0),
            ),
            AgentGroup(prefix="en", count=5, memberships=("support",), skills={"french": 1}),
        ),
        duration=2400,
    )
    result = simulate(scenario, seed=9)
    answered = [r for r in result.records if r.answered_at is not None]
    assert answered
    assert all(r.agent is not None and r.agent.startswith("fr") for r in answered)
    for r in answered:
        assert r.answered_at is not None
        assert not 1000.0 <= r.answered_at - 2.0 < 1300.0  # offered during the break
        assert r.answered_at <= 3000.0 + 2.0
    assert all(r.wrap_s == pytest.approx(10.0) for r in answered)


@pytest.mark.slow
def test_mmn_lands_inside_the_erlang_c_confidence_interval() -> None:
    """M/M/N: over 30 replications the 95 % intervals of the simulated service
    level, average wait and occupancy contain Erlang C's values."""
    rate, aht, agents = 4 / 60, 60.0, 5
    reps = replicate(_mmn(agents, rate, aht, 4 * 3600), 30, seed=100, warmup=1800)
    model = ErlangC(arrival_rate=rate, aht=aht, agents=agents)
    est = reps.estimates
    assert est["service_level"].contains(model.service_level(20.0)), est["service_level"]
    assert est["average_wait"].contains(model.asa), est["average_wait"]
    assert est["occupancy"].contains(model.occupancy), est["occupancy"]


@pytest.mark.slow
def test_mmn_plus_m_lands_inside_the_erlang_a_confidence_interval() -> None:
    """M/M/N+M (overloaded, so abandonment matters): over 30 replications the
    95 % intervals of the simulated abandon rate, service level, ASA and
    average wait contain Erlang A's values."""
    rate, aht, agents, patience = 4.5 / 60, 60.0, 4, 120.0
    reps = replicate(
        _mmn(agents, rate, aht, 4 * 3600, patience=patience), 30, seed=200, warmup=1800
    )
    model = ErlangA(arrival_rate=rate, aht=aht, agents=agents, patience=patience)
    est = reps.estimates
    assert est["abandon_rate"].contains(model.p_abandon), est["abandon_rate"]
    assert est["service_level"].contains(model.service_level(20.0)), est["service_level"]
    assert est["asa"].contains(model.asa), est["asa"]
    assert est["average_wait"].contains(model.mean_wait), est["average_wait"]


def test_progress_bar_reaches_100_percent_once_on_a_terminal() -> None:
    """Drawn as on a terminal, the bar is driven to completion: 100 % appears once, the
    bar ends its line and gives the cursor back, and print() was never captured."""
    out = io.StringIO()
    stdout = sys.stdout
    simulate(
        _mmn(2, 1 / 30, 40, 600),
        seed=3,
        progress=text_progress("t", stream=out, force_terminal=True),
    )
    text = out.getvalue()
    assert sys.stdout is stdout
    assert text.count("100%") == 1
    assert "━" in text
    assert text.endswith("\x1b[?25h")  # the cursor shown again, after the final newline
    assert "\n" in text


def test_the_day_ends_at_the_last_patience_even_of_a_customer_connected_at_once() -> None:
    """A customer connected on arrival never abandons, so their patience is not put on
    the loop's heap; the run still ends where it did when it was: at the last
    patience, after the last hang-up (pinned from the simulator before), with or
    without a progress callback, which is called as many times."""
    day = _mmn(3, 1 / 20, 50, 3600, patience=60)
    calls: list[float] = []
    plain = simulate(day, seed=8)
    with_progress = simulate(day, seed=8, progress=calls.append)
    assert plain.end_time == with_progress.end_time == 3733.0577402076924
    assert max(r.ended_at or 0.0 for r in plain.records) < plain.end_time
    assert plain.records == with_progress.records
    assert len(calls) == 105


def test_progress_draws_nothing_into_a_pipe_or_a_file(tmp_path: Path) -> None:
    """Into a StringIO or a file (a pipe, a log) the bar draws nothing at all, even
    with FORCE_COLOR set, and the simulation runs as without it."""
    log = tmp_path / "run.log"
    with log.open("w", encoding="utf-8") as handle:
        simulate(_mmn(2, 1 / 30, 40, 600), seed=3, progress=text_progress(stream=handle))
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORCE_COLOR", "1")
        simulate(_mmn(2, 1 / 30, 40, 600), seed=3, progress=text_progress(stream=out))
    assert log.read_text(encoding="utf-8") == out.getvalue() == ""


def test_the_garbage_collector_is_restored_after_a_run_even_when_it_fails() -> None:
    """simulate() pauses the cyclic collector for speed and always puts it back
    as it found it: on after a normal run and after a run that raised, and
    still off when the caller had turned it off."""
    scenario = _mmn(2, 1 / 30, 40, 300)

    def explode(fraction: float) -> None:
        raise RuntimeError("progress display broke")

    assert gc.isenabled()
    simulate(scenario, seed=1)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="progress display broke"):
        simulate(scenario, seed=1, progress=explode)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(scenario, seed=1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _day() -> Scenario:
    """An eight-hour day: two queues, skills, shifts, breaks, absence and abandons."""
    return Scenario(
        loads=(
            QueueLoad(
                queue=Queue(name="sales", wrap_up=10.0, service_level_threshold=20.0),
                arrivals=Poisson(1 / 25),
                handle_time=Exponential(180),
                patience=Exponential(90),
            ),
            QueueLoad(
                queue=Queue(name="support", wrap_up=20.0),
                arrivals=Poisson(1 / 40),
                handle_time=Exponential(240),
                patience=Exponential(120),
                requirements=(SkillRequirement("tech", 2),),
            ),
        ),
        agents=(
            AgentGroup(
                prefix="s",
                count=8,
                memberships=("sales", "support"),
                skills={"tech": 1},
                shift=(0.0, 6 * 3600.0),
                breaks=(Break(2 * 3600.0, 900.0, "coffee"),),
            ),
            AgentGroup(
                prefix="t",
                count=7,
                memberships=("support", "sales"),
                skills={"tech": 3},
                shift=(1800.0, 8 * 3600.0),
                absence=0.1,
                answer_delay=Fixed(2.0),
            ),
        ),
        duration=8 * 3600.0,
    )


# Recorded from the simulator before it moved onto the shared virtual-time loop.
PINNED_DAY_COUNTS = (1831, 1391, 440)
PINNED_DAY_FIGURES = {
    "offered": 1831.0,
    "answered": 1391.0,
    "abandoned": 440.0,
    "service_level": 0.544511196,
    "threshold_s": 20.0,
    "abandon_rate": 0.222470654,
    "asa": 18.669368443,
    "average_wait": 25.352298662,
    "aht": 207.85247131,
    "occupancy": 0.806519446,
    "short_abandoned": 42.0,  # (440 - 42) / (1831 - 42) is the abandon rate above
    "short_abandon_s": 5.0,
}
PINNED_DAY_RUN = (1831, 13495, 29250.0)
# 13,477 events when pinned; the ACD now also publishes a busy agent's pause at once
# (issue #15), 18 more events on this day, with the records and figures unchanged.
PINNED_DAY_DIGEST = "229cd0417dee5c3e"


def test_a_seeded_day_gives_the_pinned_figures() -> None:
    """A seeded day's KPI figures and records, recorded before the simulator moved onto
    the shared virtual-time loop: a change of the loop (the order of happenings at one
    instant, the contact ids drawn from its sequence) that changes the run is caught."""
    result = simulate(_day(), seed=11)
    report = result.report()
    assert (report.offered, report.answered, report.abandoned) == PINNED_DAY_COUNTS
    figures = {k: round(v, 9) for k, v in report.as_dict().items()}
    assert figures == PINNED_DAY_FIGURES
    assert (len(result.records), result.events, result.end_time) == PINNED_DAY_RUN
    digest = hashlib.sha256(repr((result.records, result.intervals)).encode()).hexdigest()
    assert digest[:16] == PINNED_DAY_DIGEST


def test_a_day_folded_without_checks_gives_valid_records_and_intervals() -> None:
    """The simulator folds the engine's events without validating the records again;
    every record and interval of the pinned day still passes its class's checks
    (rebuilt through ``__init__``, each is equal to itself)."""
    result = simulate(_day(), seed=11)
    assert result.records
    assert result.intervals
    for record in result.records:
        assert attrs.evolve(record) == record
    for interval in result.intervals:
        assert attrs.evolve(interval) == interval
