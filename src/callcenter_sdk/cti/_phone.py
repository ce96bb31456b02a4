"""Phone numbers in E.164, the one form the directory stores and searches."""

from __future__ import annotations

import phonenumbers

from .._errors import ValidationError

__all__ = ["to_e164"]


def to_e164(raw: str, region: str = "FR") -> str:
    """Return ``raw`` as an E.164 number (``"+33142685300"``).

    Callers, CRM exports and agents write numbers in every local form
    (``01 42 68 53 00``, ``0033142685300``, ``+33 (0)1...``); comparing them
    as strings would miss the customer, so every number goes through here.

    Args:
        raw: The number as written.
        region: ISO country code assumed for numbers without a country prefix.

    Raises:
        ValidationError: ``raw`` is not a possible phone number.
    """
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"not a phone number: {raw!r} ({exc})") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
