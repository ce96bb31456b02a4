"""Compliance: may this lead be dialled now? A pure function of the lead, its history and time.

Every rule that keeps a campaign legal is checked here, before each dial,
and nowhere else, so the property tests that hold this filter to its promises
(no call outside the window, no do-not-call number, attempts bounded, retry
delay respected) hold for every dial mode and driver:

* do-not-call lists, global and per campaign;
* consent flags, when the campaign requires consent;
* at most ``max_attempts`` dials per lead;
* at least ``min_retry_s`` between two dials of a lead;
* no redial of a dropped number for 72 hours under the Ofcom profile;
* calling windows in the lead's local time (``zoneinfo``), per campaign and country.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from collections.abc import Iterable
from functools import lru_cache

import attrs

from ._model import Campaign, Lead

__all__ = ["Compliance", "DoNotCallList", "LeadHistory", "Refusal", "Verdict"]


class Refusal(enum.StrEnum):
    """Why a lead may not be dialled now."""

    DO_NOT_CALL = "do_not_call"
    NO_CONSENT = "no_consent"
    MAX_ATTEMPTS = "max_attempts"
    RETRY_DELAY = "retry_delay"
    DROP_QUARANTINE = "drop_quarantine"
    OUTSIDE_WINDOW = "outside_window"
    OUTBOUND_POLICY = "outbound_policy"
    """The outbound policy refused the number (a denied or not allowed range).

    Not decided by :class:`Compliance`: the dialer's :class:`~callcenter_sdk.cti.OutboundGuard`
    refuses the lead when it is about to be dialled.

    .. versionadded:: 0.2
    """


@attrs.frozen(kw_only=True)
class LeadHistory:
    """What the dialer remembers of a lead's past dials.

    Attributes:
        attempts: Dials placed so far.
        last_attempt_at: When the last dial was placed, or ``None``.
        last_drop_at: When the lead was last dropped (abandoned), or ``None``.
    """

    attempts: int = 0
    last_attempt_at: float | None = None
    last_drop_at: float | None = None

    def dialled(self, at: float, *, dropped: bool = False) -> LeadHistory:
        """The history after one more dial at ``at``."""
        return LeadHistory(
            attempts=self.attempts + 1,
            last_attempt_at=at,
            last_drop_at=at if dropped else self.last_drop_at,
        )


@attrs.frozen
class Verdict:
    """The filter's answer for one lead at one time.

    Attributes:
        refusal: Why the lead may not be dialled, or ``None`` if it may.
        not_before: The earliest time the lead may be asked about again;
            ``None`` when refused for good (do-not-call, attempts used up).
    """

    refusal: Refusal | None
    not_before: float | None = None

    @property
    def allowed(self) -> bool:
        """The lead may be dialled now."""
        return self.refusal is None


ALLOWED = Verdict(None)
_MAX_DST_STEPS = 24 * 60


class DoNotCallList:
    """Numbers that must never be dialled: one global list and one per campaign.

    Numbers are E.164 strings; normalise them with
    :func:`callcenter_sdk.cti.to_e164` first (see :func:`import_do_not_call`).
    """

    def __init__(self, numbers: Iterable[str] = ()) -> None:
        self._global: set[str] = set(numbers)
        self._campaigns: dict[str, set[str]] = {}

    def add(self, phone: str, *, campaign: str | None = None) -> None:
        """Add ``phone`` to the global list, or to ``campaign``'s list."""
        if campaign is None:
            self._global.add(phone)
        else:
            self._campaigns.setdefault(campaign, set()).add(phone)

    def discard(self, phone: str, *, campaign: str | None = None) -> None:
        """Remove ``phone`` from the global list or ``campaign``'s list (no error if absent)."""
        if campaign is None:
            self._global.discard(phone)
        else:
            self._campaigns.get(campaign, set()).discard(phone)

    def blocks(self, phone: str, campaign: str) -> bool:
        """Whether ``phone`` may not be dialled for ``campaign``."""
        return phone in self._global or phone in self._campaigns.get(campaign, ())

    def numbers(self, campaign: str | None = None) -> frozenset[str]:
        """The global list, or ``campaign``'s own list."""
        if campaign is None:
            return frozenset(self._global)
        return frozenset(self._campaigns.get(campaign, ()))

    def campaigns(self) -> list[str]:
        """The campaigns that have a list of their own."""
        return sorted(c for c, numbers in self._campaigns.items() if numbers)

    def __len__(self) -> int:
        return len(self._global) + sum(len(s) for s in self._campaigns.values())


@lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


class Compliance:
    """The compliance filter of one campaign.

    Args:
        campaign: Its windows, attempt caps, retry delay and regime.
        do_not_call: The do-not-call lists (an empty one by default).
    """

    def __init__(self, campaign: Campaign, do_not_call: DoNotCallList | None = None) -> None:
        self._campaign = campaign
        self._dnc = do_not_call if do_not_call is not None else DoNotCallList()

    @property
    def campaign(self) -> Campaign:
        """The campaign whose rules apply."""
        return self._campaign

    @property
    def do_not_call(self) -> DoNotCallList:
        """The do-not-call lists consulted."""
        return self._dnc

    def check(self, lead: Lead, history: LeadHistory, now: float) -> Verdict:
        """May ``lead`` be dialled at ``now`` (seconds since the epoch)?

        Permanent refusals come first, then the earliest time the lead may be
        reconsidered: the later of the retry delay, the drop quarantine and the
        next opening of its calling window.
        """
        c = self._campaign
        refusal = self.refusal(lead, history)
        if refusal is not None:
            return Verdict(refusal)
        if history.last_drop_at is not None and c.drop_quarantine_s > 0:
            until = history.last_drop_at + c.drop_quarantine_s
            if now < until:
                return Verdict(Refusal.DROP_QUARANTINE, self._open_at(lead, until))
        if history.last_attempt_at is not None:
            until = history.last_attempt_at + c.min_retry_s
            if now < until:
                return Verdict(Refusal.RETRY_DELAY, self._open_at(lead, until))
        opens = self._open_at(lead, now)
        if opens > now:
            return Verdict(Refusal.OUTSIDE_WINDOW, opens)
        return ALLOWED

    def refusal(self, lead: Lead, history: LeadHistory) -> Refusal | None:
        """The permanent reason ``lead`` may never be dialled again, if any."""
        c = self._campaign
        if self._dnc.blocks(lead.phone, c.name):
            return Refusal.DO_NOT_CALL
        if lead.consent is False or (c.require_consent and lead.consent is not True):
            return Refusal.NO_CONSENT
        if history.attempts >= c.max_attempts:
            return Refusal.MAX_ATTEMPTS
        return None

    def in_window(self, lead: Lead, at: float) -> bool:
        """Whether ``at`` falls inside the lead's calling window (its local time)."""
        local = dt.datetime.fromtimestamp(at, _zone(lead.timezone))
        return self._campaign.window_for(lead.country).allows(local)

    def _open_at(self, lead: Lead, at: float) -> float:
        """The first time at or after ``at`` inside the lead's window."""
        window = self._campaign.window_for(lead.country)
        zone = _zone(lead.timezone)
        local = dt.datetime.fromtimestamp(at, zone)
        if window.allows(local):
            return at
        opens = window.next_open(local)
        # A DST gap can make the wall time not exist; step forward until it is real.
        when = opens.timestamp()
        for _ in range(_MAX_DST_STEPS):
            if window.allows(dt.datetime.fromtimestamp(when, zone)):
                break
            when += 60.0
        return max(when, at)
