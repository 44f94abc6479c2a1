"""UCI Epileptic Seizure Recognition (dataset 388), with the paper's protocol.

The CSV has a header row and 11500 rows of ``ID, X1..X178, y``, where ``y``
is 1 (seizure activity), 2 (EEG from the tumour area), 3 (healthy area of a
tumour patient), 4 (eyes closed) or 5 (eyes open). Both header variants in
circulation are accepted: UCI's original (first header cell empty) and the
Kaggle re-upload (first cell ``Unnamed``), with CRLF or LF line endings.

Protocol: classes merged to three, labels ``0`` = seizure (``y = 1``),
``1`` = tumour (``y = 2, 3``), ``2`` = eyes (``y = 4, 5``) (the label values
the authors' code produces); split in file order 76% / 12% / 12%
(8740 / 1380 / 1380); min-max scaled to [0, 1] with the minimum and maximum
of the *training* split only (the authors scaled to [-1, 1] with statistics
of all splits, which leaks the test set).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sanets._extras import require
from sanets.datasets import _csv, _download, _locate
from sanets.datasets._types import DataDir, DatasetSpec, Splits
from sanets.errors import DataError

__all__ = ["CLASS_NAMES", "load_uci_epilepsy", "parse_csv"]

NAME = "uci-epilepsy"
TITLE = "UCI Epileptic Seizure Recognition"
FILE_NAME = "data.csv"

N_ROWS = 11500
N_SAMPLES = 178
N_TRAIN = 8740  # int(0.76 * 11500)
N_VALIDATION = 1380  # int(0.88 * 11500) - 8740
N_TEST = N_ROWS - N_TRAIN - N_VALIDATION

CLASS_NAMES = ("seizure", "tumour", "eyes")
"""Merged class of each label: 0 = seizure (y=1), 1 = tumour (y=2, 3), 2 = eyes (y=4, 5)."""

LABEL_MERGE = {1: 0, 2: 1, 3: 1, 4: 2, 5: 2}
"""Original ``y`` -> merged label."""

COLUMN_NAMES = ("ID", *(f"X{i}" for i in range(1, N_SAMPLES + 1)), "y")
"""Expected header names (the first is not checked by name, see FIRST_HEADER_CELLS)."""
FIRST_HEADER_CELLS = ("", "Unnamed", "Unnamed: 0")

CONTENT_SHA256 = "2791b6455bcddd2b3e7428ff330ca2ec7ba7426544da7956e4cd80488c0256b4"
"""SHA-256 of the parsed numbers, not of the file's bytes.

Digest of the float64 little-endian array ``(11500, 179)`` holding
``X1..X178, y`` in file order. UCI's ``data.csv`` and the Kaggle re-upload
differ in bytes (header cell, line endings) but not in these numbers, and
no SHA-256 of UCI's original file could be verified offline, so downloads
are checked by content. Computed from the copy described in the project's
``shared/data/PROVENANCE.md`` (300 rows cross-checked against the raw Bonn
EEG files).
"""

MIRRORS = (
    # UCI's original file, as the authors downloaded it (byte-exact archive copy).
    "https://web.archive.org/web/20200318000445id_/http://archive.ics.uci.edu/ml/machine-learning-databases/00388/data.csv",
    # UCI's current site serves the dataset as a zip archive holding the CSV.
    "https://archive.ics.uci.edu/static/public/388/epileptic+seizure+recognition.zip",
)


def parse_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse the UCI epilepsy CSV strictly.

    Parameters
    ----------
    path : path-like
        The CSV file.

    Returns
    -------
    x : numpy.ndarray
        float64 ``(11500, 178)`` EEG samples in file order.
    y : numpy.ndarray
        int64 ``(11500,)`` original classes 1..5.

    Raises
    ------
    DataError
        Wrong header, wrong number of columns or rows, a non-numeric cell
        (message names file, line and column), or a class outside 1..5.
    """
    path = Path(path)
    rows = _csv.read_rows(path)
    if not rows:
        raise DataError(f"{path}: empty file; expected a header and {N_ROWS} rows")
    width = len(COLUMN_NAMES)
    header_line, header = rows[0]
    if len(header) != width:
        raise DataError(f"{path}: line {header_line} (header): {len(header)} columns; expected {width}")
    if header[0].strip() not in FIRST_HEADER_CELLS:
        raise DataError(
            f"{path}: line {header_line}, column 1: header {header[0]!r}; expected empty or 'Unnamed'"
        )
    for column, (cell, name) in enumerate(zip(header[1:], COLUMN_NAMES[1:]), start=2):
        if cell.strip() != name:
            raise DataError(f"{path}: line {header_line}, column {column}: header {cell!r}; expected {name!r}")
    data = rows[1:]
    _csv.check_widths(path, data, width)
    values = _csv.numeric_block(path, data, 1, width, COLUMN_NAMES)
    labels = values[:, -1]
    bad = np.flatnonzero(~np.isin(labels, list(LABEL_MERGE)))
    if bad.size:
        number, cells = data[int(bad[0])]
        raise DataError(f"{path}: line {number}, column {width} (y): class {cells[-1]!r}; expected 1..5")
    if len(data) != N_ROWS:
        raise DataError(f"{path}: {len(data)} data rows; expected {N_ROWS}")
    return values[:, :-1], labels.astype(np.int64)


def content_sha256(x: np.ndarray, y: np.ndarray) -> str:
    """Return the content digest documented in :data:`CONTENT_SHA256`."""
    table = np.column_stack([x.astype("<f8"), y.astype("<f8")])
    return hashlib.sha256(np.ascontiguousarray(table).tobytes()).hexdigest()


def _verify(path: Path, label: str) -> None:
    x, y = parse_csv(path)
    digest = content_sha256(x, y)
    if digest != CONTENT_SHA256:
        raise DataError(f"{label}: content checksum mismatch: sha256 {digest}, expected {CONTENT_SHA256}")


def locate(data_dir: DataDir = None) -> tuple[Path | None, list[_locate.SearchedDir]]:
    """Return (path of ``data.csv`` or None, directories searched)."""
    searched = _locate.candidate_dirs(NAME, data_dir)
    for entry in searched:
        candidate = entry.path / FILE_NAME
        if candidate.is_file():
            return candidate, searched
    return None, searched


def _csv_of_download(fname: str, action: str, pooch: Any) -> str:
    """pooch processor: the CSV a mirror served, the file itself or the one CSV in a zip archive."""
    if not fname.endswith(".zip"):
        return fname
    members = require("pooch", "downloading datasets").Unzip()(fname, action, pooch)
    tables = [member for member in members if member.lower().endswith(".csv")]
    if len(tables) != 1:
        raise DataError(f"{fname}: expected one CSV in the archive, found {[Path(m).name for m in members]}")
    return tables[0]


def fetch() -> Path:
    """Download ``data.csv`` into ``<cache>/uci-epilepsy/`` and return its path.

    No SHA-256 of UCI's file could be verified offline, so the file (or the
    CSV in UCI's zip archive) is parsed and its content digest checked (see
    :data:`CONTENT_SHA256`) before it is moved into place; nothing is left
    behind on failure.

    Returns
    -------
    Path
        ``<cache>/uci-epilepsy/data.csv``.
    """
    dest = _locate.cache_dir() / NAME / FILE_NAME
    if dest.is_file():
        return dest
    return _download.download_verified(
        MIRRORS, dest, verify=lambda path: _verify(path, path.name), processor=_csv_of_download
    )


def load_uci_epilepsy(
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> Splits:
    """Load the UCI epilepsy EEG segments with the paper's protocol.

    Parameters
    ----------
    data_dir : path-like, optional
        Data root searched first; holds ``uci-epilepsy/data.csv``.
    download : bool
        Download into the user cache (content-verified) when found nowhere.
    value_range : (float, float)
        Where the training split's min and max are mapped: (0, 1) as the
        paper's text says, or (-1, 1) as the authors' code did (which produced
        Table II).

    Returns
    -------
    Splits
        ``train`` ``(8740, 1, 178)``, ``validation`` ``(1380, 1, 178)``,
        ``test`` ``(1380, 1, 178)`` float32, in file order, scaled linearly
        with the training split's min and max onto ``value_range`` (train lies
        exactly in it; validation and test may stray slightly outside). Labels
        int64 in {0, 1, 2}, see :data:`CLASS_NAMES`.
    """
    low, high = value_range
    if not low < high:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    path = _locate.resolve(_SPEC, data_dir, download)
    x, y = parse_csv(path)
    merged = np.vectorize(LABEL_MERGE.__getitem__, otypes=[np.int64])(y)
    lo = float(x[:N_TRAIN].min())
    hi = float(x[:N_TRAIN].max())
    if hi <= lo:
        raise DataError(f"{path}: the training split is constant ({lo}); cannot min-max scale")
    scaled = (low + (high - low) * (x - lo) / (hi - lo)).astype(np.float32)
    bounds = (0, N_TRAIN, N_TRAIN + N_VALIDATION, N_ROWS)

    def part(i: int) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = bounds[i], bounds[i + 1]
        return torch.from_numpy(scaled[a:b].copy()).unsqueeze(1), torch.from_numpy(merged[a:b].copy())

    (train, train_y), (validation, validation_y), (test, test_y) = part(0), part(1), part(2)
    return Splits(
        train=train,
        validation=validation,
        test=test,
        train_labels=train_y,
        validation_labels=validation_y,
        test_labels=test_y,
        name=NAME,
        source=path,
        class_names=CLASS_NAMES,
    )


_SPEC = DatasetSpec(
    name=NAME, title=TITLE, locate=locate, fetch=fetch, load=load_uci_epilepsy, wanted=FILE_NAME, label=TITLE
)
"""Registry entry, collected by :mod:`sanets.datasets._registry`."""
