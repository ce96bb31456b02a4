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
3. **Headroom.** The cap is kept by construction, not on average. With
   ``D`` drops and ``L`` live answers among the calls dialled in the
   current regulatory period (FCC: 30 days, Ofcom: 24 hours, counted from
   the campaign's first call), ``x`` more drops fit under the cap while
   ``(D + x) / (L + x) <= cap``: the headroom is ``(cap x L - D) / (1 - cap)``.
   In the worst case every call beyond the agents ready to take it (ringing,
   or answered and waiting) is answered by a person and dropped, and under
   Ofcom every call in flight is a machine counted as
   ``amd_false_positive_rate`` of a dropped person; calls beyond progressive
   are placed only while that worst case fits in the headroom. When it is
   gone, the pacer dials progressively (one call per ready agent, which
   cannot drop) until connected calls have made room again. So the first
   ``1 / cap`` or so live answers of a period are always dialled
   progressively, and a small team over-dials little.

A call's result counts for the period it was dialled in (``placed_at``),
as the regulator counts it; while calls of an earlier period are still
ringing or waiting, the calls beyond progressive must fit in that period's
headroom too, since any of those calls might be the one dropped.

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
    "drop_window_s",
]

_DAY_S = 86_400.0
_UNLIMITED = 1 << 30


def drop_window_s(regime: DropRegime) -> float:
    """Seconds of the regulator's drop-rate period: 30 days under FCC, 24 hours under Ofcom.

    .. versionadded:: 0.1
    """
    return 30 * _DAY_S if regime is DropRegime.FCC else _DAY_S


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
        held: Of the calls in flight, those an agent dialled for themself
            (preview, own callback) and is held not ready for: that agent
            takes the call, so it needs no ready agent.
    """

    now: float
    ready: int
    wrap_remaining: Sequence[float] = ()
    talking: int = 0
    in_flight: int = 0
    waiting: int = 0
    wrap_up_s: float = 0.0
    held: int = 0

    def __attrs_post_init__(self) -> None:
        counts = (self.ready, self.talking, self.in_flight, self.waiting, self.wrap_up_s, self.held)
        if min(counts) < 0 or self.held > self.in_flight:
            raise ValidationError(
                f"a pacing snapshot counts nothing negative, held calls among those in flight: "
                f"{self!r}"
            )

    @property
    def exposed(self) -> int:
        """Calls that no ready agent is there for (negative: ready agents not covered).

        If every one of them were answered by a person now, that many would
        wait with no agent free, and could be dropped.
        """
        return self.in_flight - self.held + self.waiting - self.ready


class Pacer(Protocol):
    """Decides how many calls to place; learns from results."""

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """How many new calls to place now (>= 0)."""
        ...

    def observe(
        self, result: CallResult, *, answer_s: float | None = None, placed_at: float | None = None
    ) -> None:
        """Learn one call's result.

        ``answer_s`` is dial-to-greeting-end for live answers; ``placed_at``
        when the call was dialled (a drop counts for the period it was dialled in).
        """
        ...

    def observe_talk(self, seconds: float) -> None:
        """Learn one conversation's talk time (wrap-up excluded)."""
        ...


class _Passive:
    def observe(
        self, result: CallResult, *, answer_s: float | None = None, placed_at: float | None = None
    ) -> None:
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
        """Ready agents not yet covered by a ringing or waiting call (held calls need none)."""
        return max(0, -snapshot.exposed)


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


@attrs.define
class _Period:
    """The drops and live answers of the calls dialled in one regulatory period."""

    index: int
    dropped: float = 0.0
    live: float = 0.0
    #: For a past period: an upper bound on its calls still ringing or waiting.
    open_calls: int = 0

    def headroom(self, cap: float) -> float:
        """How many more drops (each a live answer too) keep ``dropped / live <= cap``."""
        if cap >= 1:
            return math.inf
        return (cap * self.live - self.dropped) / (1 - cap)


def _most_calls(room: float, exposed: int, fp: float) -> int:
    """The most new calls ``n`` with ``max(0, exposed + n) + fp x n <= room``; -1 if none.

    Each new call beyond the ready agents may be a dropped person (1 of the
    room), and each may be a machine counted as ``fp`` of a dropped person.
    """
    if room < max(0, exposed):
        return -1
    if math.isinf(room):
        return _UNLIMITED
    if fp == 0:
        return min(_UNLIMITED, math.floor(room) - exposed)
    absorbed = max(0, -exposed)  # calls the ready agents take: only their machine share counts
    if fp * absorbed >= room:
        return math.floor(room / fp)
    return math.floor((room - exposed) / (1 + fp))


class PredictivePacer:
    """Predictive: an adaptive ratio that never lets the drop rate over the cap.

    The cap holds by construction for the calls the pacer over-dials, as long
    as the agents it counted ready stay ready: an agent who leaves (a break,
    a log-off) while calls are ringing for them can cause a drop no pacer
    decided. Under Ofcom, the AMD false-positive estimate of calls dialled
    progressively when no headroom is left can still raise the rate: only
    not dialling at all would prevent that.

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
        window_s: The regulator's period (:func:`drop_window_s`: 30 days
            under FCC, 24 hours under Ofcom): each period has its own drop
            budget, as each is measured on its own.
        period_start: When the first period starts (the first snapshot's or
            result's time by default).

    .. versionchanged:: 0.1
       The drop budget (headroom) replaces the guard that switched to
       progressive pacing above a measured rate after 20 live answers
       (``guard_after``).
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
        window_s: float = _DAY_S,
        period_start: float | None = None,
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
        if not (math.isfinite(window_s) and window_s > 0):
            raise ValidationError(f"window_s must be > 0, got {window_s!r}")
        self._amd_fp = amd_false_positive_rate
        self.cap = cap
        self.target = cap - margin
        self.window_s = window_s
        self._origin = period_start
        self._period = _Period(0)
        self._past: list[_Period] = []
        self._in_system = 0
        self._p0, self._n0 = prior_live_rate, prior_weight
        self._gain = gain
        self._k_min, self._k_max = k_bounds
        self._max_ratio = max_ratio
        self.k = 1.0
        self.attempts = 0
        self.answered = 0
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
    def live(self) -> float:
        """Live answers of the current period's calls (plus Ofcom's AMD estimate)."""
        return self._period.live

    @property
    def dropped(self) -> float:
        """Drops of the current period's calls (plus Ofcom's AMD estimate)."""
        return self._period.dropped

    @property
    def drop_rate(self) -> float:
        """Dropped over live answers in the current period, as the regulator counts (0 without)."""
        return self.dropped / self.live if self.live else 0.0

    @property
    def headroom(self) -> float:
        """How many more drops the current period can take and keep its rate within the cap."""
        return self._period.headroom(self.cap)

    def expected_free(self, snapshot: PacingSnapshot) -> float:
        """Agents expected to be free within the time a call placed now takes to answer."""
        horizon = self.answer_s
        soon = sum(1 for r in snapshot.wrap_remaining if r <= horizon)
        slack = horizon - snapshot.wrap_up_s
        p_done = -math.expm1(-slack / max(self.talk_s, 1e-9)) if slack > 0 else 0.0
        return snapshot.ready + soon + p_done * snapshot.talking

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """Calls to add so the expected live answers match ``k`` times the agents free.

        Never fewer than progressive would place (one call per ready agent
        not covered yet), and never more beyond that than the drop budget
        allows (:meth:`budget`).
        """
        self._enter(snapshot)
        floor = max(0, -snapshot.exposed)
        free = self.expected_free(snapshot)
        if free <= 0:
            return floor
        want = (self.k * free - snapshot.waiting) / self.live_rate
        want = min(want, self._max_ratio * free)
        more = math.floor(want + 1e-9) - (snapshot.in_flight - snapshot.held)
        return max(floor, min(more, self.budget(snapshot)))

    def budget(self, snapshot: PacingSnapshot) -> int:
        """The most new calls whose worst case keeps every open period within the cap.

        The worst case: each call beyond the ready agents is a person dropped,
        each call in flight a machine counted as Ofcom's false-positive share
        of a dropped person. Every period whose calls may still be ringing or
        waiting must absorb it. ``-1`` when even no new call leaves the worst
        case within the cap (the calls already placed may drop).
        """
        self._enter(snapshot)
        fp, exposed = self._amd_fp, snapshot.exposed
        room = self._period.headroom(self.cap) - fp * snapshot.in_flight
        most = _most_calls(room, exposed, fp)
        for past in self._past:
            room = past.headroom(self.cap) - fp * past.open_calls
            if room < past.open_calls:  # all its calls dropped might not fit
                most = min(most, _most_calls(room, exposed, 0.0))
        return most

    def observe(
        self, result: CallResult, *, answer_s: float | None = None, placed_at: float | None = None
    ) -> None:
        """Update the answer-rate model, the feedback factor and the drop budget.

        ``placed_at`` (when the call was dialled) charges the result to its
        period; without it, to the current one.
        """
        self.attempts += 1
        period = self._period_of(placed_at)
        if result is CallResult.MACHINE and self._amd_fp > 0:
            self._feedback(period, weight=self._amd_fp, dropped=True)
        if result.live:
            self.answered += 1
            if answer_s is not None and math.isfinite(answer_s) and answer_s >= 0:
                self._answer_sum += answer_s
                self._answer_n += 1
            self._feedback(period, weight=1.0, dropped=result is CallResult.DROPPED)
        if period is not None and period is not self._period:
            period.open_calls = max(0, period.open_calls - 1)
            self._past = [p for p in self._past if p.open_calls > 0]

    def observe_talk(self, seconds: float) -> None:
        """Update the talk-time estimate."""
        if math.isfinite(seconds) and seconds >= 0:
            self._talk_sum += seconds
            self._talk_n += 1

    # ------------------------------------------------------------ internals

    def _feedback(self, period: _Period | None, *, weight: float, dropped: bool) -> None:
        if period is not None:
            period.live += weight
            period.dropped += weight * dropped
        step = self._gain * weight * (self.target - dropped)
        if step > 0 and self.drop_rate > self.target:
            step = 0.0
        self.k = min(self._k_max, max(self._k_min, self.k + step))

    def _index(self, at: float) -> int:
        if self._origin is None:
            self._origin = at
        return math.floor((at - self._origin) / self.window_s)

    def _enter(self, snapshot: PacingSnapshot) -> None:
        """Move to the snapshot's period; what is ringing or waiting bounds each past period's."""
        self._in_system = snapshot.in_flight + snapshot.waiting
        self._move_to(self._index(snapshot.now))
        for past in self._past:
            past.open_calls = min(past.open_calls, self._in_system)
        self._past = [p for p in self._past if p.open_calls > 0]

    def _move_to(self, index: int) -> None:
        if index <= self._period.index:
            return
        earlier = sum(p.open_calls for p in self._past)
        self._period.open_calls = max(0, self._in_system - earlier)
        self._past = [p for p in (*self._past, self._period) if p.open_calls > 0]
        self._period = _Period(index)

    def _period_of(self, placed_at: float | None) -> _Period | None:
        """The period a call dialled at ``placed_at`` counts for (``None``: one long closed)."""
        if placed_at is None or not math.isfinite(placed_at):
            return self._period
        index = self._index(placed_at)
        self._move_to(index)
        if index == self._period.index:
            return self._period
        return next((p for p in self._past if p.index == index), None)


def create_pacer(campaign: Campaign, **options: float) -> Pacer:
    """The pacer of ``campaign``'s dial mode (``options`` go to :class:`PredictivePacer`).

    A predictive pacer gets the campaign's drop cap, its regulator's period
    and, under Ofcom, its AMD false-positive estimate.
    """
    if campaign.mode is DialMode.PREVIEW:
        return PreviewPacer()
    if campaign.mode is DialMode.PROGRESSIVE:
        return ProgressivePacer()
    if campaign.mode is DialMode.POWER:
        return PowerPacer(campaign.ratio)
    amd = campaign.amd_false_positive_rate if campaign.regime is DropRegime.OFCOM else 0.0
    options.setdefault("amd_false_positive_rate", amd)
    options.setdefault("window_s", drop_window_s(campaign.regime))
    return PredictivePacer(cap=campaign.drop_cap, **options)  # type: ignore[arg-type]
