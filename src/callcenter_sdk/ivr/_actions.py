"""What the IVR engine asks its driver to do, as plain frozen values.

The engine never plays or listens itself (sans-IO, like the ACD): each input
returns a list of these actions. At most one of them waits for an answer
(:class:`PlayPrompts`, :class:`CollectDigits`, :class:`RecordVoicemail`), and
it is always the last; the driver carries it out and feeds the result back.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from ..acd import Contact, SkillRequirement
from ._prompts import PromptRef

__all__ = [
    "CollectDigits",
    "HangUp",
    "IvrAction",
    "PlayPrompts",
    "RecordVoicemail",
    "RequestCallback",
    "SetVariables",
    "TransferToQueue",
    "VoicemailLeft",
]


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _frozen_levels(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class PlayPrompts:
    """Play these prompts in order; answer with ``prompts_finished()``.

    Attributes:
        prompts: The prompts, each pinned to the language to play it in.
    """

    prompts: tuple[PromptRef, ...]


@attrs.frozen(kw_only=True)
class CollectDigits:
    """Play ``prompts`` then collect keys; answer with ``digits_collected(digits)``.

    Attributes:
        prompts: Played first (a key pressed during them stops them when ``barge_in``).
        max_digits: Stop at this many keys.
        terminator: A key that ends the entry (``""``: none); it is not part of the digits.
        first_digit_timeout: Seconds to wait for the first key once the prompts end.
        inter_digit_timeout: Seconds to wait for each further key.
        barge_in: Whether keys stop the prompts.
    """

    prompts: tuple[PromptRef, ...]
    max_digits: int
    terminator: str
    first_digit_timeout: float
    inter_digit_timeout: float
    barge_in: bool = True


@attrs.frozen(kw_only=True)
class RecordVoicemail:
    """Record the caller's message; answer with ``voicemail_finished(path, seconds)``.

    Attributes:
        max_seconds: Stop recording after this long.
        terminator: The key that ends the message (``""``: none).
    """

    max_seconds: float
    terminator: str


@attrs.frozen(kw_only=True)
class SetVariables:
    """The flow set variables (already applied to the session; for logs and CTI).

    Attributes:
        values: The variables set, with their new values.
    """

    values: Mapping[str, str] = attrs.field(converter=_frozen)


@attrs.frozen(kw_only=True)
class _Routed:
    """A contact for an ACD queue, as the flow describes it."""

    queue: str
    priority: int
    skills: Mapping[str, int] = attrs.field(converter=_frozen_levels)
    attributes: Mapping[str, str] = attrs.field(converter=_frozen)

    def contact(self, contact_id: str, *, caller_id: str = "", dialled: str = "") -> Contact:
        """The :class:`~callcenter_sdk.acd.Contact` to hand to the ACD's ``arrive``."""
        return Contact(
            id=contact_id,
            caller_id=caller_id,
            dialled=dialled,
            priority=self.priority,
            requirements=tuple(SkillRequirement(s, lvl) for s, lvl in self.skills.items()),
            attributes=dict(self.attributes),
        )


@attrs.frozen(kw_only=True)
class TransferToQueue(_Routed):
    """Hand the call to the ACD: the IVR is done and the call stays up.

    Attributes:
        queue: The ACD queue.
        priority: The contact's priority.
        skills: Required skills, skill -> minimum level.
        attributes: Contact attributes (``"$var"`` values already replaced).
    """


@attrs.frozen(kw_only=True)
class RequestCallback(_Routed):
    """The caller accepted a callback: queue one to ``number``; the call will be hung up.

    Attributes:
        queue: The ACD queue the callback waits in.
        priority: Its priority.
        skills: Required skills.
        attributes: Contact attributes.
        number: The number to call back.
    """

    number: str


@attrs.frozen(kw_only=True)
class VoicemailLeft:
    """The caller left a message: make it a ticket.

    Attributes:
        path: The recording's file.
        seconds: Its length.
        ticket: The flow's ticket fields (``subject``, ``category``...), variables replaced.
        caller_id: The caller's number.
    """

    path: str
    seconds: float
    ticket: Mapping[str, str] = attrs.field(converter=_frozen)
    caller_id: str


@attrs.frozen(kw_only=True)
class HangUp:
    """The flow is over: hang up (the caller hung up first when ``by_caller``).

    Attributes:
        reason: Why (a hangup node's reason, ``"callback"``, ``"voicemail"``, ``"caller"``).
        by_caller: The caller ended the call while in the IVR (an IVR abandon).
    """

    reason: str
    by_caller: bool = False


IvrAction = (
    PlayPrompts | CollectDigits | RecordVoicemail | SetVariables | TransferToQueue
    | RequestCallback | VoicemailLeft | HangUp
)  # fmt: skip
"""Anything the engine asks for."""
