"""Digit collection shared by every backend: type-ahead buffer plus timeouts.

A caller often presses keys before the prompt that asks for them ends, so
digits are buffered per call from the moment they arrive and a collection
consumes them. Timeouts come from a backend-supplied timer, so the same rules
run on real time (the worker pool) and on virtual time (the virtual backend).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from .._errors import ValidationError

__all__ = ["DigitBuffer", "StartTimer"]

StartTimer = Callable[[float, Callable[[], None]], Callable[[], None]]
"""``start_timer(seconds, fire)`` runs ``fire`` after ``seconds``; returns a cancel function."""


class DigitBuffer:
    """The digits a call has sent and not yet consumed."""

    def __init__(self) -> None:
        self._digits: list[str] = []
        self._closed = False
        self._changed = anyio.Event()

    def push(self, digit: str) -> None:
        """Add a received digit and wake a waiting collection."""
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
                digit = self._digits.pop(0)
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
