"""Lead lists from CSV: numbers in E.164, a time zone per lead, priorities, consent.

Numbers go through :func:`callcenter_sdk.cti.to_e164` (the same
normalisation the CTI directory uses). A lead's time zone decides its calling
window, so every lead gets one: the ``timezone`` column when given, else the
number's own zone when the numbering plan has only one (all of France, the
UK, a US area code), else the import's default. A lead whose zone cannot be
known is rejected rather than risked. Given the campaign's outbound policy,
the import also rejects the numbers it would refuse to dial (a premium or
satellite range, a country the campaign does not call), so a bad list is
reported when it is loaded rather than one refusal at a time while dialling.

.. versionadded:: 0.1
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import attrs
import phonenumbers
from phonenumbers import timezone as phone_zones

from .._errors import ConfigError, ValidationError
from ..cti import OutboundDenied, OutboundPolicy, to_e164
from ._compliance import DoNotCallList
from ._model import Lead

__all__ = ["LeadImport", "import_do_not_call", "import_leads_csv", "zone_of_number"]

_KNOWN = frozenset({"phone", "lead_id", "priority", "timezone", "country", "consent", "customer"})
_UNKNOWN_ZONE = "Etc/Unknown"
_TRUE = frozenset({"yes", "y", "true", "1", "oui"})
_FALSE = frozenset({"no", "n", "false", "0", "non"})


@attrs.frozen
class LeadImport:
    """What a lead import produced.

    Attributes:
        leads: The leads read, in file order.
        rejected: ``(line, reason)`` for each row that was skipped.
    """

    leads: tuple[Lead, ...]
    rejected: tuple[tuple[int, str], ...]


def zone_of_number(e164: str) -> tuple[str | None, str]:
    """The number's IANA zone when its numbering plan has exactly one, and its country.

    ``("Europe/Paris", "FR")`` for a French number; ``(None, "US")`` for a
    US number whose area code spans zones or is unknown.
    """
    number = phonenumbers.parse(e164, None)
    zones = [z for z in phone_zones.time_zones_for_number(number) if z != _UNKNOWN_ZONE]
    country = phonenumbers.region_code_for_number(number) or ""
    return (zones[0] if len(zones) == 1 else None), country


def _reader(source: Path | str | Iterable[str]) -> csv.DictReader[str]:
    """A CSV reader with lower-case column names; the header must have a phone column."""
    if isinstance(source, str | Path):
        name = str(source)
        with Path(source).open(newline="", encoding="utf-8-sig") as handle:
            handle_text = io.StringIO(handle.read())
    else:
        name = "<csv>"
        handle_text = io.StringIO("".join(x if x.endswith("\n") else x + "\n" for x in source))
    reader = csv.DictReader(handle_text)
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    if "phone" not in header:
        raise ConfigError(name, ("header",), "a phone column", ",".join(header))
    reader.fieldnames = header
    return reader


def import_leads_csv(
    source: Path | str | Iterable[str],
    *,
    campaign: str,
    list_id: str,
    region: str = "FR",
    timezone: str | None = None,
    policy: OutboundPolicy | None = None,
) -> LeadImport:
    """Read leads from a CSV file with a header row.

    Columns: ``phone`` (required); ``lead_id`` (default ``<list_id>-<line>``),
    ``priority`` (whole number), ``timezone`` (IANA), ``country`` (ISO),
    ``consent`` (yes/no, empty for unknown), ``customer``; every other column
    goes into the lead's data for the script (``first_name``, ``offer``...).
    A row with an impossible number, a number already in the file, a bad
    value, no knowable time zone or (with ``policy``) a number the outbound
    policy refuses is skipped and reported with its line.

    Args:
        source: A file path, or lines of CSV text.
        campaign: The campaign the leads are assigned to.
        list_id: The list they form (conversion is tracked per list).
        region: Country assumed for numbers written without a country code.
        timezone: Zone for numbers whose own zone is ambiguous.
        policy: The campaign's outbound policy (:attr:`Campaign.outbound`):
            numbers in ranges it refuses are rejected (its caps are not
            counted; the dialer checks again before each dial).

    .. versionchanged:: 0.2
       ``policy``.

    Raises:
        ConfigError: The header has no ``phone`` column.
    """
    reader = _reader(source)
    leads: list[Lead] = []
    rejected: list[tuple[int, str]] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        try:
            lead = _lead(
                row,
                line,
                campaign=campaign,
                list_id=list_id,
                region=region,
                zone=timezone,
                policy=policy,
            )
            if lead.phone in seen:
                raise ValidationError(f"number {lead.phone} is already in this file")
        except (ValidationError, OutboundDenied) as exc:
            rejected.append((line, str(exc)))
            continue
        seen.add(lead.phone)
        leads.append(lead)
    return LeadImport(tuple(leads), tuple(rejected))


def _lead(
    row: dict[str, str | None],
    line: int,
    *,
    campaign: str,
    list_id: str,
    region: str,
    zone: str | None,
    policy: OutboundPolicy | None,
) -> Lead:
    def cell(key: str) -> str:
        return (row.get(key) or "").strip()

    phone = to_e164(cell("phone"), region)
    if policy is not None:
        policy.judge(phone)  # the first reason to give: this number is never to be dialled
    own_zone, country = zone_of_number(phone)
    chosen = cell("timezone") or own_zone or zone
    if chosen is None:
        raise ValidationError(
            f"number {phone} spans several time zones: give a timezone column or default"
        )
    priority_text = cell("priority") or "0"
    try:
        priority = int(priority_text)
    except ValueError:
        raise ValidationError(f"priority must be a whole number, got {priority_text!r}") from None
    consent_text = cell("consent").lower()
    if consent_text and consent_text not in _TRUE | _FALSE:
        raise ValidationError(f"consent must be yes, no or empty, got {consent_text!r}")
    return Lead(
        lead_id=cell("lead_id") or f"{list_id}-{line}",
        phone=phone,
        campaign=campaign,
        list_id=list_id,
        timezone=chosen,
        country=(cell("country") or country).upper(),
        priority=priority,
        consent=None if not consent_text else consent_text in _TRUE,
        customer=cell("customer") or None,
        data={k: v.strip() for k, v in row.items() if k and k not in _KNOWN and v},
    )


def import_do_not_call(
    source: Path | str | Iterable[str],
    do_not_call: DoNotCallList,
    *,
    campaign: str | None = None,
    region: str = "FR",
) -> tuple[int, tuple[tuple[int, str], ...]]:
    """Add the numbers of a CSV file (``phone`` column) to a do-not-call list.

    Returns how many numbers were added and the ``(line, reason)`` of rows
    skipped because their number is impossible.

    Raises:
        ConfigError: The header has no ``phone`` column.
    """
    reader = _reader(source)
    added = 0
    rejected: list[tuple[int, str]] = []
    for row in reader:
        try:
            phone = to_e164((row.get("phone") or "").strip(), region)
        except ValidationError as exc:
            rejected.append((reader.line_num, str(exc)))
            continue
        do_not_call.add(phone, campaign=campaign)
        added += 1
    return added, tuple(rejected)
