"""The call center's books on each live call: the caller, the agent's leg, a consultation.

These are mutable records, not domain values: the runtime updates them as
the media events and the ACD's actions come in, and every part of
:class:`~callcenter_sdk.runtime.CallCenter` reads the same ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import attrs

from .._errors import MediaError, NotFoundError
from ..acd import Contact, Offer
from ..cti import ScreenPop
from ..media import Consultation, EndCause

__all__ = ["sip_user"]

_SIP_USER = re.compile(r"sips?:([^@;>]+)@")

_RECOVERABLE = (NotFoundError, MediaError)
"""A leg vanished or a worker refused: the leg's CallEnded (or the ACD's timer) cleans up."""


def sip_user(uri: str) -> str:
    """The user part of a SIP URI (``sip:+331234@host`` -> ``+331234``), else the URI."""
    match = _SIP_USER.search(uri)
    return match.group(1) if match else uri


@attrs.define
class _AgentLeg:
    offer: Offer
    call_id: str | None = None
    answered: bool = False
    rescinded: bool = False

    def withdrawn(self) -> bool:
        """Whether the ACD rescinded the offer (it may happen during any await)."""
        return self.rescinded


@attrs.define
class _Consult:
    """An attended transfer in progress: who consults whom about which caller."""

    caller: _Caller
    agent_id: str
    target: str
    to_agent: str | None
    consultation: Consultation
    offer: Offer | None = None  # the ACD's transfer offer to ``to_agent``


@attrs.define
class _Caller:
    leg: str
    caller_id: str
    verified: bool = False  # the number was asserted by a trusted trunk, not just claimed
    contact: Contact | None = None
    # ivr -> handover -> queued -> connected -> done; queued -> callback -> dialling ->
    # connected (a callback); connected -> transferred (to an external party) -> done
    phase: str = "ivr"
    gone: bool = False
    topic: str = ""
    agent_leg: _AgentLeg | None = None
    pop: ScreenPop | None = None
    identified: anyio.Event = attrs.Factory(anyio.Event)
    prompt_done: anyio.Event = attrs.Factory(anyio.Event)
    announcing: bool = False
    next_prompts: list[Path | None] = attrs.Factory(list)  # to play instead, on a key press
    ticket_id: str = ""
    agent_id: str = ""
    queue: str = ""
    consult: _Consult | None = None
    contact_id: str = attrs.field(default=attrs.Factory(lambda self: self.leg, takes_self=True))
    callback: str = ""  # the number to call back, once the caller chose to be called back
    apologise: bool = False  # asked the IVR for a callback that could not be promised
    entered_at: float = 0.0  # when the contact entered its queue (a callback keeps that place)
    # the ledger's id: the contact id, except for a callback restored after a restart
    stored_id: str = attrs.field(
        default=attrs.Factory(lambda self: self.contact_id, takes_self=True)
    )
    end_cause: EndCause | None = None
