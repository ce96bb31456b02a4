"""Scripts and surveys in TOML: loading, validation errors, branching, answers and CSV."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ConfigError, StateError, ValidationError
from callcenter_sdk.dialer import (
    AnswerRecorded,
    Interview,
    QuestionKind,
    export_answers_csv,
    load_questionnaire,
    loads_questionnaire,
)

HERE = Path(__file__).parent / "questionnaires"


def survey() -> Interview:
    """An interview of the satisfaction survey on call c1."""
    q = load_questionnaire(HERE / "satisfaction.toml")
    return Interview(q, contact_id="c1", lead_id="l1", data={"first_name": "Ann", "order": 42})


def test_a_survey_follows_its_branches_and_records_answers() -> None:
    """'no' goes to why, 'other' to details, then recommend; optional questions can be passed;
    each answer is an AnswerRecorded event with the normalised value."""
    interview = survey()
    assert interview.text() == "Hello Ann, this is ACME calling about your order 42."
    interview.next()
    events = [interview.answer(" No ", at=1.0), interview.answer("OTHER", at=2.0)]
    events.append(interview.answer("The box was open", at=3.0))
    events.append(interview.answer("9", at=4.0))
    interview.next()
    events.append(interview.answer("sms, phone", at=5.0))
    assert interview.done
    assert interview.path == [
        "intro",
        "satisfied",
        "why",
        "details",
        "recommend",
        "email",
        "channels",
    ]
    assert [e.value for e in events] == ["no", "other", "The box was open", "9", "phone,sms"]
    assert events[0] == AnswerRecorded(
        at=1.0,
        questionnaire="satisfaction",
        contact_id="c1",
        lead_id="l1",
        question="satisfied",
        value="no",
    )
    assert interview.converted is True
    with pytest.raises(StateError):
        interview.answer("x", at=6.0)


def test_answers_are_validated_and_the_interview_stays_put() -> None:
    """Bad answers raise ValidationError saying what is expected; the question does not move."""
    interview = survey()
    with pytest.raises(ValidationError, match="information only"):
        interview.answer("hi", at=0.0)
    interview.next()
    with pytest.raises(ValidationError, match="yes or no"):
        interview.answer("perhaps", at=0.0)
    with pytest.raises(ValidationError, match="requires an answer"):
        interview.next()
    interview.answer("oui", at=0.0)
    current = interview.current
    assert current is not None
    assert current.id == "recommend"
    for bad, message in (("11", "from 0"), ("7.5", "whole number"), ("ten", "whole number")):
        with pytest.raises(ValidationError, match=message):
            interview.answer(bad, at=0.0)
    interview.answer("3", at=0.0)
    with pytest.raises(ValidationError, match="matching"):
        interview.answer("not an address", at=0.0)
    interview.answer("ann@example.org", at=0.0)
    with pytest.raises(ValidationError, match="one of phone"):
        interview.answer("fax", at=0.0)
    assert interview.converted is False


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("name = 1", "name", "a non-empty string"),
        ('name = "s"', "questions", "a non-empty array"),
        ('name = "s"\n[[questions]]\nid = "a"\nkind = "essay"', "questions[0].kind", "one of info"),
        ('name = "s"\n[[questions]]\nid = "a b"\nkind = "text"', "questions[0].id", "letters"),
        (
            'name = "s"\n[[questions]]\nid = "a"\nkind = "choice"\nchoices = []',
            "questions[0].choices",
            "distinct non-empty",
        ),
        (
            'name = "s"\n[[questions]]\nid = "a"\nkind = "scale"\nmin = 1',
            "questions[0].min",
            "whole-number min and max",
        ),
        (
            'name = "s"\n[[questions]]\nid = "a"\nkind = "yes_no"\nbranch = { maybe = "end" }',
            "questions[0].branch.maybe",
            "an answer among no, yes",
        ),
        (
            'name = "s"\n[[questions]]\nid = "a"\nkind = "text"\nnext = "zz"',
            "questions[0].next",
            "a question id or 'end'",
        ),
        (
            (
                'name = "s"\n[[questions]]\nid = "a"\nkind = "text"\n'
                '[[questions]]\nid = "a"\nkind = "text"'
            ),
            "questions[1].id",
            "not used by an earlier",
        ),
        (
            (
                'name = "s"\n[[questions]]\nid = "a"\nkind = "text"\nnext = "b"\n'
                '[[questions]]\nid = "b"\nkind = "text"\nnext = "a"'
            ),
            "questions[0].id",
            "never loop",
        ),
        (
            (
                'name = "s"\nconverted_when = { question = "zz", equals = "yes" }\n'
                '[[questions]]\nid = "a"\nkind = "text"'
            ),
            "converted_when.question",
            "the id of a question",
        ),
        ('name = "s"\ncolour = 1', "colour", "one of name"),
        (
            'name = "s"\n[[questions]]\nid = "a"\nkind = "text"\npattern = "("',
            "questions[0].pattern",
            "a valid regular expression",
        ),
    ],
)
def test_broken_files_name_file_path_and_expectation(text: str, path: str, expected: str) -> None:
    """Every mistake is a ConfigError with the file, the dotted path and what was expected."""
    with pytest.raises(ConfigError) as info:
        loads_questionnaire(text, source="survey.toml")
    assert info.value.file == "survey.toml"
    assert info.value.dotted_path == path
    assert expected in info.value.expected


def test_unreadable_and_invalid_toml_files(tmp_path: Path) -> None:
    """A missing file and a TOML syntax error are ConfigErrors naming the file."""
    with pytest.raises(ConfigError, match="readable"):
        load_questionnaire(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="valid TOML") as info:
        load_questionnaire(bad)
    assert info.value.file == str(bad)


def test_answers_export_to_csv_one_row_per_call() -> None:
    """Two calls export as two rows in first-answer order, with the conversion column;
    answers of another questionnaire are ignored and the last answer given wins."""
    q = load_questionnaire(HERE / "satisfaction.toml")
    other = AnswerRecorded(
        at=0.5, questionnaire="other", contact_id="c9", lead_id="l9", question="x", value="1"
    )
    answers = [
        AnswerRecorded(
            at=3.0, questionnaire=q.name, contact_id="c2", lead_id="l2", question=k, value=v
        )
        for k, v in (("satisfied", "yes"), ("recommend", "10"))
    ] + [
        other,
        AnswerRecorded(
            at=1.0,
            questionnaire=q.name,
            contact_id="c1",
            lead_id="l1",
            question="recommend",
            value="4",
        ),
        AnswerRecorded(
            at=2.0,
            questionnaire=q.name,
            contact_id="c1",
            lead_id="l1",
            question="recommend",
            value="5",
        ),
    ]
    out = io.StringIO()
    assert export_answers_csv(q, answers, out) == 2
    assert out.getvalue().splitlines() == [
        "contact_id,lead_id,answered_at,satisfied,why,details,recommend,email,channels,converted",
        "c1,l1,1.0,,,,5,,,no",
        "c2,l2,3.0,yes,,,10,,,yes",
    ]


@given(st.text(max_size=20))
def test_normalised_answers_are_accepted_again(raw: str) -> None:
    """Whatever is typed, an accepted answer's stored form is accepted unchanged
    (normalising is idempotent) for every kind of question."""
    q = load_questionnaire(HERE / "satisfaction.toml")
    for question in q.questions:
        if question.kind is QuestionKind.INFO:
            continue
        try:
            value = question.normalise(raw)
        except ValidationError:
            continue
        assert question.normalise(value) == value


def test_the_documented_example_loads_and_runs() -> None:
    """The questionnaire shown in docs/dialer.md is valid and routes 'no' to 'why'."""
    docs = Path(__file__).parents[2] / "docs" / "dialer.md"
    text = docs.read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]
    (block,) = [b for b in blocks if "[[questions]]" in b]
    interview = Interview(
        loads_questionnaire(block, source="docs/dialer.md"),
        contact_id="c1",
        lead_id="l1",
        data={"first_name": "Ann"},
    )
    assert interview.text() == "Hello Ann, were you satisfied with the delivery?"
    interview.answer("no", at=0.0)
    current = interview.current
    assert current is not None
    assert current.id == "why"
    interview.answer("late", at=1.0)
    interview.answer("9", at=2.0)
    assert interview.done
    assert interview.converted is True
