"""A SAN's spikes as events: where each kernel fired on a recording, and how strongly (issue 32).

A SAN describes a signal as a few kernels placed at a few positions (paper Sec. III-B, Eqs. 11-13): each non-zero
code ``a_i[t]`` of Eq. 11 is one event, kernel ``i`` placed at sample ``t`` with amplitude ``a_i[t]``. This module
lists them as a table; :func:`sanets.detect_beats` picks heartbeats among them.

>>> import numpy as np, sanets
>>> model = sanets.SAN([5], activation="extrema", seed=0)
>>> table = sanets.events(model, np.sin(np.arange(200) / 5), sampling_rate=100.0, as_frame=False)
>>> table.dtype.names
('sample', 'seconds', 'channel', 'kernel', 'scale', 'amplitude')
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import torch

from sanets.datasets._types import Signal
from sanets.datasets._windows import _as_channels
from sanets.errors import DataError
from sanets.model import SAN

__all__ = ["EVENT_DTYPE", "as_table", "events"]

EVENT_DTYPE = np.dtype([("sample", np.int64), ("seconds", np.float64), ("channel", "U64"), ("kernel", np.int64),
                        ("scale", np.float64), ("amplitude", np.float64)])
"""One event: its sample index, its time in seconds (NaN without a sampling rate), the input channel's name, the
kernel's index (0 to q - 1), the kernel's scale (1.0 for the paper's SAN) and the signed code value ``a_i[t]``."""


def as_table(records: np.ndarray, as_frame: bool | None = None) -> Any:
    """``records`` (structured, :data:`EVENT_DTYPE` or a subset of its fields) as a pandas DataFrame, or as they are.

    ``as_frame=None`` gives a DataFrame where pandas is importable; ``True`` requires pandas, ``False`` never uses it.
    """
    if as_frame is None:
        as_frame = importlib.util.find_spec("pandas") is not None
    if not as_frame:
        return records
    import pandas

    return pandas.DataFrame({name: records[name] for name in records.dtype.names})


def check_fit(model: SAN, channels: int, sampling_rate: float | None, model_rate: float | None) -> None:
    """Raise DataError unless the model can code a recording of ``channels`` channels at ``sampling_rate`` Hz.

    A SAN of one input channel codes each channel on its own; one of C input channels needs exactly C. Rates are
    compared only where both are known (the recording's format states one, and so does the model's report).
    """
    if model.dims != 1:
        raise DataError(f"the model is a {model.dims}D SAN; events are found on 1D recordings")
    if model.in_channels not in (1, channels):
        raise DataError(f"the model codes {model.in_channels} input channels together but the recording has {channels}; "
                        "choose that many with --channels (channels=), or use a model of one input channel")
    if sampling_rate is not None and model_rate is not None and not np.isclose(sampling_rate, model_rate, rtol=1e-6):
        raise DataError(f"the model's kernels were learned at {model_rate:g} Hz but the recording is sampled at "
                        f"{sampling_rate:g} Hz; resample the recording, or use a model learned at its rate")


def events(model: SAN, signal: Signal | np.ndarray | torch.Tensor, *, sampling_rate: float | None = None,
           model_rate: float | None = None, as_frame: bool | None = None) -> Any:
    """Every spike of ``model`` on ``signal``: the non-zero codes of ``model.encode`` (Eq. 11) as events.

    Parameters
    ----------
    model : SAN
        A 1D SAN of one input channel (each channel is coded on its own) or of as many as the recording has.
    signal : Signal, array or Tensor, shape (channels, samples) or (samples,)
        A recording (:func:`sanets.datasets.load_signal`) or its samples, all finite.
    sampling_rate : float, optional
        Samples per second; defaults to the recording's. Gives the ``seconds`` column (NaN without one).
    model_rate : float, optional
        The rate the model's kernels were learned at, where known: a recording at another rate is refused.
    as_frame : bool, optional
        A pandas DataFrame (the default where pandas is importable) or a NumPy structured array.

    Returns
    -------
    DataFrame or numpy.ndarray of :data:`EVENT_DTYPE`, one row per spike
        Ordered by sample, then channel, then kernel and scale. A signal on which nothing fires gives an empty table.

    Raises
    ------
    DataError
        A model that does not fit the recording (channels, rate, a 2D SAN), or a non-finite sample.
    """
    data, names = _as_channels(signal)
    if isinstance(signal, Signal) and sampling_rate is None:
        sampling_rate = signal.sampling_rate
    names = names or tuple(f"ch{i}" for i in range(len(data)))
    check_fit(model, len(data), sampling_rate, model_rate)
    if not np.isfinite(data).all():
        channel, sample = (int(v) for v in np.argwhere(~np.isfinite(data))[0])
        raise DataError(f"channel {names[channel]!r}, sample {sample} is not a finite number; fill or cut the gaps first")
    x = torch.from_numpy(np.ascontiguousarray(data))
    x = x[:, None] if model.in_channels == 1 else x[None]  # (C, 1, L): each channel coded on its own, or (1, C, L)
    with torch.no_grad():
        codes = model.encode(x.to(model.kernels[0].device)).cpu().reshape(len(data), -1, data.shape[1])
    channel, code, sample = (index.numpy() for index in torch.nonzero(codes, as_tuple=True))
    order = np.lexsort((code, channel, sample))
    channel, code, sample = channel[order], code[order], sample[order]
    table = np.empty(len(sample), dtype=EVENT_DTYPE)
    table["sample"] = sample
    table["seconds"] = sample / sampling_rate if sampling_rate else np.nan
    table["channel"] = np.asarray(names, dtype=EVENT_DTYPE["channel"])[channel] if len(sample) else []
    table["kernel"] = code // len(model.scales)
    table["scale"] = np.asarray(model.scales, dtype=np.float64)[code % len(model.scales)]
    table["amplitude"] = codes[channel, code, sample].double().numpy()
    return as_table(table, as_frame)
