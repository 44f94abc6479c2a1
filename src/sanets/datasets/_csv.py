"""Strict reading of numeric CSV tables, with errors naming file, line and column."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sanets.errors import DataError

Row = tuple[int, list[str]]
"""A CSV row: (1-based line number in the file, cells)."""


def read_rows(path: Path) -> list[Row]:
    """Return the non-blank rows of a CSV file (CRLF, LF or CR line endings).

    Raises
    ------
    DataError
        The file cannot be read or is not UTF-8 text.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason})") from error
    lines = text.splitlines()
    rows: list[Row] = []
    for number, cells in enumerate(csv.reader(lines), start=1):
        if cells and any(cell.strip() for cell in cells):
            rows.append((number, cells))
    return rows


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
) -> np.ndarray:
    """Return columns ``start:stop`` of ``rows`` as a float64 array ``(rows, stop - start)``.

    Raises
    ------
    DataError
        A cell is not a finite number; the message names line, column
        (1-based) and, where given, the column's header name.
    """

    def where(number: int, column: int) -> str:
        label = f" ({names[column]})" if names is not None and column < len(names) else ""
        return f"{path}: line {number}, column {column + 1}{label}"

    try:
        values = np.array([cells[start:stop] for _, cells in rows], dtype=np.float64)
    except ValueError:
        for number, cells in rows:
            for column in range(start, stop):
                if not is_number(cells[column]):
                    raise DataError(f"{where(number, column)}: non-numeric value {cells[column]!r}") from None
        raise  # pragma: no cover - np.array failed for another reason
    values = values.reshape(len(rows), stop - start)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        row, column = (int(v) for v in bad[0])
        raise DataError(f"{where(rows[row][0], start + column)}: not a finite number ({rows[row][1][start + column]!r})")
    return values
