"""What the campaign core asks its driver to do: dial, ring an agent, bridge, inform, hang up.

Plain frozen values, like the ACD engine's actions: the live :class:`Dialer`
carries them out on a media backend, the simulation on a simulated
telephone network.

.. versionadded:: 0.2
"""

from __future__ import annotations

import attrs

from ._model import Lead

__all__ = ["Bridge", "CampaignAction", "Dial", "Hangup", "PlayInformation", "RingAgent"]


@attrs.frozen(kw_only=True)
class Dial:
    """Place a call to ``lead``.

    Tell the core what became of it: :meth:`CampaignCore.placed` with the
    customer's leg, or :meth:`CampaignCore.dial_failed`.

    Attributes:
        lead: The lead to dial (it has passed the outbound policy).
        agent: The agent dialling it for themself (preview, their own
            callback), held not ready until it is answered; ``None`` for a
            call the pacer placed.
    """

    lead: Lead
    agent: str | None = None


@attrs.frozen(kw_only=True)
class RingAgent:
    """Ring the phone of the agent the ACD offered a call, near the customer's leg.

    Tell the core the agent's leg with :meth:`CampaignCore.agent_rung`, or
    :meth:`CampaignCore.agent_unreachable` when the agent's phone cannot be rung.

    Attributes:
        offer_id: The ACD's offer.
        agent_id: The agent.
        call_id: The customer's leg (an agent's leg belongs with it, in the
            same media worker).
    """

    offer_id: str
    agent_id: str
    call_id: str


@attrs.frozen(kw_only=True)
class Bridge:
    """Join the customer and the agent who answered: the conversation starts.

    Attributes:
        call_id: The customer's leg.
        agent_leg: The agent's leg.
    """

    call_id: str
    agent_leg: str


@attrs.frozen(kw_only=True)
class PlayInformation:
    """Play the campaign's information message to a person no agent took (a drop).

    Attributes:
        call_id: The customer's leg.
        message: The message's text (the recording is the driver's).
    """

    call_id: str
    message: str


@attrs.frozen(kw_only=True)
class Hangup:
    """Hang up a leg, a customer's or an agent's (one already gone is no error).

    Attributes:
        leg: The leg.
    """

    leg: str


CampaignAction = Dial | RingAgent | Bridge | PlayInformation | Hangup
"""What the campaign core asks its driver to do."""
