"""Importing customers from a CSV export of a CRM."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs

from .._csv import CsvFile
from .._errors import ValidationError
from ._directory import CustomerDirectory
from ._model import Customer

__all__ = ["ImportReport", "import_customers_csv"]

_KNOWN = frozenset({"number", "name", "email", "phone", "phones"})


@attrs.frozen
class ImportReport:
    """What a CSV import did.

    Attributes:
        saved: Customers inserted or updated.
        rejected: ``(line, reason)`` for each row that was skipped.
    """

    saved: int
    rejected: tuple[tuple[int, str], ...]


def import_customers_csv(
    directory: CustomerDirectory, source: Path | str | Iterable[str]
) -> ImportReport:
    """Insert or update customers from a CSV file with a header row.

    Columns: ``number`` and ``name`` (required), ``email``, ``phone`` or
    ``phones`` (several numbers separated by ``;``, ``,`` or ``|``); any
    other column becomes a customer attribute. A row with an impossible
    phone number or no customer number is skipped and reported with its line
    number; the others are imported.

    Args:
        directory: Where to save the customers.
        source: A file path, or lines of CSV text.

    Raises:
        ConfigError: The header lacks ``number`` or ``name``, or the file is not
            UTF-8 CSV; the error names the file and the line.
    """
    saved = 0
    rejected: list[tuple[int, str]] = []
    with CsvFile(source, required=("number", "name")) as rows:
        for line, row in rows:
            try:
                directory.save(_customer(row))
            except ValidationError as exc:
                rejected.append((line, str(exc)))
            else:
                saved += 1
    return ImportReport(saved, tuple(rejected))


def _customer(row: dict[str, str]) -> Customer:
    phones: list[str] = []
    for column in ("phone", "phones"):
        text = row.get(column) or ""
        for separator in ";,|":
            text = text.replace(separator, "\n")
        phones.extend(p.strip() for p in text.splitlines() if p.strip())
    return Customer(
        number=(row.get("number") or "").strip(),
        name=(row.get("name") or "").strip(),
        email=(row.get("email") or "").strip() or None,
        phones=phones,
        attributes={k: v for k, v in row.items() if k not in _KNOWN and k and v},
    )
