"""What the engine asks the outside world to do.

The engine performs nothing: each input returns a list of these actions for
the runtime (or the simulator, or a test) to carry out — ring an agent, stop
ringing, bridge, announce, send a contact to voicemail. Timers are not
actions: the caller asks :meth:`Engine.next_deadline` and calls
:meth:`Engine.tick` then.

.. versionadded:: 0.1
"""

from __future__ import annotations

import attrs

from ._model import OverflowTarget

__all__ = ["Action", "Announce", "Connect", "Divert", "Offer", "Release", "Rescind"]


@attrs.frozen(kw_only=True)
class Offer:
    """Ring ``agent_id`` with ``contact_id``; answer with accept/reject by ``offer_id``.

    When ``callback`` is set, the customer is not on the line: the contact is
    a queued callback (see :meth:`Engine.keep_place_for_callback
    <callcenter_sdk.acd.Engine.keep_place_for_callback>`). The runtime rings the
    agent as usual; once the agent accepts, it calls ``callback`` and reports
    :meth:`~callcenter_sdk.acd.Engine.connected` when the customer answers, or
    :meth:`~callcenter_sdk.acd.Engine.callback_failed` when they cannot be
    reached.

    Attributes:
        offer_id: The offer's id.
        contact_id: The contact.
        agent_id: The agent.
        queue: The queue.
        expires_at: When the engine counts it as not answered.
        callback: The number to call the customer back on; ``""`` for a
            customer who is waiting on the line (or in a chat, a mailbox).
        transfer_from: For a transfer to this agent
            (:meth:`Engine.transfer_to_agent
            <callcenter_sdk.acd.Engine.transfer_to_agent>`), the agent who is
            still connected to the customer; ``""`` for a queue offer.
    """

    offer_id: str
    contact_id: str
    agent_id: str
    queue: str
    expires_at: float
    callback: str = ""
    transfer_from: str = ""


@attrs.frozen(kw_only=True)
class Rescind:
    """Stop ringing ``agent_id``: the offer is withdrawn.

    Attributes:
        offer_id: The offer.
        contact_id: The contact.
        agent_id: The agent.
    """

    offer_id: str
    contact_id: str
    agent_id: str


@attrs.frozen(kw_only=True)
class Connect:
    """Bridge the contact with the agent who accepted; report back with ``connected``.

    Attributes:
        contact_id: The contact.
        agent_id: The agent.
    """

    contact_id: str
    agent_id: str


@attrs.frozen(kw_only=True)
class Announce:
    """Tell the waiting customer their position and estimated wait.

    Attributes:
        contact_id: The contact.
        queue: The queue.
        position: 1-based position.
        estimated_wait: Seconds.
    """

    contact_id: str
    queue: str
    position: int
    estimated_wait: float


@attrs.frozen(kw_only=True)
class Divert:
    """Send the contact out of the ACD: a callback offer, voicemail or a ticket.

    Attributes:
        contact_id: The contact.
        queue: The queue it left.
        target: Callback, voicemail or ticket.
        reason: ``"max-wait"``, ``"full"``, ``"join-empty"`` or ``"leave-empty"``.
    """

    contact_id: str
    queue: str
    target: OverflowTarget
    reason: str


@attrs.frozen(kw_only=True)
class Release:
    """End the contact: the queue gave up and had nowhere to send it.

    Attributes:
        contact_id: The contact.
        queue: The queue.
        reason: ``"max-wait"``, ``"full"``, ``"join-empty"`` or ``"leave-empty"``.
    """

    contact_id: str
    queue: str
    reason: str


Action = Offer | Rescind | Connect | Announce | Divert | Release
"""Any action the engine returns."""
