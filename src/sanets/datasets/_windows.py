"""A recording's samples made ready for a SAN: channels chosen, missing samples refused or filled, windows cut
and standardised (the paper's Table I protocol)."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Sequence

import numpy as np
import torch

from sanets._validation import check_int
from sanets.datasets._types import Signal
from sanets.errors import DataError

__all__ = ["finite_samples", "select_channels", "standardize_windows", "windows"]


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
        Windows whose std is at most ``1e-12 max(1, |mean|)``: rounding noise on a flat line is not a signal,
        and it cannot be standardised. Callers refuse, drop or keep them centred.
    """
    windows = np.asarray(windows, dtype=np.float64)
    mean = windows.mean(-1)
    std = windows.std(-1, ddof=1) if windows.shape[-1] > 1 else np.zeros(windows.shape[:-1])
    constant = ~(std > 1e-12 * np.maximum(1.0, np.abs(mean)))
    std = np.where(constant, 1.0, std)
    return (windows - mean[..., None]) / std[..., None], mean, std, constant
