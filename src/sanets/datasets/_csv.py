"""Strict reading of numeric CSV tables, with errors naming file, line and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sanets.errors import DataError

Row = tuple[int, list[str]]
"""A CSV row: (1-based line number in the file, cells)."""


def read_rows(path: Path, quoted: list[list[bool]] | None = None) -> list[Row]:
    """Return the non-blank rows of a CSV file (CRLF, LF or CR line endings; quoted cells may hold any character,
    line breaks included).

    Parameters
    ----------
    quoted : list, optional
        Receives, for the first two rows, whether each of their cells was quoted: what tells a header of names
        that read as numbers (``"1","2"``) from a row of samples.

    Raises
    ------
    DataError
        The file cannot be read, is not UTF-8 text, or is not valid CSV.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason})") from error
    lines = _RecordedLines(text)
    reader = csv.reader(lines, strict=True)
    rows: list[Row] = []
    try:
        for cells in reader:
            if "".join(lines.record).strip(" \t\r\n,"):  # not a blank row (a quoted empty name is not blank)
                rows.append((reader.line_num, cells))
                if quoted is not None and len(quoted) < 2:
                    quoted.append(_quoted_cells("".join(lines.record)))
            lines.record.clear()
    except csv.Error as error:
        raise DataError(f"{path}: line {reader.line_num}: not valid CSV: {error}") from None
    return rows


class _RecordedLines:
    """The lines of a text, each kept in ``record`` as the CSV reader takes it, so a record's raw text is known."""

    def __init__(self, text: str) -> None:
        self.lines = io.StringIO(text, newline="")
        self.record: list[str] = []

    def __iter__(self) -> _RecordedLines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.record.append(line)
        return line


def _quoted_cells(record: str) -> list[bool]:
    """Whether each cell of one CSV record's raw text opens with a quote (as Python's csv dialect reads it)."""
    flags, cell_starts, inside = [], True, False
    for char in record.rstrip("\r\n"):
        if cell_starts:
            flags.append(char == '"')
            cell_starts = False
            if char == '"':
                inside = True
                continue
        if char == '"':
            inside = not inside  # an escaped "" turns it off and on again
        elif char == "," and not inside:
            cell_starts = True
    if cell_starts:
        flags.append(False)
    return flags


def write_table(file: BinaryIO, values: np.ndarray, names: Sequence[str]) -> None:
    """Write ``values`` (rows, columns) under a header of ``names``, every name quoted so that any name (commas,
    quotes, line breaks, names that read as numbers) reads back as written; samples as ``%.17g`` (exact)."""
    text = io.StringIO(newline="")
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(names)
    np.savetxt(text, values, delimiter=",", fmt="%.17g")
    file.write(text.getvalue().encode())


def check_widths(path: Path, rows: Sequence[Row], width: int) -> None:
    """Raise :class:`DataError` naming the first row that has not ``width`` cells."""
    for number, cells in rows:
        if len(cells) != width:
            raise DataError(f"{path}: line {number}: {len(cells)} columns; expected {width}")


def is_number(cell: str) -> bool:
    """Whether ``cell`` parses as a float."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def numeric_block(
    path: Path,
    rows: Sequence[Row],
    start: int,
    stop: int,
    names: Sequence[str] | None = None,
    missing: bool = False,
) -> np.ndarray:
    """Return columns ``start:stop`` of ``rows`` as a float64 array ``(rows, stop - start)``.

    Parameters
    ----------
    missing : bool
        Keep missing samples as NaN (an empty cell, ``nan``, ``inf``) for the caller to refuse or fill,
        instead of refusing them here.

    Raises
    ------
    DataError
        A cell is not a number (or, unless ``missing``, not a finite one); the message names line, column
        (1-based) and, where given, the column's header name.
    """

    def where(number: int, column: int) -> str:
        label = f" ({names[column]!r})" if names is not None and column < len(names) else ""
        return f"{path}: line {number}, column {column + 1}{label}"

    table = [cells[start:stop] for _, cells in rows]
    if missing:
        table = [[cell if cell.strip() else "nan" for cell in cells] for cells in table]
    try:
        values = np.array(table, dtype=np.float64)
    except ValueError:
        for (number, _), cells in zip(rows, table):
            for column in range(start, stop):
                if not is_number(cells[column - start]):
                    raise DataError(f"{where(number, column)}: non-numeric value {cells[column - start]!r}") from None
        raise  # pragma: no cover - np.array failed for another reason
    values = values.reshape(len(rows), stop - start)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size and not missing:
        row, column = (int(v) for v in bad[0])
        raise DataError(f"{where(rows[row][0], start + column)}: not a finite number ({rows[row][1][start + column]!r})")
    return values
