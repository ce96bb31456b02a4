"""Pacing: preview, progressive, power and the predictive model with its feedback."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.dialer import (
    CallResult,
    Campaign,
    InformationMessage,
    PacingSnapshot,
    PowerPacer,
    PredictivePacer,
    PreviewPacer,
    ProgressivePacer,
    create_pacer,
)

INFO = InformationMessage(company="ACME", callback_number="+33142685300")


def snap(**kw: object) -> PacingSnapshot:
    """A snapshot at time 0."""
    return PacingSnapshot(now=0.0, **kw)  # type: ignore[arg-type]


def test_preview_never_dials_on_its_own() -> None:
    """Preview leaves dialling to the agents."""
    assert PreviewPacer().calls_to_place(snap(ready=10)) == 0


def test_progressive_places_one_call_per_uncovered_ready_agent() -> None:
    """Five ready agents with two calls ringing and one waiting get two more calls."""
    assert ProgressivePacer().calls_to_place(snap(ready=5, in_flight=2, waiting=1)) == 2
    assert ProgressivePacer().calls_to_place(snap(ready=1, in_flight=3)) == 0


def test_power_places_a_fixed_ratio() -> None:
    """Ratio 2.5 with four ready agents keeps ten calls in flight."""
    assert PowerPacer(2.5).calls_to_place(snap(ready=4, in_flight=3)) == 7
    with pytest.raises(ValidationError):
        PowerPacer(0.5)


def test_create_pacer_follows_the_campaign_mode() -> None:
    """Each mode gets its pacer; predictive takes the campaign's drop cap."""
    assert isinstance(create_pacer(Campaign(name="c", mode="preview")), PreviewPacer)
    assert isinstance(create_pacer(Campaign(name="c", mode="progressive")), ProgressivePacer)
    power = create_pacer(Campaign(name="c", mode="power", ratio=3, information=INFO))
    assert isinstance(power, PowerPacer)
    assert power.ratio == 3
    predictive = create_pacer(
        Campaign(name="c", mode="predictive", drop_cap=0.02, information=INFO), margin=0.005
    )
    assert isinstance(predictive, PredictivePacer)
    assert predictive.cap == 0.02
    assert math.isclose(predictive.target, 0.015)


def test_predictive_model_counts_agents_free_within_the_answer_time() -> None:
    """With live rate 0.25, 20 s to answer, 60 s mean talk and 10 s wrap-up: ready agents,
    wrap-ups ending within 20 s and talking agents with probability 1 - exp(-10/60) count."""
    pacer = PredictivePacer(
        prior_live_rate=0.25, prior_answer_s=20.0, prior_talk_s=60.0, prior_weight=1e9, gain=1e-12
    )
    for _ in range(1000):  # a drop budget of 30.9 calls: the model alone decides
        pacer.observe(CallResult.CONNECTED)
    s = snap(ready=2, wrap_remaining=(5.0, 30.0), talking=6, wrap_up_s=10.0)
    free = 2 + 1 + 6 * (1 - math.exp(-10 / 60))
    assert math.isclose(pacer.expected_free(s), free)
    assert pacer.calls_to_place(s) == math.floor(free / 0.25)
    assert pacer.calls_to_place(snap(ready=2, in_flight=100)) == 0
    assert pacer.calls_to_place(snap(ready=0)) == 0


def test_predictive_feedback_lowers_the_ratio_after_drops_and_freezes_above_target() -> None:
    """Drops push k down; while the measured rate is above target, connects cannot raise it."""
    pacer = PredictivePacer(cap=0.03, margin=0.01, gain=0.05)
    pacer.observe(CallResult.DROPPED, answer_s=10.0)
    after_drop = pacer.k
    assert after_drop < 1.0
    for _ in range(10):
        pacer.observe(CallResult.CONNECTED, answer_s=10.0)
    assert pacer.k == after_drop  # 1 drop in 11 live answers is above 2 %
    for _ in range(100):
        pacer.observe(CallResult.CONNECTED, answer_s=10.0)
    assert pacer.k > after_drop
    assert pacer.drop_rate == pytest.approx(1 / 111)


def test_predictive_learns_rates_and_times() -> None:
    """The live rate moves from the prior towards what is measured; machines are not live."""
    pacer = PredictivePacer(prior_live_rate=0.5, prior_weight=10)
    for _ in range(90):
        pacer.observe(CallResult.NO_ANSWER)
    for _ in range(10):
        pacer.observe(CallResult.MACHINE)
    assert pacer.live_rate == pytest.approx(5 / 110)
    pacer.observe_talk(100.0)
    assert pacer.talk_s < 180.0


@given(
    ready=st.integers(0, 60),
    talking=st.integers(0, 60),
    in_flight=st.integers(0, 300),
    waiting=st.integers(0, 20),
    results=st.lists(st.sampled_from(list(CallResult)), max_size=200),
)
def test_every_pacer_answers_a_bounded_non_negative_count(
    ready: int, talking: int, in_flight: int, waiting: int, results: list[CallResult]
) -> None:
    """Whatever it learnt, no pacer asks for a negative number of calls, and predictive
    never asks for more than its maximum ratio of calls per agent expected free."""
    s = snap(ready=ready, talking=talking, in_flight=in_flight, waiting=waiting)
    predictive = PredictivePacer(max_ratio=6.0)
    for r in results:
        predictive.observe(r, answer_s=12.0)
    for pacer in (PreviewPacer(), ProgressivePacer(), PowerPacer(2), predictive):
        assert pacer.calls_to_place(s) >= 0
    assert predictive.calls_to_place(s) <= 6.0 * predictive.expected_free(s) + 1e-9
    assert 0.05 <= predictive.k <= 3.0


def test_invalid_settings_are_refused() -> None:
    """Margins above the cap, impossible priors and negative counts are errors."""
    with pytest.raises(ValidationError):
        PredictivePacer(cap=0.03, margin=0.03)
    with pytest.raises(ValidationError):
        PredictivePacer(prior_live_rate=0.0)
    with pytest.raises(ValidationError):
        PredictivePacer(k_bounds=(1.5, 2.0))
    with pytest.raises(ValidationError):
        snap(ready=-1)


def test_ofcom_pacer_counts_machine_false_positives_as_drops() -> None:
    """Under Ofcom with a 5 % AMD false-positive estimate, 100 machines and 1,000 connects
    give the pacer Ofcom's rate 5 / 1005, and lower k than the same results under FCC."""
    ofcom, fcc = (
        create_pacer(
            Campaign(
                name="c",
                mode="predictive",
                regime=regime,
                information=INFO,
                amd_false_positive_rate=0.05,
            )
        )
        for regime in ("ofcom", "fcc")
    )
    assert isinstance(ofcom, PredictivePacer)
    assert isinstance(fcc, PredictivePacer)
    for pacer in (ofcom, fcc):
        for i in range(1100):
            pacer.observe(CallResult.MACHINE if i % 11 == 0 else CallResult.CONNECTED)
    assert ofcom.drop_rate == pytest.approx(5 / 1005)
    assert fcc.drop_rate == 0.0
    assert ofcom.k < fcc.k


def test_predictive_never_places_fewer_calls_than_progressive() -> None:
    """With k at its floor, three ready agents still get one call each."""
    pacer = PredictivePacer(k_bounds=(0.05, 3.0), gain=1.0)
    pacer.observe(CallResult.DROPPED)
    assert pacer.k == 0.05
    assert pacer.calls_to_place(snap(ready=3, in_flight=1)) == 2


def test_without_headroom_predictive_dials_progressively() -> None:
    """Before any live answer there is no drop budget: two ready agents get two calls however
    many agents are about to be free; 100 connects make room for 3 calls beyond them
    (3 drops in 103 live answers is 2.9 %), a drop takes one back."""
    pacer = PredictivePacer(prior_live_rate=0.3)
    busy = snap(ready=2, talking=40, wrap_remaining=(1.0, 2.0, 3.0))
    assert pacer.budget(busy) == 2
    assert pacer.calls_to_place(busy) == 2
    for _ in range(100):
        pacer.observe(CallResult.CONNECTED, answer_s=10.0)
    assert pacer.headroom == pytest.approx(3 / 0.97)
    assert pacer.calls_to_place(busy) == 5
    assert pacer.calls_to_place(snap(ready=2, talking=40, in_flight=5)) == 0
    pacer.observe(CallResult.DROPPED, answer_s=10.0)
    assert pacer.calls_to_place(busy) == 4
    assert (1 + 2) / (101 + 2) <= 0.03 < (1 + 3) / (101 + 3)


def test_progressive_needs_no_ready_agent_for_a_held_call() -> None:
    """A call an agent dialled for themself (held) does not take a ready agent's call away,
    and is not a call that could be dropped."""
    assert ProgressivePacer().calls_to_place(snap(ready=2, in_flight=3, held=3)) == 2
    assert snap(ready=2, in_flight=3, held=1, waiting=1).exposed == 1
    with pytest.raises(ValidationError):
        snap(ready=1, in_flight=1, held=2)


def test_each_regulatory_period_has_its_own_budget() -> None:
    """Results count for the period their call was dialled in: a new period starts with no
    headroom, and while calls of the old, full period may still drop, nothing beyond
    progressive is dialled even though the new period has room."""
    pacer = PredictivePacer(
        prior_live_rate=0.3, prior_weight=1e9, window_s=3600.0, period_start=0.0
    )
    for _ in range(97):
        pacer.observe(CallResult.CONNECTED, placed_at=10.0)
    for _ in range(3):
        pacer.observe(CallResult.DROPPED, placed_at=10.0)
    assert pacer.calls_to_place(snap(ready=2, talking=40)) == 2  # period 0 is full: 3 / 100
    late = PacingSnapshot(now=3600.0, ready=2, talking=40, in_flight=4)  # 4 of period 0 ring
    assert pacer.calls_to_place(late) == 0
    assert pacer.live == 0
    for _ in range(200):
        pacer.observe(CallResult.CONNECTED, placed_at=3600.0)
    assert pacer.calls_to_place(late) == 0  # period 0's 4 calls could still drop
    for _ in range(4):
        pacer.observe(CallResult.NO_ANSWER, placed_at=3599.0)
    assert pacer.live == 200
    assert pacer.calls_to_place(PacingSnapshot(now=3700.0, ready=2, talking=40)) == 2 + 6
