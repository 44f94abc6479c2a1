"""``sanets demo``: SANs with each activation on two real datasets that ship with the dependencies.

Two small versions of the paper's protocol (Sec. IV), on data that needs no
download:

- **ECG**: the 1024-sample MIT-BIH excerpt (360 Hz) shipped in PyWavelets,
  ``pywt.data.ecg()``, standardised and cut into 8 windows of 128 samples
  (4 train, 2 validation, 2 test, in time order); one kernel, a sweep of kernel
  sizes m, 30 epochs, batch 2, border tolerance 3, as for PhysioNet (Table I).
- **Digits**: scikit-learn's 1797 real 8x8 handwritten digits,
  ``sklearn.datasets.load_digits()``, pixels scaled from 0..16 to [0, 1] and
  split 1200/300/297 in a seeded permutation; two m x m kernels, m = 1..5,
  5 epochs, batch 64, border tolerance 2, as for MNIST.

For every activation, each kernel size is fitted with Adam (lr 0.01, Alg. 4);
the (m, epoch) with the lowest mean validation phi is kept, and its test CR^-1,
L~ and phi are reported (Eqs. 4-7).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from sanets._extras import require
from sanets.activations import ACTIVATIONS
from sanets.baselines import BASELINES, Baseline
from sanets.experiments._report.figures import model_figures, sweep_figures
from sanets.sweep import Sweep, SweepResult
from sanets.training import evaluate, first_lowest

__all__ = ["run_demo", "DemoResult", "DemoRow", "load_ecg", "load_digits"]

Echo = Callable[[str], object]


@dataclass(frozen=True)
class Demo:
    """One dataset of the demo: a short name for file names, a title, and the sweep (Sec. IV's protocol, scaled)."""

    key: str
    title: str
    sweep: Sweep


ECG = Demo("ecg", "ECG", Sweep((4, 8, 12, 16, 24, 32, 48, 64), 1, dims=1, border_tolerance=3, epochs=30, batch_size=2))
"""The ECG demo: Table I's PhysioNet settings, scaled to 128-sample windows."""

DIGITS = Demo("digits", "Digits", Sweep((1, 2, 3, 4, 5), num_kernels=2, dims=2, border_tolerance=2, epochs=5, batch_size=64))
"""The digits demo: the paper's MNIST settings on 8x8 images."""


@dataclass(frozen=True)
class Split:
    """Train, validation and test examples, each ``(N, 1, L)`` or ``(N, 1, H, W)``, plus where they came from."""

    train: Tensor
    validation: Tensor
    test: Tensor
    source: str


@dataclass(frozen=True)
class DemoRow:
    """One row of a printed table: an activation's selected model, scored on test."""

    dataset: str
    activation: str
    kernel_size: int
    inverse_compression_ratio: float
    reconstruction_loss: float
    flithos: float


@dataclass
class DemoResult:
    """What :func:`run_demo` printed and wrote.

    Attributes
    ----------
    rows : list of DemoRow
        The rows of the printed tables: ECG, then digits, activations in the
        order of :data:`sanets.activations.ACTIVATIONS`.
    figures : list of Path
        The PNG files written.
    """

    rows: list[DemoRow] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)


def load_ecg(window: int = 128) -> Split:
    """PyWavelets' ECG excerpt, standardised, cut into windows of shape ``(N, 1, window)``.

    Half the windows train, a quarter validate, a quarter test. The paper
    standardises each PhysioNet signal before cutting it (Sec. IV-A); the
    windows are split in time order so that test data follow training data.
    """
    pywt = require("pywt", "the demo's ECG")

    signal = pywt.data.ecg().astype(np.float64)
    signal = (signal - signal.mean()) / signal.std()
    count = len(signal) // window
    windows = torch.from_numpy(signal[: count * window]).float().reshape(count, 1, window)
    train_end, validation_end = count // 2, count // 2 + count // 4
    return Split(
        windows[:train_end],
        windows[train_end:validation_end],
        windows[validation_end:],
        source=(
            f"pywt.data.ecg() (MIT-BIH excerpt, 360 Hz, {len(signal)} samples), standardised, "
            f"{count} windows of {window} samples: {train_end} train / {validation_end - train_end} validation / "
            f"{count - validation_end} test"
        ),
    )


def load_digits(seed: int = 0, train: int = 1200, validation: int = 300) -> Split:
    """scikit-learn's 8x8 digits as ``(N, 1, 8, 8)`` in [0, 1], split in a permutation seeded by ``seed``."""
    sklearn_datasets = require("sklearn.datasets", "the demo's digits")
    images = torch.from_numpy(sklearn_datasets.load_digits().images).float().div(16.0).unsqueeze(1)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    images = images[order]
    test = len(images) - train - validation
    return Split(
        images[:train],
        images[train : train + validation],
        images[train + validation :],
        source=(
            f"sklearn.datasets.load_digits() ({len(images)} 8x8 images), pixels scaled to [0, 1], "
            f"split {train} train / {validation} validation / {test} test (seed {seed})"
        ),
    )


def run_demo(out_dir: str | os.PathLike = "sanets-demo", seed: int = 0, echo: Echo = print) -> DemoResult:
    """Fit SANs with every activation on the ECG and the digits; print tables, write figures.

    Runs :data:`ECG` on :func:`load_ecg` and :data:`DIGITS` on
    :func:`load_digits`. For each dataset, ``echo`` receives the data used, a
    table of the selected m and test CR^-1, L~, phi per activation, and the
    figures written. Torch runs on one thread meanwhile (these models are so
    small that more threads only add overhead); the caller's setting is restored.

    Parameters
    ----------
    out_dir : str or path-like
        Folder for the PNG figures; created if missing.
    seed : int
        Seeds the kernels' initialisation, the batch order and the digits split;
        the same seed gives the same tables.
    echo : callable
        Receives each line of output.

    Returns
    -------
    DemoResult

    Raises
    ------
    ValueError
        If ``out_dir`` exists and is not a folder.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output folder {str(out_dir)!r} exists and is not a folder; choose another --out")
    out_dir.mkdir(parents=True, exist_ok=True)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        echo(
            "Sparsely Activated Networks on real data. phi = sqrt(CR^-1^2 + L~^2) per example (Eq. 6); "
            "tables show means over the test examples (Eq. 7). Lower is better."
        )
        result = DemoResult()
        for demo, split in ((ECG, load_ecg()), (DIGITS, load_digits(seed))):
            echo("")
            rows, figures = run_one(demo, split, out_dir, seed, echo)
            result.rows.extend(rows)
            result.figures.extend(figures)
        return result
    finally:
        torch.set_num_threads(threads)


def fit_one(demo: Demo, split: Split, seed: int = 0) -> tuple[dict[str, list[SweepResult]], list[DemoRow]]:
    """Sweep every activation on one dataset and score each one's selected SAN on test.

    All kernel sizes of an activation train together (:func:`sanets.sweep.fit_sweep`);
    with one seed, every activation starts from the same kernels for a given m,
    so they are compared fairly. Per activation the m whose best epoch has the
    lowest validation phi is kept (:func:`sanets.training.first_lowest`, as the
    report selects).

    Parameters
    ----------
    demo : Demo
    split : Split
        Examples of shape ``(N, 1, L)`` for a 1D sweep, ``(N, 1, H, W)`` for 2D.
    seed : int
        Seed of every SAN's initialisation and batch order.

    Returns
    -------
    fits : dict of str to list of SweepResult
        Per activation, one result per kernel size (:func:`selected` picks one).
    rows : list of DemoRow
        One per activation, scored on test.
    """
    fits = {name: demo.sweep.fit(name, split.train, split.validation, init="normal", seed=seed)
            for name in _bar(ACTIVATIONS, f"{demo.title}: fitting SANs")}
    rows = []
    for name, result in selected(fits).items():
        scores = evaluate(result.model, split.test)
        rows.append(DemoRow(demo.title, name, result.kernel_size, scores.inverse_compression_ratio,
                            scores.reconstruction_loss, scores.flithos))
    return fits, rows


def selected(fits: dict[str, list[SweepResult]]) -> dict[str, SweepResult]:
    """Per activation, the kernel size whose best epoch has the lowest validation phi (ties: the smaller m)."""
    return {name: results[first_lowest([r.best_flithos for r in results])] for name, results in fits.items()}


def run_one(
    demo: Demo, split: Split, out_dir: Path, seed: int = 0, echo: Echo = print
) -> tuple[list[DemoRow], list[Path]]:
    """:func:`fit_one`, then echo its table and draw its figures into ``out_dir``.

    Returns
    -------
    rows : list of DemoRow
        One per activation.
    figures : list of Path
    """
    echo(f"{demo.title}: {split.source}.")
    echo(demo.sweep.describe())
    fits, rows = fit_one(demo, split, seed)
    echo("Per activation, the m and epoch with the lowest validation phi; scores on test:")
    for line in format_table(rows):
        echo(line)
    baseline = best_baseline(split, seed)
    scores = baseline.evaluate(split.test)
    echo(f"Best classical baseline (sanets.baselines, chosen on validation): {baseline.name} {baseline.parameters}, "
         f"W={baseline.num_weights}: test CR^-1 {scores.inverse_compression_ratio:.2f}, L~ "
         f"{scores.reconstruction_loss:.2f}, phi {scores.flithos:.2f}")
    best = {name: [r.history[r.best_epoch - 1] for r in results] for name, results in fits.items()}
    figures = sweep_figures(
        {name: [(e.inverse_compression_ratio, e.reconstruction_loss) for e in epochs] for name, epochs in best.items()},
        {name: ([r.kernel_size for r in results], [r.best_flithos for r in results]) for name, results in fits.items()},
        out_dir / demo.key,
        (f"{demo.title}: validation CR⁻¹ and L̃, one point per kernel size", f"{demo.title}: validation φ of each kernel size m"),
    )
    models = {name: result.model for name, result in selected(fits).items()}
    figures += model_figures(models, split.test[:1], out_dir / demo.key, demo.title)
    echo(f"Figures in {out_dir}: " + ", ".join(path.name for path in figures))
    return rows, figures


def best_baseline(split: Split, seed: int = 0) -> Baseline:
    """Every baseline of :data:`sanets.baselines.BASELINES` that runs here on these examples, fitted with its
    small grids, and the one of lowest validation phi."""
    fitted = [cls.quick().fit(split.train, split.validation, seed=seed) for cls in BASELINES.values()
              if cls.runs_on(split.train.dim() - 2)]
    return fitted[first_lowest([baseline.validation.flithos for baseline in fitted])]


def format_table(rows: list[DemoRow]) -> list[str]:
    """The lines of an aligned table: activation, m, CR^-1, L~, phi (2 decimals)."""
    width = max(len("activation"), *(len(row.activation) for row in rows))
    lines = [f"  {'activation':<{width}}  {'m':>3}  {'CR^-1':>6}  {'L~':>6}  {'phi':>6}"]
    lines += [
        f"  {row.activation:<{width}}  {row.kernel_size:>3}  {row.inverse_compression_ratio:>6.2f}  "
        f"{row.reconstruction_loss:>6.2f}  {row.flithos:>6.2f}"
        for row in rows
    ]
    return lines


def _bar(items, description: str):
    """``items`` behind a progress bar on a terminal (nothing in logs and captured output)."""
    tqdm = require("tqdm.auto", "progress bars").tqdm
    return tqdm(items, desc=description, unit="activation", leave=False, disable=None)
