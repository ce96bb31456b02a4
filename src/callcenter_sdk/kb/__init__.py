"""The knowledge base: frequent questions, what to ask, how to solve.

Agents get articles and the diagnostic questions to ask suggested from a
ticket's or contact's text; what solved problems before ranks higher.
"""

from __future__ import annotations

from ._base import SOLVED_WEIGHT as SOLVED_WEIGHT
from ._base import USES_WEIGHT as USES_WEIGHT
from ._base import KnowledgeBase as KnowledgeBase
from ._base import search_terms as search_terms
from ._model import Advice as Advice
from ._model import Article as Article
from ._model import Suggestion as Suggestion

__all__ = [
    "SOLVED_WEIGHT",
    "USES_WEIGHT",
    "Advice",
    "Article",
    "KnowledgeBase",
    "Suggestion",
    "search_terms",
]
