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
from tqdm.auto import tqdm

from sanets import plots
from sanets.activations import ACTIVATIONS
from sanets.model import SAN
from sanets.sweep import Protocol
from sanets.training import Evaluation, evaluate

__all__ = [
    "run_demo",
    "run_protocol",
    "sweep",
    "format_table",
    "write_figures",
    "load_ecg",
    "load_digits",
    "DemoResult",
    "DemoRow",
    "Candidate",
    "Protocol",
    "Split",
    "ECG",
    "DIGITS",
]

Echo = Callable[[str], object]


ECG = Protocol(
    key="ecg",
    title="ECG",
    kernel_sizes=(4, 8, 12, 16, 24, 32, 48, 64),
    num_kernels=1,
    dims=1,
    border_tolerance=3,
    epochs=30,
    batch_size=2,
)
"""The ECG protocol: Table I's PhysioNet settings, scaled to 128-sample windows."""

DIGITS = Protocol(
    key="digits",
    title="Digits",
    kernel_sizes=(1, 2, 3, 4, 5),
    num_kernels=2,
    dims=2,
    border_tolerance=2,
    epochs=5,
    batch_size=64,
)
"""The digits protocol: the paper's MNIST settings on 8x8 images."""


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


@dataclass
class Candidate:
    """A SAN fitted with one activation and kernel size, holding its best epoch's weights.

    Attributes
    ----------
    kernel_size : int
        m.
    model : SAN
        The fitted model, with the weights of its best validation epoch.
    validation : Evaluation
        Mean validation CR^-1, L~ and phi of that epoch.
    """

    kernel_size: int
    model: SAN
    validation: Evaluation


def load_ecg(window: int = 128) -> Split:
    """PyWavelets' ECG excerpt, standardised, cut into windows of shape ``(N, 1, window)``.

    Half the windows train, a quarter validate, a quarter test. The paper standardises each PhysioNet signal before cutting it (Sec. IV-A);
    the windows are split in time order so that test data follow training data.
    """
    import pywt

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
    from sklearn.datasets import load_digits as sklearn_digits

    images = torch.from_numpy(sklearn_digits().images).float().div(16.0).unsqueeze(1)
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
        for protocol, split in ((ECG, load_ecg()), (DIGITS, load_digits(seed))):
            echo("")
            rows, figures = run_protocol(protocol, split, out_dir, seed, echo)
            result.rows.extend(rows)
            result.figures.extend(figures)
        return result
    finally:
        torch.set_num_threads(threads)


def run_protocol(
    protocol: Protocol, split: Split, out_dir: Path, seed: int = 0, echo: Echo = print
) -> tuple[list[DemoRow], list[Path]]:
    """Sweep, select, test and draw one dataset; echo its table.

    Parameters
    ----------
    protocol : Protocol
    split : Split
        Examples of shape ``(N, 1, L)`` for a 1D protocol, ``(N, 1, H, W)`` for 2D.
    out_dir : Path
        Folder for the figures (created if missing).
    seed : int
        Seed of every SAN's initialisation and batch order; all activations
        start from the same kernels for a given m, so they are compared fairly.
    echo : callable

    Returns
    -------
    rows : list of DemoRow
        One per activation.
    figures : list of Path
    """
    echo(f"{protocol.title}: {split.source}.")
    echo(protocol.describe())
    candidates = sweep(protocol, split, seed)
    selected = {name: min(fitted, key=_validation_flithos) for name, fitted in candidates.items()}
    rows = [_test_row(protocol, name, candidate, split.test) for name, candidate in selected.items()]
    echo("Per activation, the m and epoch with the lowest validation phi; scores on test:")
    for line in format_table(rows):
        echo(line)
    figures = write_figures(protocol, split, candidates, selected, out_dir)
    echo(f"Figures in {out_dir}: " + ", ".join(path.name for path in figures))
    return rows, figures


def sweep(protocol: Protocol, split: Split, seed: int = 0) -> dict[str, list[Candidate]]:
    """Fit one SAN per activation and kernel size, keeping each one's best epoch (Alg. 4).

    All kernel sizes of an activation train together (:func:`sanets.sweep.fit_sweep`);
    with one seed, every activation starts from the same kernels for a given m.

    Returns
    -------
    dict of str to list
        Per activation (in :data:`ACTIVATIONS` order), the fitted candidates in
        the order of ``protocol.kernel_sizes``.
    """
    candidates: dict[str, list[Candidate]] = {}
    # disable=None: a bar on a terminal, nothing in logs and captured output.
    for name in tqdm(ACTIVATIONS, desc=f"{protocol.title}: fitting SANs", unit="activation", leave=False, disable=None):
        results = protocol.fit(name, split.train, split.validation, init="normal", seed=seed)
        candidates[name] = [Candidate(r.kernel_size, r.model, r.history[r.best_epoch - 1]) for r in results]
    return candidates


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


def write_figures(
    protocol: Protocol,
    split: Split,
    candidates: dict[str, list[Candidate]],
    selected: dict[str, Candidate],
    out_dir: Path,
) -> list[Path]:
    """Write ``<key>-<figure>.png`` files into ``out_dir``; return their paths.

    Figures: the selected models' kernels (Fig. 5); the first test example's
    codes and reconstruction under each selected model; validation phi against
    m (Fig. 4b) and CR^-1 against L~ (Fig. 3) over the sweep; for 1D data also
    Fig. 1, the example through every activation with the kernel Extrema learned.
    """
    example = split.test[:1]
    figures = {
        "kernels": plots.plot_kernels({name: candidate.model for name, candidate in selected.items()}),
        "reconstructions": plots.plot_reconstructions(
            plots.reconstruction_examples({f"{name} (m={c.kernel_size})": c.model for name, c in selected.items()}, example),
            title=f"{protocol.title}: a test example, its codes and reconstruction",
        ),
        "flithos-vs-m": plots.plot_flithos_vs_kernel_size(
            {name: ([c.kernel_size for c in fitted], [c.validation.flithos for c in fitted]) for name, fitted in candidates.items()}
        ),
        "tradeoff": plots.plot_tradeoff(
            {
                name: [(c.validation.inverse_compression_ratio, c.validation.reconstruction_loss) for c in fitted]
                for name, fitted in candidates.items()
            }
        ),
    }
    figures["flithos-vs-m"].suptitle(f"{protocol.title}: validation " + r"$\varphi$ of each kernel size m")
    figures["tradeoff"].suptitle(f"{protocol.title}: validation " + r"$CR^{-1}$ and $\tilde{L}$, one point per kernel size")
    if protocol.dims == 1:
        kernel_source = selected["extrema"]
        figures["activations"] = plots.plot_activations(example[0], plots.activation_maps(kernel_source.model, example))
        figures["activations"].suptitle(
            f"{protocol.title}: a test example through each activation\n"
            f"(the kernel Extrema learned, m={kernel_source.kernel_size})"
        )
    return [plots.save_figure(figure, out_dir / f"{protocol.key}-{name}.png") for name, figure in figures.items()]


def _validation_flithos(candidate: Candidate) -> float:
    # Ties go to the first, that is the smaller, kernel size: min() keeps the first minimum.
    return candidate.validation.flithos


def _test_row(protocol: Protocol, activation: str, candidate: Candidate, test: Tensor) -> DemoRow:
    scores = evaluate(candidate.model, test)
    return DemoRow(
        protocol.title,
        activation,
        candidate.kernel_size,
        scores.inverse_compression_ratio,
        scores.reconstruction_loss,
        scores.flithos,
    )
