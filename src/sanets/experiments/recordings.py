"""Your own recordings: from files to a SAN chosen on validation (``sanets fit``, issue 11).

The paper's protocol for a user's data: cut each channel into windows (1000
samples, or whole short signals), standardise each window (mean 0, sample std 1,
as Table I), keep the last fifth of each channel's windows in time for
validation, sweep the kernel sizes with Alg. 4 (all packed into one training,
:func:`sanets.sweep.fit_sweep`) and keep the SAN of lowest validation phi.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from sanets import activations
from sanets._extras import require
from sanets._files import (
    check_outputs,
    remove_orphaned_temporaries,
    strict_json,
    write_atomically,
)
from sanets.datasets import (
    finite_samples,
    load_signal,
    recording_files,
    select_channels,
    standardize_windows,
)
from sanets.errors import CheckpointError, DataError, Interrupted
from sanets.model import CHANNEL_MODES, SAN
from sanets.sweep import fit_sweep
from sanets.training import Evaluation, evaluate, first_lowest

__all__ = ["fit_recordings", "fit_outputs", "RecordingFit", "default_kernel_sizes", "recording_windows", "joined"]

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
    fill: str | None = None, together: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, int, float | None, list[str]]:
    """Standardised windows of recordings (:func:`sanets.datasets.standardize_windows`), split by time.

    Parameters
    ----------
    together : bool
        Keep a window's channels together, ``(N, C, L)``, for a SAN of C input channels; a window is left out
        where any of its channels is constant, and every recording must give the same number of channels.
        Otherwise each channel's windows are examples of their own, ``(N, 1, L)``.

    Returns
    -------
    train, validation : Tensor, shape (N, C, L) float32
        Per recording (and channel, unless together), the first windows in time, and the last fifth of them (at
        least one, where there are two or more).
    window : int
    sampling_rate : float or None
        The recordings' rate, if they agree.
    notes : list of str
    """
    signals = [select_channels(load_signal(path), channels) for path in paths]
    rates = {signal.sampling_rate for signal in signals}
    shortest = min(signals, key=lambda signal: signal.n_samples)
    window = min(1000, shortest.n_samples) if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an int >= 2, got {window!r}")
    if window > shortest.n_samples:
        raise DataError(f"{shortest.source}: {shortest.n_samples} samples per channel, shorter than one window of {window}; "
                        "give a smaller --window")
    train, validation, notes, constant_windows, widths = [], [], [], 0, set()
    for signal in signals:
        data = finite_samples(signal, fill)
        widths.add(len(data))
        if together and len(widths) > 1:
            raise DataError(f"{signal.source}: {len(data)} channel(s) where the recordings before it have {widths - {len(data)}}; "
                            "coding channels together needs the same channels in every recording (choose them with --channels)")
        count = data.shape[1] // window
        standardized, _, _, constant = standardize_windows(data[:, : count * window].reshape(len(data), count, window))
        if together:
            kept = ~constant.any(0)
            constant_windows += int((~kept).sum())
            parts = [standardized[:, kept].transpose(1, 0, 2)]
        else:
            constant_windows += int(constant.sum())
            parts = [frames[~gone][:, None] for frames, gone in zip(standardized, constant)]
        for frames in parts:
            held = math.ceil(VALIDATION_SHARE * len(frames)) if len(frames) >= 2 else 0
            train.append(frames[: len(frames) - held])
            validation.append(frames[len(frames) - held :])
    train_x, validation_x = (torch.tensor(np.concatenate(part), dtype=torch.float32) for part in (train, validation))
    if len(train_x) == 0 and constant_windows:
        raise DataError(f"every window is constant (all {constant_windows} of {window} samples): a flat line cannot be "
                        "standardised, so there is nothing to fit")
    if len(train_x) == 0 or len(validation_x) == 0:
        raise DataError(f"{len(train_x) + len(validation_x)} window(s) of {window} samples: training and validation need one "
                        "each; give a longer recording, more recordings, or a smaller --window")
    if constant_windows:
        notes.append(f"{constant_windows} constant window(s) left out (they cannot be standardised)")
    return train_x, validation_x, window, next(iter(rates)) if len(rates) == 1 else None, notes


def joined(models: Sequence[SAN], in_channels: int, channels: str) -> SAN:
    """One SAN of ``in_channels`` input channels from one-channel SANs of equal config: the kernels of ``models[0]``
    shared by every channel (``channels="shared"``, one model), or ``models[c]``'s kernels for channel c
    (``"separate"``)."""
    config = models[0].config() | {"in_channels": in_channels, "channels": channels}
    numbers = [model.kernels[i].detach().clone() for i in range(models[0].num_kernels) for model in models]
    return SAN.from_config(config, numbers)


def fit_outputs(out: str | os.PathLike) -> tuple[dict[str, Path], dict[str, Path]]:
    """The files and the folder :func:`fit_recordings` writes for the model ``out``: the model, its JSON report
    ``<out minus suffix>.json``, its kernels figure ``<out stem>-kernels.png``; the checkpoints ``<out>.partial/``."""
    out = Path(out)
    files = {"model": out, "report": out.with_suffix(".json"), "kernels figure": out.with_name(f"{out.stem}-kernels.png")}
    return files, {"checkpoints folder": out.with_name(out.name + ".partial")}


@contextmanager
def _checkpoints(folder: Path, echo: Callable[[str], object]) -> Iterator[Path]:
    """The locked folder ``<out>.partial`` of a fit's sweep checkpoints; a rerun resumes from what it holds."""
    filelock = require("filelock", "resuming sanets fit")
    folder.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(folder / "lock"))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise CheckpointError(f"{folder} is being written by another sanets fit; wait for it, or choose another --out") from None
    try:
        remove_orphaned_temporaries(folder)
        if any(folder.glob("sweep-*.pt")):
            echo(f"resuming from the checkpoints in {folder}")
        yield folder
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: the finished epochs are kept in {folder}; rerun the same command to resume") from None
    finally:
        lock.release()


def _check_saved(model: SAN, path: Path) -> None:
    """Read the written model back: the same config and numbers, or an error before anyone relies on it."""
    saved = SAN.load(path)
    if saved.config() != model.config() or not all(torch.equal(a, b) for a, b in zip(saved.kernels, model.kernels)):
        raise OSError(f"{path}: the model read back differs from the one written")


def fit_recordings(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    activation: str = "extrema",
    kernel_sizes: Sequence[int] | None = None,
    kernels: int = 1,
    window: int | None = None,
    channels: Sequence[int | str] | None = None,
    channel_kernels: str | None = None,
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

    ``channel_kernels`` None fits a one-channel SAN on every channel's windows (it codes any number of channels);
    ``"shared"`` or ``"separate"`` a SAN of C input channels (:class:`sanets.SAN` ``channels=``) on windows whose
    channels stay together. Separate kernels are swept channel by channel, shared ones on every channel's windows;
    each candidate m is then the multichannel SAN, and its validation phi chooses m.

    ``batch_size`` defaults to an eighth of the training windows, from 2 (the paper's, for its six PhysioNet
    windows) to 32. Writes ``out`` (:meth:`SAN.save`), ``out`` with suffix ``.json`` (m chosen, CR^-1, L~ and phi on
    validation, every m tried, the window and data used) and, with matplotlib, ``<out stem>-kernels.png``. While
    it trains, ``<out>.partial/`` (locked) keeps a checkpoint per epoch: an interrupted fit rerun with the same
    arguments resumes there and ends as it would have.
    """
    files, folders = fit_outputs(out)
    check_outputs(files, [("recording", file) for path in paths for file in recording_files(path)], folders)
    activations.spec_of(activation)  # an unknown name is refused before the data is read
    if channel_kernels not in (None, *CHANNEL_MODES):
        raise ValueError(f"channel_kernels must be None or one of {', '.join(CHANNEL_MODES)}, got {channel_kernels!r}")
    train, validation, window, rate, notes = recording_windows(paths, window, channels, fill, together=channel_kernels is not None)
    if kernel_sizes is None:
        kernel_sizes, why = default_kernel_sizes(window, rate)
        notes.insert(0, why)
    elif max(kernel_sizes) > window:
        raise ValueError(f"kernel size {max(kernel_sizes)} is larger than the window ({window} samples)")
    for note in notes:
        echo(note)
    batch_size = max(2, min(32, len(train) // 8)) if batch_size is None else batch_size
    in_channels = train.shape[1]
    echo(f"{len(train)} training and {len(validation)} validation windows of {window} samples"
         f"{f' x {in_channels} channels' if in_channels > 1 else ''}; batches of {batch_size}")
    if channel_kernels == "separate":
        groups = [(train[:, [c]], validation[:, [c]]) for c in range(in_channels)]
    else:
        groups = [(train.reshape(-1, 1, window), validation.reshape(-1, 1, window))]
    sizes = sorted(set(kernel_sizes))
    with _checkpoints(folders["checkpoints folder"], echo) as folder:
        sweeps = [fit_sweep(sizes, activation, group_train, group_validation, num_kernels=kernels, init="normal",
                            border_tolerance=border_tolerance, epochs=epochs, batch_size=batch_size, seed=seed, device=device,
                            progress=progress, checkpoint=folder / f"sweep-{g}.pt")
                  for g, (group_train, group_validation) in enumerate(groups)]
        candidates = [[sweep[k].model.cpu() for sweep in sweeps] for k in range(len(sizes))]
        if channel_kernels is not None:
            candidates = [[joined(models, in_channels, channel_kernels)] for models in candidates]
        scores = [evaluate(models[0], validation) for models in candidates]
        chosen = first_lowest([score.flithos for score in scores])
        model = candidates[chosen][0]
        fit = RecordingFit(model, sizes[chosen], scores[chosen], {m: score.flithos for m, score in zip(sizes, scores)}, window,
                           len(train), len(validation), notes)
        model.save(files["model"])
        _check_saved(model, files["model"])
        report = {"inputs": [str(path) for path in paths], "window": window, "sampling_rate": rate,
                  "kernel_size": fit.kernel_size, "channel_kernels": channel_kernels, "validation": asdict(fit.validation),
                  "candidates": fit.candidates, "train_windows": len(train), "validation_windows": len(validation),
                  "epochs": epochs, "seed": seed, "notes": notes, "model": model.config()}
        write_atomically(files["report"], lambda file: file.write(strict_json(report, indent=2).encode()))
        shutil.rmtree(folder)
    try:
        from sanets import plots

        figure = plots.plot_kernels({f"m={fit.kernel_size}": [w.detach() for w in model.kernel_weights()]})
        plots.save_figure(figure, files["kernels figure"])
    except ImportError as error:
        echo(f"no kernels figure: {error}")
    scores = fit.validation
    echo(f"m = {fit.kernel_size}: validation CR^-1 {scores.inverse_compression_ratio:.3f}, L~ {scores.reconstruction_loss:.3f}, "
         f"phi {scores.flithos:.3f}; model written to {files['model']}")
    return fit
