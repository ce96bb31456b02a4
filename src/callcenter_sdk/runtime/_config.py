"""What a call center is made of, for :func:`~callcenter_sdk.runtime.open_call_center`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from .._errors import ValidationError
from ..acd import Agent, Capacity, Membership, Queue, RoutingPolicy
from ..cti import DENIED_BY_DEFAULT, OutboundDenied, OutboundPolicy
from ..dialer import Questionnaire
from ..ivr import Flow
from ..kpi import Channel
from ..media import Prompt
from ..org import Org, Role

__all__ = [
    "CallCenterConfig",
    "DialPlan",
    "DialPlanDenied",
    "InboundNumber",
    "Position",
    "Seat",
    "parse_position",
    "seats_from_org",
]


@attrs.frozen(kw_only=True)
class Seat:
    """An agent of the ACD and the SIP device that rings when they are offered a call.

    Attributes:
        agent: The agent (skills, queue memberships, capacity).
        device: The SIP URI the runtime calls to reach the agent's phone;
            ``""`` when the agent has none of their own and logs in at a
            position (:class:`Position`) to be rung there.
    """

    agent: Agent
    device: str


@attrs.frozen
class Position:
    """A seat of a center with the SIP phone on it.

    Attributes:
        center: The center's id in the org.
        number: The seat's number in that center (from 1).
        device: The SIP URI of the phone at that seat.

    .. versionadded:: 0.2
    """

    center: str
    number: int
    device: str

    @property
    def id(self) -> str:
        """``center:number``, the name people log in with."""
        return f"{self.center}:{self.number}"


def parse_position(text: str) -> tuple[str, int]:
    """Read ``"center:number"``.

    Raises:
        ValidationError: Not of that form.
    """
    center, sep, number = text.rpartition(":")
    if not sep or not center or not number.isdigit():
        raise ValidationError(f"a position is written center:number, got {text!r}")
    return center, int(number)


@attrs.frozen(kw_only=True)
class InboundNumber:
    """A number customers dial, and the campaign, IVR and queues that answer it.

    One center serves several client organisations at once: each client's
    free, short or premium numbers lead to their own campaign, whose flow
    (its own IVR, opening hours and queues) runs for the call.

    Attributes:
        number: The dialled number (E.164, national, or a short number);
            compared in E.164 when it is a phone number.
        campaign: The campaign's id in the org; contacts carry it as their
            ``campaign`` attribute.
        flow: The IVR flow that answers it.

    .. versionadded:: 0.2
    """

    number: str
    campaign: str
    flow: Flow


def _unique_numbers(
    _instance: object, _attribute: object, numbers: tuple[InboundNumber, ...]
) -> None:
    seen = [n.number for n in numbers]
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if repeated:
        raise ValidationError(f"numbers: each dialled number leads to one campaign; {repeated}")


def _tuple(values: Iterable[object]) -> tuple[object, ...]:
    return tuple(values)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


DialPlanDenied = OutboundDenied
"""The outbound policy refused a number (the name the runtime has always used)."""


@attrs.frozen(kw_only=True)
class DialPlan:
    r"""Which numbers the call center may dial, and how to reach them.

    One policy for every number the center dials: callbacks, transfers out,
    click-to-dial. Dialling costs money and can be abused (a caller asserting
    a premium number and asking to be called back; a transfer abroad), so
    nothing is dialled unless a pattern allows it, the premium and satellite
    ranges stay denied, and each number and the whole center have hourly
    caps (see :class:`~callcenter_sdk.cti.OutboundPolicy`). Numbers are
    compared in E.164, whatever way they were written.

    Attributes:
        allowed: Regular expressions; a number is allowed when its E.164 form
            fully matches one (``r"\+331\d{8}"``: Paris landlines).
        denied: Ranges refused even when allowed (premium, satellite, shared
            cost by default).
        per_number_per_hour: Dials to one number over any sliding hour.
        per_hour: Dials in all over any sliding hour.
        gateway: The SIP URI template of the carrier, ``{number}`` being the
            E.164 number.
        region: The country assumed for numbers typed without a prefix.
    """

    allowed: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    denied: tuple[str, ...] = attrs.field(default=DENIED_BY_DEFAULT, converter=_strings)
    per_number_per_hour: int | None = 3
    per_hour: int | None = 3600
    gateway: str = "sip:{number}@gateway.invalid"
    region: str = "FR"
    policy: OutboundPolicy = attrs.field(init=False)

    @policy.default
    def _policy(self) -> OutboundPolicy:
        return OutboundPolicy(
            allowed=self.allowed,
            denied=self.denied,
            per_number_per_hour=self.per_number_per_hour,
            per_hour=self.per_hour,
            region=self.region,
        )

    def resolve(self, number: str) -> str:
        """The SIP URI to reach ``number`` if its range may be dialled (caps not counted).

        Raises:
            DialPlanDenied: Not a phone number, a denied range, or no pattern allows it.
        """
        return self.uri(self.policy.judge(number))

    def uri(self, e164: str) -> str:
        """The gateway's SIP URI for a number already judged (E.164)."""
        return self.gateway.format(number=e164)


def _at_least_one(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValidationError(
            f"CallCenterConfig.{attribute.name} must be at least 1, got {value!r}"
        )


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
        escalated_dispositions: Dispositions that escalate it to level 2 (the
            technical service).
        lookup_budget: Seconds the CTI lookup plugins get per contact.
        policy: The ACD's missed-offer and estimate rules.
        voicemail_dir: Where IVR voicemail recordings go: the data directory's
            ``voicemail/`` (0700, each file 0600) by default, never the
            current directory unless asked (see :func:`callcenter_sdk.data_dir`).
        dial_plan: The numbers the center may dial — callbacks, transfers
            out — (none by default), their caps, and the gateway they go through.
        callback_key: The key a waiting caller presses to be called back
            keeping their place (``"1"``); ``""`` offers no callback. When set,
            callers entering the queue hear the ``callback_offer`` prompt.
        node: This center's name on the work it claims in the store; a
            center restarting under the same name takes back what it held.
        org: The organisation whose roles decide who may do what (every
            person's operation is checked with :func:`~callcenter_sdk.org.can`);
            without one, each agent may act on their own work only.
        campaigns: The campaign each queue serves (queue name -> campaign id of
            ``org``), so records and reports say which campaign and client
            organisation a contact was for (see :func:`call_center_records`).
        queue_cap: The hard cap on contacts waiting in a queue that sets no
            ``max_length`` of its own: a caller beyond it is refused as by a
            full queue (overflowed if the queue says where, else hung up).
        max_lookups: Customer lookups running at once; a caller arriving
            beyond it gets no screen-pop lookup (the agent sees an unknown
            caller) rather than a task waiting for a thread.
        positions: The center's positions and the phones on them, where
            agents log in at run time (hot-desking, see ``CallCenter.login``).
        numbers: The dialled numbers and the campaign and flow answering
            each; a call to a number not listed runs ``flow``.
        back_office: The queue (on the ticket channel) that tickets escalated
            to level 2 join, to be offered to the technical service's agents
            (skill ``level-2``); ``""``: escalated tickets wait in the ticket
            repository and are not routed.
        scripts: The script (argumentaire) or questionnaire of each campaign
            that has one (campaign id -> ``dialer.Questionnaire``): its agents
            follow it on the desktop, one step at a time (``CallCenter.script``).
    """

    flow: Flow
    queues: tuple[Queue, ...] = attrs.field(converter=_tuple)
    seats: tuple[Seat, ...] = attrs.field(converter=_tuple, validator=_check_seats)
    hold_music: Prompt | None = None
    announce: bool = True
    language: str = "en"
    topics: Mapping[str, str] = attrs.field(factory=dict)
    solved_dispositions: frozenset[str] = frozenset({"solved"})
    escalated_dispositions: frozenset[str] = frozenset({"escalated"})
    lookup_budget: float = 2.0
    policy: RoutingPolicy | None = None
    voicemail_dir: str | None = None
    dial_plan: DialPlan = DialPlan()
    callback_key: str = ""
    node: str = "main"
    org: Org | None = None
    campaigns: Mapping[str, str] = attrs.field(factory=dict)
    queue_cap: int = attrs.field(default=1000, validator=_at_least_one)
    max_lookups: int = attrs.field(default=200, validator=_at_least_one)
    positions: tuple[Position, ...] = attrs.field(converter=_tuple, default=())
    numbers: tuple[InboundNumber, ...] = attrs.field(
        converter=_tuple, default=(), validator=_unique_numbers
    )
    back_office: str = ""
    scripts: Mapping[str, Questionnaire] = attrs.field(factory=dict)


def seats_from_org(
    org: Org,
    campaign_id: str,
    queues: Iterable[str],
    *,
    general: str | None = None,
    roles: Iterable[Role] = (Role.AGENT, Role.TEAM_LEAD),
) -> list[Seat]:
    """The seats of a campaign's people who take calls: skills, capacity and SIP device.

    The campaign's agents and, by default, its teams' team leads (who take
    calls at peaks in most centers; add ``Role.SUPERVISOR`` where supervisors
    do too) each join every one of ``queues`` named after one of their
    skills, and ``general`` (a catch-all queue) if given. People without a
    profile or a ``sip_uri`` cannot be rung and are left out.

    Raises:
        NotFoundError: No such campaign.
    """
    names = list(queues)
    wanted = frozenset(roles)
    people = [p for p in org.agents_of_campaign(campaign_id) if p.role in wanted]
    for team in org.teams_of_campaign(campaign_id):
        for leader in (team.team_lead, team.supervisor):
            person = org.person(leader) if leader is not None else None
            if person is not None and person.role in wanted and person not in people:
                people.append(person)
    seats = []
    for person in people:
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
