"""Which sparse representation suits a signal? Table I's protocol on any recording (``sanets compare``, issue 30).

Each channel of a recording is cut as the paper cuts the first record of a
PhysioNet database (Sec. IV-A): its first 12 windows of 1000 samples, each
standardised (mean 0, sample std 1), the first 6 in time to train, the next 2
to validate, the last 4 to test. A channel of fewer windows (at least 3) keeps
the proportions 6 : 2 : 4 in time: ``round(w / 6)`` validation and
``round(w / 3)`` test windows, each at least one, the rest to train. Constant
windows cannot be standardised: they are left out (as ``sanets fit`` does),
and the windows counted are the others.

On these splits it runs the paper's SANs (Table I's sweep of m for every
activation, the m of lowest validation phi per activation), every SAN variant
(:mod:`sanets.experiments.variants`) and every classical baseline that can run
(:data:`sanets.baselines.BASELINES`), each choosing its parameters on
validation; each is scored on test with phi and the bit-aware phi
(:func:`sanets.metrics.flithos_bits`). The best SAN, variant and baseline
are those of lowest *validation* phi, as Alg. 4 would choose; the verdict
compares their test phi.

Every row is also scored under the amortised protocol (our addition): the
same models and spikes, with W charged once per recording instead of once per
window (W / R per window, R the windows of 1000 samples the channel holds),
with its own best rows (by amortised validation phi) and verdict.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from sanets import _threads
from sanets._validation import check_int
from sanets.activations import ACTIVATIONS
from sanets.baselines import BASELINES, Baseline
from sanets.datasets import (
    finite_samples,
    load_signal,
    select_channels,
    standardize_windows,
)
from sanets.errors import DataError
from sanets.experiments._experiment import evaluate_model, why_lost
from sanets.experiments._units import Settings
from sanets.experiments.table_i import TABLE_I
from sanets.experiments.variants import VARIANTS, run_variant
from sanets.model import SAN
from sanets.sweep import Sweep
from sanets.training import Evaluation, first_lowest

__all__ = [
    "WINDOW",
    "WINDOWS",
    "ChannelComparison",
    "Representation",
    "check_names",
    "compare_recordings",
    "compare_splits",
    "protocol_splits",
]

WINDOW = 1000
"""Samples per window (Table I)."""
WINDOWS = 12
"""Windows per channel (Table I: the first 12000 samples), split 6 / 2 / 4 in time."""


@dataclass(frozen=True)
class Representation:
    """One row of a comparison: a representation chosen on validation, scored on test.

    Attributes
    ----------
    kind : {"san", "variant", "baseline"}
    name : str
        The activation, the variant's or the baseline's name.
    parameters : str
        What validation chose, e.g. ``"m=37"`` or ``"bior2.2/periodization/k=75"``.
    num_weights : int
        W (Eq. 2).
    validation_flithos : float
        Its mean validation phi, on which it was chosen.
    test : Evaluation
        Its test means of CR^-1, L~, phi and the bit-aware phi.
    seconds : float
        Time to choose and score it.
    amortised_validation_flithos : float
        Its mean validation phi with W charged once per recording (the amortised protocol).
    amortised : Evaluation
        Its test means under the amortised protocol.
    """

    kind: str
    name: str
    parameters: str
    num_weights: int
    validation_flithos: float
    test: Evaluation
    seconds: float
    amortised_validation_flithos: float
    amortised: Evaluation

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "parameters": self.parameters, "num_weights": self.num_weights,
                "validation_flithos": self.validation_flithos, **asdict(self.test), "seconds": self.seconds,
                "amortised": {"validation_flithos": self.amortised_validation_flithos, **asdict(self.amortised)}}


@dataclass
class ChannelComparison:
    """Every representation of one channel of one input, and which of each kind validation chose."""

    input: str
    channel: str
    windows: tuple[int, int, int]
    rows: list[Representation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recording_windows: int = 0
    """The windows of 1000 samples the channel holds: the amortised protocol charges W once per that many."""

    def best(self, kind: str, amortised: bool = False) -> Representation | None:
        """The row of ``kind`` of lowest validation phi (ties: the earlier), or None; ``amortised``: of lowest
        validation phi under the amortised protocol."""
        rows = [row for row in self.rows if row.kind == kind]
        criterion = "amortised_validation_flithos" if amortised else "validation_flithos"
        return rows[first_lowest([getattr(row, criterion) for row in rows])] if rows else None

    def as_json(self) -> dict:
        """``{"input", "channel", "windows", "best_san", "best_variant", "best_baseline", "amortised", "rows",
        "notes"}``; ``amortised`` holds ``recording_windows`` and the three best under that protocol."""
        def summary(row: Representation | None, amortised: bool = False) -> dict | None:
            scores = None if row is None else row.amortised if amortised else row.test
            return None if row is None else {"name": row.name, "parameters": row.parameters,
                                             "flithos": scores.flithos, "flithos_bits": scores.flithos_bits}

        kinds = ("san", "variant", "baseline")
        return {"input": self.input, "channel": self.channel, "windows": dict(zip(("train", "validation", "test"), self.windows)),
                **{f"best_{kind}": summary(self.best(kind)) for kind in kinds},
                "amortised": {"recording_windows": self.recording_windows,
                              **{f"best_{kind}": summary(self.best(kind, True), True) for kind in kinds}},
                "rows": [row.as_dict() for row in self.rows], "notes": self.notes}

    def verdict(self, amortised: bool = False) -> str:
        """One line: the chosen SAN, variant and baseline on test, and whether learning beat the best baseline."""
        def scores(row: Representation) -> Evaluation:
            return row.amortised if amortised else row.test

        def validation(row: Representation) -> float:
            return row.amortised_validation_flithos if amortised else row.validation_flithos

        chosen = [(kind, row) for kind in ("san", "variant", "baseline") if (row := self.best(kind, amortised)) is not None]
        parts = [f"best {kind} {row.name} ({row.parameters}) φ̄ {scores(row).flithos:.3f} (bits {scores(row).flithos_bits:.3f})"
                 for kind, row in chosen]
        baseline = self.best("baseline", amortised)
        learned = [row for kind, row in chosen if kind != "baseline"]
        if baseline is not None and learned:
            learner = learned[first_lowest([validation(row) for row in learned])]  # as Alg. 4 would: on validation
            wins = [name for name, field_ in (("φ̄", "flithos"), ("bit-aware φ̄", "flithos_bits"))
                    if getattr(scores(learner), field_) < getattr(scores(baseline), field_)]
            why = why_lost(asdict(scores(learner)), asdict(scores(baseline)), validation(learner), validation(baseline))
            parts.append((f"{learner.kind} {learner.name} beats the best baseline on {' and '.join(wins)}" if wins else
                          "no SAN beats the best baseline") + (f" (behind by {why})" if why else ""))
        protocol = f"W once per {self.recording_windows} windows: " if amortised else ""
        return protocol + "; ".join(parts)


def check_names(activations: Sequence[str] | None, variants: Sequence[str] | None, baselines: Sequence[str] | None) -> None:
    """Refuse unknown activation, variant or baseline names, listing the valid ones."""
    for what, given, known in (("activation", activations, ACTIVATIONS), ("variant", variants, VARIANTS),
                               ("baseline", baselines, BASELINES)):
        unknown = [name for name in given or () if name not in known]
        if unknown:
            raise ValueError(f"unknown {what} {unknown[0]!r}; choose from {', '.join(known)}")


def protocol_splits(samples: np.ndarray, source: str = "signal") -> tuple[dict[str, Tensor], list[str]]:
    """One channel's ``(S,)`` finite samples cut as Table I: ``train``, ``validation``, ``test`` ``(w, 1, 1000)``.

    Returns
    -------
    splits : dict of str to Tensor
        float32, each window standardised.
    notes : list of str
        Constant windows left out, a channel shorter than 12 windows.

    Raises
    ------
    DataError
        Fewer than 3 non-constant windows of 1000 samples.
    """
    count = len(samples) // WINDOW
    standardized, _, _, constant = standardize_windows(np.asarray(samples[: count * WINDOW]).reshape(count, WINDOW))
    notes = [f"{int(constant.sum())} constant window(s) left out (they cannot be standardised)"] if constant.any() else []
    windows = standardized[~constant][:WINDOWS]
    if len(windows) < 3:
        flat = " (every window is constant: a flat line cannot be standardised)" if count and constant.all() else ""
        raise DataError(f"{source}: {len(samples)} samples make {len(windows)} usable window(s) of {WINDOW}{flat}; the "
                        "Table I protocol needs at least 3 (train, validation and test), 12 for its 6 / 2 / 4 split")
    if len(windows) < WINDOWS:
        notes.append(f"{len(windows)} windows instead of {WINDOWS}: split in the proportions 6 : 2 : 4")
    validation = max(1, round(len(windows) / 6))
    test = max(1, round(len(windows) / 3))
    train = len(windows) - validation - test
    if train < 1:
        train, test = 1, test - 1
    x = torch.tensor(windows, dtype=torch.float32)[:, None]
    return {"train": x[:train], "validation": x[train : train + validation], "test": x[train + validation :]}, notes


def compare_splits(
    splits: dict[str, Tensor],
    *,
    activations: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    baselines: Sequence[str] | None = None,
    quick: bool = False,
    seed: int = 0,
    init: str = "constant",
    recording_windows: int | None = None,
    workers: int = 1,
    echo: Callable[[str], object] = lambda line: None,
) -> tuple[list[Representation], list[str]]:
    """The paper's SANs, the variants and the baselines on ``splits``, each chosen on validation, scored on test.

    Parameters
    ----------
    splits : dict of str to Tensor
        ``train``, ``validation``, ``test``, each ``(N, 1, L)``.
    activations, variants, baselines : sequence of str, optional
        The paper's SANs (by activation), variants and baselines to run (default: all; an empty sequence: none).
    quick : bool
        Table I's quick sweep (m in 1, 4, 8, 16, 32, 64; 5 epochs), each variant's first configuration and
        each baseline's quick grid.
    init : str
        The paper's SANs' initialisation (``sanets reproduce``'s default: the authors' constant 0.1).
    recording_windows : int, optional
        The windows the recording holds, over which the amortised protocol spreads W (default: those of
        ``splits``).
    workers : int
        Processes on this machine (at most one per core, :mod:`sanets._threads`): with 2 or more, the variants run
        in a second process (joblib's loky, kept for the next call; one process without joblib) while this one
        runs the paper's SANs and the baselines, each process with its share of the cores (CPU splits only). Most
        of the work holds one core whatever torch's threads, so the second process saves about a quarter of the
        time on 2 cores (the variants are the longer part). The rows are the same (up to float rounding where
        torch's threads differ).

    Returns
    -------
    rows : list of Representation
        The paper's SANs by activation, then the variants, then the baselines.
    notes : list of str
        Baselines left out for a missing optional dependency.
    """
    check_names(activations, variants, baselines)
    workers = check_int(workers, "workers", 1)
    length = splits["train"].shape[-1]
    sweep = TABLE_I.sweep_for(Settings(seed, quick))
    sweep = replace(sweep, kernel_sizes=tuple(m for m in sweep.kernel_sizes if m <= length))
    shared_by = recording_windows or sum(len(x) for x in splits.values())
    variants = list(VARIANTS if variants is None else variants)
    processes, threads = _threads.worker_plan(min(workers, 2))  # two groups of work: the variants, and the rest
    parallel = (processes > 1 and bool(variants) and splits["train"].device.type == "cpu"
                and importlib.util.find_spec("joblib") is not None)  # without it (extra [experiments]): one process
    if parallel:
        from joblib.externals.loky import get_reusable_executor

        pending = get_reusable_executor(max_workers=1).submit(_variant_rows, splits, variants, sweep, quick, seed,
                                                               shared_by, threads)
    own_threads = torch.get_num_threads()
    if parallel:
        torch.set_num_threads(threads)
    try:
        sans, others, notes = [], [], []
        for activation in ACTIVATIONS if activations is None else activations:
            start = time.perf_counter()
            fits = sweep.fit(activation, splits["train"], splits["validation"], init=init, seed=seed)
            chosen = first_lowest([fit.best_flithos for fit in fits])
            sans.append(_represent("san", activation, f"m={sweep.kernel_sizes[chosen]}", fits[chosen].model,
                                   fits[chosen].best_flithos, start, splits, shared_by))
            echo(_line(sans[-1]))
        if not parallel:
            for row in _variant_rows(splits, variants, sweep, quick, seed, shared_by):
                echo(_line(row))
                others.append(row)
        for name in BASELINES if baselines is None else baselines:
            cls = BASELINES[name]
            if not cls.runs_on(1):
                notes.append(f"baseline {name} left out: {cls.unavailable() or 'it codes images only'}")
                continue
            start = time.perf_counter()
            baseline = (cls.quick() if quick else cls()).fit(splits["train"], splits["validation"], seed=seed)
            others.append(_represent("baseline", name, baseline.parameters, baseline, baseline.validation.flithos, start,
                                     splits, shared_by))
            echo(_line(others[-1]))
    finally:
        torch.set_num_threads(own_threads)
    if parallel:
        for row in (variant_rows := pending.result()):
            echo(_line(row))
        others = variant_rows + others
    return sans + others, notes


def _variant_rows(splits: dict[str, Tensor], names: Sequence[str], sweep: Sweep, quick: bool, seed: int,
                  shared_by: int, threads: int | None = None) -> list[Representation]:
    """The rows of the variants ``names``, in order (``threads``: torch's threads here, in a worker process). The
    configurations one trains are kept for the next, so ``auto`` and ``joined-gabor`` train nothing again."""
    if threads is not None:
        torch.set_num_threads(threads)
    rows, fitted = [], {}
    for name in names:
        start = time.perf_counter()
        model, record = run_variant(name, sweep, (splits["train"].shape[-1],), splits, seed, quick, fitted)
        rows.append(_represent("variant", name, record["configuration"], model, record["validation"]["flithos"], start,
                               splits, shared_by))
    return rows


def _represent(kind: str, name: str, parameters: str, chosen: SAN | Baseline, validation_flithos: float, start: float,
               splits: dict[str, Tensor], shared_by: int) -> Representation:
    """The row of ``chosen``: scored on test under both protocols, timed from ``start``."""
    return Representation(kind, name, parameters, chosen.num_weights, validation_flithos,
                          evaluate_model(chosen, splits["test"]), time.perf_counter() - start,
                          evaluate_model(chosen, splits["validation"], shared_by).flithos,
                          evaluate_model(chosen, splits["test"], shared_by))


def _line(row: Representation) -> str:
    return (f"{row.kind:<9}{row.name:<26}{row.parameters[:44]:<46}{row.num_weights:>6}{row.validation_flithos:>9.3f}"
            f"{row.test.inverse_compression_ratio:>8.3f}{row.test.reconstruction_loss:>8.3f}{row.test.flithos:>8.3f}"
            f"{row.test.flithos_bits:>8.3f}{row.amortised.flithos:>8.3f}{row.amortised.flithos_bits:>8.3f}{row.seconds:>8.1f}")


HEADER = (f"{'kind':<9}{'name':<26}{'parameters (chosen on validation)':<46}{'W':>6}{'val φ̄':>9}{'CR⁻¹':>8}{'L̃':>8}"
          f"{'φ̄':>8}{'bits':>8}{'am. φ̄':>8}{'bits':>8}{'s':>8}")
"""The column heads of :func:`compare_splits`'s echoed rows (test means unless marked val; ``am.``: W charged once
per recording)."""


def compare_recordings(
    paths: Sequence[str | os.PathLike],
    *,
    channels: Sequence[int | str] | None = None,
    activations: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    baselines: Sequence[str] | None = None,
    quick: bool = False,
    seed: int = 0,
    fill: str | None = None,
    workers: int = 1,
    echo: Callable[[str], object] = lambda line: None,
) -> list[ChannelComparison]:
    """:func:`compare_splits` on every channel (or ``channels``) of every recording :func:`load_signal` reads
    (``workers``: processes per channel, as there).

    Every recording is read and cut before any training, so a bad input (an unknown channel, NaN samples without
    ``fill``, a channel too short or flat) fails at once, with the error ``sanets fit`` gives.
    """
    check_names(activations, variants, baselines)
    check_int(workers, "workers", 1)
    prepared = []
    for path in paths:
        signal = select_channels(load_signal(path), channels)
        data = finite_samples(signal, fill)
        for name, samples in zip(signal.channel_names, data):
            splits, notes = protocol_splits(samples, f"{signal.source}, channel {name}")
            prepared.append((str(path), name, splits, notes, max(len(samples) // WINDOW, sum(map(len, splits.values())))))
    comparisons = []
    for path, name, splits, notes, recording_windows in prepared:
        echo(f"{path}, channel {name}: {', '.join(f'{len(x)} {split}' for split, x in splits.items())} windows "
             f"(the recording holds {recording_windows})")
        echo(HEADER)
        rows, more = compare_splits(splits, activations=activations, variants=variants, baselines=baselines, quick=quick,
                                    seed=seed, recording_windows=recording_windows, workers=workers, echo=echo)
        comparison = ChannelComparison(path, name, tuple(len(x) for x in splits.values()), rows, notes + more,
                                       recording_windows)
        for note in comparison.notes:
            echo(f"note: {note}")
        echo(comparison.verdict())
        echo(comparison.verdict(amortised=True))
        comparisons.append(comparison)
    return comparisons
