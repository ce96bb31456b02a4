"""The :class:`KnowledgeBase`: articles in the store, found by full-text search."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from sqlalchemy import select, text, update

from .._errors import NotFoundError, ValidationError
from ..store import Store
from ..store._limits import (
    INT32,
    QUESTION,
    TAG,
    TEXT,
    check_int,
    check_json,
    check_text,
    check_texts,
)
from ..store._rows import ArticleRow
from ._model import Advice, Article, Suggestion

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

__all__ = ["KnowledgeBase"]

_WORD = re.compile(r"\w+", re.UNICODE)

# Words that match everything and mean nothing for a diagnosis.
_STOP = frozenset(
    """a an and are as at be but by do does for from has have how i if in is it its my
    me no not of on or our so that the their them then there they this to was we what
    when where which who why will with you your can cannot""".split()  # noqa: SIM905 - reads as prose
)

_SQLITE_SEARCH = text(
    "SELECT rowid, -bm25(kb_articles_fts, 10.0, 1.0, 3.0, 5.0) AS relevance"
    " FROM kb_articles_fts WHERE kb_articles_fts MATCH :query"
    " ORDER BY relevance DESC LIMIT :limit"
)
_POSTGRESQL_SEARCH = text(
    "SELECT id, ts_rank(search, websearch_to_tsquery('english', :query)) AS relevance"
    " FROM kb_articles WHERE search @@ websearch_to_tsquery('english', :query)"
    " ORDER BY relevance DESC LIMIT :limit"
)

SOLVED_WEIGHT = 0.5
"""How much ``log(1 + solved)`` adds to a relative text relevance of 1."""
USES_WEIGHT = 0.1
"""How much ``log(1 + uses)`` adds."""


def search_terms(words: str) -> list[str]:
    """Return the distinct meaningful lower-case words of ``words``, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(words.lower()):
        if len(word) > 1 and word not in _STOP:
            seen.setdefault(word, None)
    return list(seen)


class KnowledgeBase:
    """Frequent questions with their diagnostics and solutions, searchable.

    Search uses SQLite FTS5 (BM25) or PostgreSQL full text (``ts_rank``)
    with English stemming; any word of the text may match, matches in the
    question weigh most. The text relevance is then boosted by what worked
    before: articles that solved many problems rise.

    Args:
        store: Where the articles live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, article: Article) -> Article:
        """Store a new article; return it with its assigned id.

        Raises:
            ValidationError: A field breaks the store's limits (see ``docs/store.md``).
        """
        _check(article)
        row = ArticleRow(
            question=article.question,
            solution=article.solution,
            diagnostics=list(article.diagnostics),
            tags=" ".join(sorted(article.tags)),
            uses=article.uses,
            solved=article.solved,
        )
        with self._store.transaction("add article") as session:
            session.add(row)
            session.flush()
            return _from_row(row)

    def get(self, article_id: int) -> Article:
        """Return the article ``article_id``.

        Raises:
            NotFoundError: No such article.
        """
        with self._store.transaction(f"load article {article_id}") as session:
            row = session.get(ArticleRow, article_id)
            if row is None:
                raise NotFoundError(f"no article {article_id}")
            return _from_row(row)

    def update(self, article: Article) -> None:
        """Replace the text of an existing article (counts are kept as stored).

        Raises:
            NotFoundError: No such article.
            ValidationError: A field breaks the store's limits.
        """
        _check(article)
        with self._store.transaction(f"update article {article.article_id}") as session:
            row = session.get(ArticleRow, article.article_id)
            if row is None:
                raise NotFoundError(f"no article {article.article_id}")
            row.question = article.question
            row.solution = article.solution
            row.diagnostics = list(article.diagnostics)
            row.tags = " ".join(sorted(article.tags))

    def record_use(self, article_id: int) -> None:
        """Count that an agent opened the article."""
        self._bump(article_id, ArticleRow.uses)

    def record_solved(self, article_id: int) -> None:
        """Count that the article solved a customer's problem."""
        self._bump(article_id, ArticleRow.solved)

    def search(self, words: str, *, limit: int = 5) -> list[Suggestion]:
        """Return the articles best matching ``words`` (a ticket's or contact's text)."""
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}")
        terms = search_terms(words)
        if not terms:
            return []
        if self._store.dialect == "sqlite":
            statement, query = _SQLITE_SEARCH, " OR ".join(f'"{t}"' for t in terms)
        else:
            statement, query = _POSTGRESQL_SEARCH, " or ".join(terms)
        with self._store.transaction("search articles") as session:
            # rank a wider set on text, then let the boosts reorder it
            found = session.execute(statement, {"query": query, "limit": limit * 4}).all()
            if not found:
                return []
            best = max(float(r.relevance) for r in found) or 1.0
            relevance = {int(r[0]): float(r.relevance) / best for r in found}
            rows = session.scalars(select(ArticleRow).where(ArticleRow.id.in_(relevance)))
            suggestions = [
                Suggestion(_from_row(row), _score(relevance[row.id], row)) for row in rows
            ]
        suggestions.sort(key=lambda s: (-s.score, s.article.article_id))
        return suggestions[:limit]

    def advise(self, words: str, *, limit: int = 3) -> Advice:
        """Suggest articles for ``words`` and the diagnostic questions to ask."""
        suggestions = self.search(words, limit=limit)
        questions: dict[str, None] = {}
        for suggestion in suggestions:
            for question in suggestion.article.diagnostics:
                questions.setdefault(question, None)
        return Advice(tuple(suggestions), tuple(questions))

    def _bump(self, article_id: int, counter: InstrumentedAttribute[int]) -> None:
        with self._store.transaction(f"count article {article_id}") as session:
            result = session.execute(
                update(ArticleRow).where(ArticleRow.id == article_id).values({counter: counter + 1})
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFoundError(f"no article {article_id}")


def _check(article: Article) -> None:
    check_text("Article.question", article.question, QUESTION)
    check_text("Article.solution", article.solution, TEXT)
    check_texts("Article.diagnostics", article.diagnostics, QUESTION)
    check_texts("Article.tags", sorted(article.tags), TAG)
    check_json("Article.diagnostics", list(article.diagnostics))
    check_int("Article.uses", article.uses, INT32)
    check_int("Article.solved", article.solved, INT32)


def _score(relevance: float, row: ArticleRow) -> float:
    return relevance + SOLVED_WEIGHT * math.log1p(row.solved) + USES_WEIGHT * math.log1p(row.uses)


def _from_row(row: ArticleRow) -> Article:
    return Article(
        article_id=row.id,
        question=row.question,
        solution=row.solution,
        diagnostics=row.diagnostics,
        tags=row.tags.split(),
        uses=row.uses,
        solved=row.solved,
    )
