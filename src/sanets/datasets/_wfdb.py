"""Reading WFDB records (a ``.hea`` header plus its signal files) with ``wfdb``.

One reader for the PhysioNet protocol and for :func:`~sanets.datasets.load_signal`:
the header is parsed first, every signal file it names is checked (present,
long enough), and only then are the samples read; every error names the file.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sanets._extras import require
from sanets.datasets._types import Signal
from sanets.errors import DataError, DataNotFoundError

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
"""Bytes per sample of the uncompressed WFDB signal formats."""


def _wfdb() -> Any:
    return require("wfdb", "reading WFDB records")


def header_path(record: Path) -> Path:
    """Return the ``.hea`` file of ``record`` (a path without suffix)."""
    return record.with_name(record.name + ".hea")


def read_header(record: Path) -> Any:
    """Parse the header of ``record`` (path without suffix) with ``wfdb.rdheader``.

    Raises
    ------
    DataError
        The header cannot be parsed.
    """
    wfdb = _wfdb()
    try:
        return wfdb.rdheader(str(record))
    except Exception as error:  # wfdb raises many types for bad headers
        raise DataError(f"{header_path(record)}: unreadable WFDB header: {type(error).__name__}: {error}") from error


def record_files(record: Path) -> list[Path]:
    """The header of ``record`` (path without suffix) and every signal file it names: what a WFDB record is made of.

    A header that cannot be parsed names no signal file (reading it will say why)."""
    files = [header_path(record)]
    try:
        header = read_header(record)
    except DataError:
        return files
    if not isinstance(header, _wfdb().MultiRecord):
        files += [record.parent / name for name in dict.fromkeys(header.file_name or ())]
    return files


def check_signal_files(record: Path, header: Any) -> None:
    """Check that every signal file ``header`` names exists and is long enough.

    Raises
    ------
    DataError
        A signal file is missing, or shorter than the header implies.
    """
    wfdb = _wfdb()
    header_file = header_path(record)
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


def read_record(
    record: str | os.PathLike[str],
    sampto: int | None = None,
    channels: Sequence[int] | None = None,
) -> Signal:
    """Read a WFDB record in physical units, after checking its files.

    Parameters
    ----------
    record : path-like
        Record path without suffix (``.../mitdb/100``) or its ``.hea`` file.
    sampto : int, optional
        Read samples ``0 .. sampto - 1`` only; the record must have that many.
    channels : sequence of int, optional
        Channel indices to read (default: all).

    Returns
    -------
    Signal
        ``data`` float64 ``(channels, samples)`` in physical units (invalid
        samples are NaN), ``sampling_rate`` in Hz, channel names and units
        from the header, ``source`` the ``.hea`` file.

    Raises
    ------
    DataNotFoundError
        The header file does not exist.
    DataError
        Unreadable header, missing or truncated signal file, a channel the
        record lacks, fewer samples than ``sampto`` (says found vs needed),
        or no samples at all.
    MissingExtraError
        ``wfdb`` is not installed.
    """
    wfdb = _wfdb()
    record = Path(record)
    if record.suffix == ".hea":
        record = record.with_suffix("")
    header_file = header_path(record)
    if not header_file.is_file():
        raise DataNotFoundError(f"{header_file}: WFDB header not found")
    header = read_header(record)
    n_sig = header.n_sig or 0
    for channel in channels or ():
        if not 0 <= channel < n_sig:
            raise DataError(f"{header_file}: record has {n_sig} signal(s); channel {channel} requested")
    if sampto is not None and header.sig_len and header.sig_len < sampto:
        raise DataError(
            f"{header_file}: record has {header.sig_len} samples per signal; "
            f"{sampto} are needed (found {header.sig_len}, needed {sampto})"
        )
    check_signal_files(record, header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = wfdb.rdrecord(
                str(record), sampto=sampto, channels=None if channels is None else list(channels), physical=True
            )
    except Exception as error:  # numpy broadcast errors, OSError... from deep inside wfdb
        raise DataError(f"{header_file}: cannot read WFDB record: {type(error).__name__}: {error}") from error
    array = np.asarray(data.p_signal, dtype=np.float64).T
    if array.ndim != 2 or 0 in array.shape:
        raise DataError(f"{header_file}: no samples (array shape {array.shape})")
    if sampto is not None and array.shape[1] < sampto:
        raise DataError(f"{header_file}: found {array.shape[1]} samples, needed {sampto}")
    count = array.shape[0]
    names = tuple(data.sig_name or (f"ch{i}" for i in range(count)))
    units = tuple(data.units or ("",) * count)
    bits = [_FORMAT_BITS.get(str(fmt)) for fmt in (data.fmt or ())]
    resolution = max(bits) if bits and None not in bits else None
    return Signal(array, float(data.fs), names, units, header_file, resolution)


_FORMAT_BITS = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16, "212": 12, "310": 10, "311": 10,
                "508": 8, "516": 16, "524": 24}
"""Bits per sample of each WFDB storage format (the FLAC formats 5xx at their nominal width)."""
