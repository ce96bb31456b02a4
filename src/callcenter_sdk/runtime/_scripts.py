"""The campaign's script (argumentaire) or questionnaire, followed by the agent on a contact.

A campaign may have a :class:`~callcenter_sdk.dialer.Questionnaire`
(``CallCenterConfig.scripts``): when its agent works one of its contacts,
the desktop shows one step at a time, its text filled from the contact's
data (the IVR's choices, the customer found by the CTI), and records each
answer as a ``dialer.answer_recorded`` event, which the event log keeps and
``dialer.export_answers_csv`` exports like a survey's.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

import attrs

from .._clock import Clock
from .._errors import NotFoundError
from .._events import EventStream
from ..dialer import Interview, Questionnaire
from ._access import Access

__all__ = ["ScriptStep", "Scripts"]

_KEPT = 10_000
"""Interviews kept in memory (the oldest are forgotten: their answers are in the log)."""


@attrs.frozen(kw_only=True)
class ScriptStep:
    """Where an agent is in a contact's script.

    Attributes:
        contact_id: The contact.
        questionnaire: The script's name.
        title: Its title.
        question: The id of the step to read now (``""`` once it has ended).
        kind: That step's kind (``info``, ``yes_no``, ``choice``…; ``""`` at the end).
        text: What the agent reads, filled from the contact's data.
        required: The step needs an answer (it cannot be skipped).
        choices: The answers a ``choice`` or ``multi_choice`` step allows.
        minimum: The lowest number or scale value, if any.
        maximum: The highest, if any.
        answers: The answers given so far, by step id.
        done: The script has ended.
        converted: Whether the answers meet its conversion rule (``None``: it has none).
    """

    contact_id: str
    questionnaire: str
    title: str
    question: str
    kind: str
    text: str
    required: bool
    choices: tuple[str, ...]
    minimum: float | None
    maximum: float | None
    answers: Mapping[str, str]
    done: bool
    converted: bool | None


class Scripts:
    """The interviews of the contacts being worked, one per contact.

    Args:
        scripts: The questionnaire of each campaign that has one.
        campaign_of: The campaign of a live contact, ``None`` if it has none.
        data_of: The contact's data for the texts' ``{field}`` placeholders.
        access: The permission checks (only who handles a contact follows its script).
        clock: The center's clock.
        events: Where the answers are published.
    """

    def __init__(
        self,
        *,
        scripts: Mapping[str, Questionnaire],
        campaign_of: Callable[[str], str | None],
        data_of: Callable[[str], Mapping[str, object]],
        access: Access,
        clock: Clock,
        events: EventStream,
    ) -> None:
        self._scripts = dict(scripts)
        self._campaign_of = campaign_of
        self._data_of = data_of
        self._access = access
        self._clock = clock
        self._events = events
        self._interviews: OrderedDict[str, tuple[Questionnaire, Interview]] = OrderedDict()

    def step(self, contact_id: str, *, actor: str) -> ScriptStep:
        """Where ``actor`` is in the script of ``contact_id`` (it starts on first look).

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: The contact's campaign has no script (or it is not live here).
        """
        self._access.on_contact(actor, contact_id, operation="follow the script of")
        return _step(contact_id, *self._interview(contact_id))

    def answer(self, contact_id: str, answer: str, *, actor: str) -> ScriptStep:
        """Record ``answer`` to the current step and move on; publish it.

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: No script for this contact.
            ValidationError: Not an answer the step accepts (it stays on the step).
            StateError: The script has ended.
        """
        self._access.on_contact(actor, contact_id, operation="answer the script of")
        questionnaire, interview = self._interview(contact_id)
        self._events.publish(interview.answer(answer, at=self._clock.now()))
        return _step(contact_id, questionnaire, interview)

    def skip(self, contact_id: str, *, actor: str) -> ScriptStep:
        """Go past an information step or an optional question.

        Raises:
            PermissionDenied: ``actor`` does not handle the contact.
            NotFoundError: No script for this contact.
            ValidationError: The step needs an answer.
            StateError: The script has ended.
        """
        self._access.on_contact(actor, contact_id, operation="answer the script of")
        questionnaire, interview = self._interview(contact_id)
        interview.next()
        return _step(contact_id, questionnaire, interview)

    def forget(self, contact_id: str) -> None:
        """The contact is over: drop its interview (its answers are in the log)."""
        self._interviews.pop(contact_id, None)

    def _interview(self, contact_id: str) -> tuple[Questionnaire, Interview]:
        found = self._interviews.get(contact_id)
        if found is not None:
            self._interviews.move_to_end(contact_id)
            return found
        campaign = self._campaign_of(contact_id)
        questionnaire = self._scripts.get(campaign) if campaign else None
        if questionnaire is None:
            raise NotFoundError(f"contact {contact_id} has no script (campaign {campaign!r})")
        data = self._data_of(contact_id)
        interview = Interview(
            questionnaire,
            contact_id=contact_id,
            lead_id=str(data.get("customer") or data.get("lead_id") or ""),
            data=data,
        )
        self._interviews[contact_id] = (questionnaire, interview)
        while len(self._interviews) > _KEPT:
            self._interviews.popitem(last=False)
        return questionnaire, interview


def _step(contact_id: str, q: Questionnaire, interview: Interview) -> ScriptStep:
    question = interview.current
    return ScriptStep(
        contact_id=contact_id,
        questionnaire=q.name,
        title=q.title,
        question=question.id if question else "",
        kind=question.kind.value if question else "",
        text=interview.text() if question else "",
        required=question.required if question else False,
        choices=question.choices if question else (),
        minimum=question.minimum if question else None,
        maximum=question.maximum if question else None,
        answers=interview.answers,
        done=interview.done,
        converted=interview.converted,
    )
