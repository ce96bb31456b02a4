"""Pacing: how many calls to place now, one pure decision per snapshot.

A pacer sees a :class:`PacingSnapshot` (agents ready, agents about to be
free, calls ringing, answered calls waiting) and answers how many new calls
to place. It learns from what it is told through :meth:`Pacer.observe`
(each call's result and how long it took to be answered) and
:meth:`Pacer.observe_talk` (each conversation's talk time).

The predictive pacer is model-based with a feedback correction:

1. **Model.** Calls placed now are answered by a person after ``T`` seconds
   (the measured mean time to a live answer) with probability ``p`` (the
   measured live-answer rate, shrunk towards a prior while few calls are
   known). Agents free within ``T`` are those ready now, those whose wrap-up
   ends within ``T``, and each talking agent with probability
   ``1 - exp(-(T - W) / talk)`` (``W`` the wrap-up that follows, ``talk``
   the measured mean talk time; none when ``T <= W``). To have about
   ``k x free`` live answers arrive, ``(k x free - waiting) / p``
   calls must be in flight.
2. **Feedback.** ``k`` is corrected after every live answer by a
   Robbins-Monro step towards the target drop rate ``cap - margin``:
   ``k += gain x (target - dropped)``, so on average it settles where the
   drop probability equals the target. While the measured rate is above the
   target, ``k`` may only go down.
3. **Guard.** Predictive never places fewer calls than progressive would,
   and once enough live answers are known, a measured rate above the guard
   rate (halfway between the target and the cap) switches it to progressive
   pacing (which cannot drop) until the rate is back under it: the cap holds
   even for small teams, where the model's variance is largest.

Progressive places one call per ready agent not yet covered by a ringing
call; power places ``ratio`` calls per ready agent; preview places none on
its own (agents dial from the record).

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import attrs

from .._errors import ValidationError
from ..kpi import DropRegime
from ._model import CallResult, Campaign, DialMode

__all__ = [
    "Pacer",
    "PacingSnapshot",
    "PowerPacer",
    "PredictivePacer",
    "PreviewPacer",
    "ProgressivePacer",
    "create_pacer",
]


@attrs.frozen(kw_only=True)
class PacingSnapshot:
    """The state of a campaign's agents and calls at one instant.

    Attributes:
        now: The time of the snapshot.
        ready: Agents ready and idle.
        wrap_remaining: For each agent in wrap-up, seconds until it ends.
        talking: Agents in conversation (or ringing with an offer).
        in_flight: Calls dialled and not yet answered or failed.
        waiting: Answered live calls waiting for an agent right now.
        wrap_up_s: Seconds of wrap-up that follow each conversation: a talking
            agent is free no sooner than this after the call ends.
    """

    now: float
    ready: int
    wrap_remaining: Sequence[float] = ()
    talking: int = 0
    in_flight: int = 0
    waiting: int = 0
    wrap_up_s: float = 0.0

    def __attrs_post_init__(self) -> None:
        if min(self.ready, self.talking, self.in_flight, self.waiting, self.wrap_up_s) < 0:
            raise ValidationError(f"a pacing snapshot counts nothing negative: {self!r}")


class Pacer(Protocol):
    """Decides how many calls to place; learns from results."""

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """How many new calls to place now (>= 0)."""
        ...

    def observe(self, result: CallResult, *, answer_s: float | None = None) -> None:
        """Learn one call's result; ``answer_s`` is dial-to-greeting-end for live answers."""
        ...

    def observe_talk(self, seconds: float) -> None:
        """Learn one conversation's talk time (wrap-up excluded)."""
        ...


class _Passive:
    def observe(self, result: CallResult, *, answer_s: float | None = None) -> None:
        """Nothing to learn."""

    def observe_talk(self, seconds: float) -> None:
        """Nothing to learn."""


class PreviewPacer(_Passive):
    """Preview: the dialer never dials on its own; agents dial from the record."""

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """Always 0."""
        return 0


class ProgressivePacer(_Passive):
    """Progressive: one call per ready agent, never more calls than ready agents."""

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """Ready agents not yet covered by a ringing or waiting call."""
        return max(0, snapshot.ready - snapshot.in_flight - snapshot.waiting)


class PowerPacer(_Passive):
    """Power: a fixed number of calls per ready agent.

    Args:
        ratio: Calls per ready agent (>= 1).
    """

    def __init__(self, ratio: float) -> None:
        if not (math.isfinite(ratio) and ratio >= 1):
            raise ValidationError(f"power ratio must be >= 1, got {ratio!r}")
        self.ratio = ratio

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """``ratio x ready`` calls in flight, minus those already there."""
        want = math.floor(self.ratio * snapshot.ready + 1e-9) - snapshot.waiting
        return max(0, want - snapshot.in_flight)


class PredictivePacer:
    """Predictive: an adaptive ratio held under the drop-rate cap.

    Args:
        cap: The legal ceiling on the drop rate (dropped over live answers).
        margin: The controller aims at ``cap - margin``.
        prior_live_rate: The live-answer rate assumed before results come in
            (a high prior dials cautiously).
        prior_weight: How many calls the prior is worth.
        prior_answer_s: Seconds from dial to a live answer assumed at first.
        prior_talk_s: Talk time assumed at first.
        gain: Size of the feedback step per live answer.
        k_bounds: Lowest and highest value of the feedback factor ``k``.
        max_ratio: Never more than this many calls in flight per agent
            expected free.
        amd_false_positive_rate: Under Ofcom, the share of machine detections
            that were really people; each machine result then counts as that
            fraction of a live answer and of a drop, as in Ofcom's rate.
        guard_after: Once this many live answers are known, a measured drop
            rate above :attr:`guard_rate` (halfway between the target and the
            cap) switches to progressive pacing (which cannot drop) until the
            rate is back under it.
    """

    def __init__(
        self,
        *,
        cap: float = 0.03,
        margin: float = 0.01,
        prior_live_rate: float = 0.5,
        prior_weight: float = 30.0,
        prior_answer_s: float = 15.0,
        prior_talk_s: float = 180.0,
        gain: float = 0.03,
        k_bounds: tuple[float, float] = (0.05, 3.0),
        max_ratio: float = 6.0,
        amd_false_positive_rate: float = 0.0,
        guard_after: int = 20,
    ) -> None:
        if not 0 < cap <= 1 or not 0 <= margin < cap:
            raise ValidationError(
                f"predictive pacing needs 0 <= margin < cap <= 1, got {margin}, {cap}"
            )
        if not 0 < prior_live_rate <= 1 or prior_weight <= 0:
            raise ValidationError("prior_live_rate must be in (0, 1] and prior_weight > 0")
        if not 0 < k_bounds[0] <= 1 <= k_bounds[1] or gain <= 0 or max_ratio < 1:
            raise ValidationError("need 0 < k_min <= 1 <= k_max, gain > 0 and max_ratio >= 1")
        if not 0 <= amd_false_positive_rate <= 1:
            raise ValidationError("amd_false_positive_rate must be in [0, 1]")
        self._amd_fp = amd_false_positive_rate
        self._guard_after = guard_after
        self.cap = cap
        self.target = cap - margin
        self.guard_rate = (self.target + cap) / 2
        self._p0, self._n0 = prior_live_rate, prior_weight
        self._gain = gain
        self._k_min, self._k_max = k_bounds
        self._max_ratio = max_ratio
        self.k = 1.0
        self.attempts = 0
        self.answered = 0
        self.live = 0.0
        self.dropped = 0.0
        self._answer_sum = prior_answer_s * prior_weight
        self._answer_n = prior_weight
        self._talk_sum = prior_talk_s * prior_weight
        self._talk_n = prior_weight

    @property
    def live_rate(self) -> float:
        """The live-answer rate estimate (shrunk towards the prior)."""
        return (self.answered + self._p0 * self._n0) / (self.attempts + self._n0)

    @property
    def answer_s(self) -> float:
        """Mean seconds from dial to a live answer's greeting end."""
        return self._answer_sum / self._answer_n

    @property
    def talk_s(self) -> float:
        """Mean talk time of a conversation."""
        return self._talk_sum / self._talk_n

    @property
    def drop_rate(self) -> float:
        """Dropped over live answers so far, Ofcom's AMD estimate included (0 before any)."""
        return self.dropped / self.live if self.live else 0.0

    def expected_free(self, snapshot: PacingSnapshot) -> float:
        """Agents expected to be free within the time a call placed now takes to answer."""
        horizon = self.answer_s
        soon = sum(1 for r in snapshot.wrap_remaining if r <= horizon)
        slack = horizon - snapshot.wrap_up_s
        p_done = -math.expm1(-slack / max(self.talk_s, 1e-9)) if slack > 0 else 0.0
        return snapshot.ready + soon + p_done * snapshot.talking

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """Calls to add so the expected live answers match ``k`` times the agents free.

        Never fewer than progressive would place (one call per ready agent not
        covered yet): when the feedback has driven ``k`` down, a small team is
        dialled progressively, which cannot drop, rather than not at all.
        """
        floor = snapshot.ready - snapshot.in_flight - snapshot.waiting
        free = self.expected_free(snapshot)
        if free <= 0 or (self.live >= self._guard_after and self.drop_rate > self.guard_rate):
            return max(0, floor)
        want = (self.k * free - snapshot.waiting) / self.live_rate
        want = min(want, self._max_ratio * free)
        return max(0, floor, math.floor(want + 1e-9) - snapshot.in_flight)

    def observe(self, result: CallResult, *, answer_s: float | None = None) -> None:
        """Update the answer-rate model and the feedback factor."""
        self.attempts += 1
        if result is CallResult.MACHINE and self._amd_fp > 0:
            self._feedback(weight=self._amd_fp, dropped=True)
        if not result.live:
            return
        self.answered += 1
        if answer_s is not None and math.isfinite(answer_s) and answer_s >= 0:
            self._answer_sum += answer_s
            self._answer_n += 1
        self._feedback(weight=1.0, dropped=result is CallResult.DROPPED)

    def _feedback(self, *, weight: float, dropped: bool) -> None:
        self.live += weight
        self.dropped += weight * dropped
        step = self._gain * weight * (self.target - dropped)
        if step > 0 and self.drop_rate > self.target:
            step = 0.0
        self.k = min(self._k_max, max(self._k_min, self.k + step))

    def observe_talk(self, seconds: float) -> None:
        """Update the talk-time estimate."""
        if math.isfinite(seconds) and seconds >= 0:
            self._talk_sum += seconds
            self._talk_n += 1


def create_pacer(campaign: Campaign, **options: float) -> Pacer:
    """The pacer of ``campaign``'s dial mode (``options`` go to :class:`PredictivePacer`)."""
    if campaign.mode is DialMode.PREVIEW:
        return PreviewPacer()
    if campaign.mode is DialMode.PROGRESSIVE:
        return ProgressivePacer()
    if campaign.mode is DialMode.POWER:
        return PowerPacer(campaign.ratio)
    amd = campaign.amd_false_positive_rate if campaign.regime is DropRegime.OFCOM else 0.0
    options.setdefault("amd_false_positive_rate", amd)
    return PredictivePacer(cap=campaign.drop_cap, **options)  # type: ignore[arg-type]
