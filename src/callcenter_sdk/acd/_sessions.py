"""An agent's session: login, ready and not ready, logout (now or when idle), wrap-up.

:class:`AgentSessions` holds the :class:`~callcenter_sdk.acd.Engine` inputs
that move an agent between presences, and the start and end of the wrap-up
that follows each contact. Missed offers, which also pause an agent, are
counted where offers end (``_offers``).

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._errors import StateError, TransitionError, ValidationError
from ._actions import Action
from ._agent import AgentBook
from ._contacts import _handler
from ._events import AgentLogoutRequested, AgentPresenceChanged, AgentState, WrapUpExtended
from ._queue import ContactBook, QueueBook
from ._routing import _WRAP, Router

__all__ = ["AgentSessions"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_NOT_READY = AgentState.NOT_READY
_OFFLINE = AgentState.OFFLINE
_READY = AgentState.READY

_LEAVING = "logout-pending"


class AgentSessions(Router):
    """Agent presence and wrap-up inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _give_up(self, c: ContactBook, reason: str) -> None: ...
        def _leave_empty(self, q: QueueBook) -> None: ...

    # --------------------------------------------------------- agent presence

    def login(self, agent_id: str, *, reason: str = "login") -> list[Action]:
        """Log an agent in; they start not ready with ``reason``.

        Raises:
            TransitionError: The agent is already logged in.
        """
        now = self._begin()
        a = self._agent(agent_id)
        if a.presence is not _OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, _NOT_READY, "login")
        a.handled, a.talk_time, a.missed, a.idle_since = 0, 0.0, 0, now
        self._set_presence(a, _NOT_READY, reason)
        self._refresh(a, reason)
        return self._flush()

    def logout(
        self, agent_id: str, *, reason: str = "logout", when_idle: bool = False
    ) -> list[Action]:
        """Log an agent out; by default any wrap-up ends and work in hand is refused.

        With ``when_idle``, an agent who still has work (an offer ringing, a
        contact connecting or connected, a wrap-up) is logged out *after* it,
        as app_queue's and Genesys' "log off after this call": they take no
        new offers from now on (presence not ready, reason
        ``"logout-pending"``; an :class:`~callcenter_sdk.acd.AgentLogoutRequested`
        is published), may still answer the offers ringing, finish their
        contacts and their whole wrap-up, and then go offline with ``reason``
        (an :class:`~callcenter_sdk.acd.AgentStateChanged`). An idle agent
        goes offline at once. :meth:`set_ready` or :meth:`set_not_ready`
        meanwhile cancels the pending logout.

        Raises:
            TransitionError: The agent is offline, or (without ``when_idle``)
                ringing or connected.

        .. versionchanged:: 0.2
           ``when_idle``.
        """
        now = self._begin()
        a = self._agent(agent_id)
        if a.presence is _OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, _OFFLINE, "offline")
        in_hand = bool(a.offers or a.connected)
        if when_idle and (in_hand or a.wrap):
            a.leaving = reason
            a.delay_token += 1
            self._set_presence(a, _NOT_READY, _LEAVING)
            self._publish(AgentLogoutRequested(at=now, agent_id=agent_id, reason=reason))
            self._reindex(a)
            self._refresh(a, _LEAVING)
            self._check_leave(a)
            return self._flush()
        if in_hand:
            raise TransitionError(f"agent {agent_id!r}", a.state, _OFFLINE, "busy")
        self._clear_wrap(a)
        self._log_off(a, reason)
        return self._flush()

    def _log_off(self, a: AgentBook, reason: str) -> None:
        a.leaving = None
        self._set_presence(a, _OFFLINE, reason)
        self._reindex(a)
        self._refresh(a, reason)
        self._check_leave(a)

    def _leave_if_idle(self, a: AgentBook) -> None:
        if not (a.offers or a.connected or a.wrap):
            self._log_off(a, a.leaving or "logout")

    def set_ready(self, agent_id: str, *, on_demand: bool = False) -> list[Action]:
        """Make a logged-in agent ready; they take the best waiting contact at once.

        With ``on_demand`` the agent takes one contact and no more: when they
        accept an offer they are paused (reason ``"on-demand"``, shown at
        once as a pause asked during a call), and stay so after the contact
        and its wrap-up until they are made ready again (mod_callcenter's
        agent status ``Available (On Demand)``).

        Raises:
            TransitionError: The agent is offline.

        .. versionchanged:: 0.2
           ``on_demand``.
        """
        now = self._begin()
        a = self._agent(agent_id)
        if a.presence is _OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, _READY)
        a.leaving = None
        a.on_demand = on_demand
        if a.presence is not _READY:
            a.missed = 0
            a.delay_token += 1
            if not a.active:
                a.idle_since = now
            self._set_presence(a, _READY, "ready")
            self._refresh(a, "ready")
            self._presence_hidden(a)
            self._serve_agent(a)
        return self._flush()

    def set_not_ready(self, agent_id: str, reason: str = "not-ready") -> list[Action]:
        """Pause an agent with a reason code; work in hand continues.

        Raises:
            TransitionError: The agent is offline.
        """
        self._begin()
        a = self._agent(agent_id)
        if a.presence is _OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, _NOT_READY)
        a.leaving = None
        a.delay_token += 1
        changed = (a.presence, a.reason) != (_NOT_READY, reason)
        self._set_presence(a, _NOT_READY, reason)
        self._reindex(a)
        self._refresh(a, reason)
        if changed:
            self._presence_hidden(a)
        self._check_leave(a)
        return self._flush()

    def _presence_hidden(self, a: AgentBook) -> None:
        """Publish a presence change that the agent's state (work in hand) does not show."""
        if a.state is not a.presence:
            self._publish(
                AgentPresenceChanged(
                    at=self._now, agent_id=a.agent.id, presence=a.presence, reason=a.reason
                )
            )

    def _check_leave(self, a: AgentBook) -> None:
        for q in list(a.leave_queues):
            self._leave_empty(q)

    # ---------------------------------------------------------------- wrap-up

    def _end_work(self, c: ContactBook) -> tuple[AgentBook, float, float]:
        """Detach a connected contact from its agent, starting the agent's wrap-up."""
        now = self._now
        a = c.agent if c.agent is not None else _handler(c)
        if c.hold_since is not None:
            c.hold_time += now - c.hold_since
            c.hold_since = None
        hold = c.hold_time
        talk = max(0.0, now - c.connected_at - hold)
        del a.connected[c.contact.id]
        a.handled += 1
        a.talk_time += talk
        q = c.queue
        own = a.agent.wrap_up
        wrap = q.config.wrap_up if own is None else own
        a.last_call = now
        q.aht += self._policy.aht_smoothing * (talk + hold + wrap - q.aht)
        channel = c.contact.channel
        if wrap > 0:
            a.wrap_until = max(a.wrap_until, now + wrap) if a.wrap else now + wrap
            a.wrap[c.contact.id] = channel
            a.wrap_token += 1
            self._timer(a.wrap_until, _WRAP, a, a.wrap_token)
        else:
            a.load[channel] -= 1
            if not a.active:
                a.idle_since = now
        c.agent = None
        return a, talk, hold

    def _after_work(self, a: AgentBook, reason: str, queue: str) -> None:
        # No reindex before serving: _serve_agent reads no index, reindexes on
        # each offer and once at the end, so an agent who takes a waiting
        # contact at once is never inserted into the ready lists and removed.
        self._refresh(a, reason, queue)
        self._serve_agent(a)

    def end_wrap_up(self, agent_id: str) -> list[Action]:
        """The agent finishes wrap-up early.

        Raises:
            StateError: The agent is not in wrap-up.
        """
        self._begin()
        a = self._agent(agent_id)
        if not a.wrap:
            raise StateError(f"agent {agent_id!r} is not in wrap-up")
        self._clear_wrap(a)
        self._after_work(a, "wrap-up-ended", "")
        return self._flush()

    def extend_wrap_up(self, agent_id: str, seconds: float) -> list[Action]:
        """Give the agent ``seconds`` more wrap-up.

        Raises:
            StateError: The agent is not in wrap-up.
            ValidationError: ``seconds`` is not positive.
        """
        now = self._begin()
        a = self._agent(agent_id)
        if not a.wrap:
            raise StateError(f"agent {agent_id!r} is not in wrap-up")
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValidationError(f"extend_wrap_up: seconds must be > 0, got {seconds!r}")
        a.wrap_until = max(a.wrap_until, now) + seconds
        a.wrap_token += 1
        self._timer(a.wrap_until, _WRAP, a, a.wrap_token)
        self._publish(WrapUpExtended(at=now, agent_id=agent_id, until=a.wrap_until))
        return self._flush()

    def _clear_wrap(self, a: AgentBook) -> None:
        for channel in a.wrap.values():
            a.load[channel] -= 1
        a.wrap.clear()
        a.wrap_token += 1
        if not a.active:
            a.idle_since = self._now
