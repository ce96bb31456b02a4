r"""KPIs of written conversations: e-mail, chat, SMS and social messages.

A message-based contact is judged on how soon the customer got a first
answer, how soon their problem was solved, and how many messages it took —
not on a wait in queue. Each conversation is one :class:`ConversationRecord`
(folded from the event log by :func:`callcenter_sdk.runtime.conversation_records`).

Definitions (``C`` the conversations of a channel, ``R ⊆ C`` those with a
first response, ``T`` the threshold, ``now`` the time the figure is taken):

- first response time = mean over ``R`` of ``first_response_at − arrived_at``;
- service level on first response =
  ``|{c ∈ R : first response ≤ T}| / (|R| + |{c ∈ C \\ R : now − arrived_at > T}|)``
  (a conversation still unanswered past ``T`` counts as missed; one younger than
  ``T`` is not counted yet);
- resolution time = mean over the resolved ones of ``resolved_at − arrived_at``;
- messages per conversation = mean of ``messages`` (both directions).

Each is ``None`` when no conversation qualifies.

.. versionadded:: 0.2
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from .._errors import ValidationError
from ._records import Channel

__all__ = [
    "ConversationRecord",
    "first_response_service_level",
    "first_response_time",
    "messages_per_conversation",
    "resolution_time",
]


def _time(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValidationError(f"a time is a finite number, got {value!r}")
    return value


@attrs.frozen(kw_only=True)
class ConversationRecord:
    """One written conversation, from the customer's first message to its resolution.

    Attributes:
        contact_id: The contact carrying it.
        channel: E-mail, chat, SMS or social.
        arrived_at: When the customer's first message reached the center.
        first_response_at: When an agent first answered, ``None`` if not yet.
        resolved_at: When its ticket was resolved, ``None`` if not yet.
        messages: Messages exchanged, both directions (at least the first).
        queue: The queue it was routed through.
    """

    contact_id: str
    channel: Channel = attrs.field(converter=Channel)
    arrived_at: float = attrs.field(converter=float)
    first_response_at: float | None = attrs.field(default=None, converter=_time)
    resolved_at: float | None = attrs.field(default=None, converter=_time)
    messages: int = 1
    queue: str = ""

    def __attrs_post_init__(self) -> None:
        for name in ("first_response_at", "resolved_at"):
            at = getattr(self, name)
            if at is not None and at < self.arrived_at:
                raise ValidationError(f"{name} {at} is before the arrival {self.arrived_at}")
        if self.messages < 1:
            raise ValidationError(f"a conversation has at least one message, got {self.messages}")

    @property
    def first_response(self) -> float | None:
        """Seconds from arrival to the first answer, ``None`` if unanswered."""
        at = self.first_response_at
        return None if at is None else at - self.arrived_at

    @property
    def resolution(self) -> float | None:
        """Seconds from arrival to resolution, ``None`` if unresolved."""
        at = self.resolved_at
        return None if at is None else at - self.arrived_at


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def first_response_time(records: Iterable[ConversationRecord]) -> float | None:
    """Mean seconds to the first answer, over the conversations answered."""
    return _mean(r.first_response for r in records)


def resolution_time(records: Iterable[ConversationRecord]) -> float | None:
    """Mean seconds to resolution, over the conversations resolved."""
    return _mean(r.resolution for r in records)


def messages_per_conversation(records: Iterable[ConversationRecord]) -> float | None:
    """Mean messages exchanged per conversation."""
    return _mean(float(r.messages) for r in records)


def first_response_service_level(
    records: Iterable[ConversationRecord], *, threshold: float, now: float
) -> float | None:
    """Share of conversations first answered within ``threshold`` seconds.

    Unanswered conversations older than ``threshold`` at ``now`` count as
    missed; younger ones are not counted yet (they may still make it).

    Raises:
        ValidationError: ``threshold`` is negative or not finite.
    """
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValidationError(f"threshold is a number of seconds >= 0, got {threshold!r}")
    within = counted = 0
    for r in records:
        wait = r.first_response
        if wait is not None:
            counted += 1
            within += wait <= threshold
        elif now - r.arrived_at > threshold:
            counted += 1
    return within / counted if counted else None
