"""Live membership: agents join and leave queues, change penalty or pause in one queue.

:class:`Memberships` holds the :class:`~callcenter_sdk.acd.Engine` inputs
that change who serves a queue while the engine runs, as app_queue's
``AddQueueMember``, ``RemoveQueueMember``, ``QueuePenalty`` and
``QueuePause`` with a queue name, or FreeSWITCH's ``callcenter_config tier
add|del|set level`` do. Each change is a
:class:`~callcenter_sdk.acd.MemberChanged` event, the agent's ready-index
entries are rebuilt and routing runs again at once (a new member takes a
waiting contact; a queue left without members obeys its leave rule).

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from .._errors import StateError, ValidationError
from ._actions import Action
from ._agent import AgentBook
from ._events import AgentState, MemberChange, MemberChanged
from ._model import EmptyRule, Membership
from ._queue import ContactPhase, QueueBook
from ._routing import Router, _counts_available, _empty

if TYPE_CHECKING:
    from ._queue import ContactBook

__all__ = ["MemberStatus", "Memberships"]


@attrs.frozen(kw_only=True)
class MemberStatus:
    """A read-only snapshot of one member of a queue.

    Attributes:
        agent_id: The agent.
        queue: The queue.
        penalty: The member's penalty in this queue.
        order: The member's order of joining the queue (linear, round-robin).
        state: The agent's state.
        paused: Whether the member is paused in this queue alone.
        reason: The pause code in this queue, if paused here.

    .. versionadded:: 0.2
    """

    agent_id: str
    queue: str
    penalty: int
    order: int
    state: AgentState
    paused: bool = False
    reason: str = ""


class Memberships(Router):
    """Live membership inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _give_up(self, c: ContactBook, reason: str) -> None: ...

    # ------------------------------------------------------------- the books

    def _attach(self, a: AgentBook, m: Membership, order: int | None = None) -> None:
        """Make ``a`` a member of ``m.queue`` (counters included); no routing."""
        q = self._queues[m.queue]
        if order is None:
            order = q.next_order
            q.next_order += 1
        q.members[a.idx] = (m.penalty, order)
        q.levels[m.penalty] = q.levels.get(m.penalty, 0) + 1
        if q.leaving:
            self._leave_dirty[q] = None
        channels = tuple(ch for ch in q.config.channels if ch in a.limits)
        a.memberships.append((q, m.penalty, order, channels))
        a.queues.append(q)
        if q.config.leave_when_empty is not EmptyRule.NEVER or q.skip_tiers or q.leaving:
            a.leave_queues.append(q)
        if a.presence is not AgentState.OFFLINE:
            q.logged_in += 1
        if _counts_available(a.presence, a.reason) and q.name not in a.paused_in:
            q.available += 1
            if q.no_agent:
                self._track_agents(q)
        self._reflat(q)

    def _detach(self, a: AgentBook, q: QueueBook) -> tuple[int, int]:
        """Take ``a`` out of ``q``; return their (penalty, order). No routing."""
        penalty, order = q.members.pop(a.idx)
        if q.leaving:
            self._leave_dirty[q] = None
        left = q.levels[penalty] - 1
        if left:
            q.levels[penalty] = left
        else:
            del q.levels[penalty]
        a.memberships = [m for m in a.memberships if m[0] is not q]
        a.queues.remove(q)
        if q in a.leave_queues:
            a.leave_queues.remove(q)
        if a.presence is not AgentState.OFFLINE:
            q.logged_in -= 1
        if _counts_available(a.presence, a.reason) and q.name not in a.paused_in:
            q.available -= 1
            if q.no_agent:
                self._track_agents(q)
        a.paused_in.pop(q.name, None)
        self._reflat(q)
        return penalty, order

    def _reflat(self, q: QueueBook) -> None:
        """Ignore penalties or stop ignoring them as the members limit is crossed."""
        limit = q.config.penalty_members_limit
        flat = 0 < len(q.members) <= limit if limit else False
        if flat is q.flat:
            return
        q.flat = flat
        if flat:  # ranges no longer apply: waiting contacts may fit ready members now
            self._widened.append(q)
        agents = self._by_idx
        for idx in list(q.members):
            if idx < len(agents):  # an agent being added is offline: nothing to index
                b = agents[idx]
                b.index = {}  # rebuilt in the new tiers (old entries go stale)
                self._reindex(b)

    def _sync_agent(self, a: AgentBook) -> None:
        """Keep the agent's public value in step with their memberships."""
        mine = tuple(Membership(q.name, pen) for q, pen, _, _ in a.memberships)
        a.agent = attrs.evolve(a.agent, memberships=mine)

    def _leave_empty(self, q: QueueBook) -> None:
        rule = q.config.leave_when_empty
        if q.leaving:  # the conditions replace the rule; checked once the input is over
            self._leave_dirty[q] = None
        elif rule is not EmptyRule.NEVER and q.waiting and _empty(q, rule):
            for c in q.waiting_contacts():
                if not c.callback:  # a callback waits for the next agent
                    self._give_up(c, "leave-empty")
        if q.skip_tiers and q.waiting:
            # A member became unavailable: callers whose open levels have
            # nobody left reach the next level now (tier-rule-no-agent-no-wait).
            for c in q.waiting_contacts():
                if c.phase is ContactPhase.WAITING and c.pstep < len(c.prules):
                    self._serve_contact(c)

    def _member_event(
        self, a: AgentBook, q: QueueBook, change: MemberChange, penalty: int, reason: str = ""
    ) -> None:
        self._publish(
            MemberChanged(
                at=self._now,
                agent_id=a.agent.id,
                queue=q.name,
                change=change,
                penalty=penalty,
                reason=reason,
            )
        )

    def _resettle(self, agents: list[AgentBook], queues: list[QueueBook]) -> None:
        """Route again after membership changes: freed capacity first, then leave rules."""
        widened, self._widened = self._widened, []
        agents = agents + [self._by_idx[idx] for q in widened for idx in q.members]
        for a in agents:
            self._reindex(a)
            if a.presence is AgentState.READY:
                self._serve_agent(a)
        for q in queues:
            self._leave_empty(q)

    def _pause_in(self, a: AgentBook, q: QueueBook, reason: str) -> None:
        """Pause ``a`` in ``q`` alone (no routing; the caller reindexes)."""
        if q.name not in a.paused_in and _counts_available(a.presence, a.reason):
            q.available -= 1
            if q.no_agent:
                self._track_agents(q)
        a.paused_in[q.name] = reason
        self._member_event(a, q, MemberChange.PAUSED, q.members[a.idx][0], reason)
        self._leave_empty(q)

    def _member(self, agent_id: str, queue: str) -> tuple[AgentBook, QueueBook]:
        a, q = self._agent(agent_id), self._queue(queue)
        if a.idx not in q.members:
            raise StateError(f"agent {agent_id!r} is not a member of {queue!r}")
        return a, q

    # ---------------------------------------------------------------- inputs

    def add_member(self, agent_id: str, queue: str, penalty: int = 0) -> list[Action]:
        """Make an agent (logged in or not) a member of ``queue`` with ``penalty``.

        A ready agent takes a waiting contact of the queue at once.

        Raises:
            NotFoundError: Unknown agent or queue.
            StateError: The agent is a member already.
        """
        self._begin()
        a, q = self._agent(agent_id), self._queue(queue)
        if a.idx in q.members:
            raise StateError(f"agent {agent_id!r} is a member of {queue!r} already")
        self._attach(a, Membership(queue, penalty))
        self._sync_agent(a)
        self._member_event(a, q, MemberChange.ADDED, penalty)
        self._resettle([a], [])
        return self._flush()

    def remove_member(self, agent_id: str, queue: str) -> list[Action]:
        """Take an agent out of ``queue``; offers ringing and contacts in hand go on.

        A queue left with no member available obeys its leave rule.

        Raises:
            NotFoundError: Unknown agent or queue.
            StateError: The agent is not a member.
        """
        self._begin()
        a, q = self._member(agent_id, queue)
        penalty, _ = self._detach(a, q)
        self._sync_agent(a)
        self._member_event(a, q, MemberChange.REMOVED, penalty)
        self._resettle([a], [q])
        return self._flush()

    def set_penalty(self, agent_id: str, queue: str, penalty: int) -> list[Action]:
        """Change a member's penalty in ``queue``, keeping their order and any pause there.

        Raises:
            NotFoundError: Unknown agent or queue.
            StateError: The agent is not a member.
        """
        self._begin()
        a, q = self._member(agent_id, queue)
        self._repenalize(a, q, penalty)
        self._resettle([a], [])
        return self._flush()

    def _repenalize(self, a: AgentBook, q: QueueBook, penalty: int) -> None:
        paused = a.paused_in.get(q.name)
        _, order = self._detach(a, q)
        if paused is not None:
            a.paused_in[q.name] = paused
        self._attach(a, Membership(q.name, penalty), order)
        self._sync_agent(a)
        self._member_event(a, q, MemberChange.PENALTY, penalty)

    def reload_members(self, queue: str, members: Mapping[str, int]) -> list[Action]:
        """Make ``members`` (agent id -> penalty) the queue's members, as one change.

        What a configuration reload does (app_queue's ``queue reload
        members``): agents no longer listed leave, new ones join, the others'
        penalties are updated, and routing runs once every change is made, so
        no contact is offered from a half-loaded queue.

        Raises:
            NotFoundError: Unknown queue or agent.
        """
        self._begin()
        q = self._queue(queue)
        wanted = {self._agent(agent_id).idx: penalty for agent_id, penalty in members.items()}
        touched: list[AgentBook] = []
        for idx, (penalty, _) in sorted(q.members.items(), key=lambda kv: kv[1][1]):
            a = self._by_idx[idx]
            if idx not in wanted:
                self._detach(a, q)
                self._sync_agent(a)
                self._member_event(a, q, MemberChange.REMOVED, penalty)
                touched.append(a)
            elif wanted[idx] != penalty:
                self._repenalize(a, q, wanted[idx])
                touched.append(a)
        for agent_id, penalty in members.items():
            a = self._agents[agent_id]
            if a.idx not in q.members:
                self._attach(a, Membership(queue, penalty))
                self._sync_agent(a)
                self._member_event(a, q, MemberChange.ADDED, penalty)
                touched.append(a)
        self._resettle(touched, [q])
        return self._flush()

    def pause_member(self, agent_id: str, queue: str, reason: str = "paused") -> list[Action]:
        """Pause a member in ``queue`` only; they keep serving their other queues.

        app_queue's ``QueuePause`` with a queue name. Work in hand goes on;
        the queue counts the member as unavailable (leave and join rules, the
        estimated wait).

        Raises:
            NotFoundError: Unknown agent or queue.
            StateError: The agent is not a member.
            ValidationError: ``reason`` is empty.
        """
        self._begin()
        if not reason:
            raise ValidationError("pause_member: the reason is empty")
        a, q = self._member(agent_id, queue)
        self._pause_in(a, q, reason)
        self._reindex(a)
        return self._flush()

    def unpause_member(self, agent_id: str, queue: str) -> list[Action]:
        """End a member's pause in ``queue`` (a no-op if not paused there).

        Raises:
            NotFoundError: Unknown agent or queue.
            StateError: The agent is not a member.
        """
        self._begin()
        a, q = self._member(agent_id, queue)
        if a.paused_in.pop(q.name, None) is not None:
            if _counts_available(a.presence, a.reason):
                q.available += 1
                if q.no_agent:
                    self._track_agents(q)
            self._member_event(a, q, MemberChange.UNPAUSED, q.members[a.idx][0])
            self._resettle([a], [])
        return self._flush()

    def members(self, queue: str) -> list[MemberStatus]:
        """The queue's members in their order of joining.

        Raises:
            NotFoundError: Unknown queue.
        """
        q = self._queue(queue)
        out: list[MemberStatus] = []
        for idx, (penalty, order) in sorted(q.members.items(), key=lambda kv: kv[1][1]):
            a = self._by_idx[idx]
            reason = a.paused_in.get(q.name)
            out.append(
                MemberStatus(
                    agent_id=a.agent.id,
                    queue=q.name,
                    penalty=penalty,
                    order=order,
                    state=a.state,
                    paused=reason is not None,
                    reason=reason or "",
                )
            )
        return out
