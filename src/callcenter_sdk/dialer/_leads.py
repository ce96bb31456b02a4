"""Lead lists from CSV: numbers in E.164, a time zone per lead, priorities, consent.

Numbers go through :func:`callcenter_sdk.cti.to_e164` (the same
normalisation the CTI directory uses). A lead's time zone decides its calling
window, so every lead gets one: the ``timezone`` column when given, else the
number's own zone when the numbering plan has only one (all of France, the
UK, a US area code), else the import's default. A lead whose zone cannot be
known is rejected rather than risked; a zone that contradicts the number (a
French number said to be in Los Angeles) stops the import, naming the line,
because a list whose zone column is wrong is wrong for more than one row and
its calling hours would be computed in the wrong place. Given the campaign's
outbound policy, the import also rejects the numbers it would refuse to dial (a premium or
satellite range, a country the campaign does not call), so a bad list is
reported when it is loaded rather than one refusal at a time while dialling.

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import available_timezones

import attrs
import phonenumbers
from phonenumbers import timezone as phone_zones

from .._csv import CsvError, CsvFile
from .._errors import ValidationError
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
    zones, country = _zones_of(e164)
    return (zones[0] if len(zones) == 1 else None), country


def _zones_of(e164: str) -> tuple[tuple[str, ...], str]:
    """Every zone the numbering plan gives the number (none when unknown), and its country."""
    number = phonenumbers.parse(e164, None)
    zones = tuple(z for z in phone_zones.time_zones_for_number(number) if z != _UNKNOWN_ZONE)
    return zones, phonenumbers.region_code_for_number(number) or ""


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
    policy refuses is skipped and reported with its line. A time zone that is
    not an IANA zone, or not one of the number's (its country's zones when the
    numbering plan does not narrow them), stops the import with its line.

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

    .. versionchanged:: 0.2
       The time zone must be one of the number's; a lead id used twice is an
       error naming both lines; ``;`` separators and a BOM are read.

    .. versionchanged:: 0.2
       A zone that is not the number's stops the import (it was a skipped row).

    Raises:
        ConfigError: The header has no ``phone`` column, a lead id is used
            twice, a time zone is not the number's, or the file is not UTF-8
            CSV; the error names the line.
    """
    leads: list[Lead] = []
    rejected: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    ids: dict[str, int] = {}
    with CsvFile(source, required=("phone",)) as rows:
        for line, row in rows:
            try:
                lead = _lead(
                    row,
                    line,
                    name=rows.name,
                    campaign=campaign,
                    list_id=list_id,
                    region=region,
                    zone=timezone,
                    policy=policy,
                )
                if lead.phone in seen:
                    raise ValidationError(
                        f"number {lead.phone} is already on line {seen[lead.phone]}"
                    )
            except (ValidationError, OutboundDenied) as exc:
                rejected.append((line, str(exc)))
                continue
            if lead.lead_id in ids:
                raise CsvError(
                    rows.name,
                    line,
                    "lead_id",
                    f"a lead id not used before (line {ids[lead.lead_id]} has it too)",
                    lead.lead_id,
                )
            ids[lead.lead_id] = line
            seen[lead.phone] = line
            leads.append(lead)
    return LeadImport(tuple(leads), tuple(rejected))


def _lead(
    row: dict[str, str],
    line: int,
    *,
    name: str,
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
    zones, country = _zones_of(phone)
    given = cell("timezone")
    chosen = given or (zones[0] if len(zones) == 1 else zone)
    if chosen is None:
        raise ValidationError(
            f"number {phone} spans several time zones: give a timezone column or default"
        )
    column = "timezone" if given else None
    _check_zone(name, line, column, phone=phone, zone=chosen, zones=zones, country=country)
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


def _check_zone(
    name: str,
    line: int,
    column: str | None,
    *,
    phone: str,
    zone: str,
    zones: tuple[str, ...],
    country: str,
) -> None:
    """Refuse a zone that is not an IANA zone, or not one where the number can ring.

    A French number given ``America/Los_Angeles`` would be called at night:
    the zone must be one of those the numbering plan gives the number (all of
    its country's zones when the plan does not narrow them down). ``column``
    is ``None`` when the zone is the import's default rather than the row's.
    """
    detail = "" if column else "the import's default time zone"
    if zone not in _iana_zones():
        raise CsvError(name, line, column, "an IANA time zone", zone, detail=detail)
    if zones and zone not in zones:
        raise CsvError(
            name,
            line,
            column,
            f"a time zone of number {phone} ({country or 'its country'}: {', '.join(zones)})",
            zone,
            detail=detail,
        )


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


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
    added = 0
    rejected: list[tuple[int, str]] = []
    with CsvFile(source, required=("phone",)) as rows:
        for line, row in rows:
            try:
                phone = to_e164(row["phone"].strip(), region)
            except ValidationError as exc:
                rejected.append((line, str(exc)))
                continue
            do_not_call.add(phone, campaign=campaign)
            added += 1
    return added, tuple(rejected)
