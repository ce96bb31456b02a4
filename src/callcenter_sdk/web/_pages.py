"""The pages people work in: sign-in, agent desktop, wallboard and administration.

Server-rendered HTML (``templates/``, filled with :class:`string.Template`)
with a little vanilla JavaScript (``static/``; no build step): the page
talks to the same REST commands and live events as any API client, with the
session's CSRF token, which the server writes into the page it renders for
that session (another site can neither read the page nor send the token).
The words come from :mod:`~callcenter_sdk.web._i18n`, in the person's language.

A page asked without a session redirects to ``/login?next=<page>``.

.. versionadded:: 0.2
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..org import Role
from ._api import Api, Identity
from ._errors import HttpError
from ._i18n import LANG_COOKIE, TEXTS, choose_language

__all__ = ["DISPOSITIONS", "PAUSE_REASONS", "Pages"]

PAUSE_REASONS = ("break", "lunch", "training", "meeting", "coaching", "back-office")
"""The pause reasons the desktop offers by default."""

DISPOSITIONS = ("solved", "escalated", "callback", "information", "wrong-number", "other")
"""The dispositions the desktop offers by default (``solved`` resolves the ticket)."""

_HOME = {
    Role.AGENT: "/desk",
    Role.TEAM_LEAD: "/desk",
    Role.ADMINISTRATOR: "/admin",
}


@functools.cache
def _template(name: str) -> Template:
    source = resources.files(__package__).joinpath("templates", name).read_text("utf-8")
    return Template(source)


def _json_for_html(value: object) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Pages:
    """The HTML pages of one app.

    Args:
        api: The API the pages call (who is signed in, the center, its org).
        pause_reasons: The pause reasons offered on the desktop.
        dispositions: The dispositions offered at wrap-up.
        grace: Seconds before an agent whose desktop is gone is paused (shown on the page).
    """

    def __init__(
        self,
        api: Api,
        *,
        pause_reasons: Sequence[str] = PAUSE_REASONS,
        dispositions: Sequence[str] = DISPOSITIONS,
        grace: float = 30.0,
    ) -> None:
        self.api = api
        self.pause_reasons = tuple(pause_reasons)
        self.dispositions = tuple(dispositions)
        self.grace = grace

    async def _signed_in(self, request: Request) -> Identity | None:
        if request.cookies.get("callcenter_session") is None:
            return None
        try:
            identity = await self.api.identify(request)
        except HttpError:
            return None
        return identity if identity.session is not None else None

    def _render(
        self,
        request: Request,
        page: str,
        *,
        identity: Identity | None,
        config: Mapping[str, Any],
    ) -> Response:
        lang, picked = choose_language(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )
        texts = TEXTS[lang]
        words = {f"t_{key}": html.escape(value) for key, value in texts.items()}
        body = _template(f"{page}.html").substitute(words)
        person = ""
        if identity is not None:
            who = self.api.org.person(identity.person)
            person = f"{who.name or who.id} ({who.role.value})"
        csrf = identity.session.csrf if identity is not None and identity.session else ""
        document = _template("layout.html").substitute(
            words,
            lang=lang,
            page=page,
            title=html.escape(texts[f"title_{page}"]),
            csrf=html.escape(csrf),
            person=html.escape(person),
            signed_in="" if identity is not None else "hidden",
            body=body,
            texts=_json_for_html(texts),
            config=_json_for_html({**config, "lang": lang}),
        )
        response = HTMLResponse(
            document,
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": (
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    "script-src 'self'; frame-ancestors 'none'"
                ),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )
        if picked:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", path="/")
        return response

    def _to_login(self, request: Request) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    async def home(self, request: Request) -> Response:
        """``/``: the person's page (desktop, wallboard or administration)."""
        identity = await self._signed_in(request)
        if identity is None:
            return self._to_login(request)
        role = self.api.org.person(identity.person).role
        return RedirectResponse(_HOME.get(role, "/wallboard"), status_code=303)

    async def login(self, request: Request) -> Response:
        """``/login``: the sign-in form (it posts to ``/api/login``)."""
        homes = {role.value: page for role, page in _HOME.items()}
        return self._render(request, "login", identity=None, config={"homes": homes})

    async def desk(self, request: Request) -> Response:
        """``/desk``: the agent desktop."""
        identity = await self._signed_in(request)
        if identity is None:
            return self._to_login(request)
        center = self.api.center
        config = {
            "agent": identity.person,
            "pause_reasons": list(self.pause_reasons),
            "dispositions": list(self.dispositions),
            "queues": list(center.engine.queue_names()),
            "grace": self.grace,
        }
        return self._render(request, "desk", identity=identity, config=config)

    async def wallboard(self, request: Request) -> Response:
        """``/wallboard``: the supervisor's wallboard."""
        identity = await self._signed_in(request)
        if identity is None:
            return self._to_login(request)
        return self._render(
            request, "wallboard", identity=identity, config={"person": identity.person}
        )

    async def admin(self, request: Request) -> Response:
        """``/admin``: seat allocation per campaign."""
        identity = await self._signed_in(request)
        if identity is None:
            return self._to_login(request)
        return self._render(request, "admin", identity=identity, config={"person": identity.person})
