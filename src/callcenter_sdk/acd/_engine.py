"""The ACD engine: a pure, deterministic matcher of waiting contacts and agents.

The engine does no I/O and starts no timers. Each input (a contact arrives,
an agent goes ready, an offer is accepted, :meth:`Engine.tick` at a deadline)
reads the injected clock once, updates the books, publishes typed events on
the :class:`~callcenter_sdk.EventStream` and returns the actions for the
caller to perform. The same engine runs live under
:class:`~callcenter_sdk.acd.Runtime`, in the simulator and in hypothesis
tests.

Invariant kept after every input: no waiting contact has a ready agent who
could take it. Hence a contact that arrives may be given any eligible ready
agent (none is owed to an earlier contact), and an agent who frees up takes
the best waiting contact of their queues. See docs/acd.md for the complexity
of each operation.

.. versionadded:: 0.1
"""

from __future__ import annotations

import heapq
import math
from typing import cast

from .._clock import Clock
from .._errors import (
    ConfigError,
    NotFoundError,
    PluginError,
    StateError,
    TransitionError,
    ValidationError,
)
from .._events import EventStream
from ._actions import Action, Announce, Connect, Divert, Release, Rescind
from ._agent import AgentBook, AgentStatus
from ._events import (
    AgentLogoutRequested,
    AgentState,
    ContactAbandoned,
    ContactCallbackFailed,
    ContactCallbackRequested,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactHeld,
    ContactOverflowed,
    ContactRelaxed,
    ContactResumed,
    ContactTimedOut,
    ContactTransferred,
    OfferAccepted,
    OfferNotAnswered,
    OfferRejected,
    WrapUpExtended,
)
from ._model import Agent, Contact, EmptyRule, OverflowTarget, Queue
from ._queue import (
    ContactBook,
    ContactPhase,
    ContactStatus,
    OfferBook,
    QueueBook,
    QueueStatus,
)
from ._routing import (
    _ANNOUNCE,
    _DELAY,
    _MAXWAIT,
    _OFFER,
    _RELAX,
    _WRAP,
    MISS_DELAY,
    Router,
    RoutingPolicy,
    _empty,
)

__all__ = ["Engine"]

_MISSED = "missed-offers"
_LEAVING = "logout-pending"
_W = ContactPhase.WAITING


class Engine(Router):
    """Matches contacts and agents; returns actions, publishes events.

    Args:
        clock: Where the time comes from (read once per input).
        events: The stream events are published on; a private one by default.
        strategies: Strategy factories by name, usually
            :meth:`callcenter_sdk.PluginHost.routing_strategies`; the built-ins
            by default.
        policy: Missed-offer, plugin-budget and estimate rules.
        perf_counter: Measures how long a plugin takes (injectable for tests).
    """

    # ------------------------------------------------------------------ setup

    @property
    def clock(self) -> Clock:
        """The clock the engine reads."""
        return self._clock

    @property
    def events(self) -> EventStream:
        """The stream every event is published on."""
        return self._events

    @property
    def policy(self) -> RoutingPolicy:
        """The engine's routing policy."""
        return self._policy

    def add_queue(self, queue: Queue) -> None:
        """Add a queue; its strategy and overflow queue must be known.

        Raises:
            ConfigError: Duplicate name, unknown strategy or overflow queue.
            PluginError: The strategy's factory failed.
        """
        where = ("queues", queue.name)
        if queue.name in self._queues:
            raise ConfigError("<python>", where, "a unique queue name", queue.name)
        factory = self._factories.get(queue.strategy)
        if factory is None:
            known = ", ".join(sorted(self._factories))
            raise ConfigError("<python>", (*where, "strategy"), f"one of {known}", queue.strategy)
        ov = queue.overflow
        if ov is not None and ov.target is OverflowTarget.QUEUE and ov.queue not in self._queues:
            raise ConfigError(
                "<python>", (*where, "overflow"), "a queue added before this one", ov.queue
            )
        try:
            strategy = factory(queue.strategy_options)
        except Exception as exc:
            raise PluginError(f"strategy {queue.strategy!r} failed to build: {exc!r}") from exc
        self._queues[queue.name] = QueueBook(queue, strategy)

    def add_agent(self, agent: Agent) -> None:
        """Add an agent (offline); every queue they belong to must exist.

        Raises:
            ConfigError: Duplicate id or unknown queue.
        """
        if agent.id in self._agents:
            raise ConfigError("<python>", ("agents", agent.id), "a unique agent id", agent.id)
        a = AgentBook(agent, len(self._by_idx))
        self._join_queues(a)
        self._agents[agent.id] = a
        self._by_idx.append(a)

    def update_agent(self, agent: Agent) -> None:
        """Replace an offline agent's skills, queues and capacity.

        Raises:
            StateError: The agent is logged in.
        """
        a = self._agent(agent.id)
        if a.presence is not AgentState.OFFLINE:
            raise StateError(f"agent {agent.id!r} must be offline to be updated")
        for q in a.queues:
            del q.members[a.idx]
        fresh = AgentBook(agent, a.idx)
        fresh.version = a.version + 1  # entries left in the indexes stay stale
        self._join_queues(fresh)
        self._agents[agent.id] = fresh
        self._by_idx[a.idx] = fresh

    def _join_queues(self, a: AgentBook) -> None:
        for i, m in enumerate(a.agent.memberships):
            q = self._queues.get(m.queue)
            if q is None:
                where = ("agents", a.agent.id, "memberships", i)
                raise ConfigError("<python>", where, "a known queue", m.queue)
        for m in a.agent.memberships:
            q = self._queues[m.queue]
            order = q.next_order
            q.next_order += 1
            q.members[a.idx] = (m.penalty, order)
            channels = tuple(ch for ch in q.config.channels if ch in a.limits)
            a.memberships.append((q, m.penalty, order, channels))
            a.queues.append(q)
            if q.config.leave_when_empty is not EmptyRule.NEVER:
                a.leave_queues.append(q)

    # ---------------------------------------------------------------- helpers

    # -------------------------------------------------------- agent presence

    def login(self, agent_id: str, *, reason: str = "login") -> list[Action]:
        """Log an agent in; they start not ready with ``reason``.

        Raises:
            TransitionError: The agent is already logged in.
        """
        now = self._begin()
        a = self._agent(agent_id)
        if a.presence is not AgentState.OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, AgentState.NOT_READY, "login")
        a.handled, a.talk_time, a.missed, a.idle_since = 0, 0.0, 0, now
        self._set_presence(a, AgentState.NOT_READY, reason)
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
        if a.presence is AgentState.OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, AgentState.OFFLINE, "offline")
        in_hand = bool(a.offers or a.connected)
        if when_idle and (in_hand or a.wrap):
            a.leaving = reason
            a.delay_token += 1
            self._set_presence(a, AgentState.NOT_READY, _LEAVING)
            self._publish(AgentLogoutRequested(at=now, agent_id=agent_id, reason=reason))
            self._reindex(a)
            self._refresh(a, _LEAVING)
            self._check_leave(a)
            return self._flush()
        if in_hand:
            raise TransitionError(f"agent {agent_id!r}", a.state, AgentState.OFFLINE, "busy")
        self._clear_wrap(a)
        self._log_off(a, reason)
        return self._flush()

    def _log_off(self, a: AgentBook, reason: str) -> None:
        a.leaving = None
        self._set_presence(a, AgentState.OFFLINE, reason)
        self._reindex(a)
        self._refresh(a, reason)
        self._check_leave(a)

    def _leave_if_idle(self, a: AgentBook) -> None:
        if not (a.offers or a.connected or a.wrap):
            self._log_off(a, a.leaving or "logout")

    def set_ready(self, agent_id: str) -> list[Action]:
        """Make a logged-in agent ready; they take the best waiting contact at once.

        Raises:
            TransitionError: The agent is offline.
        """
        now = self._begin()
        a = self._agent(agent_id)
        if a.presence is AgentState.OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, AgentState.READY)
        a.leaving = None
        if a.presence is not AgentState.READY:
            a.missed = 0
            a.delay_token += 1
            if not a.active:
                a.idle_since = now
            self._set_presence(a, AgentState.READY, "ready")
            self._refresh(a, "ready")
            self._serve_agent(a)
        return self._flush()

    def set_not_ready(self, agent_id: str, reason: str = "not-ready") -> list[Action]:
        """Pause an agent with a reason code; work in hand continues.

        Raises:
            TransitionError: The agent is offline.
        """
        self._begin()
        a = self._agent(agent_id)
        if a.presence is AgentState.OFFLINE:
            raise TransitionError(f"agent {agent_id!r}", a.state, AgentState.NOT_READY)
        a.leaving = None
        a.delay_token += 1
        self._set_presence(a, AgentState.NOT_READY, reason)
        self._reindex(a)
        self._refresh(a, reason)
        self._check_leave(a)
        return self._flush()

    def _check_leave(self, a: AgentBook) -> None:
        for q in a.leave_queues:
            if q.waiting and _empty(q, q.config.leave_when_empty):
                for c in q.waiting_contacts():
                    if not c.callback:  # a callback waits for the next agent
                        self._give_up(c, "leave-empty")

    # --------------------------------------------------------------- contacts

    def arrive(
        self,
        contact: Contact,
        queue: str,
        *,
        entered_at: float | None = None,
        callback: str = "",
    ) -> list[Action]:
        """A contact enters ``queue`` (or is refused or overflowed by its rules).

        Args:
            contact: The contact.
            queue: The queue's name.
            entered_at: When the contact really entered the queue, for a
                contact brought back after a restart (see
                :func:`callcenter_sdk.store.restore_waiting`); now by default.
                Its wait is counted from then: its place among the other
                contacts (priority, aging, then arrival), its maximum-wait and
                relaxation deadlines (a deadline already past fires at the
                next :meth:`tick`), and the ``entered_at`` of its
                :class:`~callcenter_sdk.acd.ContactEnteredQueue`, hence its
                record's arrival time.
            callback: A number when the contact is a queued callback brought
                back (see :func:`callcenter_sdk.store.restore_callbacks`): it
                enters as if :meth:`keep_place_for_callback` had been called
                (a :class:`~callcenter_sdk.acd.ContactCallbackRequested`
                follows its entry), without being offered first.

        Raises:
            NotFoundError: Unknown queue.
            ValidationError: The contact id is live already, the queue does
                not accept its channel, or ``entered_at`` is in the future.

        .. versionchanged:: 0.2
           ``entered_at`` and ``callback``.
        """
        now = self._begin()
        q = self._queue(queue)
        if contact.id in self._contacts:
            raise ValidationError(f"contact {contact.id!r} is already in the ACD")
        if contact.channel not in q.config.channels:
            raise ValidationError(f"queue {queue!r} does not take {contact.channel} contacts")
        if entered_at is not None and not (math.isfinite(entered_at) and entered_at <= now):
            raise ValidationError(f"entered_at must be a past time (now {now}), got {entered_at!r}")
        c = ContactBook(contact, q)
        c.callback = callback
        self._contacts[contact.id] = c
        self._enter(c, q, now if entered_at is None else entered_at)
        return self._flush()

    def _enter(self, c: ContactBook, q: QueueBook, since: float | None = None) -> None:
        now = self._now
        cfg = q.config
        c.queue, c.agent, c.expired, c.hold_since, c.hold_time = q, None, False, None, 0.0
        c.entered_at = entered = now if since is None else since
        if cfg.max_length is not None and q.waiting >= cfg.max_length:
            self._give_up(c, "full")
            return
        rule = cfg.join_when_empty
        if rule is not EmptyRule.NEVER and _empty(q, rule):
            self._give_up(c, "join-empty")
            return
        contact = c.contact
        self._seq += 1
        c.seq = self._seq
        c.neg_score = score = -(contact.priority - cfg.aging_rate * entered)
        c.key = (score, entered, self._seq)
        c.enter_token = self._seq
        c.steps = contact.relax or cfg.relax
        c.step = 0
        reqs = contact.requirements
        waited = now - entered
        while c.step < len(c.steps) and c.steps[c.step].after <= waited:
            reqs = c.steps[c.step].requirements
            c.step += 1
        self._require(c, reqs)
        c.phase = _W
        self._wait(c)
        position = q.position(c)
        ewt = q.estimated_wait(position)
        self._publish(
            ContactEnteredQueue(
                at=now,
                contact_id=contact.id,
                queue=q.name,
                channel=contact.channel,
                direction=contact.direction,
                caller_id=contact.caller_id,
                priority=contact.priority,
                position=position,
                estimated_wait=ewt,
                service_level_threshold=cfg.service_level_threshold,
                entered_at=entered,
            )
        )
        if c.callback:
            self._publish(
                ContactCallbackRequested(
                    at=now,
                    contact_id=contact.id,
                    queue=q.name,
                    number=c.callback,
                    position=position,
                    waited=now - entered,
                )
            )
        else:
            self._out.append(
                Announce(contact_id=contact.id, queue=q.name, position=position, estimated_wait=ewt)
            )
        if cfg.max_wait is not None:
            self._timer(entered + cfg.max_wait, _MAXWAIT, c, c.enter_token)
        if c.step < len(c.steps):
            self._timer(entered + c.steps[c.step].after, _RELAX, c, c.enter_token)
        if cfg.announce_every is not None:
            self._timer(now + cfg.announce_every, _ANNOUNCE, c, c.enter_token)
        self._serve_contact(c)

    def _give_up(self, c: ContactBook, reason: str) -> None:
        """The queue lets ``c`` go: overflow, or time out / exit."""
        now = self._now
        if c.phase is _W and c.sub is not None:
            self._unwait(c)
        q = c.queue
        cid = c.contact.id
        waited = now - c.entered_at
        ov = q.config.overflow
        if ov is not None:
            self._publish(
                ContactOverflowed(
                    at=now,
                    contact_id=cid,
                    queue=q.name,
                    target=ov.target,
                    to_queue=ov.queue,
                    reason=reason,
                    waited=waited,
                )
            )
            if ov.target is OverflowTarget.QUEUE:
                self._enter(c, self._queues[ov.queue])
                return
            self._out.append(Divert(contact_id=cid, queue=q.name, target=ov.target, reason=reason))
        elif reason == "max-wait":
            self._publish(ContactTimedOut(at=now, contact_id=cid, queue=q.name, waited=waited))
            self._out.append(Release(contact_id=cid, queue=q.name, reason=reason))
        else:
            event = ContactExited(
                at=now, contact_id=cid, queue=q.name, reason=reason, waited=waited
            )
            self._publish(event)
            self._out.append(Release(contact_id=cid, queue=q.name, reason=reason))
        self._finish(c)

    def _finish(self, c: ContactBook) -> None:
        c.phase = ContactPhase.ENDED
        self._contacts.pop(c.contact.id, None)

    # ---------------------------------------------------------------- routing

    # ----------------------------------------------------------------- offers

    def _pending(self, offer_id: str) -> OfferBook:
        o = self._offers.get(offer_id)
        if o is None:
            raise NotFoundError(f"no pending offer {offer_id!r}")
        return o

    def accept(self, offer_id: str, *, connect: bool = True) -> list[Action]:
        """The agent accepts; other offers of the contact are rescinded.

        With ``connect`` (the default) the contact is connected at once;
        otherwise the runtime bridges the call and reports :meth:`connected`.
        A queued callback is never connected at once, whatever ``connect``
        says: the runtime calls the customer and reports :meth:`connected` or
        :meth:`callback_failed`.

        Raises:
            NotFoundError: The offer is not pending (answered, rescinded, expired).
        """
        self._begin()
        o = self._pending(offer_id)
        c, a = o.contact, o.agent
        del self._offers[offer_id], c.offers[offer_id], a.offers[offer_id]
        q = c.queue
        self._publish(
            OfferAccepted(
                at=self._now,
                contact_id=c.contact.id,
                queue=q.name,
                agent_id=a.agent.id,
                offer_id=offer_id,
            )
        )
        freed = [self._rescind(other, "answered-elsewhere") for other in list(c.offers.values())]
        if c.phase is ContactPhase.CONNECTED:  # a transfer to this agent
            freed.append(self._hand_over(c, a))
        c.phase = ContactPhase.CONNECTING
        c.agent = a
        a.connected[c.contact.id] = c
        a.missed = 0
        self._refresh(a, "accepted", q.name)
        self._out.append(Connect(contact_id=c.contact.id, agent_id=a.agent.id))
        if connect and not c.callback:
            self._connect(c)
        for b in freed:
            self._serve_agent(b)
        return self._flush()

    def _hand_over(self, c: ContactBook, to: AgentBook) -> AgentBook:
        """End the first agent's part of a transfer to ``to``; return the first agent."""
        now = self._now
        q = c.queue
        a, talk, hold = self._end_work(c)
        c.hold_time = 0.0
        c.connected_at = now  # the new agent's talk time starts here
        c.transfer_from = a.agent.id
        self._publish(
            ContactTransferred(
                at=now,
                contact_id=c.contact.id,
                agent_id=a.agent.id,
                from_queue=q.name,
                to_queue=q.name,
                talk_time=talk,
                hold_time=hold,
                to_agent=to.agent.id,
            )
        )
        self._refresh(a, "transferred", q.name)
        return a

    def reject(self, offer_id: str, *, reason: str = "") -> list[Action]:
        """The agent declines the offer; it counts as a missed offer.

        Raises:
            NotFoundError: The offer is not pending.
        """
        self._begin()
        self._miss(self._pending(offer_id), rejected=True, reason=reason)
        return self._flush()

    def _miss(self, o: OfferBook, *, rejected: bool, reason: str = "") -> None:
        now = self._now
        c, a = o.contact, o.agent
        self._drop_offer(o)
        cid, aid, qname = c.contact.id, a.agent.id, c.queue.name
        if rejected:
            self._publish(
                OfferRejected(
                    at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id, reason=reason
                )
            )
        else:
            self._publish(
                OfferNotAnswered(at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id)
            )
            self._out.append(Rescind(offer_id=o.id, contact_id=cid, agent_id=aid))
        transfer = c.phase is ContactPhase.CONNECTED
        if not transfer:  # declining a colleague's transfer is no missed queue offer
            a.missed += 1
        if a.presence is AgentState.READY and not transfer:
            policy = self._policy
            if a.missed >= policy.max_missed_offers:
                self._set_presence(a, AgentState.NOT_READY, _MISSED)
            elif policy.missed_offer_delay > 0:
                self._set_presence(a, AgentState.NOT_READY, MISS_DELAY)
                a.delay_token += 1
                self._timer(now + policy.missed_offer_delay, _DELAY, a, a.delay_token)
        self._reindex(a)
        self._refresh(a, "offer-rejected" if rejected else "offer-not-answered", c.queue.name)
        # The freed agent chooses before the returning contact is routed, so
        # that an earlier contact of the same queue is never overtaken.
        back = not c.offers and c.phase is ContactPhase.OFFERING
        if back:
            c.phase = _W
            self._wait(c)
        if a.presence is AgentState.NOT_READY:
            self._check_leave(a)
        self._serve_agent(a)
        if back and c.phase is _W:
            if c.expired:
                self._give_up(c, "max-wait")
            else:
                self._serve_contact(c)

    # ------------------------------------------------------- connected contacts

    def connected(self, contact_id: str) -> list[Action]:
        """The runtime bridged an accepted contact with its agent.

        Raises:
            StateError: The contact is not connecting.
        """
        self._begin()
        c = self._contact(contact_id)
        if c.phase is not ContactPhase.CONNECTING:
            raise StateError(f"contact {contact_id!r} is {c.phase}, not connecting")
        self._connect(c)
        return self._flush()

    def _connect(self, c: ContactBook) -> None:
        now = self._now
        a = _handler(c)
        q = c.queue
        c.phase = ContactPhase.CONNECTED
        c.callback = ""  # the customer is on the line from now on
        if c.transfer_from:
            c.transfer_from = ""  # handed over: answered once already, talk counted from then
        else:
            c.connected_at = now
            self._publish(
                ContactConnected(
                    at=now,
                    contact_id=c.contact.id,
                    queue=q.name,
                    agent_id=a.agent.id,
                    waited=now - c.entered_at,
                )
            )
        self._refresh(a, "connected", q.name)
        hook = getattr(q.strategy, "on_connected", None)
        if hook is not None:
            try:
                hook(c.contact, a.agent.id)
            except Exception as exc:  # noqa: BLE001 - a plugin failure is only reported
                self._fault(q, c, "raised", repr(exc))

    def _talking(self, contact_id: str) -> tuple[ContactBook, AgentBook]:
        c = self._contact(contact_id)
        if c.phase is not ContactPhase.CONNECTED or c.agent is None:
            raise StateError(f"contact {contact_id!r} is {c.phase}, not connected")
        return c, c.agent

    def hold(self, contact_id: str) -> list[Action]:
        """The agent puts the customer on hold (no-op if already held).

        Raises:
            StateError: The contact is not connected.
        """
        now = self._begin()
        c, a = self._talking(contact_id)
        if c.hold_since is None:
            c.hold_since = now
            self._publish(ContactHeld(at=now, contact_id=contact_id, agent_id=a.agent.id))
            self._refresh(a, "hold", c.queue.name)
        return self._flush()

    def resume(self, contact_id: str) -> list[Action]:
        """The agent takes the customer off hold (no-op if not held).

        Raises:
            StateError: The contact is not connected.
        """
        now = self._begin()
        c, a = self._talking(contact_id)
        if c.hold_since is not None:
            c.hold_time += now - c.hold_since
            c.hold_since = None
            self._publish(ContactResumed(at=now, contact_id=contact_id, agent_id=a.agent.id))
            self._refresh(a, "resume", c.queue.name)
        return self._flush()

    def hangup(self, contact_id: str) -> list[Action]:
        """The contact ends: abandoned if not yet connected, else completed.

        A queued callback not yet connected ends as
        :class:`~callcenter_sdk.acd.ContactCallbackFailed` instead (reason
        ``"cancelled"`` before an agent took it, ``"hangup"`` after), never as
        an abandon.

        Raises:
            NotFoundError: No such live contact.
        """
        now = self._begin()
        c = self._contact(contact_id)
        q = c.queue
        phase = c.phase
        if phase is ContactPhase.CONNECTING and c.transfer_from:
            return self._hangup_handing_over(c)
        if phase is ContactPhase.CONNECTED:
            pending = self._cancel_transfer(c)
            a, talk, hold = self._end_work(c)
            self._publish(
                ContactCompleted(
                    at=now,
                    contact_id=contact_id,
                    queue=q.name,
                    agent_id=a.agent.id,
                    talk_time=talk,
                    hold_time=hold,
                )
            )
            self._finish(c)
            self._after_work(a, "completed", q.name)
            for b in pending:
                self._serve_agent(b)
            return self._flush()
        freed: list[AgentBook] = []
        agent_id = ""
        if phase is _W:
            self._unwait(c)
        elif phase is ContactPhase.OFFERING:
            freed = [self._rescind(o, "contact-ended") for o in list(c.offers.values())]
        else:  # connecting: accepted, not bridged yet
            b = _handler(c)
            del b.connected[contact_id]
            b.load[c.contact.channel] -= 1
            freed = [b]
            agent_id = b.agent.id
            c.agent = None
        if c.callback:
            # Not an abandon: nobody was waiting on the line.
            reason = "hangup" if agent_id else "cancelled"
            self._callback_failed(c, reason, agent_id)
        else:
            self._publish(
                ContactAbandoned(
                    at=now,
                    contact_id=contact_id,
                    queue=q.name,
                    waited=now - c.entered_at,
                    ringing=phase is not _W,
                )
            )
        self._finish(c)
        for a in freed:
            self._reindex(a)
            self._refresh(a, "contact-ended", q.name)
            self._serve_agent(a)
        return self._flush()

    # -------------------------------------------------------------- callbacks

    def keep_place_for_callback(self, contact_id: str, number: str) -> list[Action]:
        """The waiting customer leaves the line and is called back when their turn comes.

        Known as a *queued callback* (Amazon Connect) or *virtual hold*
        (Genesys): the contact keeps its place — same arrival, priority, aging
        and relaxation steps, so the same position relative to every other
        contact — and publishes :class:`~callcenter_sdk.acd.ContactCallbackRequested`.
        It is not an abandon. From now on the queue's maximum wait, leave rules
        and announcements no longer apply to it: nobody is on the line.

        If an agent was being offered the contact, the offers are rescinded
        (reason ``"callback-requested"``, no missed offer counted) and the
        contact is offered again at once, now as a callback.

        What the runtime must do:

        1. After this call, end the caller's leg (play a confirmation first if
           wanted) **without** calling :meth:`hangup`: the contact no longer
           follows that leg, and :meth:`hangup` would now cancel the callback.
           Keep ``number`` with the contact (the store's
           :class:`~callcenter_sdk.store.CallbackRecord` makes it durable).
        2. An :class:`~callcenter_sdk.acd.Offer` whose ``callback`` is set
           rings the agent like any offer (show the number on their screen).
           Answer it with :meth:`accept` / :meth:`reject` as usual; the engine
           then returns :class:`~callcenter_sdk.acd.Connect`, and never
           connects a callback at once, whatever ``connect`` says.
        3. On ``Connect``, originate an outbound call to ``number`` and bridge
           it with the agent. When the customer answers, report
           :meth:`connected` (the contact is then an ordinary connected
           contact: hold, transfer, hang-up). When they cannot be reached
           (no answer, busy, network failure), report
           :meth:`callback_failed` with the reason; the agent is freed at once.
        4. To cancel a callback (the customer called again, an operator
           deleted it), call :meth:`hangup`.

        Args:
            contact_id: The waiting (or ringing) contact.
            number: The number to call back, as dialled by the runtime.

        Raises:
            NotFoundError: No such live contact.
            StateError: The contact is connecting or connected, or is a
                callback already.
            ValidationError: ``number`` is empty.

        .. versionadded:: 0.2
        """
        now = self._begin()
        c = self._contact(contact_id)
        if not number:
            raise ValidationError("keep_place_for_callback: the number is empty")
        phase = c.phase
        if c.callback or (phase is not _W and phase is not ContactPhase.OFFERING):
            what = "a callback already" if c.callback else phase
            raise StateError(f"contact {contact_id!r} is {what}, not waiting")
        c.callback = number
        c.expired = False
        offers = list(c.offers.values())
        if offers:
            # Back in the queue under its old (score, seq): the same place.
            c.phase = _W
            self._wait(c)
        q = c.queue
        self._publish(
            ContactCallbackRequested(
                at=now,
                contact_id=contact_id,
                queue=q.name,
                number=number,
                position=q.position(c),
                waited=now - c.entered_at,
            )
        )
        if offers:
            freed = [self._rescind(o, "callback-requested") for o in offers]
            # Freed agents choose first, as after a missed offer: no earlier
            # contact is overtaken.
            for a in freed:
                self._serve_agent(a)
            if c.phase is _W:
                self._serve_contact(c)
        return self._flush()

    def callback_failed(self, contact_id: str, reason: str = "no-answer") -> list[Action]:
        """The runtime could not reach the customer of an accepted callback.

        The contact ends with :class:`~callcenter_sdk.acd.ContactCallbackFailed`
        (not an abandon; its record's outcome is ``callback_failed``) and the
        agent is free at once. To try again later, the runtime may bring the
        contact back with :meth:`arrive` and then
        :meth:`keep_place_for_callback`.

        Args:
            contact_id: The callback being connected.
            reason: ``"no-answer"``, ``"busy"`` or ``"failed"``.

        Raises:
            NotFoundError: No such live contact.
            StateError: The contact is not a callback being connected.

        .. versionadded:: 0.2
        """
        self._begin()
        c = self._contact(contact_id)
        if not c.callback or c.phase is not ContactPhase.CONNECTING:
            raise StateError(f"contact {contact_id!r} is not a callback being connected")
        a = _handler(c)
        del a.connected[contact_id]
        a.load[c.contact.channel] -= 1
        c.agent = None
        self._callback_failed(c, reason, a.agent.id)
        self._finish(c)
        self._reindex(a)
        self._refresh(a, "callback-failed", c.queue.name)
        self._serve_agent(a)
        return self._flush()

    def _callback_failed(self, c: ContactBook, reason: str, agent_id: str) -> None:
        now = self._now
        self._publish(
            ContactCallbackFailed(
                at=now,
                contact_id=c.contact.id,
                queue=c.queue.name,
                number=c.callback,
                reason=reason,
                agent_id=agent_id,
                waited=now - c.entered_at,
            )
        )

    # -------------------------------------------------------------- transfers

    def _hangup_handing_over(self, c: ContactBook) -> list[Action]:
        """The customer left while being bridged to the colleague who took the transfer."""
        b = _handler(c)
        cid, q = c.contact.id, c.queue
        del b.connected[cid]
        b.load[c.contact.channel] -= 1
        c.agent = None
        # Answered (by the first agent), so completed; the colleague never spoke: no wrap-up.
        self._publish(
            ContactCompleted(
                at=self._now,
                contact_id=cid,
                queue=q.name,
                agent_id=b.agent.id,
                talk_time=0.0,
                hold_time=0.0,
            )
        )
        self._finish(c)
        self._reindex(b)
        self._refresh(b, "contact-ended", q.name)
        self._serve_agent(b)
        return self._flush()

    def transfer(self, contact_id: str, queue: str) -> list[Action]:
        """Blind-transfer a connected contact to ``queue``; the agent goes to wrap-up.

        Raises:
            StateError: The contact is not connected.
            NotFoundError: Unknown queue.
            ValidationError: The queue does not take the contact's channel.
        """
        now = self._begin()
        c, _ = self._talking(contact_id)
        target = self._queue(queue)
        if c.contact.channel not in target.config.channels:
            raise ValidationError(f"queue {queue!r} does not take {c.contact.channel} contacts")
        pending = self._cancel_transfer(c)
        source = c.queue.name
        a, talk, hold = self._end_work(c)
        self._publish(
            ContactTransferred(
                at=now,
                contact_id=contact_id,
                agent_id=a.agent.id,
                from_queue=source,
                to_queue=queue,
                talk_time=talk,
                hold_time=hold,
            )
        )
        self._after_work(a, "transferred", source)
        for b in pending:
            self._serve_agent(b)
        self._enter(c, target)
        return self._flush()

    def transfer_to_agent(self, contact_id: str, agent_id: str) -> list[Action]:
        """Offer a connected contact to one colleague (a transfer agent to agent).

        The colleague must be logged in and ready with a free slot for the
        contact's channel; queue membership and skills are not required (the
        first agent chose them). They get an ordinary
        :class:`~callcenter_sdk.acd.Offer` whose ``transfer_from`` names the
        first agent, who stays connected to the customer meanwhile (and may
        hold them). Then, as TaskRouter's and app_queue's attended transfers:

        * **accepted**: the first agent's part ends (wrap-up as after any
          contact) with a :class:`~callcenter_sdk.acd.ContactTransferred`
          whose ``to_agent`` is the colleague; the engine returns
          :class:`~callcenter_sdk.acd.Connect` for the colleague and the
          contact continues with them in the same queue visit (no second
          :class:`~callcenter_sdk.acd.ContactConnected`: it was answered
          already). The runtime bridges the customer to the colleague and,
          with ``accept(..., connect=False)``, reports :meth:`connected`.
        * **rejected or not answered** (the queue's ``offer_timeout``): the
          contact **stays with the first agent**, who is told by the
          :class:`~callcenter_sdk.acd.OfferRejected` /
          :class:`~callcenter_sdk.acd.OfferNotAnswered` event (and a
          :class:`~callcenter_sdk.acd.Rescind` for the colleague's phone on
          a time-out); the runtime takes the customer off hold. Declining a
          transfer is not a missed offer.
        * the customer hangs up, or the first agent transfers to a queue,
          meanwhile: the colleague's offer is rescinded.

        Raises:
            NotFoundError: Unknown contact or agent.
            StateError: The contact is not connected, a transfer of it is
                pending already, or the colleague is not ready or has no
                free slot.
            ValidationError: The colleague is the agent connected to it.

        .. versionadded:: 0.2
        """
        self._begin()
        c, a = self._talking(contact_id)
        b = self._agent(agent_id)
        if b is a:
            raise ValidationError(f"contact {contact_id!r} is already with {agent_id!r}")
        if c.offers:
            raise StateError(f"a transfer of contact {contact_id!r} is pending already")
        if not b.can_take(c.contact.channel):
            raise StateError(f"agent {agent_id!r} is not ready for a {c.contact.channel} contact")
        self._offer(c, [b], transfer_from=a.agent.id)
        return self._flush()

    def _cancel_transfer(self, c: ContactBook) -> list[AgentBook]:
        """Rescind a pending transfer-to-agent offer of ``c``; return the freed colleagues."""
        if not c.offers:
            return []
        return [self._rescind(o, "contact-ended") for o in list(c.offers.values())]

    def _end_work(self, c: ContactBook) -> tuple[AgentBook, float, float]:
        """Detach a connected contact from its agent, starting the agent's wrap-up."""
        now = self._now
        a = _handler(c)
        if c.hold_since is not None:
            c.hold_time += now - c.hold_since
            c.hold_since = None
        hold = c.hold_time
        talk = max(0.0, now - c.connected_at - hold)
        del a.connected[c.contact.id]
        a.handled += 1
        a.talk_time += talk
        q = c.queue
        wrap = q.config.wrap_up
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

    # ---------------------------------------------------------------- wrap-up

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

    # ----------------------------------------------------------------- timers

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do, or ``None``."""
        return self._timers[0][0] if self._timers else None

    def tick(self) -> list[Action]:
        """Fire every timer due at the clock's time (offer timeouts, wrap-up, max wait...)."""
        now = self._begin()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, kind, obj, token = heapq.heappop(timers)
            if kind == _OFFER:
                offer = cast("OfferBook", obj)
                if offer.id in self._offers:
                    self._miss(offer, rejected=False)
            elif kind == _WRAP:
                a = cast("AgentBook", obj)
                if a.wrap_token == token and a.wrap:
                    self._clear_wrap(a)
                    self._after_work(a, "wrap-up-ended", "")
            elif kind == _DELAY:
                a = cast("AgentBook", obj)
                if a.delay_token == token and a.reason == MISS_DELAY:
                    self._set_presence(a, AgentState.READY, "ready")
                    if not a.active:
                        a.idle_since = now
                    self._refresh(a, "missed-offer-delay-ended")
                    self._serve_agent(a)
            else:
                c = cast("ContactBook", obj)
                if c.enter_token == token and c.phase is not ContactPhase.ENDED:
                    self._contact_timer(c, kind)
        return self._flush()

    def _contact_timer(self, c: ContactBook, kind: int) -> None:
        if kind == _MAXWAIT:
            self._max_wait(c)
        elif kind == _ANNOUNCE:
            self._announce(c)
        else:
            self._relax(c)

    def _announce(self, c: ContactBook) -> None:
        q = c.queue
        every = q.config.announce_every
        if every is None or c.callback:  # nobody on the line to tell
            return
        if c.phase is _W:
            position = q.position(c)
            self._out.append(
                Announce(
                    contact_id=c.contact.id,
                    queue=q.name,
                    position=position,
                    estimated_wait=q.estimated_wait(position),
                )
            )
        if c.phase is _W or c.phase is ContactPhase.OFFERING:
            self._timer(self._now + every, _ANNOUNCE, c, c.enter_token)

    def _max_wait(self, c: ContactBook) -> None:
        if c.callback:
            return  # nobody is on the line to run out of patience
        if c.phase is _W:
            self._give_up(c, "max-wait")
        elif c.phase is ContactPhase.OFFERING:
            c.expired = True

    def _relax(self, c: ContactBook) -> None:
        if c.phase is not _W and c.phase is not ContactPhase.OFFERING:
            return
        step = c.steps[c.step]
        c.step += 1
        waiting = c.phase is _W
        if waiting:
            self._unwait(c)
        self._require(c, step.requirements)
        if waiting:
            self._wait(c)
        self._publish(
            ContactRelaxed(
                at=self._now,
                contact_id=c.contact.id,
                queue=c.queue.name,
                step=c.step,
                requirements=tuple(f"{r.skill}>={r.min_level}" for r in c.reqs),
            )
        )
        if c.step < len(c.steps):
            self._timer(c.entered_at + c.steps[c.step].after, _RELAX, c, c.enter_token)
        if waiting:
            self._serve_contact(c)

    # ---------------------------------------------------------------- queries

    def agent_status(self, agent_id: str) -> AgentStatus:
        """A snapshot of one agent."""
        a = self._agent(agent_id)
        return AgentStatus(
            agent_id=agent_id,
            state=a.state,
            presence=a.presence,
            reason=a.shown,
            on_hold=a.on_hold,
            offers=tuple(a.offers),
            contacts=tuple(a.connected),
            wrap_up=tuple(a.wrap),
            wrap_up_until=a.wrap_until if a.wrap else None,
            missed=a.missed,
            load=dict(a.load),
            logout_pending=a.leaving is not None,
        )

    def can_take(self, agent_id: str, contact: Contact) -> bool:
        """Whether the agent is ready with a free slot for ``contact``'s channel."""
        return self._agent(agent_id).can_take(contact.channel)

    def contact_status(self, contact_id: str) -> ContactStatus:
        """A snapshot of one live contact.

        Raises:
            NotFoundError: The contact has ended or never existed.
        """
        c = self._contact(contact_id)
        return ContactStatus(
            contact_id=contact_id,
            queue=c.queue.name,
            phase=c.phase,
            entered_at=c.entered_at,
            agent_id=c.agent.agent.id if c.agent is not None else None,
            offers=tuple(o.agent.agent.id for o in c.offers.values()),
            on_hold=c.hold_since is not None,
            requirements=c.reqs,
            callback=c.callback,
        )

    def live_contacts(self) -> list[str]:
        """Ids of every contact still in the ACD."""
        return list(self._contacts)

    def waiting_contacts(self, queue: str) -> list[str]:
        """Ids of ``queue``'s waiting contacts in service order (O(n log n))."""
        return [c.contact.id for c in self._queue(queue).waiting_contacts()]

    def waiting_count(self, queue: str) -> int:
        """How many contacts wait in ``queue`` (O(1))."""
        return self._queue(queue).waiting

    def position(self, contact_id: str) -> int:
        """1-based position of a waiting contact in its queue (O(n)).

        Raises:
            StateError: The contact is not waiting.
        """
        c = self._contact(contact_id)
        if c.phase is not _W:
            raise StateError(f"contact {contact_id!r} is {c.phase}, not waiting")
        return c.queue.position(c)

    def estimated_wait(self, contact_id: str) -> float:
        """Estimated seconds until answer: ``position × AHT / available agents``."""
        c = self._contact(contact_id)
        return c.queue.estimated_wait(self.position(contact_id))

    def average_handle_time(self, queue: str) -> float:
        """The moving-average handle time the estimate uses for ``queue``."""
        return self._queue(queue).aht

    def queue_status(self, queue: str) -> QueueStatus:
        """A snapshot of ``queue`` (O(n): the oldest contact is found by a scan)."""
        q = self._queue(queue)
        now = self._clock.now()
        entered = [c.entered_at for sub in q.subs.values() for c in sub.contacts()]
        return QueueStatus(
            queue=queue,
            waiting=q.waiting,
            oldest_wait=max(0.0, now - min(entered)) if entered else 0.0,
            logged_in=q.logged_in,
            available=q.available,
            average_handle_time=q.aht,
            estimated_wait=q.estimated_wait(q.waiting + 1),
        )

    def queue_names(self) -> list[str]:
        """Names of every queue, in the order added."""
        return list(self._queues)

    def agent_ids(self) -> list[str]:
        """Ids of every agent, in the order added."""
        return list(self._agents)

    def __repr__(self) -> str:
        return (
            f"<Engine queues={len(self._queues)} agents={len(self._agents)}"
            f" contacts={len(self._contacts)} offers={len(self._offers)}>"
        )


def _handler(c: ContactBook) -> AgentBook:
    if c.agent is None:  # pragma: no cover - guarded by the phase checks
        raise StateError(f"contact {c.contact.id!r} has no agent")
    return c.agent
