"""The user's own recordings: reading WFDB, EDF, CSV and NPY files, and writing NPY and CSV that read back.

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
  numbers, or all quoted above a row that is not); an empty or ``nan`` cell is a
  missing sample (NaN); no sampling rate.
- NPY (``.npy``): a 1-D array is one channel; a 2-D array is taken as
  ``(channels, samples)`` as stored; no sampling rate.

Missing samples load as NaN and are refused (or filled) by :func:`finite_samples`.
A recording of more channels than samples is refused: it was almost surely
stored the other way round.

:mod:`sanets.datasets._windows` makes a recording's samples ready for a SAN (``select_channels``,
``finite_samples``, ``windows``, ``standardize_windows``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sanets._extras import require
from sanets._files import write_atomically
from sanets.datasets import _csv, _wfdb
from sanets.datasets._types import Signal
from sanets.errors import DataError, DataNotFoundError

__all__ = ["load_signal", "recording_files", "save_signal"]

SUPPORTED_SUFFIXES = (".hea", ".edf", ".csv", ".txt", ".npy")


def _default_names(count: int) -> tuple[str, ...]:
    return tuple(f"ch{i}" for i in range(count))


def _check_finite_shape(path: Path, data: np.ndarray) -> None:
    if data.ndim != 2 or data.shape[0] == 0 or data.shape[1] == 0:
        raise DataError(f"{path}: no samples (array shape {data.shape})")


def _read_edf(path: Path) -> Signal:
    pyedflib = require("pyedflib", "reading EDF files")

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
    return Signal(array, rates[0], names, units, path, 16)


def _read_csv(path: Path) -> Signal:
    quoted: list[list[bool]] = []
    rows = _csv.read_rows(path, quoted)
    if not rows:
        raise DataError(f"{path}: empty CSV file")
    first_line, first = rows[0]
    header: tuple[str, ...] | None = None
    # Names that read as numbers ("1", "nan") are a header when quoted above a row of unquoted samples.
    names_quoted = all(quoted[0]) and not (len(quoted) > 1 and all(quoted[1]))
    if names_quoted or not all(_csv.is_number(cell) for cell in first):
        header = tuple(cell if flag else cell.strip() for cell, flag in zip(first, quoted[0]))
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: header row (line {first_line}) but no samples")
    width = len(header) if header is not None else len(rows[0][1])
    _csv.check_widths(path, rows, width)
    values = _csv.numeric_block(path, rows, 0, width, header, missing=True)
    return _checked(path, Signal(np.ascontiguousarray(values.T), None, header or _default_names(width), ("",) * width, path),
                    "a row per sample and a column per channel")


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
    bits = array.dtype.itemsize * 8
    array = array.astype(np.float64)
    _check_finite_shape(path, array)
    return _checked(path, Signal(array, None, _default_names(array.shape[0]), ("",) * array.shape[0], path, bits),
                    "shape (channels, samples); save the transpose (array.T) if it is (samples, channels)")


def _checked(path: Path, signal: Signal, layout: str) -> Signal:
    """Refuse a recording of more channels than samples: it was almost surely stored the other way round."""
    channels, samples = signal.data.shape
    if channels > samples:
        raise DataError(f"{path}: read as {channels} channels of {samples} sample(s) each; more channels than samples "
                        f"means the file is probably transposed: sanets reads {layout}")
    return signal


def save_signal(path: str | os.PathLike[str], data: np.ndarray, channel_names: Sequence[str]) -> Path:
    """Write a recording ``(channels, samples)`` as ``.npy`` or ``.csv`` (a quoted header of ``channel_names``, a
    row per sample), atomically, then read it back with :func:`load_signal`: what is written is what loads.

    Raises
    ------
    DataError
        Another suffix, names that do not match the channels, or a file that does not read back the same.
    """
    path = Path(path)
    data = np.asarray(data, dtype=np.float64)
    names = tuple(channel_names)
    if path.suffix.lower() not in (".npy", ".csv"):
        raise DataError(f"{path}: a recording is written as .npy or .csv, not {path.suffix or '(no suffix)'}")
    if data.ndim != 2 or len(names) != len(data):
        raise DataError(f"{path}: {len(names)} channel name(s) for data of shape {data.shape}")
    if path.suffix.lower() == ".npy":
        write_atomically(path, lambda file: np.save(file, data, allow_pickle=False))
    else:
        write_atomically(path, lambda file: _csv.write_table(file, data.T, names))
    restored = load_signal(path)
    if restored.data.shape != data.shape or not np.array_equal(restored.data, data) or (
            path.suffix.lower() == ".csv" and restored.channel_names != names):
        raise DataError(f"{path}: written, but it does not read back as written")
    return path


def recording_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files a recording is read from: the file itself, or a WFDB header and every signal file it names.

    What the output guard (:func:`sanets._files.check_outputs`) protects. A WFDB header that cannot be parsed
    (or no ``wfdb``) gives the header alone; reading the record says what is wrong.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    record = path.with_suffix("") if suffix == ".hea" else path
    if suffix == ".hea" or (suffix not in SUPPORTED_SUFFIXES and _wfdb.header_path(path).is_file()):
        try:
            return _wfdb.record_files(record)
        except ImportError:
            return [_wfdb.header_path(record)]
    return [path]


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
    MissingExtraError
        A WFDB or EDF file without ``wfdb``/``pyedflib`` installed (the
        ``[data]`` extra).
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES and path.with_name(path.name + ".hea").is_file():
        return _wfdb.read_record(path)  # WFDB record given without suffix
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    if suffix == ".hea":
        return _wfdb.read_record(path)
    if suffix == ".edf":
        return _read_edf(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    if suffix == ".npy":
        return _read_npy(path)
    supported = ", ".join(SUPPORTED_SUFFIXES)
    raise DataError(f"{path}: unsupported file type {suffix or '(no suffix)'}; supported: {supported}")
