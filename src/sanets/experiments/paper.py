"""The paper's published Tables I-III, shipped as reference data (``paper-tables.csv``).

One row per (table, dataset, activation, kernel size): CR^-1, L~, phi and, for
Tables II and III, the classifier's accuracy change A% (percentage points
versus the same classifier on the original data). Table I rows hold the m the
paper selected; Tables II and III hold every m of their sweeps.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

__all__ = ["PaperRow", "paper_rows", "paper_row"]


@dataclass(frozen=True)
class PaperRow:
    """One published result."""

    table: str
    dataset: str
    activation: str
    kernel_size: int
    inverse_compression_ratio: float
    reconstruction_loss: float
    flithos: float
    accuracy_change: float | None


@functools.cache
def paper_rows() -> tuple[PaperRow, ...]:
    """Every row of the paper's three tables, in the paper's order."""
    text = resources.files("sanets.experiments").joinpath("paper-tables.csv").read_text()
    return tuple(
        PaperRow(
            row["table"],
            row["dataset"],
            row["activation"],
            int(row["kernel_size"]),
            float(row["inverse_compression_ratio"]),
            float(row["reconstruction_loss"]),
            float(row["flithos"]),
            float(row["accuracy_change_percent"]) if row["accuracy_change_percent"] else None,
        )
        for row in csv.DictReader(text.splitlines())
    )


def paper_row(table: str, dataset: str, activation: str, kernel_size: int | None = None) -> PaperRow | None:
    """The published row, or None; Table I rows are found without ``kernel_size``."""
    for row in paper_rows():
        if (row.table, row.dataset, row.activation) == (table, dataset, activation) and kernel_size in (None, row.kernel_size):
            return row
    return None
