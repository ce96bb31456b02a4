"""The call center's books on each live call: the caller, the agent's leg, a consultation.

These are mutable records, not domain values: the runtime updates them as
the media events and the ACD's actions come in. Where a call stands is a
:class:`Phase`, moved only along :data:`PHASE_TRANSITIONS` (h11's habit: a
state is an enum with its legal transitions, never a string).
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Mapping
from pathlib import Path

import anyio
import attrs

from .._errors import MediaError, NotFoundError, TransitionError
from ..acd import Contact, Offer
from ..cti import DialPurpose, OutboundGuard, ScreenPop
from ..media import Consultation, EndCause, MediaBackend
from ._config import DialPlan

__all__ = ["PHASE_TRANSITIONS", "Phase", "sip_user"]


class Phase(enum.Enum):
    """Where a call stands in the running center.

    .. versionadded:: 0.2
    """

    IVR = "ivr"
    """In the IVR."""
    HANDOVER = "handover"
    """The IVR chose a queue; the contact is about to join it."""
    QUEUED = "queued"
    """Waiting in a queue, or ringing an agent."""
    CALLBACK = "callback"
    """Off the line: the ACD keeps the caller's place for a callback."""
    DIALLING = "dialling"
    """An agent took the callback: the customer's phone rings."""
    CONNECTED = "connected"
    """Talking to an agent."""
    TRANSFERRED = "transferred"
    """Handed to an outside party by an attended transfer; the agents have left."""
    DONE = "done"
    """Over for the center (its paperwork may still wait for the disposition)."""


PHASE_TRANSITIONS: Mapping[Phase, frozenset[Phase]] = {
    Phase.IVR: frozenset({Phase.HANDOVER, Phase.DONE}),
    Phase.HANDOVER: frozenset({Phase.QUEUED, Phase.DONE}),
    Phase.QUEUED: frozenset({Phase.CALLBACK, Phase.CONNECTED, Phase.DONE}),
    Phase.CALLBACK: frozenset({Phase.DIALLING, Phase.DONE}),
    Phase.DIALLING: frozenset({Phase.CONNECTED, Phase.DONE}),
    Phase.CONNECTED: frozenset({Phase.QUEUED, Phase.TRANSFERRED, Phase.DONE}),
    Phase.TRANSFERRED: frozenset({Phase.DONE}),
    Phase.DONE: frozenset(),
}
"""The phases a call may move to from each phase (a callback restored after a
restart starts in ``CALLBACK``; a transfer back to a queue goes from
``CONNECTED`` to ``QUEUED``)."""

LIVE_PHASES = frozenset(
    {Phase.HANDOVER, Phase.QUEUED, Phase.CONNECTED, Phase.DIALLING, Phase.TRANSFERRED}
)
"""A caller in these phases is on the line (``CALLBACK``: waiting off the line, in the ACD)."""

_SIP_USER = re.compile(r"sips?:([^@;>]+)@")

_RECOVERABLE = (NotFoundError, MediaError)
"""A leg vanished or a worker refused: the leg's CallEnded (or the ACD's timer) cleans up."""


def sip_user(uri: str) -> str:
    """The user part of a SIP URI (``sip:+331234@host`` -> ``+331234``), else the URI."""
    match = _SIP_USER.search(uri)
    return match.group(1) if match else uri


@attrs.define
class AgentLeg:
    offer: Offer
    call_id: str | None = None
    answered: bool = False
    rescinded: bool = False

    def withdrawn(self) -> bool:
        """Whether the ACD rescinded the offer (it may happen during any await)."""
        return self.rescinded


@attrs.define
class Consult:
    """An attended transfer in progress: who consults whom about which caller."""

    caller: Call
    agent_id: str
    target: str
    to_agent: str | None
    consultation: Consultation
    offer: Offer | None = None  # the ACD's transfer offer to ``to_agent``


async def hang_up(backend: MediaBackend, call_id: str) -> None:
    """Hang up a leg that may be gone already (its CallEnded settles the books)."""
    with contextlib.suppress(*_RECOVERABLE):
        await backend.hangup(call_id)


def dial_uri(
    outbound: OutboundGuard,
    plan: DialPlan,
    number: str,
    purpose: DialPurpose,
    *,
    actor: str,
    contact_id: str,
) -> str:
    """The gateway URI to dial ``number`` now, once the outbound policy allows it.

    The dial counts against the policy's caps.

    Raises:
        OutboundDenied: The policy refuses; the refusal is an event.
    """
    e164 = outbound.check(number, purpose, actor=actor, contact_id=contact_id)
    return plan.uri(e164)


@attrs.define
class Call:
    """One customer's call (or callback) through the center: its legs, contact and paperwork."""

    leg: str
    caller_id: str
    verified: bool = False  # the number was asserted by a trusted trunk, not just claimed
    contact: Contact | None = None
    phase: Phase = Phase.IVR
    gone: bool = False
    topic: str = ""
    agent_leg: AgentLeg | None = None
    pop: ScreenPop | None = None
    identified: anyio.Event = attrs.Factory(anyio.Event)
    prompt_done: anyio.Event = attrs.Factory(anyio.Event)
    announcing: bool = False
    next_prompts: list[Path | None] = attrs.Factory(list)  # to play instead, on a key press
    ticket_id: str = ""
    agent_id: str = ""
    queue: str = ""
    consult: Consult | None = None
    contact_id: str = attrs.field(default=attrs.Factory(lambda self: self.leg, takes_self=True))
    callback: str = ""  # the number to call back, once the caller chose to be called back
    apologise: bool = False  # asked the IVR for a callback that could not be promised
    entered_at: float = 0.0  # when the contact entered its queue (a callback keeps that place)
    # the ledger's id: the contact id, except for a callback restored after a restart
    stored_id: str = attrs.field(
        default=attrs.Factory(lambda self: self.contact_id, takes_self=True)
    )
    end_cause: EndCause | None = None
    taken_by: str = ""  # the supervisor's leg, once they took the call over
    campaign: str = ""  # the campaign of the number dialled, when the center knows it

    @property
    def waiting(self) -> bool:
        """Queued with no agent's phone ringing or answered for it yet."""
        return self.phase is Phase.QUEUED and self.agent_leg is None

    def is_in(self, phase: Phase) -> bool:
        """Whether the call is in ``phase`` now (it moves while the runtime awaits)."""
        return self.phase is phase

    def move(self, phase: Phase) -> None:
        """Move to ``phase`` (staying put is allowed).

        Raises:
            TransitionError: ``PHASE_TRANSITIONS`` does not allow it (a bug).
        """
        if phase is not self.phase and phase not in PHASE_TRANSITIONS[self.phase]:
            raise TransitionError(f"call {self.contact_id!r}", self.phase.value, phase.value)
        self.phase = phase

    def ends(self) -> None:
        """The call is over for the center, whatever phase it was in."""
        self.phase = Phase.DONE
