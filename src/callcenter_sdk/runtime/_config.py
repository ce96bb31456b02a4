"""What a call center is made of, for :func:`~callcenter_sdk.runtime.open_call_center`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from .._errors import PermissionDenied, ValidationError
from ..acd import Agent, Capacity, Membership, Queue, RoutingPolicy
from ..cti import to_e164
from ..ivr import Flow
from ..kpi import Channel
from ..media import Prompt
from ..org import Org

__all__ = ["CallCenterConfig", "DialPlan", "DialPlanDenied", "Seat", "seats_from_org"]


@attrs.frozen(kw_only=True)
class Seat:
    """An agent of the ACD and the SIP device that rings when they are offered a call.

    Attributes:
        agent: The agent (skills, queue memberships, capacity).
        device: The SIP URI the runtime calls to reach the agent's phone.
    """

    agent: Agent
    device: str


def _tuple(values: Iterable[object]) -> tuple[object, ...]:
    return tuple(values)


class DialPlanDenied(PermissionDenied):
    """A transfer or call to a number the dial plan does not allow (premium, abroad...)."""


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    patterns = tuple(values)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(f"dial plan pattern {pattern!r} is not a regex: {exc}") from None
    return patterns


@attrs.frozen(kw_only=True)
class DialPlan:
    r"""Which external numbers agents may transfer callers to, and how to reach them.

    A transfer out of the call center costs money and can be abused (premium
    numbers, abroad), so nothing external is allowed unless a pattern says so.
    Numbers are compared in E.164, whatever way the agent typed them.

    Attributes:
        allowed: Regular expressions; a number is allowed when its E.164 form
            fully matches one (``r"\+331\d{8}"``: Paris landlines).
        gateway: The SIP URI template of the carrier, ``{number}`` being the
            E.164 number.
        region: The country assumed for numbers typed without a prefix.
    """

    allowed: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    gateway: str = "sip:{number}@gateway.invalid"
    region: str = "FR"

    def resolve(self, number: str) -> str:
        """The SIP URI to reach ``number``.

        Raises:
            ValidationError: ``number`` is not a phone number.
            DialPlanDenied: No pattern allows it.
        """
        e164 = to_e164(number, self.region)
        if not any(re.fullmatch(p, e164) for p in self.allowed):
            allowed = ", ".join(self.allowed) or "none"
            raise DialPlanDenied(
                f"{number!r} ({e164}) is not allowed by the dial plan (allowed: {allowed})"
            )
        return self.gateway.format(number=e164)

    def callback_uri(self, number: str) -> str:
        """The SIP URI to call a customer back on their own number (no pattern applies).

        Raises:
            ValidationError: ``number`` is not a phone number.
        """
        return self.gateway.format(number=to_e164(number, self.region))


def _check_seats(instance: CallCenterConfig, attribute: object, seats: tuple[Seat, ...]) -> None:
    ids = [s.agent.id for s in seats]
    if len(set(ids)) != len(ids):
        raise ValidationError(f"each agent has one seat; repeated: {sorted(ids)}")


@attrs.frozen(kw_only=True)
class CallCenterConfig:
    """Everything the runtime needs besides the backend, the store and the clock.

    Attributes:
        flow: The IVR flow every inbound call runs.
        queues: The ACD queues the flow transfers to.
        seats: The agents and their devices.
        hold_music: What waiting callers hear (the backend's default when ``None``).
        announce: Play position and estimated-wait announcements when a
            queue's ``announce_every`` asks for them.
        language: The language of announcements.
        topics: Search words for the knowledge base, by IVR topic (the
            contact's ``topic`` attribute); a topic not listed is searched as is.
        solved_dispositions: Dispositions that resolve the contact's ticket.
        lookup_budget: Seconds the CTI lookup plugins get per contact.
        policy: The ACD's missed-offer and estimate rules.
        voicemail_dir: Where IVR voicemail recordings go.
        dial_plan: The external numbers agents may transfer to (none by default),
            and the gateway callbacks go through.
        callback_key: The key a waiting caller presses to be called back
            keeping their place (``"1"``); ``""`` offers no callback. When set,
            callers entering the queue hear the ``callback_offer`` prompt.
    """

    flow: Flow
    queues: tuple[Queue, ...] = attrs.field(converter=_tuple)
    seats: tuple[Seat, ...] = attrs.field(converter=_tuple, validator=_check_seats)
    hold_music: Prompt | None = None
    announce: bool = True
    language: str = "en"
    topics: Mapping[str, str] = attrs.field(factory=dict)
    solved_dispositions: frozenset[str] = frozenset({"solved"})
    lookup_budget: float = 2.0
    policy: RoutingPolicy | None = None
    voicemail_dir: str = "."
    dial_plan: DialPlan = DialPlan()
    callback_key: str = ""


def seats_from_org(
    org: Org, campaign_id: str, queues: Iterable[str], *, general: str | None = None
) -> list[Seat]:
    """The seats of a campaign's agents: skills, capacity and SIP device from their profile.

    An agent joins each of ``queues`` named after one of their skills, and
    ``general`` (a catch-all queue) if given. Agents without a profile or a
    ``sip_uri`` cannot be rung and are left out.

    Raises:
        NotFoundError: No such campaign.
    """
    names = list(queues)
    seats = []
    for person in org.agents_of_campaign(campaign_id):
        profile = person.profile
        if profile is None or profile.sip_uri is None:
            continue
        skills = {s.name: s.proficiency for s in profile.skills}
        joined = [q for q in names if q in skills] + ([general] if general else [])
        limits = {Channel(c): n for c, n in profile.capacity if c in Channel.__members__.values()}
        agent = Agent(
            id=person.id,
            skills=skills,
            memberships=[Membership(q) for q in joined],
            capacity=Capacity(limits=limits or {Channel.VOICE: 1}),
        )
        seats.append(Seat(agent=agent, device=profile.sip_uri))
    return seats
