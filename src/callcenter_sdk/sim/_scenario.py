"""What a simulation runs: queues with their load, and groups of agents.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

import attrs

from .._errors import ValidationError
from ..acd import Capacity, Membership, Queue, RoutingPolicy, SkillRequirement
from ..kpi import Channel
from ._distributions import Distribution, Fixed

__all__ = ["AgentGroup", "ArrivalProcess", "Break", "QueueLoad", "Scenario"]


class ArrivalProcess(Protocol):
    """Anything that yields increasing arrival times in a window."""

    def times(self, rng: random.Random, start: float, end: float) -> Iterator[float]:
        """Yield arrival times in ``[start, end)`` in increasing order."""
        ...


@attrs.frozen(kw_only=True)
class QueueLoad:
    """A queue of the real ACD and the traffic offered to it.

    Attributes:
        queue: The ACD queue, exactly as a live deployment configures it.
        arrivals: When contacts arrive.
        handle_time: Talk time of each contact once connected (wrap-up comes
            from ``queue.wrap_up``).
        patience: How long a caller waits before hanging up; ``None`` for
            callers who never abandon.
        requirements: Skills every contact of this load needs.
        priority: Priority of each contact.
        channel: The channel of each contact.
    """

    queue: Queue
    arrivals: ArrivalProcess
    handle_time: Distribution
    patience: Distribution | None = None
    requirements: tuple[SkillRequirement, ...] = ()
    priority: int = 0
    channel: Channel = Channel.VOICE


@attrs.frozen
class Break:
    """A planned pause in an agent's shift (reason ``break``).

    Attributes:
        start: Seconds from the start of the simulation.
        duration: Length in seconds.
        reason: The not-ready reason code recorded for it.
    """

    start: float
    duration: float
    reason: str = "break"


def _members(value: Iterable[Membership | str]) -> tuple[Membership, ...]:
    return tuple(m if isinstance(m, Membership) else Membership(m) for m in value)


@attrs.frozen(kw_only=True)
class AgentGroup:
    """``count`` identical agents, named ``{prefix}{n}``.

    Attributes:
        prefix: Prefix of the agents' ids.
        count: How many agents.
        memberships: The queues they serve (a name or a Membership with a penalty).
        skills: Proficiency per skill.
        capacity: Per-channel capacity.
        shift: ``(start, end)`` in seconds: they log in and go ready at start,
            and log out at end (once their work in hand is done).
        breaks: Planned pauses.
        answer_delay: Seconds between an offer and the agent accepting it.
        absence: Probability that an agent does not show up at all
            (shrinkage from absenteeism), drawn per agent and replication.
    """

    prefix: str
    count: int
    memberships: tuple[Membership, ...] = attrs.field(converter=_members)
    skills: Mapping[str, int] = attrs.field(factory=dict)
    capacity: Capacity = attrs.field(factory=Capacity)
    shift: tuple[float, float] = (0.0, math.inf)
    breaks: tuple[Break, ...] = ()
    answer_delay: Distribution = attrs.field(factory=lambda: Fixed(0.0))
    absence: float = 0.0

    def __attrs_post_init__(self) -> None:
        if self.count < 0:
            raise ValidationError(f"agent group {self.prefix!r}: count must be >= 0")
        if not 0 <= self.absence < 1:
            raise ValidationError(f"agent group {self.prefix!r}: absence must be in [0, 1)")
        if not self.shift[0] < self.shift[1]:
            raise ValidationError(f"agent group {self.prefix!r}: shift must end after it starts")


@attrs.frozen(kw_only=True)
class Scenario:
    """Everything one replication needs.

    Attributes:
        loads: The queues and their traffic.
        agents: The agent groups.
        duration: Seconds during which contacts arrive; the run then goes on
            until every contact has ended.
        policy: The ACD's routing policy.
        short_abandon_s: Abandons quicker than this are short abandons in the report.
    """

    loads: tuple[QueueLoad, ...]
    agents: tuple[AgentGroup, ...]
    duration: float
    policy: RoutingPolicy = attrs.field(factory=RoutingPolicy)
    short_abandon_s: float = 5.0

    def __attrs_post_init__(self) -> None:
        names = [load.queue.name for load in self.loads]
        if len(set(names)) != len(names):
            raise ValidationError(f"a queue appears twice in the scenario: {sorted(names)}")
        prefixes = [g.prefix for g in self.agents]
        if len(set(prefixes)) != len(prefixes):
            raise ValidationError(f"two agent groups share a prefix: {sorted(prefixes)}")
        if not (self.duration > 0 and math.isfinite(self.duration)):
            raise ValidationError(f"duration must be > 0 seconds, got {self.duration!r}")
        known = set(names)
        for group in self.agents:
            for m in group.memberships:
                if m.queue not in known:
                    raise ValidationError(
                        f"agent group {group.prefix!r} serves unknown queue {m.queue!r}"
                    )
