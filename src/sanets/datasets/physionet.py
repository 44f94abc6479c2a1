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
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch

from sanets.datasets import _locate, _physionet_fetch, _wfdb
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
            # First line of RECORDS as listed in a public copy of the database (its SHA-256 list checks out).
            _db("bpssrat", "Blood Pressure in Salt-Sensitive Dahl Rats", "1.0.0", "ssbn13hs01"),
            _db("cebsdb", "Combined measurement of ECG, Breathing and Seismocardiograms", "1.0.0", "b001"),
            _db("ctu-uhb-ctgdb", "CTU-CHB Intrapartum Cardiotocography Database", "1.0.0", "1001"),
            _db("drivedb", "Stress Recognition in Automobile Drivers", "1.0.0", "drive01"),
            _db("emgdb", "Examples of Electromyograms", "1.0.0", "emg_healthy"),
            _db("mitdb", "MIT-BIH Arrhythmia Database", "1.0.0", "100"),
            # RECORDS sorts byte-wise: Subject10_... comes before Subject1_...
            _db("noneeg", "Non-EEG Dataset for Assessment of Neurological Status", "1.0.0", "Subject10_AccTempEDA"),
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

# Every downloaded file is checked against a SHA-256 that ships with sanets
# (here) or, for files not here, against PhysioNet's SHA256SUMS.txt of the
# pinned version; a file neither covers is not downloaded. Keys are
# (database, file name relative to https://physionet.org/files/<db>/<version>/).
# Sources: shared/data/PROVENANCE.md of the sanets project, plus the notes.
PINNED_SHA256 = {
    # mitdb 1.0.0 record 100: the original format-212 file (1,950,000 bytes).
    ("mitdb", "100.dat"): "b2ea3c250e56e48f4b7b90697832b8ecd1afa1e0bb31f2dcfea4ed6e1075a639",
    # PhysioNet's 143-byte header (CRLF). The copy in shared/data is wfdb-python's
    # test fixture (a comment line and a blank line added); with those two lines
    # removed its bytes hash to this value, which is also the one the public
    # repository briday1/sigvue-examples (tests/test_ecg_download.py) records for
    # https://physionet.org/files/mitdb/1.0.0/100.hea.
    ("mitdb", "100.hea"): "60ebc904c7bf3e04d142638d3fd5c903e8dc9f10f1ea3264e07926aa089ee75e",
    # emgdb 1.0.0 record emg_healthy: the shared .dat as is; for the header, the
    # shared copy (stored by its source repository with LF line endings and no final
    # line break) with PhysioNet's CRLF line endings restored. Both values equal the
    # ones a public copy of emgdb 1.0.0's SHA256SUMS.txt lists.
    ("emgdb", "emg_healthy.dat"): "4990f34f0ffb314f6ce70c1d2089b7ce41fa96d19fcd9fb334815ca5033966fd",
    ("emgdb", "emg_healthy.hea"): "61221ce33e167d246ec2ea8984ce2f25882b32b4d90bd7ef785c7b56ef95bac5",
    # ctu-uhb-ctgdb 1.0.0 record 1001 (76,800 bytes; samples cross-checked against an
    # independent text dump).
    ("ctu-uhb-ctgdb", "1001.dat"): "4fd2604993def78137d02b4f338aa225f7df9bcf21960aa0994745377b03d409",
    # The rest come from copies of PhysioNet's own SHA256SUMS.txt of each pinned version that
    # users committed to public repositories beside the downloaded database; each copy's line
    # for RECORDS matches the RECORDS text rebuilt here, and where a header's text was found
    # (bidmc, bpssrat, drivedb, noneeg, slpdb, voiced) its hash matches the line too.
    ("ctu-uhb-ctgdb", "1001.hea"): "93cb95d6f47f9f334ba4997c41cb5eba6c2e343322eb98653d88fecab4377ced",
    ("bidmc", "bidmc01.hea"): "f43b0b139ad8f4d45097403b7179e1e6f8bda17dfd06dba504faf39a115aa27f",
    ("bidmc", "bidmc01.dat"): "b1666c7f2f117be6dc04cae2e7016b3315775edb9ad7c7ee53fa9c110937560b",
    ("bpssrat", "ssbn13hs01.hea"): "b46b502e16f4027b9b75d29bb50f2fad39ca1dc4f307b228e8309258516837cb",
    ("bpssrat", "ssbn13hs01.dat"): "607885b2d928cb8a4509cdbc98d40b0d092113c00968bd1f15da0dcb13c2910e",
    ("drivedb", "drive01.hea"): "45d856c792e679df21c4d57ac1df7c2f23d287e2636fd8d2b63acdddd6d5a1fd",
    ("drivedb", "drive01.dat"): "b7038d606bcbbd3388f4eb5337d8797717d4166b42d27c86403e782462be38e6",
    ("noneeg", "Subject10_AccTempEDA.hea"): "5e7dac5c13b59efa5de8b986de6a1f380cc249d60e4587a3be0bcc6a100162f0",
    ("noneeg", "Subject10_AccTempEDA.dat"): "4ffb176d15b966f23fc19283220aff327d043ec3b1f1aa39853f62d04a713fbd",
    ("slpdb", "slp01a.hea"): "05bfae85818ffd2fd9586daad74c17ec47cc94d47794c11fb9d3e451a9d7c0da",
    ("slpdb", "slp01a.dat"): "80f04f98de84c6e342ffda59b597c70d956501f1a827cf2fea04d112c8cd7257",
    ("sufhsdb", "f100.hea"): "7ecff07570dfe368bcd882cd8beb5e426ff1ce0480580d19304a0f5d9e7ea2c5",
    ("sufhsdb", "f100.wav"): "7a494cf0a9d1ab79528069257d407d03b955d1ff926a135c0e55c429e1a0af1a",
    ("voiced", "voice001.hea"): "55af2001152e0cdd32799f8ec49fcb0699a7a5a33f23e5fa2cd25f08d6b92ca6",
    ("voiced", "voice001.dat"): "8f3894c17d2a673f5570781eb2c77baaa976a3cd618f2911b27fd257e5452af7",
    # Not pinned (no published hash found offline): apnea-ecg a01, cebsdb b001, shhpsgdb 0000,
    # and the unconfirmed first records of prcp and wrist; those files are checked against
    # SHA256SUMS.txt, and a download that cannot fetch it fails.
}
"""SHA-256 of PhysioNet files known to sanets, keyed ``(database, relative file name)``."""


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
