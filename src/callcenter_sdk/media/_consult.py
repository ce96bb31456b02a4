"""Attended (consult) transfer, built on any :class:`MediaBackend`'s primitives.

The agent puts the caller on hold with music, calls the transfer target, and
talks to them privately; then either *completes* (the caller and the target
are joined and the agent's leg hangs up) or *cancels* (the target's leg hangs
up and the caller is back with the agent). Every step is a bridge change in
the one media worker holding the caller (the target's leg is originated
``near=`` the caller), so no SIP REFER is needed and the far ends never see
a transfer: this works with any phone and any trunk, on the pjsua2 pool and
on the virtual backend alike.

The media backend has a single event consumer (the application), so this
object does not wait for the target to answer: the application calls
:meth:`Consultation.target_answered` when it sees the target leg's
``CallAnswered`` (or :meth:`Consultation.cancel` on its ``CallEnded``).

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import enum

import attrs

from .._errors import MediaError, NotFoundError, StateError
from ._protocol import MediaBackend, Prompt

__all__ = ["Consultation", "ConsultationState", "consult"]


class ConsultationState(enum.Enum):
    """Where a consultation stands.

    ``DIALLING``: the caller hears music, the target's phone rings.
    ``TALKING``: the agent and the target talk; the caller still hears music.
    ``COMPLETED``: caller and target joined, the agent's leg is gone.
    ``CANCELLED``: the target's leg is gone, the caller is back with the agent.
    """

    DIALLING = "dialling"
    TALKING = "talking"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@attrs.define
class Consultation:
    """One attended transfer in progress (see :func:`consult`).

    Attributes:
        backend: The backend carrying the three legs.
        caller: The caller's leg (on hold with music during the consultation).
        agent: The transferring agent's leg.
        target: The target's leg, originated beside the caller's.
        state: Where it stands.
    """

    backend: MediaBackend
    caller: str
    agent: str
    target: str
    state: ConsultationState = ConsultationState.DIALLING

    def _expect(self, *states: ConsultationState) -> None:
        if self.state not in states:
            wanted = " or ".join(s.value for s in states)
            raise StateError(f"consultation of {self.caller} is {self.state.value}, not {wanted}")

    async def target_answered(self) -> None:
        """The target answered: join the agent and the target (the caller keeps the music)."""
        self._expect(ConsultationState.DIALLING)
        await self.backend.bridge(self.agent, self.target)
        self.state = ConsultationState.TALKING

    async def complete(self) -> None:
        """Join the caller and the target, then hang up the agent's leg.

        Raises:
            StateError: The target has not answered, or it is already over.
        """
        self._expect(ConsultationState.TALKING)
        with contextlib.suppress(NotFoundError):
            await self.backend.unbridge(self.agent, self.target)
        await self.backend.stop_music_on_hold(self.caller)
        await self.backend.bridge(self.caller, self.target)
        self.state = ConsultationState.COMPLETED
        with contextlib.suppress(NotFoundError, MediaError):  # already gone is fine
            await self.backend.hangup(self.agent)

    async def cancel(self) -> None:
        """Drop the target's leg (ringing or talking) and give the caller back to the agent."""
        self._expect(ConsultationState.DIALLING, ConsultationState.TALKING)
        self.state = ConsultationState.CANCELLED
        with contextlib.suppress(NotFoundError, MediaError):
            await self.backend.unbridge(self.agent, self.target)
            await self.backend.hangup(self.target)
        await self.backend.stop_music_on_hold(self.caller)
        await self.backend.bridge(self.caller, self.agent)


async def consult(
    backend: MediaBackend,
    *,
    caller: str,
    agent: str,
    target_uri: str,
    hold_music: Prompt | None = None,
    caller_id: str | None = None,
) -> Consultation:
    """Start an attended transfer: the caller goes on hold with music, the target is called.

    Args:
        backend: Any media backend.
        caller: The caller's leg, bridged to ``agent``.
        agent: The transferring agent's leg.
        target_uri: Who to transfer to (another agent's device, an external number).
        hold_music: What the caller hears meanwhile (the backend's default when ``None``).
        caller_id: The identity the target sees (the caller's number, say).

    Returns:
        The :class:`Consultation`; call its :meth:`~Consultation.target_answered`
        when the target's leg is answered.
    """
    await backend.unbridge(caller, agent)
    await backend.start_music_on_hold(caller, hold_music)
    try:
        target = await backend.originate(target_uri, caller_id=caller_id, near=caller)
    except (MediaError, NotFoundError):
        with contextlib.suppress(NotFoundError, MediaError):
            await backend.stop_music_on_hold(caller)
            await backend.bridge(caller, agent)
        raise
    return Consultation(backend, caller, agent, target)
