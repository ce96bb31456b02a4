"""The caller's number, read from the SIP headers an inbound call arrived with.

A carrier or PBX trunk may put the real number in ``P-Asserted-Identity``
(RFC 3325) or the older ``Remote-Party-ID`` and something else, even
``anonymous``, in the From header; the pool's own originating calls do the
same with ``caller_id``. But anybody can write those headers: RFC 3325 only
means them inside a trust domain. So they count only when the request came
from a trusted address (a trunk, or the proxy that strips them from
everyone else); otherwise they are ignored and the number is the From
header's user part, which the caller chose and which is therefore never
*verified*. The number is its digits with visual separators removed
(``+33 1-23.45`` -> ``+331234``); a user part that is not a number
(``alice``) gives ``""``. Turning a national number into E.164 needs a
country and is the CTI's job (:func:`callcenter_sdk.cti.to_e164`).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Sequence

import attrs

from .._errors import ValidationError

__all__ = [
    "CallerIdentity",
    "Network",
    "caller_number",
    "header_values",
    "identify_caller",
    "is_trusted",
    "source_ip",
    "trusted_networks",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_URI = re.compile(r"(sips?|tel):([^@;>,]+)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-.()/]")
_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_FOLDED = re.compile(r"\r?\n[ \t]+")
_BRACKETED = re.compile(r"\[([^\]]+)\](?::[0-9]+)?")
_PARAM = re.compile(r";\s*([A-Za-z-]+)\s*=\s*\"?([^;\",\s]*)")


def _number(uri: str) -> str:
    match = _URI.search(uri)
    if match is None:
        return ""
    user = _SEPARATORS.sub("", urllib.parse.unquote(match.group(2)))
    return user if _NUMBER.fullmatch(user) else ""


def _split(value: str) -> list[str]:
    """Split a header value on the commas between its entries (not those in quotes or ``<>``)."""
    parts, start, quoted, angled = [], 0, False, False
    for index, char in enumerate(value):
        if char == '"' and not angled:
            quoted = not quoted
        elif char == "<" and not quoted:
            angled = True
        elif char == ">" and not quoted:
            angled = False
        elif char == "," and not quoted and not angled:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return [part.strip() for part in parts if part.strip()]


def _params(entry: str) -> dict[str, str]:
    """The ``;name=value`` parameters after an entry's URI (those inside ``<>`` are the URI's)."""
    tail = entry.rsplit(">", 1)[1] if ">" in entry else entry
    return {name.lower(): value.lower() for name, value in _PARAM.findall(tail)}


def caller_number(from_uri: str, asserted: str = "") -> str:
    """The caller's number from the From URI and the P-Asserted-Identity value.

    This only parses: it believes ``asserted``. Use :func:`identify_caller`
    for a header that arrived over the network.

    Args:
        from_uri: The From header's URI (``"Alice" <sip:0123456789@host>``).
        asserted: The P-Asserted-Identity header's value, ``""`` when absent;
            it may list a SIP and a tel URI separated by a comma.

    Returns:
        Digits with an optional leading ``+``, or ``""`` when neither header
        carries a number.
    """
    for uri in _split(asserted):
        number = _number(uri)
        if number:
            return number
    return _number(from_uri)


def _remote_party_number(value: str) -> str:
    """The calling party's number in Remote-Party-ID entries, ``""`` if none can be believed.

    Entries for another party (``party=called``) are not the caller; one the
    network says it did not screen (``screen=no``) is the caller's own claim.
    """
    for entry in _split(value):
        params = _params(entry)
        if params.get("party", "calling") != "calling" or params.get("screen") == "no":
            continue
        number = _number(entry)
        if number:
            return number
    return ""


@attrs.frozen
class CallerIdentity:
    """Who an inbound call says it is from, and whether that can be believed.

    Attributes:
        number: Digits with an optional ``+``; ``""`` when no header carries a number.
        verified: The number came from ``P-Asserted-Identity`` or
            ``Remote-Party-ID`` of a request sent from a trusted address.
        source: The IP address the request came from (``""`` when unknown).

    .. versionadded:: 0.1
    """

    number: str
    verified: bool
    source: str


def identify_caller(
    from_uri: str,
    *,
    asserted: str = "",
    remote_party: str = "",
    source: str = "",
    trusted: Iterable[str | Network] = (),
) -> CallerIdentity:
    """Read the caller's number, believing asserted identities only from ``trusted`` sources.

    From a trusted source, ``P-Asserted-Identity`` wins, then
    ``Remote-Party-ID`` (``party=calling``, not ``screen=no``); from any
    other source both headers are ignored, as if stripped. Then the From
    URI's user part, never verified.

    Args:
        from_uri: The From header's URI.
        asserted: The P-Asserted-Identity value(s), comma-separated.
        remote_party: The Remote-Party-ID value(s), comma-separated.
        source: The request's source, ``ip``, ``ip:port`` or ``[ipv6]:port``.
        trusted: Addresses and networks whose identity headers are believed
            (see :func:`trusted_networks`).

    Raises:
        ValidationError: ``trusted`` holds something that is not an address or network.

    .. versionadded:: 0.1
    """
    networks = trusted_networks(trusted)
    ip = source_ip(source)
    if is_trusted(ip, networks):
        for number in (caller_number("", asserted), _remote_party_number(remote_party)):
            if number:
                return CallerIdentity(number, verified=True, source=ip)
    return CallerIdentity(_number(from_uri), verified=False, source=ip)


def header_values(message: str, name: str) -> str:
    """A header's values in a raw SIP message, comma-joined, ``""`` if it has none.

    Only the header section counts (a body line that looks like the header
    is not one); folded continuation lines are unfolded.
    """
    head = _FOLDED.sub(" ", message.split("\r\n\r\n", maxsplit=1)[0])
    line = re.compile(rf"^{re.escape(name)}[ \t]*:[ \t]*(.*?)\r?$", re.IGNORECASE | re.MULTILINE)
    return ",".join(m.group(1).strip() for m in line.finditer(head) if m.group(1).strip())


def source_ip(source: str) -> str:
    """The IP address in a transport's source (``ip:port``, ``[ipv6]:port``, bare), ``""`` if none.

    An IPv4-mapped IPv6 address is given as the IPv4 address it maps.
    """
    text = source.strip()
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed is not None:
        text = bracketed.group(1)
    elif text.count(":") == 1:  # IPv4 with a port (a bare IPv6 has several colons)
        text, port = text.split(":", 1)
        if not port.isdigit():
            return ""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def is_trusted(ip: str, trusted: Sequence[Network]) -> bool:
    """Whether the address ``ip`` (as :func:`source_ip` gives it) is in one of ``trusted``."""
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in network for network in trusted)


def trusted_networks(sources: Iterable[str | Network]) -> tuple[Network, ...]:
    """Check trusted sources and turn them into networks (an address is a /32 or /128).

    Args:
        sources: IPv4 or IPv6 addresses and CIDR networks, such as
            ``("203.0.113.7", "198.51.100.0/24", "2001:db8::/32")``.

    Raises:
        ValidationError: ``sources`` is one string rather than a collection of
            them, or an entry is not an address or network (the message says which).

    .. versionadded:: 0.1
    """
    if isinstance(sources, str):
        raise ValidationError(
            f"trusted sources are a collection of addresses, got the single string {sources!r}: "
            f"write ({sources!r},)"
        )
    out = []
    for source in sources:
        if isinstance(source, ipaddress.IPv4Network | ipaddress.IPv6Network):
            out.append(source)
            continue
        if not isinstance(source, str):
            raise ValidationError(f"a trusted source is an IP address or network, got {source!r}")
        try:
            out.append(ipaddress.ip_network(source.strip(), strict=True))
        except ValueError as exc:
            hint = ""
            if "has host bits set" in str(exc):
                hint = f"; did you mean {ipaddress.ip_network(source.strip(), strict=False)}?"
            raise ValidationError(
                f"trusted source {source!r} is not an IP address or CIDR network "
                f"(such as 203.0.113.7, 198.51.100.0/24 or 2001:db8::/32): {exc}{hint}"
            ) from None
    return tuple(out)
