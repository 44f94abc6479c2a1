"""The user's own recordings: WFDB, EDF, CSV and NPY files.

All readers return a :class:`~sanets.datasets.Signal` holding a float64
array ``(channels, samples)`` and, where the format carries one, the
sampling rate. Files are only read, never modified.

Conventions
-----------
- WFDB (``.hea``, or a record path without suffix): physical units, all
  channels, via ``wfdb.rdrecord``.
- EDF/EDF+ (``.edf``): physical units via ``pyedflib``; every channel must
  have the same sampling rate.
- CSV (``.csv``, ``.txt``): one column per channel, one row per sample; an
  optional header row of channel names (detected when its cells are not all
  numbers); no sampling rate.
- NPY (``.npy``): a 1-D array is one channel; a 2-D array is taken as
  ``(channels, samples)`` as stored; no sampling rate.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from sanets.datasets import _csv
from sanets.datasets._types import Signal
from sanets.errors import DataError, DataNotFoundError

SUPPORTED_SUFFIXES = (".hea", ".edf", ".csv", ".txt", ".npy")


def _default_names(count: int) -> tuple[str, ...]:
    return tuple(f"ch{i}" for i in range(count))


def _check_finite_shape(path: Path, data: np.ndarray) -> None:
    if data.ndim != 2 or data.shape[0] == 0 or data.shape[1] == 0:
        raise DataError(f"{path}: no samples (array shape {data.shape})")


def _read_wfdb(path: Path) -> Signal:
    import wfdb

    from sanets.datasets.physionet import _check_signal_files, _read_header

    record = path.with_suffix("") if path.suffix == ".hea" else path
    header = _read_header(record)
    _check_signal_files(record, header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = wfdb.rdrecord(str(record), physical=True)
    except Exception as error:  # wfdb surfaces numpy/OS errors from deep inside
        raise DataError(f"{record}.hea: cannot read WFDB record: {type(error).__name__}: {error}") from error
    array = np.asarray(data.p_signal, dtype=np.float64).T
    _check_finite_shape(path, array)
    names = tuple(data.sig_name or _default_names(array.shape[0]))
    units = tuple(data.units or [""] * array.shape[0])
    return Signal(array, float(data.fs), names, units, record.with_name(record.name + ".hea"))


def _read_edf(path: Path) -> Signal:
    import pyedflib

    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as error:
        raise DataError(f"{path}: not a readable EDF/EDF+ file: {error}") from error
    try:
        count = reader.signals_in_file
        if count == 0:
            raise DataError(f"{path}: EDF file has no signals")
        rates = [float(reader.getSampleFrequency(i)) for i in range(count)]
        if len(set(rates)) != 1:
            raise DataError(
                f"{path}: channels have different sampling rates {sorted(set(rates))}; "
                "load_signal needs one rate for all channels"
            )
        lengths = [int(n) for n in reader.getNSamples()]
        n = min(lengths)
        array = np.vstack([reader.readSignal(i, 0, n, digital=False) for i in range(count)]).astype(np.float64)
        names = tuple(reader.getLabel(i).strip() or f"ch{i}" for i in range(count))
        units = tuple(reader.getPhysicalDimension(i).strip() for i in range(count))
    finally:
        reader.close()
    _check_finite_shape(path, array)
    return Signal(array, rates[0], names, units, path)


def _read_csv(path: Path) -> Signal:
    rows = _csv.read_rows(path)
    if not rows:
        raise DataError(f"{path}: empty CSV file")
    first_line, first = rows[0]
    header: tuple[str, ...] | None = None
    if not all(_csv.is_number(cell) for cell in first):
        header = tuple(cell.strip() for cell in first)
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: header row (line {first_line}) but no samples")
    width = len(header) if header is not None else len(rows[0][1])
    _csv.check_widths(path, rows, width)
    values = _csv.numeric_block(path, rows, 0, width, header)
    array = np.ascontiguousarray(values.T)
    names = header if header is not None else _default_names(width)
    return Signal(array, None, names, ("",) * width, path)


def _read_npy(path: Path) -> Signal:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"{path}: not a readable .npy array: {error}") from error
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise DataError(f"{path}: expected a numeric array, found dtype {getattr(array, 'dtype', type(array))}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise DataError(f"{path}: expected a 1-D or 2-D (channels, samples) array, found shape {array.shape}")
    array = array.astype(np.float64)
    _check_finite_shape(path, array)
    if not np.isfinite(array).all():
        channel, sample = (int(v) for v in np.argwhere(~np.isfinite(array))[0])
        raise DataError(f"{path}: channel {channel}, sample {sample}: not a finite number")
    return Signal(array, None, _default_names(array.shape[0]), ("",) * array.shape[0], path)


def load_signal(path: str | os.PathLike[str]) -> Signal:
    """Read the user's own recording.

    Parameters
    ----------
    path : path-like
        A WFDB header (``.hea``) or record path without suffix, an EDF/EDF+
        file (``.edf``), a CSV file (``.csv``/``.txt``, one column per
        channel) or a NumPy file (``.npy``, ``(channels, samples)`` or 1-D).

    Returns
    -------
    Signal
        ``data`` float64 ``(channels, samples)``; ``sampling_rate`` in Hz for
        WFDB and EDF, ``None`` for CSV and NPY.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataError
        Unsupported suffix, or a corrupt/inconsistent file (the message names
        the file and the problem).
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES and path.with_name(path.name + ".hea").is_file():
        return _read_wfdb(path)  # WFDB record given without suffix
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    if suffix == ".hea":
        return _read_wfdb(path)
    if suffix == ".edf":
        return _read_edf(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    if suffix == ".npy":
        return _read_npy(path)
    raise DataError(f"{path}: unsupported file type {suffix or '(no suffix)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
