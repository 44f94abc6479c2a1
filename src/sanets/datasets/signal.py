"""The user's own recordings (WFDB, EDF, CSV, NPY files), and cutting them into windows.

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

:func:`windows` turns a recording into the ``(N, C, L)`` batches SANs take.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from sanets._extras import require
from sanets._files import write_atomically
from sanets._validation import check_int
from sanets.datasets import _csv, _wfdb
from sanets.datasets._types import Signal
from sanets.errors import DataError, DataNotFoundError

__all__ = ["load_signal", "save_signal", "recording_files", "select_channels", "windows", "finite_samples"]

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


def _frames(data: np.ndarray, length: int, step: int) -> np.ndarray:
    """View ``data`` ``(C, S)`` as windows ``(N, C, length)`` starting every ``step`` samples.

    ``N = (S - length) // step + 1`` (``S >= length``); a trailing partial
    window is dropped. No copy is made.
    """
    count = (data.shape[1] - length) // step + 1
    view = np.lib.stride_tricks.sliding_window_view(data, length, axis=1)  # (C, S - length + 1, length)
    return view[:, : (count - 1) * step + 1 : step].transpose(1, 0, 2)


def _as_channels(signal: Signal | np.ndarray | torch.Tensor) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Return ``signal`` as float64 ``(C, S)`` and its channel names (``None`` for arrays)."""
    if isinstance(signal, Signal):
        data, names = np.asarray(signal.data), signal.channel_names
    elif isinstance(signal, torch.Tensor):
        if signal.is_complex():
            raise ValueError(f"expected a real signal, got a {signal.dtype} tensor")
        data, names = signal.detach().cpu().to(torch.float64).numpy(), None
    else:
        data, names = np.asarray(signal), None
    if data.dtype.kind not in "biuf":
        raise ValueError(f"expected a numeric signal, got dtype {data.dtype}")
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError(f"expected a signal (channels, samples) or (samples,), got shape {data.shape}")
    return data.astype(np.float64, copy=False), names


def _channel_rows(
    channel: int | str | Sequence[int | str] | None, count: int, names: tuple[str, ...] | None
) -> list[int]:
    """Row indices of the channels ``channel`` selects (all for ``None``)."""
    if channel is None:
        return list(range(count))
    wanted = [channel] if isinstance(channel, (str, numbers.Integral)) else list(channel)
    if not wanted:
        raise ValueError("channel is an empty sequence; give at least one channel")
    rows = []
    for item in wanted:
        if isinstance(item, str):
            if names is None:
                raise ValueError(f"channel {item!r}: channel names need a Signal; an array has indices 0..{count - 1}")
            if item not in names:
                raise ValueError(f"unknown channel {item!r}; the channels are: {', '.join(map(repr, names))}")
            rows.append(names.index(item))
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            if not -count <= item < count:
                raise ValueError(f"channel {item} out of range: the signal has {count} channel(s)")
            rows.append(int(item) % count)
        else:
            raise TypeError(f"channel must be an int index or a channel name, got {item!r}")
    return rows


def select_channels(signal: Signal, channels: int | str | Sequence[int | str] | None) -> Signal:
    """The recording with only ``channels`` (indices or names, in that order; all for None).

    Raises
    ------
    ValueError
        An unknown name or an index out of range, naming the recording and its channels.
    """
    if channels is None:
        return signal
    try:
        rows = _channel_rows(channels, signal.n_channels, signal.channel_names)
    except (ValueError, TypeError) as error:
        raise type(error)(f"{signal.source or 'signal'}: {error}") from None
    return dataclasses.replace(signal, data=signal.data[rows], channel_names=tuple(signal.channel_names[r] for r in rows),
                               units=tuple(signal.units[r] for r in rows) if signal.units else signal.units)


def windows(
    signal: Signal | np.ndarray | torch.Tensor,
    length: int,
    step: int | None = None,
    channel: int | str | Sequence[int | str] | None = None,
) -> torch.Tensor:
    """Cut a recording into consecutive windows, the ``(N, C, L)`` batches SANs take.

    Parameters
    ----------
    signal : Signal, numpy.ndarray or torch.Tensor
        A :class:`Signal` (from :func:`load_signal`), or samples ``(C, S)``;
        a 1-D ``(S,)`` is one channel.
    length : int
        Samples per window, ``L``.
    step : int, optional
        Samples from one window's start to the next (default ``length``:
        non-overlapping). A trailing partial window is dropped.
    channel : int, str or sequence of them, optional
        Channels to keep, by index or (for a :class:`Signal`) by name;
        default all.

    Returns
    -------
    torch.Tensor
        float32 ``(N, C, L)``: window ``n`` of channel ``c`` is samples
        ``n * step .. n * step + L - 1``, and ``N = (S - L) // step + 1``.

    Raises
    ------
    ValueError
        ``length`` or ``step`` below 1, an unknown channel name (the message
        lists the names), a channel index out of range, or a signal that is
        not ``(C, S)``.
    TypeError
        ``length`` or ``step`` not an integer, or a channel neither an int
        nor a name.
    DataError
        The signal is shorter than one window (says how many samples there
        are and how many are needed), or a window holds NaN or inf.
    """
    data, names = _as_channels(signal)
    length = check_int(length, "length", 1)
    step = length if step is None else check_int(step, "step", 1)
    rows = _channel_rows(channel, data.shape[0], names)
    data = data[rows]
    if data.shape[1] < length:
        raise DataError(f"the signal has {data.shape[1]} samples per channel; one window needs {length}")
    frames = _frames(data, length, step)
    end = (frames.shape[0] - 1) * step + length
    # Checked on the samples, not the frames: overlapping frames would repeat each check L / step times.
    bad = ~np.isfinite(data[:, :end]) & (np.arange(end) % step < length)
    if bad.any():
        sample, row = (int(v) for v in np.argwhere(bad.T)[0])
        label = repr(names[rows[row]]) if names else str(rows[row])
        raise DataError(
            f"channel {label}, sample {sample} is {data[row, sample]}; windows must hold finite numbers (no NaN or inf)"
        )
    return torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))


def finite_samples(signal: Signal, fill: str | None = None) -> np.ndarray:
    """A recording's samples ``(channels, samples)`` float64, all finite.

    Parameters
    ----------
    fill : {None, "linear"}
        None refuses a non-finite sample (WFDB marks invalid samples NaN),
        naming the first; ``"linear"`` interpolates each channel's gaps from its
        finite neighbours (the edges take the nearest finite value).

    Raises
    ------
    DataError
        A non-finite sample without ``fill``, or a channel with no finite sample.
    """
    if fill not in (None, "linear"):
        raise ValueError(f"fill must be None or 'linear', got {fill!r}")
    data = np.asarray(signal.data, dtype=np.float64)
    missing = ~np.isfinite(data)
    if not missing.any():
        return data
    channel, sample = (int(v) for v in np.argwhere(missing)[0])
    if fill is None:
        name = f" ({signal.channel_names[channel]!r})" if signal.channel_names else ""
        raise DataError(f"{signal.source or 'signal'}: channel {channel}{name}, sample {sample}: not a number "
                        f"({int(missing.sum())} such samples); --fill linear (fill='linear') interpolates them")
    data = data.copy()
    for index, (row, gaps) in enumerate(zip(data, missing)):
        if gaps.all():
            raise DataError(f"{signal.source or 'signal'}: channel {index} ({signal.channel_names[index]!r}) has no finite "
                            "sample to interpolate from")
        row[gaps] = np.interp(np.flatnonzero(gaps), np.flatnonzero(~gaps), row[~gaps])
    return data


def standardize_windows(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each window to mean 0 and sample standard deviation 1 (``ddof=1``), the paper's Table I protocol.

    Parameters
    ----------
    windows : numpy.ndarray, shape (..., L)

    Returns
    -------
    standardized : numpy.ndarray, shape (..., L) float64
    mean, std : numpy.ndarray, shape (...)
        Each window's; a constant window's std is given as 1, so it is only centred.
    constant : numpy.ndarray of bool, shape (...)
        Windows whose std is at most 1e-12 max(1, |mean|): rounding noise on a flat line is not a signal,
        and it cannot be standardised. Callers refuse, drop or keep them centred.
    """
    windows = np.asarray(windows, dtype=np.float64)
    mean = windows.mean(-1)
    std = windows.std(-1, ddof=1) if windows.shape[-1] > 1 else np.zeros(windows.shape[:-1])
    constant = ~(std > 1e-12 * np.maximum(1.0, np.abs(mean)))
    std = np.where(constant, 1.0, std)
    return (windows - mean[..., None]) / std[..., None], mean, std, constant
