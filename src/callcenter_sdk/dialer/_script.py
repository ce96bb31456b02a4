"""Scripts (argumentaire) and survey questionnaires: a small declarative TOML format.

A questionnaire is a list of questions; each has a kind that says what an
answer must look like, and a route to the next question::

    name = "satisfaction"
    title = "After-sales satisfaction"
    converted_when = { question = "recommend", at_least = 9 }

    [[questions]]
    id = "intro"
    kind = "info"                      # script text only, no answer
    text = "Hello {first_name}, this is ACME calling about your order {order}."

    [[questions]]
    id = "satisfied"
    kind = "yes_no"
    text = "Were you satisfied with the delivery?"
    branch = { no = "why" }            # answer -> next question; otherwise `next`
    next = "recommend"

    [[questions]]
    id = "why"
    kind = "choice"
    choices = ["late", "damaged", "other"]

    [[questions]]
    id = "recommend"
    kind = "scale"
    min = 0
    max = 10

Kinds: ``info``, ``text`` (``pattern``, ``max_length``), ``number`` (``min``,
``max``), ``scale`` (whole numbers ``min``..``max``), ``yes_no``, ``choice``
and ``multi_choice`` (``choices``). ``required`` defaults to true. A question
goes to ``branch[answer]`` if present, else to ``next``, else to the question
after it; ``"end"`` ends the questionnaire. Loading checks every reference and
refuses routes that loop; every mistake is a :class:`~callcenter_sdk.ConfigError`
naming the file, the path in it (``questions[2].branch.no``) and what was
expected.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import math
import os
import re
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .._errors import ConfigError, StateError, ValidationError
from ._events import AnswerRecorded
from ._toml import parse_toml, read_text

__all__ = [
    "END",
    "Interview",
    "Question",
    "QuestionKind",
    "Questionnaire",
    "load_questionnaire",
    "loads_questionnaire",
]

END = "end"
"""The route that ends a questionnaire."""

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_YES = frozenset({"yes", "y", "oui", "true", "1"})
_NO = frozenset({"no", "n", "non", "false", "0"})


def _frozen_branch(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


class QuestionKind(enum.StrEnum):
    """What an answer to a question looks like."""

    INFO = "info"
    TEXT = "text"
    NUMBER = "number"
    SCALE = "scale"
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"


@attrs.frozen(kw_only=True)
class Question:
    """One step of a script or survey.

    Attributes:
        id: Unique id in the questionnaire (the CSV column of its answers).
        kind: What an answer looks like.
        text: What the agent reads; ``{field}`` is filled from the lead's data.
        required: An answer must be given (``skip`` is refused).
        choices: The allowed answers of ``choice`` and ``multi_choice``.
        minimum: Lowest number or scale value.
        maximum: Highest number or scale value.
        pattern: A regular expression a ``text`` answer must match in full.
        max_length: Longest ``text`` answer.
        branch: Next question by answer.
        next: Next question otherwise (``None``: the following one).
    """

    id: str
    kind: QuestionKind = attrs.field(converter=QuestionKind)
    text: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    max_length: int | None = None
    branch: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_branch)
    next: str | None = None

    def allowed_answers(self) -> frozenset[str] | None:
        """The finite set of normalised answers, or ``None`` when open-ended."""
        if self.kind is QuestionKind.YES_NO:
            return frozenset({"yes", "no"})
        if self.kind is QuestionKind.CHOICE:
            return frozenset(self.choices)
        if (
            self.kind is QuestionKind.SCALE
            and self.minimum is not None
            and self.maximum is not None
        ):
            return frozenset(str(v) for v in range(int(self.minimum), int(self.maximum) + 1))
        return None

    def normalise(self, raw: str) -> str:
        """Return the stored form of ``raw``, or raise ValidationError saying what is expected."""
        value = raw.strip()
        kind = self.kind
        if kind is QuestionKind.INFO:
            raise ValidationError(f"question {self.id!r} is information only, it takes no answer")
        if kind is QuestionKind.YES_NO:
            low = value.lower()
            if low in _YES or low in _NO:
                return "yes" if low in _YES else "no"
            raise ValidationError(f"question {self.id!r} expects yes or no, got {raw!r}")
        if kind is QuestionKind.CHOICE:
            return self._choice(value)
        if kind is QuestionKind.MULTI_CHOICE:
            picked = [self._choice(v) for v in value.split(",") if v.strip()]
            if not picked:
                raise ValidationError(f"question {self.id!r} expects one or more of the choices")
            return ",".join(sorted(set(picked), key=self.choices.index))
        if kind in (QuestionKind.NUMBER, QuestionKind.SCALE):
            return self._number(value, raw)
        return self._text(value, raw)

    def _choice(self, value: str) -> str:
        for choice in self.choices:
            if choice.lower() == value.strip().lower():
                return choice
        raise ValidationError(
            f"question {self.id!r} expects one of {', '.join(self.choices)}, got {value!r}"
        )

    def _number(self, value: str, raw: str) -> str:
        whole = self.kind is QuestionKind.SCALE
        try:
            number = float(int(value)) if whole else float(value.replace(",", "."))
        except ValueError:
            what = "a whole number" if whole else "a number"
            raise ValidationError(f"question {self.id!r} expects {what}, got {raw!r}") from None
        if not math.isfinite(number):
            raise ValidationError(f"question {self.id!r} expects a finite number, got {raw!r}")
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= number <= high:
            raise ValidationError(
                f"question {self.id!r} expects a value from {self.minimum} to {self.maximum},"
                f" got {raw!r}"
            )
        return str(int(number)) if number.is_integer() else repr(number)

    def _text(self, value: str, raw: str) -> str:
        if self.required and not value:
            raise ValidationError(f"question {self.id!r} expects an answer")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValidationError(
                f"question {self.id!r} expects at most {self.max_length} characters"
            )
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ValidationError(
                f"question {self.id!r} expects text matching {self.pattern!r}, got {raw!r}"
            )
        return value

    def route(self, answer: str | None, following: str) -> str:
        """The id of the next question after ``answer`` (``following`` by default)."""
        if answer is not None and answer in self.branch:
            return self.branch[answer]
        return self.next if self.next is not None else following

    def render(self, data: Mapping[str, object]) -> str:
        """The text with ``{field}`` filled from ``data`` (unknown fields are left as written)."""
        return string.Formatter().vformat(self.text, (), _Keep(data))


class _Keep(dict[str, object]):
    def __init__(self, data: Mapping[str, object]) -> None:
        super().__init__(data)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@attrs.frozen(kw_only=True)
class Questionnaire:
    """A script or survey: questions, their routes, and what counts as a conversion.

    Attributes:
        name: Unique name (stored with every answer).
        title: What agents and reports show.
        questions: The questions in file order.
        start: The first question's id.
        converted_when: ``(question, rule)``: the interview converts when that
            question's answer equals ``rule["equals"]`` or is at least
            ``rule["at_least"]``; ``None`` when the campaign's dispositions decide.
    """

    name: str
    title: str = ""
    questions: tuple[Question, ...]
    start: str
    converted_when: tuple[str, Mapping[str, Any]] | None = None

    def question(self, question_id: str) -> Question:
        """The question ``question_id``.

        Raises:
            ValidationError: No such question.
        """
        for q in self.questions:
            if q.id == question_id:
                return q
        raise ValidationError(f"questionnaire {self.name!r} has no question {question_id!r}")

    def following(self, question_id: str) -> str:
        """The id of the question written after ``question_id`` (``end`` after the last)."""
        ids = [q.id for q in self.questions]
        index = ids.index(question_id)
        return ids[index + 1] if index + 1 < len(ids) else END

    def converted(self, answers: Mapping[str, str]) -> bool | None:
        """Whether ``answers`` meet the conversion rule (``None`` without a rule)."""
        if self.converted_when is None:
            return None
        question, rule = self.converted_when
        answer = answers.get(question)
        if answer is None:
            return False
        if "equals" in rule:
            return answer == str(rule["equals"])
        return float(answer) >= float(rule["at_least"])


class Interview:
    """One walk through a questionnaire on one call.

    Each accepted answer returns an :class:`AnswerRecorded` event to publish
    (the store's event log keeps them; :func:`export_answers_csv` exports them).

    Args:
        questionnaire: The script or survey.
        contact_id: The call it runs on.
        lead_id: The lead answering.
        data: The lead's data, for ``{field}`` in question texts.
    """

    def __init__(
        self,
        questionnaire: Questionnaire,
        *,
        contact_id: str,
        lead_id: str,
        data: Mapping[str, object] | None = None,
    ) -> None:
        self._q = questionnaire
        self._contact, self._lead = contact_id, lead_id
        self._data = dict(data or {})
        self._answers: dict[str, str] = {}
        self._path: list[str] = []
        self._current: str = questionnaire.start

    @property
    def current(self) -> Question | None:
        """The question to ask now, or ``None`` once the questionnaire has ended."""
        return None if self._current == END else self._q.question(self._current)

    @property
    def done(self) -> bool:
        """The questionnaire has ended."""
        return self._current == END

    @property
    def answers(self) -> dict[str, str]:
        """The answers given so far, by question id."""
        return dict(self._answers)

    @property
    def path(self) -> list[str]:
        """The ids of the questions passed so far, in order."""
        return list(self._path)

    @property
    def converted(self) -> bool | None:
        """Whether the answers so far meet the questionnaire's conversion rule."""
        return self._q.converted(self._answers)

    def text(self) -> str:
        """The current question's text for the agent, filled from the lead's data."""
        question = self._now()
        return question.render(self._data)

    def answer(self, raw: str, *, at: float) -> AnswerRecorded:
        """Record ``raw`` for the current question and move on.

        Raises:
            ValidationError: The answer is not what the question expects (the
                interview stays on the question).
            StateError: The questionnaire has ended.
        """
        question = self._now()
        value = question.normalise(raw)
        self._answers[question.id] = value
        self._advance(question, value)
        return AnswerRecorded(
            at=at,
            questionnaire=self._q.name,
            contact_id=self._contact,
            lead_id=self._lead,
            question=question.id,
            value=value,
        )

    def next(self) -> None:
        """Pass an information step or an optional question without answering it.

        Raises:
            ValidationError: The question requires an answer.
            StateError: The questionnaire has ended.
        """
        question = self._now()
        if question.required and question.kind is not QuestionKind.INFO:
            raise ValidationError(f"question {question.id!r} requires an answer")
        self._advance(question, None)

    def _now(self) -> Question:
        question = self.current
        if question is None:
            raise StateError(f"questionnaire {self._q.name!r} has ended")
        return question

    def _advance(self, question: Question, value: str | None) -> None:
        self._path.append(question.id)
        self._current = question.route(value, self._q.following(question.id))


# ----------------------------------------------------------------------- loading


def load_questionnaire(path: str | os.PathLike[str]) -> Questionnaire:
    """Read and check the questionnaire in the TOML file at ``path``.

    Raises:
        ConfigError: The file cannot be read, is not TOML or is not a valid
            questionnaire; the error names the file, the path and the expectation.
    """
    text, name = read_text(path)
    return loads_questionnaire(text, source=name)


def loads_questionnaire(text: str, *, source: str = "<string>") -> Questionnaire:
    """Parse and check a questionnaire from TOML text (``source`` names it in errors)."""
    return _Loader(source).questionnaire(parse_toml(text, source))


_KEYS = {
    "id",
    "kind",
    "text",
    "required",
    "choices",
    "min",
    "max",
    "pattern",
    "max_length",
    "branch",
    "next",
}


class _Loader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: tuple[str | int, ...], expected: str, got: object = None) -> ConfigError:
        return ConfigError(self.source, path, expected, got)

    def text(self, value: object, path: tuple[str | int, ...], *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value):
            raise self.fail(path, "a non-empty string" if not empty else "a string", value)
        return value

    def questionnaire(self, doc: Mapping[str, Any]) -> Questionnaire:
        unknown = sorted(set(doc) - {"name", "title", "start", "converted_when", "questions"})
        if unknown:
            raise self.fail((unknown[0],), "one of name, title, start, converted_when, questions")
        name = self.text(doc.get("name"), ("name",))
        raw = doc.get("questions")
        if not isinstance(raw, list) or not raw:
            raise self.fail(("questions",), "a non-empty array of [[questions]] tables", raw)
        questions = tuple(self.question(q, i) for i, q in enumerate(raw))
        ids = [q.id for q in questions]
        for i, qid in enumerate(ids):
            if qid in ids[:i]:
                raise self.fail(
                    ("questions", i, "id"), "an id not used by an earlier question", qid
                )
        known = {*ids, END}
        for i, q in enumerate(questions):
            for answer, target in q.branch.items():
                if target not in known:
                    raise self.fail(
                        ("questions", i, "branch", answer), "a question id or 'end'", target
                    )
            if q.next is not None and q.next not in known:
                raise self.fail(("questions", i, "next"), "a question id or 'end'", q.next)
        start = doc.get("start", ids[0])
        if start not in ids:
            raise self.fail(("start",), "the id of a question", start)
        result = Questionnaire(
            name=name,
            title=self.text(doc.get("title", ""), ("title",), empty=True),
            questions=questions,
            start=start,
            converted_when=self.conversion(doc.get("converted_when"), set(ids)),
        )
        self.check_loops(result)
        return result

    def question(self, raw: object, i: int) -> Question:
        where: tuple[str | int, ...] = ("questions", i)
        if not isinstance(raw, dict):
            raise self.fail(where, "a table", raw)
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise self.fail((*where, unknown[0]), f"one of {', '.join(sorted(_KEYS))}")
        qid = self.text(raw.get("id"), (*where, "id"))
        if not _ID.match(qid) or qid == END:
            raise self.fail((*where, "id"), "letters, digits, - and _ (not 'end')", qid)
        kinds = ", ".join(k.value for k in QuestionKind)
        try:
            kind = QuestionKind(str(raw.get("kind")))
        except ValueError:
            raise self.fail((*where, "kind"), f"one of {kinds}", raw.get("kind")) from None
        choices = self.choices(raw, where, kind)
        low, high = self.bound(raw, where, "min"), self.bound(raw, where, "max")
        if kind is QuestionKind.SCALE and (low is None or high is None or low != int(low)):
            raise self.fail((*where, "min"), "whole-number min and max for a scale")
        if low is not None and high is not None and high < low:
            raise self.fail((*where, "max"), f"a maximum >= min ({low})", high)
        pattern = raw.get("pattern")
        if pattern is not None:
            try:
                re.compile(self.text(pattern, (*where, "pattern")))
            except re.error as exc:
                raise self.fail((*where, "pattern"), "a valid regular expression", pattern) from exc
        max_length = raw.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise self.fail((*where, "max_length"), "a whole number >= 1", max_length)
        required = raw.get("required", True)
        if not isinstance(required, bool):
            raise self.fail((*where, "required"), "true or false", required)
        nxt = raw.get("next")
        question = Question(
            id=qid,
            kind=kind,
            text=self.text(raw.get("text", ""), (*where, "text"), empty=True),
            required=required,
            choices=tuple(choices),
            minimum=low,
            maximum=high,
            pattern=pattern,
            max_length=max_length,
            branch=self.branch(raw.get("branch", {}), where),
            next=None if nxt is None else self.text(nxt, (*where, "next")),
        )
        allowed = question.allowed_answers()
        for answer in question.branch:
            if kind is QuestionKind.INFO or (allowed is not None and answer not in allowed):
                expected = (
                    "no branch on an info step"
                    if allowed is None
                    else (f"an answer among {', '.join(sorted(allowed))}")
                )
                raise self.fail((*where, "branch", answer), expected, answer)
        return question

    def choices(
        self, raw: Mapping[str, Any], where: tuple[str | int, ...], kind: QuestionKind
    ) -> list[str]:
        choices = raw.get("choices", [])
        choice_kind = kind in (QuestionKind.CHOICE, QuestionKind.MULTI_CHOICE)
        if choice_kind and (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(c, str) and c for c in choices)
            or len({c.lower() for c in choices}) != len(choices)
        ):
            raise self.fail((*where, "choices"), "a list of distinct non-empty strings", choices)
        if not choice_kind and choices:
            raise self.fail((*where, "choices"), f"no choices for a {kind} question")
        return list(choices)

    def bound(self, raw: Mapping[str, Any], where: tuple[str | int, ...], key: str) -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail((*where, key), "a number", value)
        return float(value)

    def branch(self, raw: object, where: tuple[str | int, ...]) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail((*where, "branch"), "a table of answer = question id", raw)
        return {str(k): self.text(v, (*where, "branch", str(k))) for k, v in raw.items()}

    def conversion(self, raw: object, ids: set[str]) -> tuple[str, Mapping[str, Any]] | None:
        if raw is None:
            return None
        where = ("converted_when",)
        if not isinstance(raw, dict) or set(raw) not in (
            {"question", "equals"},
            {"question", "at_least"},
        ):
            raise self.fail(
                where, "{ question = ..., equals = ... } or { question, at_least }", raw
            )
        question = raw["question"]
        if question not in ids:
            raise self.fail((*where, "question"), "the id of a question", question)
        if "at_least" in raw and not isinstance(raw["at_least"], int | float):
            raise self.fail((*where, "at_least"), "a number", raw["at_least"])
        rule = {k: v for k, v in raw.items() if k != "question"}
        return question, MappingProxyType(rule)

    def check_loops(self, q: Questionnaire) -> None:
        index = {question.id: i for i, question in enumerate(q.questions)}
        state: dict[str, int] = {}

        def visit(qid: str) -> None:
            if qid == END or state.get(qid) == 2:
                return
            if state.get(qid) == 1:
                raise self.fail(("questions", index[qid], "id"), "routes that never loop back", qid)
            state[qid] = 1
            question = q.questions[index[qid]]
            for target in {*question.branch.values(), question.route(None, q.following(qid))}:
                visit(target)
            state[qid] = 2

        visit(q.start)
