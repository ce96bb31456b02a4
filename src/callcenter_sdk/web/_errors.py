"""Errors as HTTP answers: a status and a JSON body naming the problem.

Endpoints raise; the app's exception handlers answer. The library's own
errors keep their meaning over HTTP (a :class:`~callcenter_sdk.PermissionDenied`
is a 403 whatever the operation); :class:`HttpError` covers what only the
web layer knows (no credentials, no CSRF token, too many attempts).

.. versionadded:: 0.1
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._errors import (
    CallCenterError,
    ConfigError,
    MediaError,
    NotFoundError,
    PermissionDenied,
    StateError,
    StoreError,
    ValidationError,
)

__all__ = ["HttpError", "error_response"]

_STATUS: tuple[tuple[type[CallCenterError], int, str], ...] = (
    (PermissionDenied, 403, "permission-denied"),
    (NotFoundError, 404, "not-found"),
    (StateError, 409, "conflict"),  # ConflictError too: someone saved first
    (ValidationError, 422, "invalid"),
    (ConfigError, 422, "invalid"),
    (StoreError, 503, "store-unavailable"),
    (MediaError, 502, "media-failed"),
)


class HttpError(Exception):
    """An answer only the web layer gives (401, 403 for CSRF, 429...).

    Args:
        status: The HTTP status.
        error: A short stable code for programs (``"csrf"``).
        detail: What happened, for people.
        headers: Extra headers (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(
        self, status: int, error: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


def error_response(_request: Request, exc: Exception) -> Response:
    """Answer ``exc`` as JSON: ``{"error": code, "kind": class name, "detail": message}``."""
    if isinstance(exc, HttpError):
        body = {"error": exc.error, "detail": exc.detail}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            body = {"error": code, "kind": type(exc).__name__, "detail": str(exc)}
            return JSONResponse(body, status_code=status)
    body = {"error": "failed", "kind": type(exc).__name__, "detail": str(exc)}
    return JSONResponse(body, status_code=500)
