"""Events the dialer publishes: dials, their results, drops and survey answers.

They go on the same :class:`~callcenter_sdk.EventStream` as the ACD's, so
the store's event log keeps the dialer's history with everything else.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from .._events import Event
from ._model import CallResult

__all__ = ["AnswerRecorded", "CallDropped", "CallPlaced", "CallResulted", "LeadDisposed"]


@attrs.frozen(kw_only=True)
class CallPlaced(Event):
    """The dialer placed a call.

    Attributes:
        call_id: The call (also the ACD contact id if it is answered live).
        lead_id: The lead dialled.
        campaign: Its campaign.
        phone: The number dialled (E.164).
        agent_id: The agent who dialled (preview, owned callback), or ``""``.
    """

    kind: ClassVar[str] = "dialer.call_placed"
    call_id: str
    lead_id: str
    campaign: str
    phone: str
    agent_id: str = ""


@attrs.frozen(kw_only=True)
class CallResulted(Event):
    """A placed call came to a result.

    Attributes:
        call_id: The call.
        lead_id: The lead.
        campaign: Its campaign.
        result: Connected, dropped, no answer, busy, machine or invalid.
    """

    kind: ClassVar[str] = "dialer.call_resulted"
    call_id: str
    lead_id: str
    campaign: str
    result: CallResult = attrs.field(converter=CallResult)


@attrs.frozen(kw_only=True)
class CallDropped(Event):
    """A live person was released with no agent; the information message was played.

    Attributes:
        call_id: The call.
        campaign: Its campaign.
        message: The text of the information message played.
    """

    kind: ClassVar[str] = "dialer.call_dropped"
    call_id: str
    campaign: str
    message: str


@attrs.frozen(kw_only=True)
class LeadDisposed(Event):
    """An agent gave a connected lead its disposition.

    Attributes:
        lead_id: The lead.
        campaign: Its campaign.
        agent_id: The agent.
        code: The disposition code.
        converted: Whether the code counts as a conversion.
        callback_at: When the requested callback is due, for callback codes.
        callback_agent: The agent who owns that callback (``""``: anyone).
    """

    kind: ClassVar[str] = "dialer.lead_disposed"
    lead_id: str
    campaign: str
    agent_id: str
    code: str
    converted: bool
    callback_at: float | None = None
    callback_agent: str = ""


@attrs.frozen(kw_only=True)
class AnswerRecorded(Event):
    """A survey or script answer was recorded during a call.

    Attributes:
        questionnaire: The questionnaire's name.
        contact_id: The call it was asked on.
        lead_id: The lead who answered.
        question: The question's id.
        value: The answer, as text.
    """

    kind: ClassVar[str] = "dialer.answer_recorded"
    questionnaire: str
    contact_id: str
    lead_id: str
    question: str
    value: str
