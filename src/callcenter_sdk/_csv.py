"""The one CSV reader behind every CSV the library and the CLI read.

Spreadsheets export CSV in many dialects; this reader accepts the common ones
and refuses the rest with a message that names the file and the line:

* UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"); any other
  byte is refused with its line and column, and the likely cause (an Excel
  export in Windows-1252) is named rather than guessed at;
* ``,`` or ``;`` between fields (a French or German Excel writes ``;``),
  chosen from the header line;
* a header row, checked for the required columns before any row is read;
* fields up to :data:`FIELD_LIMIT` characters.

The file is read line by line, so a large file streams through in constant
memory and rows can be handled as they come.

.. versionadded:: 0.2
"""

from __future__ import annotations

import csv
import os
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from ._errors import ConfigError

__all__ = ["FIELD_LIMIT", "CsvError", "CsvFile"]

FIELD_LIMIT = csv.field_size_limit()
"""The longest field, in characters, accepted in a cell (Python's limit, 128 KiB)."""


class CsvError(ConfigError):
    """A CSV file is wrong at a line (and, when known, a column).

    The message reads ``file:line: column: expected ..., got ...`` like a
    compiler's, so editors can jump to it.

    Attributes:
        line: The line of the file, counted from 1 as editors count.
        column: The column's name, or ``None`` for the whole line.
    """

    def __init__(
        self,
        file: str,
        line: int,
        column: str | None,
        expected: str,
        got: object = None,
        *,
        detail: str = "",
    ) -> None:
        self.line = line
        self.column = column
        path: tuple[str | int, ...] = (line,) if column is None else (line, column)
        super().__init__(file, path, expected, got, detail=detail)

    def _message(self) -> str:
        where = f"{self.file}:{self.line}:"
        if self.column is not None:
            where += f" column {self.column!r}:"
        msg = f"{where} expected {self.expected}"
        if self.got is not None:
            msg += f", got {self.got!r}"
        if self.detail:
            msg += f" ({self.detail})"
        return msg


class CsvFile:
    """A CSV file with a header row, read one row at a time.

    Use it as a context manager; iterate to get ``(line, row)`` pairs where
    ``row`` maps each lower-cased, stripped column name to its cell (``""``
    for a missing cell)::

        with CsvFile("leads.csv", required=("phone",)) as rows:
            for line, row in rows:
                ...

    Args:
        source: A file path, or lines of CSV text (then named ``<csv>``).
        required: Columns the header must have.
        name: The name errors give for the source (default: the path).

    Raises:
        ConfigError: The file cannot be opened (on entering).
        CsvError: The header lacks a required column or is missing, a byte is
            not UTF-8, a field is too long or a quote is unbalanced; raised on
            entering for the header, while iterating for the rows.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Iterable[str],
        *,
        required: Collection[str] = (),
        name: str | None = None,
    ) -> None:
        self._source = source
        self._required = tuple(required)
        self._handle: IO[bytes] | None = None
        if isinstance(source, str | os.PathLike):
            self.name = name or os.fspath(source)
        else:
            self.name = name or "<csv>"
        self.header: tuple[str, ...] = ()
        self._lines: Iterator[str] = iter(())
        self._line = 0
        self._reader: Iterator[list[str]] = iter(())

    def __enter__(self) -> CsvFile:
        if isinstance(self._source, str | os.PathLike):
            try:
                self._handle = Path(self._source).open("rb")
            except OSError as exc:
                raise ConfigError(
                    self.name, (), "a readable CSV file", detail=exc.strerror or str(exc)
                ) from exc
            self._lines = self._decoded(self._handle)
        else:
            self._lines = self._text(self._source)
        try:
            self._read_header()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _decoded(self, handle: IO[bytes]) -> Iterator[str]:
        for read in handle:
            self._line += 1
            raw = read[3:] if self._line == 1 and read.startswith(b"\xef\xbb\xbf") else read
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start]
                raise CsvError(
                    self.name,
                    self._line,
                    None,
                    "UTF-8 text",
                    detail=(
                        f"byte 0x{byte:02x} at column {exc.start + 1} is not UTF-8;"
                        " an Excel export is likely Windows-1252 (cp1252): save it as"
                        ' "CSV UTF-8", or convert it with iconv -f cp1252 -t utf-8'
                    ),
                ) from None

    def _text(self, source: Iterable[str]) -> Iterator[str]:
        for given in source:
            self._line += 1
            text = given.removeprefix("\ufeff") if self._line == 1 else given
            yield text if text.endswith("\n") else text + "\n"

    def _read_header(self) -> None:
        first = next(self._lines, None)
        while first is not None and not first.strip():
            first = next(self._lines, None)
        if first is None:
            raise CsvError(self.name, max(self._line, 1), None, "a header row", "an empty file")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        header_line = self._line
        self.header = tuple(
            h.strip().lower() for h in next(csv.reader([first], delimiter=delimiter), [])
        )
        missing = [c for c in self._required if c not in self.header]
        if missing:
            raise CsvError(
                self.name,
                header_line,
                None,
                f"a header with the {missing[0]} column"
                if len(missing) == 1
                else f"a header with the columns {', '.join(missing[:-1])} and {missing[-1]}",
                ",".join(self.header),
            )
        seen: dict[str, int] = {}
        for position, column in enumerate(self.header, start=1):
            if column and column in seen:
                raise CsvError(
                    self.name,
                    header_line,
                    column,
                    f"each column once (also column {seen[column]})",
                )
            seen[column] = position
        self._reader = csv.reader(self._lines, delimiter=delimiter)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        width = len(self.header)
        while True:
            start = self._line + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise CsvError(
                        self.name,
                        start,
                        None,
                        f"fields of at most {FIELD_LIMIT // 1024} KiB",
                        detail="a longer field, or a quote left open above",
                    ) from None
                raise CsvError(self.name, start, None, "well-formed CSV", detail=str(exc)) from None
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                raise CsvError(
                    self.name,
                    start,
                    None,
                    f"at most {width} fields, as in the header",
                    f"{len(cells)} fields",
                )
            row = dict(zip(self.header, cells, strict=False))
            for column in self.header[len(cells) :]:
                row[column] = ""
            yield start, row
