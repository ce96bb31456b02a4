"""The HTTP API and live events of a running call center (the ``web`` extra).

:func:`create_app` turns a :class:`~callcenter_sdk.runtime.CallCenter` into
a Starlette application: people of the org log in (a session cookie with a
CSRF token for browsers, a bearer token for API clients), every person's
operation is a REST command acting as them, and ``/api/events`` streams the
events they may see as Server-Sent Events whose ids are the event log's
sequence numbers, so a reconnect replays what was missed. Passwords live in
the store (:class:`~callcenter_sdk.store.Accounts`). See ``docs/web.md``.

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
from ._scope import Grant as Grant
from ._scope import ScopeTracker as ScopeTracker
from ._scope import Visibility as Visibility
from ._scope import may_see as may_see

__all__ = [
    "Api",
    "FeedEntry",
    "Grant",
    "HttpError",
    "Identity",
    "LiveFeed",
    "RateLimiter",
    "ScopeTracker",
    "Session",
    "SessionBook",
    "Visibility",
    "create_app",
    "may_see",
    "routes",
]
