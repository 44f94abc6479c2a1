"""The paper's 15 PhysioNet databases: catalogue, download and protocol.

Protocol (paper, Sec. IV-A): the first record of the database (first line
of its ``RECORDS`` file), channel 0, the first 12000 samples in physical
units, split 6000 / 2000 / 4000 into 1000-sample windows, each window
standardised to mean 0 and standard deviation 1 (sample standard deviation,
``ddof=1``, as ``torch.std`` in the authors' code) -> train ``(6, 1, 1000)``,
validation ``(2, 1, 1000)``, test ``(4, 1, 1000)``.

Local layout: ``<root>/physionet/<database>/<record>.hea`` plus the signal
files its header names (usually ``<record>.dat``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch

from sanets.datasets import _locate, _physionet_fetch, _wfdb
from sanets.datasets._physionet_catalogue import (
    PHYSIONET_DATABASES,
    PHYSIONET_FILES_URL,
    PINNED_SHA256,
    PhysioNetDatabase,
)
from sanets.datasets._types import DataDir, DatasetSpec, Splits
from sanets.datasets._windows import _frames, standardize_windows
from sanets.errors import DataError

__all__ = ["PHYSIONET_DATABASES", "PINNED_SHA256", "PhysioNetDatabase", "load_physionet", "local_records", "locate_record",
           "read_channel"]

N_SAMPLES = 12000
"""Samples of channel 0 the protocol uses."""
WINDOW = 1000
"""Samples per window."""
SPLIT_SAMPLES = (6000, 2000, 4000)
"""Samples of the train, validation and test splits (6, 2 and 4 windows)."""

def _info(database: str) -> PhysioNetDatabase:
    try:
        return PHYSIONET_DATABASES[database]
    except KeyError:
        known = ", ".join(PHYSIONET_DATABASES)
        raise DataError(f"unknown PhysioNet database {database!r}; the paper's databases are: {known}") from None


def _record_in(directory: Path, info: PhysioNetDatabase) -> Path | None:
    """Return the first record (path without suffix) in ``directory``, or None."""
    name = info.first_record
    if name is None and (directory / "RECORDS").is_file():
        name = _physionet_fetch.first_line(directory / "RECORDS")
    if name is not None:
        record = directory / name
        return record if _wfdb.header_path(record).is_file() else None
    headers = sorted(directory.glob("*.hea")) if directory.is_dir() else []
    return headers[0].with_suffix("") if len(headers) == 1 else None


def locate(database: str, data_dir: DataDir = None) -> tuple[Path | None, list[_locate.SearchedDir]]:
    """Return (first record's header path or None, directories searched)."""
    info = _info(database)
    searched = _locate.candidate_dirs(f"physionet/{info.name}", data_dir)
    for entry in searched:
        record = _record_in(entry.path, info)
        if record is not None:
            return _wfdb.header_path(record), searched
    return None, searched


def locate_record(database: str, record: str, data_dir: DataDir = None) -> tuple[Path | None, list[_locate.SearchedDir]]:
    """The header of ``record`` of ``database`` in the first directory that holds it, or None; and those searched."""
    info = _info(database)
    if not record or "/" in record or record.startswith("."):
        raise DataError(f"{record!r} is not a record name of {database} (e.g. 101 for mitdb/101)")
    searched = _locate.candidate_dirs(f"physionet/{info.name}", data_dir)
    for entry in searched:
        header = _wfdb.header_path(entry.path / record)
        if header.is_file():
            return header, searched
    return None, searched


def local_records(database: str, data_dir: DataDir = None) -> list[str]:
    """The records of ``database`` in the directory where its first record is found: the first, then the others
    in name order (every ``.hea`` beside it); none where the database is not found."""
    header, _ = locate(database, data_dir)
    if header is None:
        return []
    first = header.with_suffix("").name
    return [first, *sorted(path.with_suffix("").name for path in header.parent.glob("*.hea") if path != header)]


def read_channel(record: str | os.PathLike[str], n_samples: int = N_SAMPLES, channel: int = 0) -> tuple[np.ndarray, float]:
    """Read the first ``n_samples`` physical samples of one channel of a WFDB record.

    Parameters
    ----------
    record : path-like
        Record path without suffix (``.../mitdb/100``) or its ``.hea`` file.
    n_samples : int
        Samples needed.
    channel : int
        Channel index.

    Returns
    -------
    samples : numpy.ndarray
        float64 ``(n_samples,)`` in physical units.
    fs : float
        Sampling frequency in Hz.

    Raises
    ------
    DataError
        Unreadable header, missing or truncated signal file, record shorter
        than ``n_samples`` (message says found vs needed), or invalid samples.
    """
    signal = _wfdb.read_record(record, sampto=n_samples, channels=[channel])
    samples = signal.data[0]
    invalid = np.flatnonzero(~np.isfinite(samples))
    if invalid.size:
        raise DataError(
            f"{signal.source}: channel {channel} has {invalid.size} invalid (NaN) samples in the first "
            f"{n_samples}, first at sample {int(invalid[0])}"
        )
    return samples, float(signal.sampling_rate)


def standardise_windows(samples: np.ndarray, *, label: str = "signal", offset: int = 0, split: str = "") -> np.ndarray:
    """Cut ``samples`` into 1000-sample windows, each standardised to mean 0, std 1.

    Parameters
    ----------
    samples : numpy.ndarray
        ``(k * 1000,)`` samples.
    label, offset, split : str, int, str
        Used in error messages only.

    Returns
    -------
    numpy.ndarray
        float32 ``(k, 1, 1000)``.

    Raises
    ------
    DataError
        A window is constant (its standard deviation is zero).
    """
    standardized, mean, _, constant = standardize_windows(_frames(samples[None, :], WINDOW, WINDOW))
    for k in np.flatnonzero(constant[:, 0]):
        start = offset + k * WINDOW
        raise DataError(
            f"{label}: {split} window {k} (samples {start}..{start + WINDOW - 1}) is constant "
            f"({float(mean[k, 0])!r}); it cannot be standardised to std 1"
        )
    return standardized.astype(np.float32)


def fetch(database: str) -> Path:
    """Download the first record of ``database`` into ``<cache>/physionet/<database>/``.

    Files come from ``https://physionet.org/files/<database>/<version>/`` at
    the pinned :attr:`PhysioNetDatabase.version`, each checked against
    :data:`PINNED_SHA256` or else PhysioNet's ``SHA256SUMS.txt`` for that
    version (fetched only then), and the signal files against the sizes the
    header implies, in a staging directory; only then are they moved into
    place (signal files first, the header last). A record already in the
    cache is not downloaded again.

    Returns
    -------
    Path
        The header (``.hea``) of the first record.

    Raises
    ------
    DataError
        A file no SHA-256 covers (not pinned, and ``SHA256SUMS.txt``
        unreachable or silent about it), a checksum mismatch, or a bad
        record; nothing is saved.
    DataNotFoundError
        A file could not be downloaded (the message names the URL).

    Notes
    -----
    ``wfdb.dl_database`` / ``wfdb.dl_files`` are not used for the transfer:
    they always resolve the *latest* version from the project page (so a
    pinned version cannot be honoured) and write straight into the target
    directory (no checksums, no atomic landing). ``wfdb`` parses the header.
    """
    info = _info(database)
    target = _locate.cache_dir() / "physionet" / info.name
    existing = _record_in(target, info)
    if existing is not None:
        return _wfdb.header_path(existing)
    base = f"{PHYSIONET_FILES_URL}{info.name}/{info.version}/"
    return _physionet_fetch.fetch_record(info.name, info.version, info.first_record, base, target, PINNED_SHA256)


def load_physionet(
    database: str, data_dir: str | os.PathLike[str] | None = None, download: bool = True, record: str | None = None
) -> Splits:
    """Load one of the paper's PhysioNet databases with the paper's protocol.

    Parameters
    ----------
    database : str
        PhysioNet slug, one of :data:`PHYSIONET_DATABASES` (e.g. ``"mitdb"``).
    data_dir : path-like, optional
        Data root searched first; holds ``physionet/<database>/<record>.hea``
        and its signal files.
    download : bool
        Download the first record into the user cache when found nowhere.
    record : str, optional
        Another record of the database than its first (``"101"``), under the
        same protocol; found locally only (see :func:`local_records`).

    Returns
    -------
    Splits
        ``train`` ``(6, 1, 1000)``, ``validation`` ``(2, 1, 1000)``, ``test``
        ``(4, 1, 1000)`` float32, each window standardised (mean 0, sample
        std 1); no labels; ``sampling_rate`` of the record.

    Raises
    ------
    DataNotFoundError
        Not found and not downloadable (message lists every directory searched
        and the fetch command).
    DataError
        Corrupt record, fewer than 12000 samples, invalid samples or a
        constant window.
    """
    info = _info(database)
    if record is None:
        header_file = _locate.resolve(_SPECS[info.name], data_dir, download)
    else:
        found, searched = locate_record(database, record, data_dir)
        if found is None:
            raise DataError(f"record {record!r} of {database} not found (searched: "
                            f"{'; '.join(str(entry.path) for entry in searched)})")
        header_file = found
    record = header_file.with_suffix("")
    samples, fs = read_channel(record, N_SAMPLES, 0)
    bounds = np.cumsum((0, *SPLIT_SAMPLES))
    parts = [
        torch.from_numpy(
            standardise_windows(samples[a:b], label=str(header_file), offset=int(a), split=split)
        )
        for a, b, split in zip(bounds[:-1], bounds[1:], ("train", "validation", "test"))
    ]
    return Splits(
        train=parts[0],
        validation=parts[1],
        test=parts[2],
        name=info.name,
        source=record,
        sampling_rate=fs,
    )


_SPECS = MappingProxyType(
    {
        info.name: DatasetSpec(
            name=info.name,
            title=info.title,
            locate=functools.partial(locate, info.name),
            fetch=functools.partial(fetch, info.name),
            load=functools.partial(load_physionet, info.name),
            wanted=f"WFDB record {info.first_record or '(first in RECORDS)'} (.hea and signal files)",
            label=f"PhysioNet database {info.name}",
        )
        for info in PHYSIONET_DATABASES.values()
    }
)
"""Registry entries of the 15 databases, collected by :mod:`sanets.datasets._registry`."""
