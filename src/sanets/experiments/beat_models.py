"""A beat model from the user's recordings (``sanets fit --for beats``, issue 32).

Every chosen channel of every recording is one ECG lead; :func:`sanets.fit_beat_model` learns the QRS kernels on
them all at once, without labels, and the model is written like ``fit --for codec``'s: the SAN, a JSON report
(with the sampling rate, which ``sanets events`` checks the recording against) and a kernels figure.
``sanets events MODEL INPUT --beats`` then finds the beats of any recording at that rate.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from sanets._beats import BEAT_KERNELS, fit_beat_model
from sanets._files import check_outputs, strict_json, write_atomically
from sanets.datasets import (
    finite_samples,
    load_signal,
    recording_files,
    select_channels,
)
from sanets.errors import DataError
from sanets.experiments.recordings import fit_outputs
from sanets.model import SAN

__all__ = ["fit_beats"]


def fit_beats(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    channels: Sequence[int | str] | None = None,
    kernels: int = BEAT_KERNELS,
    sampling_rate: float | None = None,
    fill: str | None = None,
    seed: int = 0,
    echo: Callable[[str], object] = print,
) -> SAN:
    """Learn a beat model (:func:`sanets.fit_beat_model`) on every chosen channel of the recordings; write it.

    Parameters
    ----------
    paths : sequence of path
        ECG recordings (WFDB, EDF, CSV, NPY), all at one sampling rate.
    out : path
        The model (``SAN.save``); beside it ``<out minus suffix>.json`` and ``<out stem>-kernels.png``.
    channels : sequence of int or str, optional
        Channels by index or name (default all); each is a lead of its own.
    kernels : int
        QRS templates learned, one per beat shape that recurs (default :data:`sanets._beats.BEAT_KERNELS`).
    sampling_rate : float, optional
        Hz, for formats that state none (CSV, NPY); a recording that states another rate is refused.

    Returns
    -------
    SAN
        1D, one input channel, ``kernels`` kernels of 0.1 s.

    Raises
    ------
    DataError
        Recordings at different or unknown rates, only constant channels, or fewer beats found than ``kernels``.
    """
    if kernels < 1:
        raise ValueError(f"--kernels {kernels}: a beat model needs at least one kernel")
    files, _ = fit_outputs(out)
    check_outputs(files, [("recording", file) for path in paths for file in recording_files(path)])
    signals = [select_channels(load_signal(path), channels) for path in paths]
    stated = {signal.sampling_rate for signal in signals if signal.sampling_rate}
    if sampling_rate is not None and stated - {sampling_rate}:
        raise DataError(f"the recordings state {', '.join(f'{r:g}' for r in sorted(stated))} Hz; "
                        f"--sampling-rate {sampling_rate:g} contradicts them")
    if sampling_rate is None and any(not signal.sampling_rate for signal in signals):
        raise DataError("give --sampling-rate: a recording states no sampling rate (CSV, NPY)")
    if sampling_rate is None and len(stated) > 1:
        raise DataError(f"beats are learned at one sampling rate; the recordings are at "
                        f"{', '.join(f'{r:g}' for r in sorted(stated))} Hz: resample them first")
    rate = sampling_rate or next(iter(stated))
    leads = [row for signal in signals for row in finite_samples(signal, fill) if np.ptp(row) > 0]
    if not leads:
        raise DataError("every channel is constant: there are no beats to learn kernels from")
    echo(f"{len(leads)} lead(s) at {rate:g} Hz: learning {kernels} QRS kernel(s) of 0.1 s without labels")
    try:
        model = fit_beat_model(leads, rate, kernels=kernels, seed=seed)
    except ValueError as error:
        raise DataError(f"{error}: give longer recordings or fewer --kernels") from None
    model.save(files["model"])
    report = {"inputs": [str(p) for p in paths], "for": "beats", "sampling_rate": rate, "kernels": kernels,
              "length": model.kernel_sizes[0], "seed": seed, "model": model.config()}
    write_atomically(files["report"], lambda file: file.write(strict_json(report, indent=2).encode()))
    try:
        from sanets import plots

        plots.save_figure(plots.plot_kernels({f"{kernels} QRS kernel(s)": [w.detach() for w in model.kernel_weights()]}),
                          files["kernels figure"])
    except ImportError as error:
        echo(f"no kernels figure: {error}")
    echo(f"beat model written to {files['model']}; find beats with: sanets events {files['model']} INPUT --beats -o OUT")
    return model
