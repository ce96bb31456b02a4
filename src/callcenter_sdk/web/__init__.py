"""The HTTP API and live events of a running call center (the ``web`` extra).

:func:`create_app` turns a :class:`~callcenter_sdk.runtime.CallCenter` into
a Starlette application: people of the org log in (a session cookie with a
CSRF token for browsers, a bearer token for API clients), every person's
operation is a REST command acting as them, and ``/api/events`` streams the
events they may see as Server-Sent Events whose ids are the event log's
sequence numbers, so a reconnect replays what was missed. Passwords live in
the store (:class:`~callcenter_sdk.store.Accounts`). See ``docs/web.md``.

The pages people work in are part of the app: ``/login``, the agent desktop
``/desk``, the supervisor's ``/wallboard`` and the administrator's ``/admin``
(server-rendered, French and English, a little JavaScript), with the read
endpoints they need (``/api/desk``, ``/api/wallboard``, ``/api/seats``...).

Install with ``pip install 'callcenter-sdk[web]'``.
"""

from __future__ import annotations

from ._api import Api as Api
from ._api import Identity as Identity
from ._app import create_app as create_app
from ._app import routes as routes
from ._auth import RateLimiter as RateLimiter
from ._auth import Session as Session
from ._auth import SessionBook as SessionBook
from ._errors import HttpError as HttpError
from ._feed import FeedEntry as FeedEntry
from ._feed import LiveFeed as LiveFeed
from ._i18n import LANGUAGES as LANGUAGES
from ._i18n import TEXTS as TEXTS
from ._i18n import choose_language as choose_language
from ._pages import DISPOSITIONS as DISPOSITIONS
from ._pages import PAUSE_REASONS as PAUSE_REASONS
from ._pages import Pages as Pages
from ._presence import DESKTOP_LOST as DESKTOP_LOST
from ._presence import DesktopWatch as DesktopWatch
from ._reads import Reads as Reads
from ._scope import Grant as Grant
from ._scope import Judgements as Judgements
from ._scope import ScopeTracker as ScopeTracker
from ._scope import Visibility as Visibility
from ._scope import may_see as may_see
from ._wallboard import Tally as Tally
from ._wallboard import WallboardSettings as WallboardSettings

__all__ = [
    "DESKTOP_LOST",
    "DISPOSITIONS",
    "LANGUAGES",
    "PAUSE_REASONS",
    "TEXTS",
    "Api",
    "DesktopWatch",
    "FeedEntry",
    "Grant",
    "HttpError",
    "Identity",
    "Judgements",
    "LiveFeed",
    "Pages",
    "RateLimiter",
    "Reads",
    "ScopeTracker",
    "Session",
    "SessionBook",
    "Tally",
    "Visibility",
    "WallboardSettings",
    "choose_language",
    "create_app",
    "may_see",
    "routes",
]
