"""The paper's 15 PhysioNet databases, read with ``wfdb``.

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

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch

from sanets.datasets import _download, _locate
from sanets.datasets._types import Splits
from sanets.errors import DataError, DataNotFoundError

N_SAMPLES = 12000
"""Samples of channel 0 the protocol uses."""
WINDOW = 1000
"""Samples per window."""
SPLIT_SAMPLES = (6000, 2000, 4000)
"""Samples of the train, validation and test splits (6, 2 and 4 windows)."""

PHYSIONET_FILES_URL = "https://physionet.org/files/"


@dataclass(frozen=True)
class PhysioNetDatabase:
    """One PhysioNet database of the paper.

    Attributes
    ----------
    name : str
        PhysioNet slug (``"mitdb"``), also the dataset name for ``sanets data``.
    title : str
        Full title on PhysioNet.
    version : str
        Version downloaded (``https://physionet.org/files/<name>/<version>/``).
    first_record : str or None
        First line of the database's ``RECORDS`` file, where confirmed;
        ``None`` where it could not be confirmed offline: the download then
        reads ``RECORDS`` and stores it beside the record.
    note : str
        Caveats (e.g. the record we expect where unconfirmed).
    """

    name: str
    title: str
    version: str
    first_record: str | None
    note: str = ""


def _db(name: str, title: str, version: str, first_record: str | None, note: str = "") -> PhysioNetDatabase:
    return PhysioNetDatabase(name, title, version, first_record, note)


# Versions: the authors' code let wfdb pick a version; their README assumed
# 1.0.0 everywhere, but sufhsdb is at 1.0.1. The others are 1.0.0 as far as
# could be checked offline (not verifiable here; a wrong pin fails loudly
# with the URL it tried).
PHYSIONET_DATABASES: MappingProxyType[str, PhysioNetDatabase] = MappingProxyType(
    {
        db.name: db
        for db in (
            _db("apnea-ecg", "Apnea-ECG Database", "1.0.0", "a01"),
            _db("bidmc", "BIDMC PPG and Respiration Dataset", "1.0.0", "bidmc01"),
            _db(
                "bpssrat",
                "Blood Pressure in Salt-Sensitive Dahl Rats",
                "1.0.0",
                None,
                "first record not confirmed offline; resolved from RECORDS at download",
            ),
            _db("cebsdb", "Combined measurement of ECG, Breathing and Seismocardiograms", "1.0.0", "b001"),
            _db("ctu-uhb-ctgdb", "CTU-CHB Intrapartum Cardiotocography Database", "1.0.0", "1001"),
            _db("drivedb", "Stress Recognition in Automobile Drivers", "1.0.0", "drive01"),
            _db("emgdb", "Examples of Electromyograms", "1.0.0", "emg_healthy"),
            _db("mitdb", "MIT-BIH Arrhythmia Database", "1.0.0", "100"),
            _db(
                "noneeg",
                "Non-EEG Dataset for Assessment of Neurological Status",
                "1.0.0",
                None,
                "first record not confirmed offline (probably Subject10_AccTempEDA); resolved from RECORDS at download",
            ),
            _db(
                "prcp",
                "Physiologic Response to Changes in Posture",
                "1.0.0",
                None,
                "first record not confirmed offline (probably 12726); resolved from RECORDS at download",
            ),
            _db("shhpsgdb", "Sleep Heart Health Study PSG Database", "1.0.0", "0000"),
            _db("slpdb", "MIT-BIH Polysomnographic Database", "1.0.0", "slp01a"),
            _db("sufhsdb", "Shiraz University Fetal Heart Sounds Database", "1.0.1", "f100"),
            _db("voiced", "VOICED Database", "1.0.0", "voice001"),
            _db(
                "wrist",
                "Wrist PPG During Exercise",
                "1.0.0",
                None,
                "first record not confirmed offline (probably s1_high_resistance_bike); resolved from RECORDS at download",
            ),
        )
    }
)
"""The paper's 15 PhysioNet databases, keyed by slug, in the paper's order."""

PINNED_SHA256 = MappingProxyType(
    {
        # The original format-212 file (1,950,000 bytes), as in shared/data/PROVENANCE.md.
        ("mitdb", "100.dat"): "b2ea3c250e56e48f4b7b90697832b8ecd1afa1e0bb31f2dcfea4ed6e1075a639",
    }
)
"""SHA-256 of files known here; all others are checked against PhysioNet's
``SHA256SUMS.txt`` of the same database version."""

_BYTES_PER_SAMPLE = {
    "8": 1.0,
    "16": 2.0,
    "24": 3.0,
    "32": 4.0,
    "61": 2.0,
    "80": 1.0,
    "160": 2.0,
    "212": 1.5,
    "310": 4 / 3,
    "311": 4 / 3,
}


def _info(database: str) -> PhysioNetDatabase:
    try:
        return PHYSIONET_DATABASES[database]
    except KeyError:
        known = ", ".join(PHYSIONET_DATABASES)
        raise DataError(f"unknown PhysioNet database {database!r}; the paper's databases are: {known}") from None


def _header_path(record: Path) -> Path:
    return record.with_name(record.name + ".hea")


def _record_in(directory: Path, info: PhysioNetDatabase) -> Path | None:
    """Return the first record (path without suffix) in ``directory``, or None."""
    if info.first_record is not None:
        record = directory / info.first_record
        return record if _header_path(record).is_file() else None
    records_file = directory / "RECORDS"
    if records_file.is_file():
        lines = [line.strip() for line in records_file.read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            record = directory / lines[0]
            return record if _header_path(record).is_file() else None
    headers = sorted(directory.glob("*.hea")) if directory.is_dir() else []
    if len(headers) == 1:
        return headers[0].with_suffix("")
    return None


def locate(database: str, data_dir=None) -> tuple[Path | None, list[_locate.SearchedDir]]:
    """Return (first record's header path or None, directories searched)."""
    info = _info(database)
    searched = _locate.candidate_dirs(f"physionet/{info.name}", data_dir)
    for entry in searched:
        record = _record_in(entry.path, info)
        if record is not None:
            return _header_path(record), searched
    return None, searched


def _read_header(record: Path):
    import wfdb

    header_file = _header_path(record)
    try:
        return wfdb.rdheader(str(record))
    except Exception as error:  # wfdb raises many types for bad headers
        raise DataError(f"{header_file}: unreadable WFDB header: {type(error).__name__}: {error}") from error


def _check_signal_files(record: Path, header) -> None:
    """Check that every signal file the header names exists and is long enough."""
    import wfdb

    header_file = _header_path(record)
    if isinstance(header, wfdb.MultiRecord) or not header.file_name:
        return
    sig_len = header.sig_len or 0
    for file_name in dict.fromkeys(header.file_name):
        path = record.parent / file_name
        if not path.is_file():
            raise DataError(f"{path}: signal file named in {header_file} is missing")
        indices = [i for i, name in enumerate(header.file_name) if name == file_name]
        fmt = str(header.fmt[indices[0]])
        if fmt not in _BYTES_PER_SAMPLE or not sig_len:
            continue  # compressed formats (508...) or unknown length: wfdb checks on read
        spf = header.samps_per_frame or [1] * header.n_sig
        offset = (header.byte_offset[indices[0]] if header.byte_offset else None) or 0
        samples = sig_len * sum(int(spf[i] or 1) for i in indices)
        needed = offset + math.floor(samples * _BYTES_PER_SAMPLE[fmt])
        actual = path.stat().st_size
        if actual < needed:
            raise DataError(
                f"{path}: truncated: {header_file} describes {sig_len} samples x {len(indices)} "
                f"signal(s) in format {fmt} ({needed} bytes), but the file has {actual} bytes"
            )


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
    import wfdb

    record = Path(record)
    if record.suffix == ".hea":
        record = record.with_suffix("")
    header_file = _header_path(record)
    if not header_file.is_file():
        raise DataNotFoundError(f"{header_file}: WFDB header not found")
    header = _read_header(record)
    if channel >= (header.n_sig or 0):
        raise DataError(f"{header_file}: record has {header.n_sig} signal(s); channel {channel} requested")
    if header.sig_len and header.sig_len < n_samples:
        raise DataError(
            f"{header_file}: record has {header.sig_len} samples per signal; "
            f"the protocol needs {n_samples} (found {header.sig_len}, needed {n_samples})"
        )
    _check_signal_files(record, header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = wfdb.rdrecord(str(record), sampto=n_samples, channels=[channel], physical=True)
    except Exception as error:  # numpy broadcast errors, OSError... from deep inside wfdb
        raise DataError(f"{header_file}: cannot read WFDB record: {type(error).__name__}: {error}") from error
    samples = np.asarray(data.p_signal, dtype=np.float64)[:, 0]
    if samples.shape[0] < n_samples:
        raise DataError(f"{header_file}: found {samples.shape[0]} samples, needed {n_samples}")
    invalid = np.flatnonzero(~np.isfinite(samples))
    if invalid.size:
        raise DataError(
            f"{header_file}: channel {channel} has {invalid.size} invalid (NaN) samples in the first "
            f"{n_samples}, first at sample {int(invalid[0])}"
        )
    return samples, float(data.fs)


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
    windows = samples.reshape(-1, WINDOW)
    mean = windows.mean(axis=1, keepdims=True)
    std = windows.std(axis=1, ddof=1, keepdims=True)
    for k in range(windows.shape[0]):
        if not std[k, 0] > 1e-12 * max(1.0, abs(float(mean[k, 0]))):
            start = offset + k * WINDOW
            raise DataError(
                f"{label}: {split} window {k} (samples {start}..{start + WINDOW - 1}) is constant "
                f"({float(mean[k, 0])!r}); it cannot be standardised to std 1"
            )
    return ((windows - mean) / std).astype(np.float32)[:, None, :]


def _parse_sha256sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def fetch(database: str) -> Path:
    """Download the first record of ``database`` into ``<cache>/physionet/<database>/``.

    Files come from ``https://physionet.org/files/<database>/<version>/`` at
    the pinned :attr:`PhysioNetDatabase.version`. Each file is checked against
    :data:`PINNED_SHA256` or PhysioNet's ``SHA256SUMS.txt`` for that version,
    and the signal files against the sizes the header implies, in a staging
    directory; only then are they moved into place (signal files first, the
    header last). Returns the header path.

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
        return _header_path(existing)
    base = f"{PHYSIONET_FILES_URL}{info.name}/{info.version}/"
    with _download.staging_dir(target.parent) as tmp:
        stage = tmp / info.name
        record_name = info.first_record
        if record_name is None:
            records = _download.transfer(base + "RECORDS", tmp / "meta", "RECORDS")
            lines = [line.strip() for line in records.read_text(errors="replace").splitlines() if line.strip()]
            if not lines:
                raise DataError(f"{base}RECORDS: empty; cannot tell the first record")
            record_name = lines[0]
        try:
            sums = _parse_sha256sums(_download.transfer(base + "SHA256SUMS.txt", tmp / "meta", "SHA256SUMS.txt"))
        except DataNotFoundError as error:
            warnings.warn(f"no SHA256SUMS.txt for {info.name} {info.version} ({error}); checking structure only")
            sums = {}

        def get(relative: str) -> Path:
            url = base + relative
            parent = (stage / relative).parent
            path = _download.transfer(url, parent, Path(relative).name)
            expected = PINNED_SHA256.get((info.name, relative)) or sums.get(relative)
            if expected is not None:
                _download.check_sha256(path, expected, label=url)
            return path

        header_path = get(record_name + ".hea")
        record = header_path.with_suffix("")
        header = _read_header(record)
        if not hasattr(header, "file_name"):
            raise DataError(f"{base}{record_name}.hea: multi-segment records are not supported")
        folder = str(Path(record_name).parent)
        signal_files = [
            name if folder in ("", ".") else f"{folder}/{name}" for name in dict.fromkeys(header.file_name or [])
        ]
        for relative in signal_files:
            get(relative)
        _check_signal_files(record, header)
        for relative in [*signal_files, record_name + ".hea"]:
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / relative, dest)
        if info.first_record is None:
            (target / "RECORDS").write_text(record_name + "\n")
    return target / (record_name + ".hea")


def load_physionet(database: str, data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Splits:
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
    header_file, searched = locate(database, data_dir)
    if header_file is None:
        wanted = f"WFDB record {info.first_record or '(first in RECORDS)'} (.hea and signal files)"
        if not download:
            raise _locate.not_found_error(f"PhysioNet database {info.name}", info.name, wanted, searched)
        try:
            header_file = fetch(info.name)
        except DataNotFoundError as error:
            raise _locate.not_found_error(
                f"PhysioNet database {info.name}", info.name, wanted, searched, str(error)
            ) from error
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
