"""Webhook signatures as the big messaging providers compute them, checked in constant time.

Two schemes cover most providers: an HMAC-SHA256 of the raw body in a
header (Meta's ``X-Hub-Signature-256: sha256=<hex>``, also what the
reference provider uses) and Twilio's HMAC-SHA1 over the public URL followed
by the sorted form parameters (``X-Twilio-Signature``, base64). A request
that is unsigned or whose signature does not match raises
:class:`~callcenter_sdk.channels.SignatureError`; the webhook refuses it
before reading anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from ._errors import SignatureError

__all__ = ["hub_signature_256", "twilio_signature", "verify_signature"]


def hub_signature_256(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256.

    .. versionadded:: 0.2
    """
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` of a form POST to ``url`` (the URL the provider called).

    Base64 of the HMAC-SHA1, keyed by the account's auth token, of the URL
    followed by each parameter's name and value, sorted by name.

    .. versionadded:: 0.2
    """
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_signature(expected: str, given: str | None) -> None:
    """Compare a request's signature with the expected one, in constant time.

    Raises:
        SignatureError: It is missing or different.

    .. versionadded:: 0.2
    """
    if not given:
        raise SignatureError("the request is not signed")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("the request's signature does not match")
