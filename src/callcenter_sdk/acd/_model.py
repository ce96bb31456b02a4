"""The values the ACD works on: contacts, queues, agents and their settings.

Everything here is frozen and validated when built. The engine keeps its own
mutable bookkeeping next to these values; a user never mutates a queue or an
agent in place, they hand the engine a new value.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from .._errors import ValidationError
from ..kpi import Channel, Direction

__all__ = [
    "Agent",
    "AutoPause",
    "Capacity",
    "Contact",
    "EmptyCondition",
    "EmptyRule",
    "Membership",
    "Overflow",
    "OverflowTarget",
    "PenaltyRule",
    "Queue",
    "RelaxStep",
    "SkillRequirement",
    "TierRules",
]

_KEYS = frozenset("0123456789*#")
MIN_LEVEL = 1
MAX_LEVEL = 5


def _frozen_map(value: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(value or {}))


def _channel(value: Channel | str) -> Channel:
    # Hot path: values are nearly always members already, and a type check is
    # several times cheaper than ``Channel(value)`` (the enum metaclass call).
    return value if isinstance(value, Channel) else Channel(value)


def _direction(value: Direction | str) -> Direction:
    return value if isinstance(value, Direction) else Direction(value)


def _check_level(level: int, what: str) -> None:
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValidationError(f"{what}: proficiency must be {MIN_LEVEL}..{MAX_LEVEL}, got {level}")


@attrs.frozen(order=True)
class SkillRequirement:
    """A contact needs an agent with ``skill`` at ``min_level`` or better.

    Attributes:
        skill: The skill's name (``"billing"``, ``"french"``).
        min_level: The lowest acceptable proficiency, 1 (novice) to 5 (expert).
    """

    skill: str
    min_level: int = 1

    def __attrs_post_init__(self) -> None:
        _check_level(self.min_level, f"requirement {self.skill!r}")


def _requirements(value: Iterable[SkillRequirement]) -> tuple[SkillRequirement, ...]:
    # A canonical, sorted tuple: contacts with the same needs share one sub-queue.
    if value == ():
        return ()
    merged: dict[str, int] = {}
    for req in value:
        merged[req.skill] = max(merged.get(req.skill, 0), req.min_level)
    return tuple(SkillRequirement(s, lvl) for s, lvl in sorted(merged.items()))


@attrs.frozen(kw_only=True)
class RelaxStep:
    """After waiting ``after`` seconds, a contact's requirements become ``requirements``.

    Relaxing in steps is how TaskRouter and Amazon Connect trade a perfect
    match for a shorter wait: ``RelaxStep(after=30, requirements=(billing>=2,))``
    then ``RelaxStep(after=60, requirements=())`` (any agent of the queue).

    Attributes:
        after: Seconds of waiting in the queue before the step applies.
        requirements: The requirements from then on.
    """

    after: float
    requirements: tuple[SkillRequirement, ...] = attrs.field(default=(), converter=_requirements)

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.after) and self.after >= 0):
            raise ValidationError(f"relax step: after must be >= 0 seconds, got {self.after!r}")


def _steps(value: Iterable[RelaxStep]) -> tuple[RelaxStep, ...]:
    if value == ():
        return ()
    return tuple(sorted(value, key=lambda s: s.after))


@attrs.frozen(kw_only=True)
class PenaltyRule:
    """After waiting ``after`` seconds, a contact's penalty range changes.

    The contact is offered only to members whose penalty in the queue lies
    within its range (``Contact.min_penalty`` .. ``Contact.max_penalty``),
    and a rule widens (or narrows) that range as the wait grows: the
    ``penaltychange`` lines of Asterisk's ``queuerules.conf``. A change is
    absolute (``max_penalty=5``) or, with ``relative_max``, added to the
    range in force (``+2``, like ``penaltychange => 30,+2``).

    ``raise_penalty`` is the fourth field of ``penaltychange`` (app_queue's
    ``QUEUE_RAISE_PENALTY``): from then on, for this contact, a member whose
    penalty is below that value counts as having that penalty, both to be
    within the range and to be asked in penalty order.

    Attributes:
        after: Seconds of waiting in the queue before the rule applies.
        max_penalty: The new highest penalty (or the change with
            ``relative_max``); ``None`` leaves it as it is.
        min_penalty: The new lowest penalty (or the change with
            ``relative_min``); ``None`` leaves it as it is.
        relative_max: ``max_penalty`` is added to the current maximum.
        relative_min: ``min_penalty`` is added to the current minimum.
        raise_penalty: The new raise value (or the change with
            ``relative_raise``); ``None`` leaves it as it is.
        relative_raise: ``raise_penalty`` is added to the current raise
            value (a contact without one keeps none).

    .. versionadded:: 0.2
    .. versionchanged:: 0.2
       ``raise_penalty`` and ``relative_raise``.
    """

    after: float
    max_penalty: int | None = None
    min_penalty: int | None = None
    relative_max: bool = False
    relative_min: bool = False
    raise_penalty: int | None = None
    relative_raise: bool = False

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.after) and self.after >= 0):
            raise ValidationError(f"penalty rule: after must be >= 0 seconds, got {self.after!r}")

    def apply(self, low: int | None, high: int | None) -> tuple[int | None, int | None]:
        """The range ``(low, high)`` after this rule (``None``: no bound)."""
        if self.min_penalty is not None:
            if not self.relative_min:
                low = self.min_penalty
            elif low is not None:
                low = max(0, low + self.min_penalty)
        if self.max_penalty is not None:
            if not self.relative_max:
                high = self.max_penalty
            elif high is not None:
                high = max(0, high + self.max_penalty)
        return low, high

    def raise_to(self, current: int | None) -> int | None:
        """The raise value after this rule, from ``current`` (``None``: no raise)."""
        change = self.raise_penalty
        if change is None:
            return current
        if not self.relative_raise:
            return max(0, change)
        return None if current is None else max(0, current + change)


def _penalty_rules(value: Iterable[PenaltyRule]) -> tuple[PenaltyRule, ...]:
    if value == ():
        return ()
    return tuple(sorted(value, key=lambda r: r.after))


@attrs.frozen(kw_only=True)
class TierRules:
    """FreeSWITCH ``mod_callcenter``'s tier rules: a caller reaches higher tiers as they wait.

    A member whose penalty (FreeSWITCH's tier *level*) is ``L > 0`` is
    offered a contact only after it waited ``L × wait`` seconds
    (``multiply_level``, ``tier-rule-wait-multiply-level = true``) or
    ``wait`` seconds (``false``); level 0 is offered at once. The engine
    turns them into :class:`PenaltyRule` values for each contact, over the
    levels the queue's members have when it enters.

    With ``no_agent_no_wait`` (``tier-rule-no-agent-no-wait``) a caller
    whose highest open level has no available member (logged in and not
    paused, busy or not) reaches the next level at once instead of waiting
    for it; a level opened so stays open for that caller.

    Attributes:
        wait: ``tier-rule-wait-second``.
        multiply_level: ``tier-rule-wait-multiply-level``.
        no_agent_no_wait: ``tier-rule-no-agent-no-wait``.

    .. versionadded:: 0.2
    """

    wait: float
    multiply_level: bool = True
    no_agent_no_wait: bool = False

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.wait) and self.wait >= 0):
            raise ValidationError(f"tier rules: wait must be >= 0 seconds, got {self.wait!r}")

    def rules(self, levels: Iterable[int]) -> tuple[PenaltyRule, ...]:
        """The penalty rules equivalent to these tier rules for members of ``levels``."""
        higher = sorted({lvl for lvl in levels if lvl > 0})
        if not higher:
            return ()
        if not self.multiply_level:
            return (PenaltyRule(after=self.wait, max_penalty=higher[-1]),)
        return tuple(PenaltyRule(after=lvl * self.wait, max_penalty=lvl) for lvl in higher)


@attrs.frozen(kw_only=True)
class Contact:
    """One customer interaction on one channel, as the ACD sees it.

    Attributes:
        id: Unique id of the contact (the call id, the chat id).
        channel: The medium; an agent's capacity is counted per channel.
        direction: Inbound (the customer came) or outbound (the center called).
        caller_id: The customer's number or address, used by CTI and by
            strategies such as sticky agent.
        dialled: The number or address the customer reached.
        priority: Higher is served first; aging adds to it while waiting.
        requirements: Skills the agent must have.
        relax: Steps that relax ``requirements`` over time; when empty, the
            queue's steps apply.
        attributes: Free data from the IVR or CRM (account, language...).
        min_penalty: Only members with this penalty or more are offered the
            contact (app_queue's ``QUEUE_MIN_PENALTY``); ``None``: no bound.
        max_penalty: Only members with this penalty or less are offered the
            contact (``QUEUE_MAX_PENALTY``); ``None``: no bound.
        penalty_rules: Rules changing the penalty range as the contact waits;
            when empty, the queue's rules apply.
        raise_penalty: Members whose penalty is below this value count as
            having this penalty for the contact (app_queue's
            ``QUEUE_RAISE_PENALTY``); ``None``: no raise.

    .. versionchanged:: 0.2
       ``min_penalty``, ``max_penalty``, ``penalty_rules`` and ``raise_penalty``.
    """

    id: str
    channel: Channel = attrs.field(default=Channel.VOICE, converter=_channel)
    direction: Direction = attrs.field(default=Direction.INBOUND, converter=_direction)
    caller_id: str = ""
    dialled: str = ""
    priority: int = 0
    requirements: tuple[SkillRequirement, ...] = attrs.field(default=(), converter=_requirements)
    relax: tuple[RelaxStep, ...] = attrs.field(default=(), converter=_steps)
    attributes: Mapping[str, object] = attrs.field(factory=dict, converter=_frozen_map)
    min_penalty: int | None = None
    max_penalty: int | None = None
    penalty_rules: tuple[PenaltyRule, ...] = attrs.field(default=(), converter=_penalty_rules)
    raise_penalty: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.id:
            raise ValidationError("a contact needs a non-empty id")
        if self.raise_penalty is not None and self.raise_penalty < 0:
            raise ValidationError(f"contact {self.id!r}: raise_penalty must be >= 0")


class OverflowTarget(enum.StrEnum):
    """Where a contact goes when its queue gives up on it."""

    QUEUE = "queue"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    TICKET = "ticket"


@attrs.frozen(kw_only=True)
class Overflow:
    """The queue's answer to a contact it cannot keep.

    Attributes:
        target: Another queue, a callback offer, voicemail or a ticket.
        queue: The destination queue when ``target`` is ``QUEUE``.
    """

    target: OverflowTarget = attrs.field(converter=OverflowTarget)
    queue: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.target is OverflowTarget.QUEUE) != bool(self.queue):
            raise ValidationError("overflow: a queue name is needed exactly for target 'queue'")


class EmptyRule(enum.StrEnum):
    """When a queue without agents refuses newcomers (join) or sends its contacts away (leave).

    ``NEVER`` keeps contacts whatever happens. ``NO_AGENT_LOGGED_IN`` acts when
    every member is offline. ``NO_AGENT_AVAILABLE`` acts when no member is
    logged in and ready to take work (all offline or not ready; an agent who is
    busy or in wrap-up but ready afterwards still counts as available).
    """

    NEVER = "never"
    NO_AGENT_LOGGED_IN = "no-agent-logged-in"
    NO_AGENT_AVAILABLE = "no-agent-available"


class EmptyCondition(enum.StrEnum):
    """A member state that makes a queue count as empty (``joinempty``, ``leavewhenempty``).

    A queue refuses a newcomer (``Queue.join_empty_conditions``), or sends a
    waiting caller away (``Queue.leave_empty_conditions``), when it has no
    member, or every member is in one of the listed conditions: ``PAUSED``
    (not ready, or paused in the queue), ``PENALTY`` (outside the caller's
    penalty range, after its raise), ``IN_USE``
    (on a contact), ``RINGING`` (an offer ringing), ``WRAP_UP``; and
    ``UNAVAILABLE``, ``INVALID``, ``UNKNOWN``, which app_queue reads from
    the device state and the ACD, which sees no devices, reads all three
    as logged out (the runtime logs out an agent whose phone is gone).

    .. versionadded:: 0.2
    .. versionchanged:: 0.2
       Also the leave conditions.
    """

    PAUSED = "paused"
    PENALTY = "penalty"
    UNAVAILABLE = "unavailable"
    INVALID = "invalid"
    UNKNOWN = "unknown"
    IN_USE = "inuse"
    RINGING = "ringing"
    WRAP_UP = "wrapup"


def _conditions(value: Iterable[EmptyCondition | str]) -> frozenset[EmptyCondition]:
    return frozenset(EmptyCondition(v) for v in value)


class AutoPause(enum.StrEnum):
    """What an offer left unanswered does to the member (app_queue's ``autopause``).

    ``NO`` pauses nobody (the engine-wide missed-offer rules still apply),
    ``QUEUE`` pauses the member in this queue only, ``ALL`` pauses the agent
    everywhere (presence not ready, reason ``auto-pause``).

    .. versionadded:: 0.2
    """

    NO = "no"
    QUEUE = "queue"
    ALL = "all"


def _channels(value: Iterable[Channel]) -> frozenset[Channel]:
    return frozenset(Channel(c) for c in value)


@attrs.frozen(kw_only=True)
class Queue:
    """A queue: its ordering, limits, overflow and routing strategy.

    Waiting contacts are ordered by *effective priority*
    ``priority + aging_rate × seconds waited``, then by arrival. Because every
    contact of a queue ages at the same rate, that order never changes while
    they wait, so the engine never re-sorts (see docs/acd.md).

    Attributes:
        name: Unique name of the queue.
        strategy: Name of the routing strategy choosing among ready agents.
        strategy_options: Options handed to the strategy's factory.
        channels: The channels this queue accepts.
        weight: Fairness weight across queues: an agent serving several queues
            compares contacts of equal effective priority by ``weight × wait``.
        aging_rate: Priority points gained per second of waiting.
        service_level_threshold: Seconds within which an answer counts as in
            service level (reported on events for KPIs).
        max_length: Contacts beyond this are refused or overflowed.
        max_wait: Seconds before a waiting contact overflows or times out.
        overflow: Where contacts go on max wait, when full or when the queue
            empties; ``None`` ends them as timed out or exited.
        join_when_empty: When newcomers are refused for lack of agents.
        leave_when_empty: When waiting contacts leave for lack of agents.
        offer_timeout: Seconds an agent has to accept an offer.
        wrap_up: Seconds of wrap-up after each contact (0 for none).
        ring_size: How many agents ring at once for ring-all strategies.
        relax: Default relaxation steps for contacts that bring none.
        candidate_limit: How many eligible agents a non-indexed strategy sees.
        initial_handle_time: The handle time assumed before any contact has
            been completed, for the estimated wait.
        announce_every: Seconds between repeated position and estimated-wait
            announcements to a waiting contact (``None``: only on entry).
        max_length_counts_ringing: Whether ``max_length`` counts the
            contacts being offered as well as those waiting, as app_queue's
            ``maxlen`` does (a caller stays in the queue while a phone rings).
        penalty_rules: The default penalty rules (``queuerules.conf``) for
            contacts that bring none.
        tier_rules: FreeSWITCH tier rules, turned into penalty rules for
            contacts that bring none (``penalty_rules`` win when both are set).
        penalty_members_limit: Penalties (and contacts' penalty ranges) are
            ignored while the queue has this many members or fewer
            (app_queue's ``penaltymemberslimit``; 0: never ignored).
        ring_in_use: Whether a member already holding a contact (a chat, an
            offer) may be offered more from this queue, up to their capacity;
            ``False`` offers this queue's contacts only to members with
            nothing in hand (app_queue's ``ringinuse = no``).
        autopause: What an unanswered offer of this queue does to the member.
        autopause_delay: Auto-pause only a member whose last contact ended
            at least this many seconds ago (app_queue's ``autopausedelay``).
        autopause_busy: Whether a busy line (:meth:`Engine.busy
            <callcenter_sdk.acd.Engine.busy>`) auto-pauses the member as an
            unanswered offer does, under ``autopause`` and
            ``autopause_delay`` (app_queue's ``autopausebusy``); otherwise
            it only rests them for ``RoutingPolicy.busy_delay``.
        exit_keys: The keys (``0-9``, ``*``, ``#``) with which a waiting
            caller leaves the queue (:meth:`Engine.key_pressed
            <callcenter_sdk.acd.Engine.key_pressed>`; app_queue's exit
            ``context``); other keys are ignored.
        no_agent_timeout: Once no member has been available (logged in and
            not paused) for this many seconds, waiting callers leave (reason
            ``no-agent``; mod_callcenter's ``max-wait-time-with-no-agent``);
            ``None``: never.
        no_agent_grace: With a no-agent timeout reached, a caller leaves
            only once they waited ``no_agent_timeout + no_agent_grace``
            seconds (``max-wait-time-with-no-agent-time-reached``); 0: at once.
        retry: Seconds a contact rests in its place after an offer left
            unanswered before it is offered again (app_queue's ``retry``);
            a refused or busy offer goes on to the next agent at once.
        abandoned_resume: A caller (same non-empty ``caller_id``) who hung up
            while waiting and comes back to the queue within this many
            seconds resumes their place: their wait counts from their first
            entry (mod_callcenter's ``abandoned-resume-allowed`` with
            ``discard-abandoned-after``); ``None``: never.
        join_empty_conditions: When not empty, newcomers are refused when
            every member is in one of these conditions (or there is no
            member), as app_queue's ``joinempty = paused,inuse,...``; it
            replaces ``join_when_empty``.
        max_wait_cuts_offer: Whether ``max_wait`` rescinds the offers of a
            contact ringing at that moment (app_queue's ``timeoutpriority =
            app``) rather than let the offer finish first (``conf``, the
            default).
        leave_empty_conditions: When not empty, a waiting caller leaves
            (reason ``leave-empty``) as soon as every member is in one of
            these conditions for them (or there is no member), as
            app_queue's ``leavewhenempty = paused,inuse,...``; it replaces
            ``leave_when_empty``. Checked at the end of every input that
            changes a member or a waiting caller of the queue.
        ring_progressively_delay: With the ``ring-progressively`` strategy,
            seconds between ringing one more member while the earlier ones
            still ring (mod_callcenter's ``ring-progressively-delay``).

    .. versionchanged:: 0.2
       ``max_length_counts_ringing``, ``penalty_rules``, ``tier_rules``,
       ``penalty_members_limit``, ``ring_in_use``, ``autopause``,
       ``autopause_delay``, ``exit_keys``, ``no_agent_timeout``,
       ``no_agent_grace``, ``retry``, ``max_wait_cuts_offer``,
       ``abandoned_resume``, ``join_empty_conditions``,
       ``leave_empty_conditions``, ``ring_progressively_delay`` and
       ``autopause_busy``.
    """

    name: str
    strategy: str = "longest-idle"
    strategy_options: Mapping[str, object] = attrs.field(factory=dict, converter=_frozen_map)
    channels: frozenset[Channel] = attrs.field(default=frozenset(Channel), converter=_channels)
    weight: float = 1.0
    aging_rate: float = 0.0
    service_level_threshold: float = 20.0
    max_length: int | None = None
    max_wait: float | None = None
    overflow: Overflow | None = None
    join_when_empty: EmptyRule = attrs.field(default=EmptyRule.NEVER, converter=EmptyRule)
    leave_when_empty: EmptyRule = attrs.field(default=EmptyRule.NEVER, converter=EmptyRule)
    offer_timeout: float = 15.0
    wrap_up: float = 0.0
    ring_size: int = 8
    relax: tuple[RelaxStep, ...] = attrs.field(default=(), converter=_steps)
    candidate_limit: int = 64
    initial_handle_time: float = 180.0
    announce_every: float | None = None
    max_length_counts_ringing: bool = True
    penalty_rules: tuple[PenaltyRule, ...] = attrs.field(default=(), converter=_penalty_rules)
    tier_rules: TierRules | None = None
    penalty_members_limit: int = 0
    ring_in_use: bool = True
    autopause: AutoPause = attrs.field(default=AutoPause.NO, converter=AutoPause)
    autopause_delay: float = 0.0
    autopause_busy: bool = False
    exit_keys: str = ""
    no_agent_timeout: float | None = None
    no_agent_grace: float = 0.0
    retry: float = 0.0
    max_wait_cuts_offer: bool = False
    abandoned_resume: float | None = None
    join_empty_conditions: frozenset[EmptyCondition] = attrs.field(
        default=frozenset(), converter=_conditions
    )
    leave_empty_conditions: frozenset[EmptyCondition] = attrs.field(
        default=frozenset(), converter=_conditions
    )
    ring_progressively_delay: float = 10.0

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ValidationError("a queue needs a non-empty name")
        checks = {
            "weight": self.weight > 0,
            "aging_rate": self.aging_rate >= 0,
            "offer_timeout": self.offer_timeout > 0,
            "wrap_up": self.wrap_up >= 0,
            "ring_size": self.ring_size >= 1,
            "candidate_limit": self.candidate_limit >= 1,
            "initial_handle_time": self.initial_handle_time > 0,
            "max_length": self.max_length is None or self.max_length >= 0,
            "max_wait": self.max_wait is None or self.max_wait >= 0,
            "announce_every": self.announce_every is None or self.announce_every > 0,
            "penalty_members_limit": self.penalty_members_limit >= 0,
            "autopause_delay": self.autopause_delay >= 0,
            "exit_keys": all(k in _KEYS for k in self.exit_keys),
            "no_agent_timeout": self.no_agent_timeout is None or self.no_agent_timeout >= 0,
            "no_agent_grace": self.no_agent_grace >= 0,
            "retry": math.isfinite(self.retry) and self.retry >= 0,
            "abandoned_resume": self.abandoned_resume is None or self.abandoned_resume >= 0,
            "ring_progressively_delay": math.isfinite(self.ring_progressively_delay)
            and self.ring_progressively_delay > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValidationError(f"queue {self.name!r}: invalid {', '.join(bad)}")
        if self.overflow is not None and self.overflow.queue == self.name:
            raise ValidationError(f"queue {self.name!r} cannot overflow to itself")


@attrs.frozen
class Membership:
    """An agent's place in one queue.

    Attributes:
        queue: The queue's name.
        penalty: Lower is asked first; agents with a higher penalty get a
            contact only when no lower-penalty agent is ready (app_queue's
            penalty, TaskRouter's worker priority reversed).
    """

    queue: str
    penalty: int = 0


def _default_blocks() -> Mapping[Channel, frozenset[Channel]]:
    # Live conversations (voice, video) block everything; other work blocks them.
    blocks = dict.fromkeys(Channel, frozenset({Channel.VOICE, Channel.VIDEO}))
    blocks[Channel.VOICE] = blocks[Channel.VIDEO] = frozenset(Channel)
    return MappingProxyType(blocks)


def _limits(value: Mapping[Channel, int]) -> Mapping[Channel, int]:
    return MappingProxyType({Channel(k): int(v) for k, v in value.items() if int(v) > 0})


def _blocks(value: Mapping[Channel, Iterable[Channel]]) -> Mapping[Channel, frozenset[Channel]]:
    return MappingProxyType(
        {Channel(k): frozenset(Channel(c) for c in v) for k, v in value.items()}
    )


@attrs.frozen(kw_only=True)
class Capacity:
    """How many contacts of each channel an agent handles at once, and blending rules.

    A slot is taken by an offer, a connected contact and its wrap-up. Blending:
    while an agent holds a contact on channel ``c``, no new contact on a channel
    in ``blocks[c]`` is offered. The default lets voice and video block
    everything (one live conversation at a time) and any other work block new
    voice and video, while chats and emails mix up to their limits.

    Attributes:
        limits: Maximum simultaneous contacts per channel (absent means 0).
        blocks: For each channel in use, the channels it blocks.
    """

    limits: Mapping[Channel, int] = attrs.field(
        factory=lambda: {Channel.VOICE: 1}, converter=_limits
    )
    blocks: Mapping[Channel, frozenset[Channel]] = attrs.field(
        factory=_default_blocks, converter=_blocks
    )


def _memberships(value: Iterable[Membership]) -> tuple[Membership, ...]:
    out = tuple(value)
    names = [m.queue for m in out]
    if len(names) != len(set(names)):
        raise ValidationError(f"an agent is a member of a queue twice: {sorted(names)}")
    return out


def _skills(value: Mapping[str, int]) -> Mapping[str, int]:
    for skill, level in value.items():
        _check_level(level, f"skill {skill!r}")
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Agent:
    """An agent as the ACD sees them: skills, queues and capacity.

    Attributes:
        id: Unique id of the agent.
        skills: Proficiency (1..5) per skill.
        memberships: The queues served, each with a penalty.
        capacity: Simultaneous contacts per channel and blending rules.
        wrap_up: Seconds of wrap-up after each of this agent's contacts,
            overriding the queue's (FreeSWITCH's per-agent
            ``wrap-up-time``); ``None``: the queue's.

    .. versionchanged:: 0.2
       ``wrap_up``.
    """

    id: str
    skills: Mapping[str, int] = attrs.field(factory=dict, converter=_skills)
    memberships: tuple[Membership, ...] = attrs.field(default=(), converter=_memberships)
    capacity: Capacity = attrs.field(factory=Capacity)
    wrap_up: float | None = None

    def __attrs_post_init__(self) -> None:
        if not self.id:
            raise ValidationError("an agent needs a non-empty id")
        if self.wrap_up is not None and not (math.isfinite(self.wrap_up) and self.wrap_up >= 0):
            raise ValidationError(f"agent {self.id!r}: wrap_up must be >= 0, got {self.wrap_up!r}")

    def satisfies(self, requirements: Iterable[SkillRequirement]) -> bool:
        """Return whether this agent meets every requirement."""
        skills = self.skills
        return all(skills.get(r.skill, 0) >= r.min_level for r in requirements)
