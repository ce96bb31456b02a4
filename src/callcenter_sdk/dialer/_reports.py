"""Survey answers to CSV, and conversion by campaign, agent and list.

Answers are :class:`AnswerRecorded` events: whatever kept them (an
:class:`~callcenter_sdk.EventStream` with ``keep=True``, the store's
:class:`~callcenter_sdk.store.EventLog`) can export them. Conversion rates
come from the KPI module's :func:`~callcenter_sdk.kpi.conversion_rate`, with
its explicit denominator, applied to each group of attempts.

.. versionadded:: 0.1
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, TextIO

from .._errors import ValidationError
from ..kpi import ContactRecord, OutboundBase, conversion_rate
from ._events import AnswerRecorded
from ._model import Attempt
from ._script import QuestionKind, Questionnaire

__all__ = ["conversion_by", "export_answers_csv"]

GroupBy = Literal["campaign", "agent", "list"]


def export_answers_csv(
    questionnaire: Questionnaire, answers: Iterable[AnswerRecorded], out: TextIO
) -> int:
    """Write one CSV row per call that answered ``questionnaire``; return the row count.

    Columns: ``contact_id``, ``lead_id``, ``answered_at`` (first answer), one
    column per question that takes an answer (in file order; the last answer
    given wins), and ``converted`` when the questionnaire has a conversion rule.
    Answers of other questionnaires are ignored.
    """
    columns = [q.id for q in questionnaire.questions if q.kind is not QuestionKind.INFO]
    rows: dict[str, dict[str, str]] = {}
    first: dict[str, float] = {}
    for event in answers:
        if event.questionnaire != questionnaire.name:
            continue
        row = rows.setdefault(event.contact_id, {"lead_id": event.lead_id})
        first.setdefault(event.contact_id, event.at)
        row[event.question] = event.value
    rule = questionnaire.converted_when is not None
    header = ["contact_id", "lead_id", "answered_at", *columns] + (["converted"] if rule else [])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for contact_id in sorted(rows, key=lambda c: (first[c], c)):
        row = rows[contact_id]
        line = [contact_id, row["lead_id"], repr(first[contact_id])]
        line += [row.get(c, "") for c in columns]
        if rule:
            line.append("yes" if questionnaire.converted(row) else "no")
        writer.writerow(line)
    return len(rows)


def _key(attempt: Attempt, by: GroupBy) -> str | None:
    if by == "campaign":
        return attempt.record.campaign
    if by == "agent":
        return attempt.record.agent
    return attempt.list_id


def conversion_by(
    attempts: Iterable[Attempt], by: GroupBy, *, per: OutboundBase | str
) -> dict[str | None, float | None]:
    """The conversion rate of each campaign, agent or list, over an explicit base.

    By agent, only attempts an agent handled have one (the others group under
    ``None``), so ``per=OutboundBase.HANDLED`` is the usual base there.
    """
    if by not in ("campaign", "agent", "list"):
        raise ValidationError(f"conversion is grouped by campaign, agent or list, not {by!r}")
    groups: dict[str | None, list[ContactRecord]] = defaultdict(list)
    for attempt in attempts:
        groups[_key(attempt, by)].append(attempt.record)
    return {key: conversion_rate(records, per=per) for key, records in groups.items()}
