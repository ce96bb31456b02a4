"""The outbound policy: which numbers the center may dial, and how often.

Every number a call center dials costs money and can be abused: a caller who
asserts a premium or satellite number and asks to be called back, an agent
who transfers a friend abroad, a campaign list with a surcharged range in it.
So every dial — a callback, a click-to-dial, a transfer out, a campaign call —
goes through one :class:`OutboundGuard`, which applies one
:class:`OutboundPolicy`:

1. the number is read in E.164 (in the policy's region when it has no prefix);
2. a **denied** pattern refuses it (premium, shared-cost and satellite ranges
   by default: :data:`DENIED_BY_DEFAULT`), whatever else allows it;
3. an **allowed** pattern must match it (none by default: a center that never
   said where it dials, dials nowhere);
4. **caps**: at most ``per_number_per_hour`` dials to one number and
   ``per_hour`` dials in all over any sliding hour.

A refusal raises :class:`OutboundDenied` and publishes an
:class:`OutboundRefused` event saying who asked, for which contact and why.
The guard is pure bookkeeping over an injected clock: the runtime, the
dialer and the simulator share it.

.. versionadded:: 0.2
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from .._clock import Clock
from .._errors import PermissionDenied, ValidationError
from .._events import Event, EventStream
from ._phone import to_e164

__all__ = [
    "DENIED_BY_DEFAULT",
    "DialPurpose",
    "OutboundDenied",
    "OutboundGuard",
    "OutboundPolicy",
    "OutboundRefused",
]

DENIED_BY_DEFAULT: tuple[str, ...] = (
    r"\+87[0-9]\d*",  # Inmarsat (+870) and the other +87x maritime and satellite codes
    r"\+88[1-3]\d*",  # global satellite (+881) and international networks (+882, +883)
    r"\+979\d*",  # international premium-rate service
    r"\+808\d*",  # international shared-cost service
    r"\+1(900|976)\d*",  # North American premium rate
    r"\+449[0-8]\d*",  # United Kingdom premium rate (09x)
    r"\+338[1-29]\d*",  # France: surcharged 081, 082 and premium 089
    r"\+49(900|137)\d*",  # Germany: premium rate and mass-traffic numbers
    r"\+34(80[3-7]|90[5-7])\d*",  # Spain: premium rate
)
"""Ranges refused unless a deployment removes them: satellite, premium and shared cost.

Each is a regular expression fully matched against the E.164 number. They
are the ranges toll fraud goes for: calls to them pay the callee.
"""

_WINDOW = 3600.0
"""The caps count dials over any sliding hour."""


class DialPurpose(enum.Enum):
    """Why the center dials a number: every refusal says which."""

    CALLBACK = "callback"
    CLICK_TO_DIAL = "click-to-dial"
    TRANSFER = "transfer"
    CAMPAIGN = "campaign"


class OutboundDenied(PermissionDenied):
    """The outbound policy refused to dial a number (not allowed, denied range, over a cap).

    Attributes:
        number: The number as it was asked for.
        reason: ``"not-a-number"``, ``"denied"``, ``"not-allowed"``,
            ``"number-cap"`` or ``"hourly-cap"``.
    """

    def __init__(self, message: str, *, number: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.number = number
        self.reason = reason


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    patterns = tuple(values)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(f"dial pattern {pattern!r} is not a regex: {exc}") from None
    return patterns


def _cap(_instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValidationError(f"{attribute.name} must be at least 1 or None, got {value}")


@attrs.frozen(kw_only=True)
class OutboundPolicy:
    r"""Where the center may dial, as data: patterns, denied ranges and caps.

    Attributes:
        allowed: Regular expressions; a number may be dialled only when its
            E.164 form fully matches one (``r"\+33[1-5]\d{8}"``: French
            landlines). None by default: nothing is dialled.
        denied: Regular expressions refused even when ``allowed`` matches
            (:data:`DENIED_BY_DEFAULT`: satellite, premium, shared cost).
        per_number_per_hour: Dials to one number over any sliding hour
            (``None``: no cap). Three by default: a callback, a retry, a
            click-to-dial.
        per_hour: Dials in all over any sliding hour (``None``: no cap).
        region: The country assumed for numbers written without a prefix.
    """

    allowed: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    denied: tuple[str, ...] = attrs.field(default=DENIED_BY_DEFAULT, converter=_patterns)
    per_number_per_hour: int | None = attrs.field(default=3, validator=_cap)
    per_hour: int | None = attrs.field(default=3600, validator=_cap)
    region: str = "FR"

    def judge(self, number: str) -> str:
        """The E.164 form of ``number`` if its range may be dialled (caps not counted).

        Raises:
            OutboundDenied: Not a phone number, in a denied range, or not allowed.
        """
        try:
            e164 = to_e164(number, self.region)
        except ValidationError as exc:
            raise OutboundDenied(str(exc), number=number, reason="not-a-number") from None
        for pattern in self.denied:
            if re.fullmatch(pattern, e164):
                raise OutboundDenied(
                    f"{number!r} ({e164}) is in a denied range ({pattern})",
                    number=number,
                    reason="denied",
                )
        if not any(re.fullmatch(p, e164) for p in self.allowed):
            allowed = ", ".join(self.allowed) or "none"
            raise OutboundDenied(
                f"{number!r} ({e164}) is not allowed by the outbound policy (allowed: {allowed})",
                number=number,
                reason="not-allowed",
            )
        return e164


@attrs.frozen(kw_only=True)
class OutboundRefused(Event):
    """The outbound policy refused a dial; nothing was dialled.

    Attributes:
        number: The number as asked for (at most 64 characters of it).
        purpose: Why it was to be dialled (a :class:`DialPurpose` value).
        reason: The refusal (see :attr:`OutboundDenied.reason`).
        actor: The person or part that asked (an agent id, ``"ivr"``, a campaign).
        contact_id: The contact it was for, if any.
    """

    kind: ClassVar[str] = "cti.outbound_refused"

    number: str
    purpose: str
    reason: str
    actor: str = ""
    contact_id: str = ""


class OutboundGuard:
    """Applies an :class:`OutboundPolicy` to every dial and counts them against its caps.

    Memory is bounded: only dials of the last hour are kept, so at most
    ``per_hour`` of them (or as many as were dialled in an hour without a cap).

    Args:
        policy: The rules.
        clock: The time the caps are counted in.
        events: Where refusals are published (none when ``None``).
    """

    def __init__(
        self, policy: OutboundPolicy, *, clock: Clock, events: EventStream | None = None
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._events = events
        self._all: deque[float] = deque()
        self._by_number: dict[str, deque[float]] = {}

    def check(
        self,
        number: str,
        purpose: DialPurpose,
        *,
        actor: str = "",
        contact_id: str = "",
        count: bool = True,
    ) -> str:
        """Return the E.164 number to dial, counting the dial against the caps.

        Args:
            number: The number asked for, in any usual form.
            purpose: Why it is dialled.
            actor: Who asks (for the refusal event).
            contact_id: The contact it is for (for the refusal event).
            count: Count the dial; ``False`` only asks whether it would be
                allowed now (a callback being promised, dialled later).

        Raises:
            OutboundDenied: The policy refuses; an :class:`OutboundRefused`
                event was published.
        """
        try:
            e164 = self.policy.judge(number)
            self._within_caps(e164)
        except OutboundDenied as exc:
            if self._events is not None:
                self._events.publish(
                    OutboundRefused(
                        at=self._clock.now(),
                        number=number[:64],
                        purpose=purpose.value,
                        reason=exc.reason,
                        actor=actor,
                        contact_id=contact_id,
                    )
                )
            raise
        if count:
            now = self._clock.now()
            self._all.append(now)
            self._by_number.setdefault(e164, deque()).append(now)
        return e164

    def dialled(self, number: str) -> int:
        """How many dials to ``number`` (E.164) count against its cap now."""
        self._forget_old()
        return self._recent(number)

    def _recent(self, e164: str) -> int:
        times = self._by_number.get(e164)
        if times is None:
            return 0
        horizon = self._clock.now() - _WINDOW
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def _within_caps(self, e164: str) -> None:
        self._forget_old()
        policy = self.policy
        cap = policy.per_number_per_hour
        if cap is not None and self._recent(e164) >= cap:
            raise OutboundDenied(
                f"{e164} was dialled {cap} times in the last hour",
                number=e164,
                reason="number-cap",
            )
        if policy.per_hour is not None and len(self._all) >= policy.per_hour:
            raise OutboundDenied(
                f"{policy.per_hour} numbers were dialled in the last hour",
                number=e164,
                reason="hourly-cap",
            )

    def _forget_old(self) -> None:
        horizon = self._clock.now() - _WINDOW
        while self._all and self._all[0] <= horizon:
            self._all.popleft()
        if len(self._by_number) > len(self._all):  # some numbers hold only old dials
            for number in list(self._by_number):
                times = self._by_number[number]
                while times and times[0] <= horizon:
                    times.popleft()
                if not times:
                    del self._by_number[number]
