"""The caller's number, read from the SIP headers an inbound call arrived with.

A carrier or PBX trunk may put the real number in ``P-Asserted-Identity``
(RFC 3325) and something else, even ``anonymous``, in the From header; the
pool's own originating calls do the same with ``caller_id``. So the
asserted identity wins when present, and the From header's user part is the
fallback. The result is the number's digits with visual separators removed
(``+33 1-23.45`` -> ``+331234``); a user part that is not a number (``alice``)
gives ``""``. Turning a national number into E.164 needs a country and is the
CTI's job (:func:`callcenter_sdk.cti.to_e164`).
"""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["asserted_identity", "caller_number"]

_URI = re.compile(r"(sips?|tel):([^@;>,]+)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-.()/]")
_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_PAI_LINE = re.compile(
    r"^(?:P-Asserted-Identity)[ \t]*:[ \t]*(.*?)\r?$", re.IGNORECASE | re.MULTILINE
)


def _number(uri: str) -> str:
    match = _URI.search(uri)
    if match is None:
        return ""
    user = _SEPARATORS.sub("", urllib.parse.unquote(match.group(2)))
    return user if _NUMBER.fullmatch(user) else ""


def caller_number(from_uri: str, asserted: str = "") -> str:
    """The caller's number from the From URI and the P-Asserted-Identity value.

    Args:
        from_uri: The From header's URI (``"Alice" <sip:0123456789@host>``).
        asserted: The P-Asserted-Identity header's value, ``""`` when absent;
            it may list a SIP and a tel URI separated by a comma.

    Returns:
        Digits with an optional leading ``+``, or ``""`` when neither header
        carries a number.
    """
    for uri in asserted.split(","):
        number = _number(uri)
        if number:
            return number
    return _number(from_uri)


def asserted_identity(message: str) -> str:
    """The P-Asserted-Identity header's value(s) in a raw SIP message, ``""`` if none."""
    head = message.split("\r\n\r\n", maxsplit=1)[0]
    return ",".join(m.group(1).strip() for m in _PAI_LINE.finditer(head))
