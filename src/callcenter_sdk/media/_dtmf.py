"""Digit collection shared by every backend: type-ahead buffer plus timeouts.

A caller often presses keys before the prompt that asks for them ends, so
digits are buffered per call from the moment they arrive and a collection
consumes them. Timeouts come from a backend-supplied timer, so the same rules
run on real time (the worker pool) and on virtual time (the virtual backend).

The buffer is bounded (:data:`DIGIT_BUFFER_LIMIT`, 64 keys): a caller holding
a key down, a phone stuck sending, or a flood of RFC 2833 events while no
collection is running (the caller waits in a queue) must not grow memory for
the whole call. When full, the oldest key is dropped: the newest keys are the
ones a later collection should see. Drops are counted and logged once per call.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import anyio

from .._errors import ValidationError

__all__ = ["DIGIT_BUFFER_LIMIT", "DigitBuffer", "StartTimer"]

_log = logging.getLogger(__name__)

DIGIT_BUFFER_LIMIT = 64
"""Keys a call keeps while no collection takes them; older ones are dropped beyond."""

StartTimer = Callable[[float, Callable[[], None]], Callable[[], None]]
"""``start_timer(seconds, fire)`` runs ``fire`` after ``seconds``; returns a cancel function."""


class DigitBuffer:
    """The digits a call has sent and not yet consumed, at most ``limit`` of them.

    Args:
        limit: How many keys to keep; when full, the oldest is dropped.
        name: Names the call in the log line about dropped keys.

    Attributes:
        dropped: How many keys were dropped because the buffer was full.
    """

    def __init__(self, *, limit: int = DIGIT_BUFFER_LIMIT, name: str = "") -> None:
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}")
        self._digits: deque[str] = deque(maxlen=limit)
        self._name = name
        self._closed = False
        self._changed = anyio.Event()
        self.dropped = 0

    def push(self, digit: str) -> None:
        """Add a received digit (dropping the oldest when full) and wake a waiting collection."""
        if len(self._digits) == self._digits.maxlen:
            self.dropped += 1
            if self.dropped == 1:
                _log.warning(
                    "DTMF buffer%s full (%d keys nobody collected): dropping the oldest keys",
                    f" of call {self._name}" if self._name else "",
                    self._digits.maxlen,
                )
        self._digits.append(digit)
        self._wake()

    def close(self) -> None:
        """The call ended: a waiting collection returns what it has."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def collect(
        self,
        *,
        max_digits: int,
        first_digit_timeout: float,
        inter_digit_timeout: float | None,
        terminators: str,
        start_timer: StartTimer,
    ) -> str:
        """Consume digits until ``max_digits``, a terminator, a timeout or the call's end."""
        if max_digits < 1:
            raise ValidationError(f"max_digits must be at least 1, got {max_digits}")
        got = ""
        limit = first_digit_timeout
        while True:
            while self._digits:
                digit = self._digits.popleft()
                if digit in terminators:
                    return got
                got += digit
                if len(got) >= max_digits:
                    return got
                limit = first_digit_timeout if inter_digit_timeout is None else inter_digit_timeout
            if self._closed:
                return got
            fired = False

            def fire() -> None:
                nonlocal fired
                fired = True
                self._wake()

            changed = self._changed
            cancel = start_timer(limit, fire)
            try:
                await changed.wait()
            finally:
                cancel()
            if fired and not self._digits:
                return got
