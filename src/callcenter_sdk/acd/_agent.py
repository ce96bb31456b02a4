"""The agent state machine and the engine's per-agent bookkeeping.

An agent's *presence* is what the agent asked for (offline, not ready with a
reason, ready). Their *state* adds the work in hand: an offer ringing makes
them reserved, a connected contact busy, an ended one wrap-up. The state is
derived from presence and work after every input, and the change is checked
against :data:`LEGAL_TRANSITIONS`; a change outside it is a bug in the engine
and raises :class:`~callcenter_sdk.TransitionError` instead of emitting a
wrong event.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import TransitionError
from ..kpi import Channel
from ._events import AgentState
from ._model import Agent

if TYPE_CHECKING:
    from ._queue import ContactBook, OfferBook, QueueBook

__all__ = ["LEGAL_TRANSITIONS", "AgentStatus"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_BUSY = AgentState.BUSY
_OFFLINE = AgentState.OFFLINE
_READY = AgentState.READY
_RESERVED = AgentState.RESERVED
_WRAP_UP = AgentState.WRAP_UP

_S = AgentState

LEGAL_TRANSITIONS: Mapping[AgentState, frozenset[AgentState]] = {
    _S.OFFLINE: frozenset({_S.NOT_READY}),
    # Not ready / ready -> busy: a contact connected elsewhere is adopted (Engine.adopt),
    # a takeover's work in hand; every other contact rings first (reserved).
    _S.NOT_READY: frozenset({_S.NOT_READY, _S.READY, _S.OFFLINE, _S.BUSY}),
    _S.READY: frozenset({_S.NOT_READY, _S.RESERVED, _S.OFFLINE, _S.BUSY}),
    _S.RESERVED: frozenset({_S.READY, _S.NOT_READY, _S.BUSY}),
    # Busy -> busy toggles hold; busy -> reserved happens when a chat ends while
    # another is ringing; busy -> ready/not ready when there is no wrap-up.
    _S.BUSY: frozenset({_S.BUSY, _S.WRAP_UP, _S.READY, _S.NOT_READY, _S.RESERVED}),
    _S.WRAP_UP: frozenset({_S.READY, _S.NOT_READY, _S.RESERVED, _S.BUSY, _S.OFFLINE}),
}
"""Every state change the engine may make; anything else raises TransitionError."""


@attrs.frozen(kw_only=True)
class AgentStatus:
    """A read-only snapshot of one agent in the engine.

    Attributes:
        agent_id: The agent.
        state: The current state.
        presence: What the agent asked for: offline, not ready or ready.
        reason: The not-ready reason (pause code), or the last transition's reason.
        on_hold: In busy: every connected contact is on hold.
        offers: Ids of the offers ringing.
        contacts: Ids of the connected (or connecting) contacts.
        wrap_up: Ids of the contacts in wrap-up.
        wrap_up_until: When the wrap-up ends, if in wrap-up.
        missed: Consecutive missed offers.
        load: Slots taken per channel.
        logout_pending: The agent asked to log out once their work in hand
            is done (:meth:`Engine.logout <callcenter_sdk.acd.Engine.logout>`
            with ``when_idle``); they take no new offers meanwhile.
        on_demand: The agent is ready for one contact only
            (:meth:`Engine.set_ready <callcenter_sdk.acd.Engine.set_ready>`
            with ``on_demand``).

    .. versionchanged:: 0.2
       ``on_demand``.
    """

    agent_id: str
    state: AgentState
    presence: AgentState
    reason: str
    on_hold: bool
    offers: tuple[str, ...]
    contacts: tuple[str, ...]
    wrap_up: tuple[str, ...]
    wrap_up_until: float | None
    missed: int
    load: Mapping[Channel, int]
    logout_pending: bool = False
    on_demand: bool = False


class AgentBook:
    """The engine's mutable record of one agent (internal)."""

    __slots__ = (
        "agent",
        "blocks",
        "connected",
        "delay_token",
        "handled",
        "idle_since",
        "idx",
        "index",
        "last_call",
        "leave_queues",
        "leaving",
        "limits",
        "load",
        "memberships",
        "met",
        "missed",
        "offers",
        "on_demand",
        "on_hold",
        "paused_in",
        "presence",
        "queues",
        "reason",
        "shown",
        "skills",
        "state",
        "talk_time",
        "version",
        "wrap",
        "wrap_token",
        "wrap_until",
    )

    def __init__(self, agent: Agent, idx: int) -> None:
        self.agent = agent
        self.idx = idx
        self.presence = _OFFLINE
        self.state = _OFFLINE
        self.reason = ""
        self.shown = ""
        self.on_hold = False
        self.offers: dict[str, OfferBook] = {}
        self.connected: dict[str, ContactBook] = {}
        self.wrap: dict[str, Channel] = {}
        self.wrap_until = 0.0
        self.wrap_token = 0
        self.delay_token = 0
        self.limits = agent.capacity.limits
        self.blocks = agent.capacity.blocks
        self.load: dict[Channel, int] = dict.fromkeys(self.limits, 0)
        self.idle_since = 0.0
        self.handled = 0
        self.talk_time = 0.0
        self.missed = 0
        self.version = 0
        # Queues the agent is paused in alone (queue name -> reason): app_queue's
        # per-queue pause; presence stays what the agent asked for.
        self.paused_in: dict[str, str] = {}
        # When the agent's last contact ended (auto-pause delay); -inf: never.
        self.last_call = float("-inf")
        # The logout reason while a logout waits for the work in hand to end.
        self.leaving: str | None = None
        # Ready for one contact only: paused ("on-demand") once they accept one.
        self.on_demand = False
        # (queue name, channel) -> (queue, channel, penalty, sort fields): this
        # agent's live entries in the queues' ready indexes (entry version
        # ``version``).
        self.index: dict[tuple[str, Channel], tuple[QueueBook, Channel, int, tuple[Any, ...]]]
        self.index = {}
        # (queue, penalty, order of joining, channels served there)
        self.memberships: list[tuple[QueueBook, int, int, tuple[Channel, ...]]] = []
        self.queues: list[QueueBook] = []
        self.leave_queues: list[QueueBook] = []
        self.skills: dict[str, int] = dict(agent.skills)
        # Requirement class id -> whether these skills meet it (classes are
        # interned by the router and never change; neither do these skills).
        self.met: dict[int, bool] = {}

    @property
    def active(self) -> int:
        """Slots taken over all channels."""
        return sum(self.load.values())

    def can_take(self, channel: Channel) -> bool:
        """Whether a new contact on ``channel`` may be offered now."""
        if self.presence is not _READY:
            return False
        load = self.load  # has_room's rule, inlined: this runs for every offer
        if load.get(channel, 0) >= self.limits.get(channel, 0):
            return False
        blocks = self.blocks
        for used, n in load.items():  # noqa: SIM110 - no generator on the hot path
            if n and channel in blocks.get(used, ()):
                return False
        return True

    def has_room(self, channel: Channel) -> bool:
        """Whether a slot on ``channel`` is free, whatever the presence (capacity and blocks)."""
        load = self.load
        return load.get(channel, 0) < self.limits.get(channel, 0) and not any(
            n and channel in self.blocks.get(used, ()) for used, n in load.items()
        )

    def meets(self, needs: tuple[tuple[str, int], ...]) -> bool:
        """Whether the agent has every ``(skill, min_level)`` in ``needs``."""
        skills = self.skills
        for skill, level in needs:  # noqa: SIM110 - no generator on the hot path
            if skills.get(skill, 0) < level:
                return False
        return True

    def derive(self, busy: bool, connecting: bool) -> AgentState:
        """The state implied by presence and the work in hand."""
        if self.presence is _OFFLINE:
            return _OFFLINE
        if busy:
            return _BUSY
        if self.wrap:
            return _WRAP_UP
        if self.offers or connecting:
            return _RESERVED
        return self.presence

    def check(self, target: AgentState) -> None:
        """Raise :class:`TransitionError` unless ``state -> target`` is legal."""
        if target not in LEGAL_TRANSITIONS[self.state]:
            raise TransitionError(f"agent {self.agent.id!r}", self.state, target)
