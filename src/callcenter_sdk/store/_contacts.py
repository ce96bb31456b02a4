"""Converting the ACD's :class:`~callcenter_sdk.acd.Contact` to and from stored records.

The ACD keeps waiting contacts in memory; for non-voice contacts the store
keeps a :class:`WaitingContactRecord` so that a restarted runtime can put them
back in their queues with their original arrival time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..acd import Action, Contact, Engine, RelaxStep, SkillRequirement
from ._pending import CallbackRecord, WaitingContactRecord

__all__ = ["contact_from_record", "restore_callbacks", "restore_waiting", "waiting_record"]

_KEY = "contact"
"""Where the ACD's own fields sit inside ``WaitingContactRecord.data``."""


def _requirements(requirements: tuple[SkillRequirement, ...]) -> list[list[Any]]:
    return [[r.skill, r.min_level] for r in requirements]


def waiting_record(
    contact: Contact, *, queue: str, arrived_at: float, customer_id: int | None = None
) -> WaitingContactRecord:
    """Return the stored form of ``contact`` waiting in ``queue`` since ``arrived_at``.

    Its attributes must be JSON-ready (strings, numbers, lists, mappings).
    """
    return WaitingContactRecord(
        contact_id=contact.id,
        channel=contact.channel.value,
        queue=queue,
        arrived_at=arrived_at,
        priority=contact.priority,
        customer_id=customer_id,
        data={
            _KEY: {
                "direction": contact.direction.value,
                "caller_id": contact.caller_id,
                "dialled": contact.dialled,
                "requirements": _requirements(contact.requirements),
                "relax": [
                    {"after": s.after, "requirements": _requirements(s.requirements)}
                    for s in contact.relax
                ],
                "attributes": dict(contact.attributes),
            }
        },
    )


def contact_from_record(record: WaitingContactRecord) -> Contact:
    """Rebuild the ACD contact stored by :func:`waiting_record`."""
    fields: dict[str, Any] = record.data.get(_KEY, {})
    return Contact(
        id=record.contact_id,
        channel=record.channel,
        direction=fields.get("direction", "inbound"),
        caller_id=fields.get("caller_id", ""),
        dialled=fields.get("dialled", ""),
        priority=record.priority,
        requirements=[SkillRequirement(s, lvl) for s, lvl in fields.get("requirements", ())],
        relax=[
            RelaxStep(
                after=step["after"],
                requirements=[SkillRequirement(s, lvl) for s, lvl in step["requirements"]],
            )
            for step in fields.get("relax", ())
        ],
        attributes=fields.get("attributes", {}),
    )


def restore_waiting(engine: Engine, records: Iterable[WaitingContactRecord]) -> list[Action]:
    """Put stored waiting contacts back in ``engine``'s queues, as they were before a restart.

    Each contact enters its queue with ``entered_at`` set to its stored
    ``arrived_at``, so its place among the others, its maximum wait, its skill
    relaxation and its records count from its real arrival, whatever the order
    of ``records``. Contacts already live in the engine are skipped (a second
    restore is harmless). A stored time later than the engine's clock (another
    time line) counts as now.

    Returns the engine's actions (offers to ready agents, announcements, and
    time-outs due at the next :meth:`~callcenter_sdk.acd.Engine.tick`).

    Raises:
        NotFoundError: A record names a queue the engine does not know.

    .. versionadded:: 0.2
    """
    return _restore(engine, ((contact_from_record(r), r.queue, r.arrived_at, "") for r in records))


def restore_callbacks(engine: Engine, records: Iterable[CallbackRecord]) -> list[Action]:
    """Put stored callbacks back in ``engine``'s queues as queued callbacks keeping their place.

    Each becomes a voice contact (id ``callback_id``, caller id ``phone``)
    entering its queue at ``data["entered_at"]`` when the callback was asked
    for while waiting in the queue (the place it keeps), else at
    ``requested_at``, already a queued callback (``Engine.arrive(...,
    callback=phone)``, as after
    :meth:`~callcenter_sdk.acd.Engine.keep_place_for_callback`). Pass only the
    callbacks due (``PendingWork.callbacks(due_by=now)``). Ids already live are
    skipped; a time after the engine's clock counts as now.

    Raises:
        NotFoundError: A record names a queue the engine does not know.

    .. versionadded:: 0.2
    """
    return _restore(
        engine,
        (
            (
                Contact(id=r.callback_id, caller_id=r.phone),
                r.queue,
                float(r.data.get("entered_at", r.requested_at)),
                r.phone,
            )
            for r in records
        ),
    )


def _restore(engine: Engine, items: Iterable[tuple[Contact, str, float, str]]) -> list[Action]:
    """Arrive each (contact, queue, entered_at, callback) not live yet, at most at now."""
    live = set(engine.live_contacts())
    actions: list[Action] = []
    for contact, queue, entered, callback in items:
        if contact.id in live:
            continue
        since = min(entered, engine.clock.now())
        actions += engine.arrive(contact, queue, entered_at=since, callback=callback)
        live.add(contact.id)
    return actions
