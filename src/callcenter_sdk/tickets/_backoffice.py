"""The back-office queue: tickets routed to agents through the ACD like any contact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..acd import Contact, SkillRequirement
from ..kpi import Channel
from ._model import Priority, Ticket

__all__ = ["BACK_OFFICE_PRIORITY", "LEVEL_SKILLS", "ticket_contact"]

BACK_OFFICE_PRIORITY: Mapping[Priority, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}
"""The ACD priority of a ticket's contact, by ticket priority."""

LEVEL_SKILLS: Mapping[int, str] = {2: "level-2"}
"""The skill an agent needs to take a ticket escalated to each level."""


def ticket_contact(
    ticket: Ticket,
    *,
    channel: Channel = Channel.TICKET,
    requirements: Iterable[SkillRequirement] = (),
    level_skills: Mapping[int, str] = LEVEL_SKILLS,
) -> Contact:
    """Return the ACD contact that puts ``ticket`` in a back-office queue.

    The ACD then routes it like any contact: by priority and age, to agents
    with the skills and free capacity on ``channel`` (the ticket channel, whose
    capacity is separate from e-mail's, unless told otherwise). A ticket
    escalated to level 2 requires the technical service's skill.

    Args:
        ticket: The ticket to route.
        channel: The channel whose capacity the work takes.
        requirements: Further skills needed (the ticket's category, a language).
        level_skills: The skill required at each escalation level.
    """
    needs = list(requirements)
    if ticket.level in level_skills:
        needs.append(SkillRequirement(level_skills[ticket.level]))
    return Contact(
        id=f"ticket:{ticket.ticket_id}",
        channel=channel,
        priority=BACK_OFFICE_PRIORITY[ticket.priority],
        requirements=needs,
        attributes={
            "ticket_id": ticket.ticket_id,
            "subject": ticket.subject,
            "category": ticket.category,
            "level": ticket.level,
        },
    )
