"""The limits every write obeys, checked before SQL so both databases agree.

SQLite stores almost anything (a 10 MB subject in a ``VARCHAR(300)``, NUL
characters, integers far past 64 bits as floats or text); PostgreSQL refuses
those with a driver error, or ``psycopg`` never even sends them. A value the
embedded default accepted would then break the move to production. Every
repository's write path calls these checks instead, so a bad value is the
same :class:`~callcenter_sdk.ValidationError` on both databases, naming the
field, the limit and the size of the value, and a value at exactly the limit
is stored on both.

The lengths are the column widths of :mod:`._rows` (a test keeps them in
step) and are counted in characters, as PostgreSQL's ``varchar(n)`` does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

from .._errors import ValidationError

__all__ = [
    "CHANNEL",
    "EMAIL",
    "ID",
    "INT32",
    "INT64",
    "JSON_BYTES",
    "JSON_DEPTH",
    "KEY",
    "NAME",
    "OUTCOME",
    "PHONE",
    "QUESTION",
    "SUBJECT",
    "TAG",
    "TEXT",
    "TITLE",
    "check_float",
    "check_int",
    "check_json",
    "check_optional_float",
    "check_optional_int",
    "check_optional_text",
    "check_text",
    "check_texts",
    "encode_json",
]

ID = 64
"""Ids: contacts, callbacks, tickets, outbound lists, agents, claim holders, customer numbers."""
NAME = 100
"""Names: queues, campaigns, categories, note authors, event kinds."""
TITLE = 200
"""Display names: a customer's, an outbound list's."""
KEY = 200
"""Configuration document keys."""
PHONE = 20
"""Phone numbers, in E.164 (at most 15 digits and a ``+``)."""
CHANNEL = 20
"""Channel names of waiting contacts (``"email"``, ``"chat"``...)."""
OUTCOME = 50
"""Outcomes of dial attempts."""
EMAIL = 320
"""E-mail addresses (RFC 5321: 64 + 1 + 255)."""
SUBJECT = 300
"""A ticket's subject: one line."""
QUESTION = 1_000
"""A knowledge-base question, and each of its diagnostic questions."""
TAG = 100
"""A knowledge-base tag."""
TEXT = 100_000
"""Free text: a ticket's description, a note, an article's solution."""
JSON_BYTES = 1_000_000
"""JSON data (attributes, payloads, documents), in UTF-8 bytes once serialised."""
JSON_DEPTH = 64
"""Nesting of JSON data (lists and objects inside each other)."""
INT32 = 32
"""Bits of ``INTEGER`` columns (priorities, attempts, counters)."""
INT64 = 64
"""Bits of ``BIGINT`` columns (customer ids)."""


def check_text(field: str, value: object, limit: int) -> None:
    """Refuse a string longer than ``limit`` characters, or one no database stores the same.

    Raises:
        ValidationError: Not a string, too long, holding a NUL character
            (PostgreSQL refuses it in text) or a lone surrogate (not
            UTF-8).
    """
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise ValidationError(
            f"{field} is {len(value)} characters long; the limit is {limit} characters"
        )
    _storable(field, value)


def check_optional_text(field: str, value: object, limit: int) -> None:
    """:func:`check_text`, letting ``None`` through."""
    if value is not None:
        check_text(field, value, limit)


def check_texts(field: str, values: Iterable[object], limit: int) -> None:
    """:func:`check_text` on each of ``values``, naming the position (``field[2]``)."""
    for index, value in enumerate(values):
        check_text(f"{field}[{index}]", value, limit)


def check_int(field: str, value: object, bits: int = INT64) -> None:
    """Refuse an integer outside the signed range of a ``bits``-bit column.

    Raises:
        ValidationError: Not an integer, or out of range (``2**70`` for a
            64-bit column, which SQLite would store as a float).
    """
    if not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer, got {type(value).__name__}")
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if not low <= value <= high:
        raise ValidationError(
            f"{field} is {value.bit_length() + 1} bits long (signed); the limit is a"
            f" signed {bits}-bit integer, {low} to {high}"
        )


def check_optional_int(field: str, value: object, bits: int = INT64) -> None:
    """:func:`check_int`, letting ``None`` through."""
    if value is not None:
        check_int(field, value, bits)


def check_float(field: str, value: object) -> None:
    """Refuse a time or duration that is not a finite number.

    SQLite turns NaN into NULL (a NOT NULL failure) while PostgreSQL stores
    it; infinities sort and compare in ways nobody wants in a queue.

    Raises:
        ValidationError: Not a number, or not finite.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{field} must be a number, got {type(value).__name__}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise ValidationError(f"{field} must be a finite number, got {value!r:.40}")


def check_optional_float(field: str, value: object) -> None:
    """:func:`check_float`, letting ``None`` through."""
    if value is not None:
        check_float(field, value)


def check_json(field: str, value: object, limit: int = JSON_BYTES) -> None:
    """Refuse JSON data that is too large or that one of the databases would refuse.

    Raises:
        ValidationError: Not serialisable as JSON, nested deeper than
            :data:`JSON_DEPTH`, holding a NaN or infinity (PostgreSQL's
            ``jsonb`` refuses them), a NUL character (``jsonb`` refuses
            it) or a lone surrogate, or more than ``limit`` bytes
            once serialised.
    """
    _walk(field, value, 0)
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{field} is not JSON data: {exc}") from exc
    if len(encoded) > limit:
        raise ValidationError(
            f"{field} is {len(encoded)} bytes of JSON; the limit is {limit} bytes"
        )


# json.dumps' own output (default separators, ASCII escapes), raising on NaN and
# infinities instead of writing them: the text SQLAlchemy's JSON type stores.
_ENCODER = json.JSONEncoder(allow_nan=False)


def encode_json(field: str, value: object, limit: int = JSON_BYTES) -> str:
    r"""Check ``value`` as :func:`check_json` does and return its JSON text.

    The text is ``json.dumps(value)``'s, what SQLAlchemy's ``JSON`` type
    stores by default, so a hot write path (the event log) encodes each value
    once, for the checks and for the row. The checks read that text instead
    of walking the value: it is ASCII with every NUL and surrogate escaped
    (``\u0000``, ``\udXXX``), never shorter than the UTF-8 the size limit
    counts, and holds at least one bracket per level of nesting. Only a text
    where one of those could matter (a ``\u0000`` or ``\ud`` sequence, more
    than :data:`JSON_DEPTH` brackets, more than ``limit`` characters) or a
    value the encoder refuses goes through :func:`check_json` for the exact
    verdict and message, so both always agree.

    Raises:
        ValidationError: As :func:`check_json`.
    """
    try:
        text = _ENCODER.encode(value)
    except Exception:  # noqa: BLE001 - check_json below names what is wrong
        text = None
    if (
        text is None
        or len(text) > limit
        or "\\u0000" in text
        or "\\ud" in text
        or text.count("[") + text.count("{") > JSON_DEPTH
    ):
        check_json(field, value, limit)
        if text is None:  # pragma: no cover - check_json refuses what the encoder refuses
            raise ValidationError(f"{field} is not JSON data")
    return text


def _walk(field: str, value: object, depth: int) -> None:
    if depth > JSON_DEPTH:
        raise ValidationError(f"{field} is nested deeper than the limit of {JSON_DEPTH} levels")
    if isinstance(value, str):
        _storable(field, value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{field} holds {value!r}, which JSON cannot carry")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                _storable(field, key)
            _walk(field, item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(field, item, depth + 1)


def _storable(field: str, value: str) -> None:
    if "\x00" in value:
        raise ValidationError(
            f"{field} contains a NUL character (\\x00) at {value.index(chr(0))},"
            " which PostgreSQL cannot store"
        )
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise ValidationError(f"{field} is not valid Unicode text: {exc.reason}") from exc
