"""Campaign dials pass the center's one outbound policy, live and simulated.

Every number a campaign dials goes through an
:class:`~callcenter_sdk.cti.OutboundGuard` just before it is dialled, like a
callback, a click-to-dial or a transfer: a lead list with a premium or
satellite number in it costs nothing. What becomes of a refused lead depends
on why (:attr:`OutboundDenied.reason <callcenter_sdk.cti.OutboundDenied.reason>`);
the :class:`CampaignCore` decides it:

* ``denied``, ``not-allowed``, ``not-a-number``: the number may never be
  dialled; the lead is taken out of the campaign, ``refused`` with
  :attr:`Refusal.OUTBOUND_POLICY <callcenter_sdk.dialer.Refusal.OUTBOUND_POLICY>`;
* ``number-cap``: the number was dialled too often this hour (by a callback,
  say); the lead is due again in an hour;
* ``hourly-cap``: the center dialled its hourly allowance; the lead is due
  again in a minute and the dialer places no call for that minute.

The guard publishes an :class:`~callcenter_sdk.cti.OutboundRefused` event for
each refusal, naming the campaign as the actor and the lead as the contact.
A refused dial is not a call: it makes no :class:`Attempt`, so it counts in
no rate and uses none of the lead's attempts.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Callable

from .._clock import Clock
from .._errors import ValidationError
from .._events import EventStream
from ..cti import DialPurpose, OutboundDenied, OutboundGuard, OutboundPolicy
from ._model import Campaign, Lead

__all__ = ["SIMULATION_POLICY", "campaign_check", "campaign_guard"]

SIMULATION_POLICY = OutboundPolicy(allowed=(r"\+\d+",), per_number_per_hour=None, per_hour=None)
"""Every number outside the denied ranges, without caps: what
:func:`~callcenter_sdk.sim.simulate_campaign` applies when neither it nor the
campaign is given a policy.

The premium and satellite ranges of :data:`~callcenter_sdk.cti.DENIED_BY_DEFAULT`
stay refused, so a simulated list with such a number shows the refusal.
"""


def campaign_guard(
    campaign: Campaign, *, clock: Clock, events: EventStream | None = None
) -> OutboundGuard:
    """The guard of the campaign's own outbound policy (its file's ``[outbound]`` table).

    Give it the dialer's event stream so refusals are published with the
    campaign's other events. A runtime that dials for several campaigns may
    pass its center-wide guard to the :class:`Dialer` instead, so one hourly
    cap counts every dial.

    Raises:
        ValidationError: The campaign has no outbound policy: a live
            campaign dials nothing until it says where it may dial.
    """
    if campaign.outbound is None:
        raise ValidationError(
            f"campaign {campaign.name!r} has no outbound policy: add an [outbound] table"
            " with the number ranges it may dial (allowed = [...])"
        )
    return OutboundGuard(campaign.outbound, clock=clock, events=events)


def campaign_check(
    guard: OutboundGuard, campaign: Campaign
) -> Callable[[Lead], OutboundDenied | None]:
    """The :class:`CampaignCore`'s check of each lead's number: ``guard``'s verdict.

    The returned callable passes a lead's number through ``guard`` as one of
    the campaign's dials (the campaign is the refusal's actor, the lead its
    contact) and returns the refusal, ``None`` when the number may be dialled.
    The core settles a refused lead by the refusal's reason.
    """

    def check(lead: Lead) -> OutboundDenied | None:
        try:
            guard.check(
                lead.phone, DialPurpose.CAMPAIGN, actor=campaign.name, contact_id=lead.lead_id
            )
        except OutboundDenied as denied:
            return denied
        return None

    return check
