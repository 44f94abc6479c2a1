"""Your own recordings: from files to a SAN chosen on validation (``sanets fit``, issue 11).

The paper's protocol for a user's data: cut each channel into windows (1000
samples, or whole short signals), standardise each window (mean 0, sample std 1,
as Table I), keep the last fifth of each channel's windows in time for
validation, sweep the kernel sizes with Alg. 4 (all packed into one training,
:func:`sanets.sweep.fit_sweep`) and keep the SAN of lowest validation phi.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from sanets._files import write_atomically
from sanets.datasets import finite_samples, load_signal
from sanets.errors import DataError
from sanets.model import SAN
from sanets.sweep import fit_sweep
from sanets.training import Evaluation, evaluate, first_lowest

__all__ = ["fit_recordings", "RecordingFit", "default_kernel_sizes", "recording_windows"]

VALIDATION_SHARE = 0.2


@dataclass(frozen=True)
class RecordingFit:
    """What :func:`fit_recordings` chose and measured.

    Attributes
    ----------
    model : SAN
        The chosen SAN (its best epoch).
    kernel_size : int
        Its m.
    validation : Evaluation
        Its validation means of CR^-1, L~ and phi.
    candidates : dict of int to float
        Every m tried and its lowest validation phi.
    window : int
        Samples per window.
    train_windows, validation_windows : int
    notes : list of str
        How the kernel sizes were chosen, windows left out, and the like.
    """

    model: SAN
    kernel_size: int
    validation: Evaluation
    candidates: dict[int, float]
    window: int
    train_windows: int
    validation_windows: int
    notes: list[str]


def default_kernel_sizes(window: int, sampling_rate: float | None) -> tuple[list[int], str]:
    """At most 16 sizes from 3, spaced geometrically, up to a quarter of the window or of a second; and why."""
    limit, reason = max(window // 4, 1), "a quarter of the window"
    if sampling_rate is not None and round(sampling_rate / 4) < limit:
        limit, reason = max(round(sampling_rate / 4), 1), f"a quarter of a second at {sampling_rate:g} Hz"
    sizes = sorted({round(3 * (limit / 3) ** (i / 15)) for i in range(16)}) if limit > 3 else [limit]
    return sizes, f"kernel sizes {', '.join(map(str, sizes))} (up to {reason}; choose others with --kernel-sizes)"


def recording_windows(
    paths: Sequence[str | os.PathLike], window: int | None = None, channels: Sequence[int | str] | None = None,
    fill: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, int, float | None, list[str]]:
    """Standardised windows of recordings, split by time.

    Returns
    -------
    train, validation : Tensor, shape (N, 1, L) float32
        Per recording and channel, the first windows in time, and the last fifth of them (at least one, where a
        channel has two or more).
    window : int
    sampling_rate : float or None
        The recordings' rate, if they agree.
    notes : list of str
    """
    signals = [load_signal(path) for path in paths]
    rates = {signal.sampling_rate for signal in signals}
    shortest = min(signal.data.shape[1] for signal in signals)
    window = min(1000, shortest) if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an int >= 2, got {window!r}")
    train, validation, notes, constant = [], [], [], 0
    for signal in signals:
        data = finite_samples(signal, fill)
        names = list(signal.channel_names)
        for wanted in channels or range(len(data)):
            if isinstance(wanted, str) and wanted not in names:
                raise ValueError(f"{signal.source}: no channel {wanted!r}; it has {', '.join(names)}")
            row = names.index(wanted) if isinstance(wanted, str) else wanted
            if not 0 <= row < len(data):
                raise ValueError(f"{signal.source}: no channel {row}; it has {len(data)}")
            count = data.shape[1] // window
            frames = data[row, : count * window].reshape(count, window)
            std = frames.std(1, ddof=1)
            constant += int((std == 0).sum())
            frames = (frames[std > 0] - frames[std > 0].mean(1, keepdims=True)) / std[std > 0, None]
            held = math.ceil(VALIDATION_SHARE * len(frames)) if len(frames) >= 2 else 0
            train.append(frames[: len(frames) - held])
            validation.append(frames[len(frames) - held :])
    train_x, validation_x = (torch.tensor(np.concatenate(part), dtype=torch.float32)[:, None] for part in (train, validation))
    if len(train_x) == 0 or len(validation_x) == 0:
        raise DataError(f"{len(train_x) + len(validation_x)} window(s) of {window} samples: training and validation need one "
                        "each; give a longer recording, more recordings, or a smaller --window")
    if constant:
        notes.append(f"{constant} constant window(s) left out (they cannot be standardised)")
    return train_x, validation_x, window, next(iter(rates)) if len(rates) == 1 else None, notes


def fit_recordings(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    activation: str = "extrema",
    kernel_sizes: Sequence[int] | None = None,
    kernels: int = 1,
    window: int | None = None,
    channels: Sequence[int | str] | None = None,
    epochs: int = 30,
    batch_size: int | None = None,
    border_tolerance: int = 3,
    seed: int = 0,
    device: str = "cpu",
    fill: str | None = None,
    progress: bool = False,
    echo: Callable[[str], object] = print,
) -> RecordingFit:
    """Fit SANs to recordings, keep the kernel size of lowest validation phi, and write the model and its report.

    ``batch_size`` defaults to an eighth of the training windows, from 2 (the paper's, for its six PhysioNet
    windows) to 32. Writes ``out`` (:meth:`SAN.save`), ``out`` with suffix ``.json`` (m chosen, CR^-1, L~ and phi on
    validation, every m tried, the window and data used) and, with matplotlib, ``<out stem>-kernels.png``.
    """
    out = Path(out)
    train, validation, window, rate, notes = recording_windows(paths, window, channels, fill)
    if kernel_sizes is None:
        kernel_sizes, why = default_kernel_sizes(window, rate)
        notes.insert(0, why)
    elif max(kernel_sizes) > window:
        raise ValueError(f"kernel size {max(kernel_sizes)} is larger than the window ({window} samples)")
    for note in notes:
        echo(note)
    batch_size = max(2, min(32, len(train) // 8)) if batch_size is None else batch_size
    echo(f"{len(train)} training and {len(validation)} validation windows of {window} samples; batches of {batch_size}")
    results = fit_sweep(sorted(set(kernel_sizes)), activation, train, validation, num_kernels=kernels, init="normal",
                        border_tolerance=border_tolerance, epochs=epochs, batch_size=batch_size, seed=seed, device=device,
                        progress=progress)
    chosen = results[first_lowest([result.best_flithos for result in results])]
    model = chosen.model.cpu()
    scores = evaluate(model, validation)
    fit = RecordingFit(model, chosen.kernel_size, scores, {r.kernel_size: r.best_flithos for r in results}, window,
                       len(train), len(validation), notes)
    model.save(out)
    report = {"inputs": [str(path) for path in paths], "window": window, "sampling_rate": rate, "kernel_size": fit.kernel_size,
              "validation": asdict(scores), "candidates": fit.candidates, "train_windows": len(train),
              "validation_windows": len(validation), "epochs": epochs, "seed": seed, "notes": notes, "model": model.config()}
    write_atomically(out.with_suffix(".json"), lambda file: file.write(json.dumps(report, indent=2).encode()))
    try:
        from sanets import plots

        figure = plots.plot_kernels({f"m={fit.kernel_size}": [w.detach() for w in model.kernel_weights()]})
        plots.save_figure(figure, out.with_name(f"{out.stem}-kernels.png"))
    except ImportError as error:
        echo(f"no kernels figure: {error}")
    echo(f"m = {fit.kernel_size}: validation CR^-1 {scores.inverse_compression_ratio:.3f}, L~ {scores.reconstruction_loss:.3f}, "
         f"phi {scores.flithos:.3f}; model written to {out}")
    return fit
