"""A contact's visit: it arrives, waits, is refused or overflowed, connects, holds, hangs up.

:class:`ContactLifecycle` holds the :class:`~callcenter_sdk.acd.Engine`
inputs that follow one contact through a queue visit. Offers, transfers and
queued callbacks, which branch off that path, live in their own modules.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from .._errors import StateError, ValidationError
from ._actions import Action, Announce, Divert, Release
from ._agent import AgentBook
from ._events import (
    AgentState,
    ContactAbandoned,
    ContactAdopted,
    ContactCallbackRequested,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactHeld,
    ContactOverflowed,
    ContactResumed,
    ContactTimedOut,
    EndedBy,
    ExitReason,
)
from ._model import Contact, EmptyCondition, EmptyRule, OverflowTarget, Queue
from ._queue import ContactBook, ContactPhase, QueueBook
from ._routing import (
    _ANNOUNCE,
    _MAXWAIT,
    _NOAGENT,
    _PENALTY,
    _RELAX,
    Router,
    _empty,
)
from ._unchecked import unchecked

__all__ = ["ContactLifecycle"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_CONNECTED = ContactPhase.CONNECTED
_CONNECTING = ContactPhase.CONNECTING
_ENDED = ContactPhase.ENDED
_OFFERING = ContactPhase.OFFERING

_W = ContactPhase.WAITING
_NEVER = EmptyRule.NEVER
# What every contact makes, built from values the engine made itself.
_new_entered = unchecked(ContactEnteredQueue)
_new_announce = unchecked(Announce)
_new_connected = unchecked(ContactConnected)
_new_completed = unchecked(ContactCompleted)
_new_abandoned = unchecked(ContactAbandoned)


class ContactLifecycle(Router):
    """Contact inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _end_work(self, c: ContactBook) -> tuple[AgentBook, float, float]: ...
        def _after_work(self, a: AgentBook, reason: str, queue: str) -> None: ...
        def _cancel_transfer(self, c: ContactBook) -> list[AgentBook]: ...
        def _hangup_handing_over(self, c: ContactBook) -> list[Action]: ...
        def _callback_failed(self, c: ContactBook, reason: str, agent_id: str) -> None: ...

    # ------------------------------------------------------- arrival and exit

    def arrive(
        self,
        contact: Contact,
        queue: str,
        *,
        entered_at: float | None = None,
        callback: str = "",
        position: int | None = None,
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
            position: The place asked for among the waiting contacts
                (app_queue's ``Queue()`` *position* option: 1 is the head).
                The contact goes there, or to the first place after it
                whose contact has no higher priority than its own; never
                behind its natural place. Its wait still counts from now.

        Raises:
            NotFoundError: Unknown queue.
            ValidationError: The contact id is live already, the queue does
                not accept its channel, ``entered_at`` is in the future or
                ``position`` is below 1.

        .. versionchanged:: 0.2
           ``entered_at``, ``callback`` and ``position``.
        """
        now = self._begin()
        q = self._queue(queue)
        if contact.id in self._contacts:
            raise ValidationError(f"contact {contact.id!r} is already in the ACD")
        if contact.channel not in q.config.channels:
            raise ValidationError(f"queue {queue!r} does not take {contact.channel} contacts")
        if entered_at is not None and not (math.isfinite(entered_at) and entered_at <= now):
            raise ValidationError(f"entered_at must be a past time (now {now}), got {entered_at!r}")
        if position is not None and position < 1:
            raise ValidationError(f"position must be 1 or more, got {position!r}")
        c = ContactBook(contact, q)
        c.callback = callback
        c.asked = position
        self._contacts[contact.id] = c
        if entered_at is None and q.abandoned and contact.caller_id:
            entered_at = self._resumed(q, contact.caller_id)
        self._enter(c, q, now if entered_at is None else entered_at)
        return self._flush()

    def _jump(self, c: ContactBook, q: QueueBook, position: int) -> None:
        """Place ``c`` at ``position`` (1-based) over contacts of no higher priority.

        Its key becomes the key of the contact it goes before with a
        sequence number just below (half-way from the one before when
        another contact jumped there first): the same place at every
        instant, since every contact of the queue ages at the same rate.
        """
        order = q.order
        natural = bisect.bisect_left(order, c.key)
        by_key = {w.key: w for w in q.waiting_contacts()} if position - 1 < natural else {}
        mine = c.contact.priority
        for i in range(position - 1, natural):
            other = by_key[order[i]]
            if other.contact.priority <= mine:
                score, entered, seq = order[i]
                before = seq - 0.5
                if i and order[i - 1][:2] == (score, entered):  # another jumped there first
                    before = (order[i - 1][2] + seq) / 2
                c.neg_score = score
                c.key = (score, entered, before)
                return

    def _resumed(self, q: QueueBook, caller_id: str) -> float | None:
        """The first entry of a caller who abandoned ``q`` recently enough to resume."""
        found = q.abandoned.pop(caller_id, None)
        window = q.config.abandoned_resume
        if found is None or window is None or self._now - found[1] > window:
            return None
        return found[0]

    def _remember_abandon(self, c: ContactBook) -> None:
        """Keep an abandoning caller's first entry for ``Queue.abandoned_resume``."""
        q = c.queue
        window = q.config.abandoned_resume
        caller = c.contact.caller_id
        if window is None or not caller:
            return
        now = self._now
        book = q.abandoned
        if len(book) >= 64 and len(book) & (len(book) - 1) == 0:  # at powers of two: purge
            for key in [k for k, (_, at) in book.items() if now - at > window]:
                del book[key]
        book[caller] = (c.entered_at, now)

    def _enter(self, c: ContactBook, q: QueueBook, since: float | None = None) -> None:
        now = self._now
        cfg = q.config
        c.queue, c.agent, c.expired, c.hold_since, c.hold_time = q, None, False, None, 0.0
        c.held = False
        c.entered_at = entered = now if since is None else since
        refused = self._refusal(q, c, entered)
        if refused:
            self._give_up(c, refused)
            return
        contact = c.contact
        self._seq += 1
        c.seq = self._seq
        c.neg_score = score = -(contact.priority - cfg.aging_rate * entered)
        c.key = (score, entered, self._seq)
        if c.asked is not None:
            self._jump(c, q, c.asked)
            c.asked = None  # a later queue (overflow, transfer) places it by arrival
        c.enter_token = self._seq
        c.steps = contact.relax or cfg.relax
        c.step = 0
        reqs = contact.requirements
        waited = now - entered
        while c.step < len(c.steps) and c.steps[c.step].after <= waited:
            reqs = c.steps[c.step].requirements
            c.step += 1
        self._start_penalties(c, q, waited)
        self._require(c, reqs)
        c.phase = _W
        # The agents an indexed queue rings at once (None: the general route
        # decides after the entry, as for any waiting contact). A contact rung
        # at once never goes into the queue's waiting structures; its position
        # is where it would stand all the same.
        chosen = self._at_once(c, q)
        if chosen:
            if q.leaving:
                self._leave_dirty[q] = None
        else:
            self._wait(c)
        position = q.position(c)
        ewt = q.estimated_wait(position)
        self._publish(
            _new_entered(
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
                _new_announce(
                    contact_id=contact.id, queue=q.name, position=position, estimated_wait=ewt
                )
            )
        self._entry_timers(c, cfg, now, entered)
        if chosen is None:
            self._serve_contact(c)
        else:
            self._ring(c, chosen)

    def _entry_timers(self, c: ContactBook, cfg: Queue, now: float, entered: float) -> None:
        """Set the deadlines of ``c``'s visit: maximum wait, relaxing, penalties, announcements."""
        if cfg.max_wait is not None:
            self._timer(entered + cfg.max_wait, _MAXWAIT, c, c.enter_token)
        if c.step < len(c.steps):
            self._timer(entered + c.steps[c.step].after, _RELAX, c, c.enter_token)
        if c.pstep < len(c.prules):
            self._timer(entered + c.prules[c.pstep].after, _PENALTY, c, c.enter_token)
        if cfg.announce_every is not None:
            self._timer(now + cfg.announce_every, _ANNOUNCE, c, c.enter_token)

    def _at_once(self, c: ContactBook, q: QueueBook) -> list[AgentBook] | None:
        """The ready agents an indexed queue offers a newcomer ``c`` to, before it waits.

        ``None`` when the choice is not the index's alone (a generic strategy,
        tier skipping), made by :meth:`_serve_contact` once ``c`` waits.
        """
        if q.index_key is None or q.skip_tiers:
            return None
        channel = c.contact.channel
        tiers = q.tiers(channel, c.low, c.high, c.lift)
        return self._pick_indexed(q, tiers, c.needs, channel) if tiers else []

    def _nobody_for(self, q: QueueBook, c: ContactBook) -> bool:
        """Whether every member of ``q`` is in one of its join conditions for ``c`` (O(members))."""
        contact = c.contact
        return self._nobody(
            q,
            q.config.join_empty_conditions,
            contact.min_penalty,
            contact.max_penalty,
            contact.raise_penalty,
        )

    def _leave_on_conditions(self) -> None:
        """Send away the waiting callers of queues empty under their leave conditions.

        app_queue's ``leavewhenempty`` with conditions, checked for each
        waiting caller (their own penalty range for ``penalty``) once an
        input that changed a member or a caller of the queue is over. The
        callers of one sub-queue share their range, so the members are read
        once per sub-queue (once per queue without ``penalty``) and the
        callers are listed only when they leave. A queued callback stays:
        nobody waits on the line.
        """
        dirty = self._leave_dirty
        while dirty:
            q = next(iter(dirty))
            del dirty[q]
            if not q.waiting:
                continue
            conditions = q.config.leave_empty_conditions
            leaving: list[ContactBook] = []
            if EmptyCondition.PENALTY not in conditions or q.flat:
                if self._nobody(q, conditions):
                    leaving = q.waiting_contacts()
            else:
                seen: dict[tuple[int | None, int | None, int | None], bool] = {}
                for sub in q.subs.values():
                    head = sub.head
                    if head is None:  # pragma: no cover - a live sub always has a head
                        continue
                    key = (head.low, head.high, head.lift)
                    empty = seen.get(key)
                    if empty is None:
                        empty = seen[key] = self._nobody(q, conditions, *key)
                    if empty:
                        leaving.extend(sub.contacts())
                leaving.sort(key=lambda c: c.key)
            for c in leaving:
                if c.phase is _W and c.queue is q and not c.callback:
                    self._give_up(c, "leave-empty")

    def _refusal(self, q: QueueBook, c: ContactBook, entered: float) -> str:
        """Why ``q`` refuses a newcomer who entered at ``entered`` (``""``: it does not)."""
        cfg = q.config
        if cfg.max_length is not None:
            present = q.waiting + q.ringing if cfg.max_length_counts_ringing else q.waiting
            if present >= cfg.max_length:
                return "full"
        rule = cfg.join_when_empty
        if cfg.join_empty_conditions:
            if self._nobody_for(q, c):
                return "join-empty"
        elif rule is not _NEVER and _empty(q, rule):
            return "join-empty"
        agentless = q.agentless_since
        if agentless is not None:
            timeout = cfg.no_agent_timeout or 0.0
            if self._now >= agentless + timeout:  # mod_callcenter's "time reached"
                if not cfg.no_agent_grace:
                    return "no-agent"
                due = entered + timeout + cfg.no_agent_grace
                self._timer(due, _NOAGENT, q, q.agentless_token)
        return ""

    def _start_penalties(self, c: ContactBook, q: QueueBook, waited: float) -> None:
        """Set ``c``'s penalty range and rules on entry, applying the rules already due."""
        contact, cfg = c.contact, q.config
        c.low, c.high = contact.min_penalty, contact.max_penalty
        c.lift = contact.raise_penalty
        prules = contact.penalty_rules or cfg.penalty_rules
        if not prules and cfg.tier_rules is not None:
            prules = cfg.tier_rules.rules(q.levels)
            if prules and c.high is None:
                c.high = 0  # level 0 at once, the higher levels as the caller waits
        c.prules = prules
        c.pstep = 0
        while c.pstep < len(prules) and prules[c.pstep].after <= waited:
            c.low, c.high = prules[c.pstep].apply(c.low, c.high)
            c.lift = prules[c.pstep].raise_to(c.lift)
            c.pstep += 1

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
        c.phase = _ENDED
        self._contacts.pop(c.contact.id, None)

    # ----------------------------------------------------- connected contacts

    def connected(self, contact_id: str) -> list[Action]:
        """The runtime bridged an accepted contact with its agent.

        Raises:
            StateError: The contact is not connecting.
        """
        self._begin()
        c = self._contact(contact_id)
        if c.phase is not _CONNECTING:
            raise StateError(f"contact {contact_id!r} is {c.phase}, not connecting")
        self._connect(c)
        return self._flush()

    def adopt(
        self,
        contact: Contact,
        queue: str,
        agent_id: str,
        *,
        entered_at: float,
        connected_at: float,
    ) -> list[Action]:
        """Take over ``contact``, already connected to ``agent_id`` by another engine.

        A new cluster leader uses it for the work an agent still has in hand
        when the previous leader died (a chat open at the desk, a call still
        bridged on a surviving node): the agent is busy with it at once, the
        slot counted against their capacity, and it is never offered. From
        there it is any connected contact: hold, resume, transfer, and
        :meth:`hangup` completes it (:class:`~callcenter_sdk.acd.ContactCompleted`,
        talk time from ``connected_at``) and starts the agent's wrap-up.

        A :class:`~callcenter_sdk.acd.ContactAdopted` is published, not a
        second :class:`~callcenter_sdk.acd.ContactConnected` (the answer was
        counted when it happened).

        Args:
            contact: The contact.
            queue: The queue it was answered from.
            agent_id: The agent who has it; logged in, whatever their presence.
            entered_at: When it entered the queue.
            connected_at: When it was connected.

        Raises:
            NotFoundError: Unknown queue or agent.
            ValidationError: The contact id is live already, the queue does
                not take its channel, or the times are not
                ``entered_at <= connected_at <= now``.
            StateError: The agent is offline, or has no free slot for the
                contact's channel (their capacity, or a channel in use that
                blocks it).

        .. versionadded:: 0.2
        """
        now = self._begin()
        q = self._queue(queue)
        a = self._agent(agent_id)
        cid = contact.id
        channel = contact.channel
        if cid in self._contacts:
            raise ValidationError(f"contact {cid!r} is already in the ACD")
        if channel not in q.config.channels:
            raise ValidationError(f"queue {queue!r} does not take {channel} contacts")
        if not (
            math.isfinite(entered_at)
            and math.isfinite(connected_at)
            and entered_at <= connected_at <= now
        ):
            raise ValidationError(
                f"adopt: need entered_at <= connected_at <= now ({now}),"
                f" got {entered_at!r} and {connected_at!r}"
            )
        if a.presence is AgentState.OFFLINE:
            raise StateError(f"agent {agent_id!r} is offline: {cid!r} cannot be theirs")
        if not a.has_room(channel):
            raise StateError(f"agent {agent_id!r} has no free {channel} slot for {cid!r}")
        c = ContactBook(contact, q)
        c.phase = _CONNECTED
        c.entered_at = entered_at
        c.connected_at = connected_at
        c.agent = a
        self._contacts[cid] = c
        a.connected[cid] = c
        a.load[channel] += 1
        self._publish(
            ContactAdopted(
                at=now,
                contact_id=cid,
                queue=q.name,
                agent_id=agent_id,
                entered_at=entered_at,
                connected_at=connected_at,
                channel=channel,
            )
        )
        self._reindex(a)
        self._refresh(a, "adopted", q.name)
        return self._flush()

    def _connect(self, c: ContactBook) -> None:
        now = self._now
        a = c.agent if c.agent is not None else _handler(c)
        q = c.queue
        c.phase = _CONNECTED
        c.callback = ""  # the customer is on the line from now on
        if c.transfer_from:
            c.transfer_from = ""  # handed over: answered once already, talk counted from then
        else:
            c.connected_at = now
            self._publish(
                _new_connected(
                    at=now,
                    contact_id=c.contact.id,
                    queue=q.name,
                    agent_id=a.agent.id,
                    waited=now - c.entered_at,
                )
            )
        self._refresh(a, "connected", q.name)
        hook = q.on_connected
        if hook is not None:
            try:
                hook(c.contact, a.agent.id)
            except Exception as exc:  # noqa: BLE001 - a plugin failure is only reported
                self._fault(q, c, "raised", repr(exc))

    def _talking(self, contact_id: str) -> tuple[ContactBook, AgentBook]:
        c = self._contact(contact_id)
        if c.phase is not _CONNECTED or c.agent is None:
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

    def key_pressed(self, contact_id: str, key: str) -> list[Action]:
        """The caller pressed ``key`` while in the queue.

        A key among the queue's :attr:`~callcenter_sdk.acd.Queue.exit_keys`
        takes a waiting (or ringing) caller out of the queue, as app_queue's
        exit context does: offers are rescinded, a
        :class:`~callcenter_sdk.acd.ContactExited` (reason
        ``exit-with-key``, with the key) is published and a ``Release``
        returned; the runtime sends the call where the key leads. Any other
        key, or a contact already connecting, is ignored.

        Raises:
            NotFoundError: No such live contact.

        .. versionadded:: 0.2
        """
        now = self._begin()
        c = self._contact(contact_id)
        q = c.queue
        phase = c.phase
        if key not in q.config.exit_keys or len(key) != 1 or c.callback:
            return []
        freed: list[AgentBook] = []
        if phase is _W:
            self._unwait(c)
        elif phase is _OFFERING:
            q.ringing -= 1
            freed = [self._rescind(o, "contact-ended") for o in list(c.offers.values())]
        else:
            return []
        waited = now - c.entered_at
        self._publish(
            ContactExited(
                at=now,
                contact_id=contact_id,
                queue=q.name,
                reason=ExitReason.EXIT_WITH_KEY,
                waited=waited,
                key=key,
            )
        )
        self._out.append(Release(contact_id=contact_id, queue=q.name, reason="exit-with-key"))
        self._finish(c)
        for a in freed:
            self._serve_agent(a)
        return self._flush()

    def hangup(self, contact_id: str, *, ended_by: EndedBy | str = EndedBy.UNKNOWN) -> list[Action]:
        """The contact ends: abandoned if not yet connected, else completed.

        ``ended_by`` says who hung up a connected contact (the caller or the
        agent); it is carried on :class:`~callcenter_sdk.acd.ContactCompleted`
        as app_queue's ``COMPLETECALLER`` / ``COMPLETEAGENT``.

        A queued callback not yet connected ends as
        :class:`~callcenter_sdk.acd.ContactCallbackFailed` instead (reason
        ``"cancelled"`` before an agent took it, ``"hangup"`` after), never as
        an abandon.

        Raises:
            NotFoundError: No such live contact.

        .. versionchanged:: 0.2
           ``ended_by``.
        """
        now = self._begin()
        c = self._contact(contact_id)
        q = c.queue
        phase = c.phase
        if phase is _CONNECTING and c.transfer_from:
            return self._hangup_handing_over(c)
        if phase is _CONNECTED:
            pending = self._cancel_transfer(c) if c.offers else []
            a, talk, hold = self._end_work(c)
            self._publish(
                _new_completed(
                    at=now,
                    contact_id=contact_id,
                    queue=q.name,
                    agent_id=a.agent.id,
                    talk_time=talk,
                    hold_time=hold,
                    ended_by=ended_by if type(ended_by) is EndedBy else EndedBy(ended_by),
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
        elif phase is _OFFERING:
            q.ringing -= 1
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
                _new_abandoned(
                    at=now,
                    contact_id=contact_id,
                    queue=q.name,
                    waited=now - c.entered_at,
                    ringing=phase is not _W,
                )
            )
            if phase is not _CONNECTING:
                self._remember_abandon(c)
        self._finish(c)
        for a in freed:
            self._reindex(a)
            self._refresh(a, "contact-ended", q.name)
            self._serve_agent(a)
        return self._flush()


def _handler(c: ContactBook) -> AgentBook:
    if c.agent is None:  # pragma: no cover - guarded by the phase checks
        raise StateError(f"contact {c.contact.id!r} has no agent")
    return c.agent
