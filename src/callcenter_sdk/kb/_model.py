"""Knowledge-base values: articles and what a search suggests."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["Advice", "Article", "Suggestion"]


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _tags(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values if v.strip())


@attrs.frozen(kw_only=True)
class Article:
    """A frequent question and how to solve it.

    Attributes:
        article_id: Assigned by the knowledge base when added.
        question: The problem as customers put it ("My internet is slow").
        diagnostics: Questions the agent should ask to diagnose, in order.
        solution: What to do or say.
        tags: Lower-case keywords (product, category).
        uses: How many times agents opened it.
        solved: How many times it solved the customer's problem.
    """

    article_id: int = 0
    question: str
    solution: str
    diagnostics: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    uses: int = 0
    solved: int = 0


@attrs.frozen
class Suggestion:
    """An article found for a text, with its score.

    Attributes:
        article: The article.
        score: Text relevance (best match = 1) boosted by how often the
            article solved problems and was used; higher is better.
    """

    article: Article
    score: float


@attrs.frozen
class Advice:
    """What the knowledge base suggests for a ticket's or contact's text.

    Attributes:
        suggestions: Articles, best first.
        questions: The diagnostic questions of those articles, best article
            first, without repeats: what the agent should ask next.
    """

    suggestions: tuple[Suggestion, ...]
    questions: tuple[str, ...]
