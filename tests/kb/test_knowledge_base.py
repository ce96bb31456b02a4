"""Knowledge-base articles, full-text suggestions and the ranking by what worked."""

from __future__ import annotations

import pytest

from callcenter_sdk import NotFoundError, ValidationError
from callcenter_sdk.kb import Article, KnowledgeBase, search_terms
from callcenter_sdk.store import Store

SLOW = Article(
    question="Internet connection is slow",
    diagnostics=("Is the router connected by cable or wifi?", "How many devices are online?"),
    solution="Restart the router and test the speed by cable.",
    tags=("internet", "speed"),
)
NO_TONE = Article(
    question="No dial tone on the landline",
    diagnostics=("Is the phone plugged into the router?", "Do the router lights blink red?"),
    solution="Check the phone cable, then the router's phone port.",
    tags=("telephone",),
)
INVOICE = Article(
    question="Invoice amount is wrong",
    diagnostics=("Which invoice month?",),
    solution="Compare with the contract tariff; open a billing ticket.",
    tags=("billing",),
)


@pytest.fixture
def kb(store: Store) -> KnowledgeBase:
    """A knowledge base holding three articles."""
    base = KnowledgeBase(store)
    for article in (SLOW, NO_TONE, INVOICE):
        base.add(article)
    return base


def test_a_customer_sentence_finds_the_right_article_despite_word_forms(kb: KnowledgeBase) -> None:
    """Stemming matches 'connections'/'slowly' with 'connection'/'slow'; the best comes first."""
    found = kb.search("Hello, my internet connections have been very slowly since Monday")
    assert found[0].article.question == SLOW.question
    assert found[0].score >= found[-1].score


def test_advice_lists_the_questions_to_ask_best_article_first(kb: KnowledgeBase) -> None:
    """The agent gets the diagnostic questions of the suggested articles, without repeats."""
    advice = kb.advise("no dial tone, the router blinks red", limit=2)
    assert advice.suggestions[0].article.question == NO_TONE.question
    assert advice.questions[: len(NO_TONE.diagnostics)] == NO_TONE.diagnostics
    assert len(set(advice.questions)) == len(advice.questions)


def test_text_without_meaningful_words_suggests_nothing(kb: KnowledgeBase) -> None:
    """Stop words and punctuation alone do not drag in random articles."""
    assert kb.search("is it the ... ?") == []
    assert kb.search("zyxwvut") == []
    assert kb.advise("").questions == ()


def test_solved_counts_lift_an_article_above_an_equally_relevant_one(store: Store) -> None:
    """Between two articles matching the text alike, the one that solved more wins."""
    base = KnowledgeBase(store)
    first = base.add(Article(question="Router reboot loop", solution="Reset to factory"))
    second = base.add(Article(question="Router reboot loop", solution="Replace power supply"))
    before = [s.article.article_id for s in base.search("router reboot")]
    assert before == [first.article_id, second.article_id]
    base.record_solved(second.article_id)
    base.record_use(second.article_id)
    after = base.search("router reboot")
    assert [s.article.article_id for s in after] == [second.article_id, first.article_id]
    assert after[0].article.solved == 1
    assert after[0].article.uses == 1


def test_updated_text_is_searchable_and_old_text_is_not(kb: KnowledgeBase) -> None:
    """The full-text index follows edits of an article."""
    invoice = kb.search("invoice")[0].article
    kb.update(
        Article(
            article_id=invoice.article_id,
            question="Refund request",
            solution="Use the refund form",
            tags=("billing",),
        )
    )
    assert kb.search("invoice") == []
    assert kb.search("refund")[0].article.article_id == invoice.article_id
    assert kb.get(invoice.article_id).question == "Refund request"


def test_unknown_articles_and_bad_limits_are_refused(kb: KnowledgeBase) -> None:
    """Counting, loading or editing an article that does not exist says so."""
    with pytest.raises(NotFoundError):
        kb.record_solved(999_999)
    with pytest.raises(NotFoundError):
        kb.get(999_999)
    with pytest.raises(NotFoundError):
        kb.update(Article(article_id=999_999, question="q", solution="s"))
    with pytest.raises(ValidationError):
        kb.search("router", limit=0)


def test_search_terms_drop_stop_words_and_repeats() -> None:
    """Queries are built from meaningful words only, each once, quotes harmless."""
    assert search_terms('My "router" IS slow, slow and OR-broken') == [
        "router",
        "slow",
        "broken",
    ]
