"""What every paper table shares: its sweep, its data, how one task of it runs, how its rows are chosen and named.

:class:`Experiment` holds the parts common to Tables I-III; each table's module
(:mod:`~sanets.experiments.table_i`, ``table_ii``, ``table_iii``) fills in its
data, protocol and the few rules where the tables differ.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
from torch import Tensor

from sanets.baselines import BASELINES, Baseline
from sanets.datasets import Splits
from sanets.experiments._units import ORIGINAL, Settings, Task, Unit
from sanets.experiments.classifiers import train_classifiers
from sanets.experiments.paper import PaperRow, paper_row
from sanets.experiments.variants import run_variant
from sanets.model import SAN
from sanets.sweep import Sweep, evaluate_many, reconstruct_many
from sanets.training import Evaluation, evaluate, first_lowest

__all__ = ["Experiment", "best_validation_flithos", "select_by_validation", "why_lost"]

RECONSTRUCTION_BYTES = 3 << 29
"""Memory for the reconstructions that a task's classifiers train on: the SANs of a sweep reconstruct all
splits in one packed pass (5x faster than one model at a time on MNIST) as many at a time as fit in it. 1.5 GiB
holds the six of a Table III task (1.3 GB), whose classifiers then train in one lockstep group instead of two
(MNIST, identity: 21.5 -> 17.8 s with the original images' classifier)."""


def best_validation_flithos(record: dict) -> float:
    """A unit's validation phi: the lowest over the epochs of a SAN's record (Alg. 4's criterion), or the one
    of a baseline's or variant's chosen parameters."""
    validation = record["validation"]
    return validation["flithos"] if isinstance(validation, dict) else min(epoch["flithos"] for epoch in validation)


def select_by_validation(units: list[Unit], results: dict[Unit, dict]) -> Unit:
    """Of units (e.g. of one activation, ordered by m), the one of lowest validation phi.

    Ties go to the earlier, e.g. the smaller m (:func:`sanets.training.first_lowest`).
    """
    return units[first_lowest([best_validation_flithos(results[unit]) for unit in units])]


def why_lost(learned: dict, baseline: dict, learned_validation: float, baseline_validation: float) -> str | None:
    """Where a learned representation is not below the best baseline on test phi or bit-aware phi (issue 30): by
    how much, and why, from its validation phi beside the baseline's (validation already preferred the baseline;
    or it preferred the learned one and test did not; or only the spikes' indices cost more). None where it wins
    both. ``learned`` and ``baseline``: test means (``flithos``, ``flithos_bits``)."""
    behind = {name: learned[key] - baseline[key] for name, key in (("φ̄", "flithos"), ("bit-aware φ̄", "flithos_bits"))
              if learned.get(key) is not None and baseline.get(key) is not None and learned[key] >= baseline[key]}
    if not behind:
        return None
    margins = " and ".join(f"{difference:+.4f} {name}" for name, difference in behind.items())
    compared = f"validation φ̄ {learned_validation:.4f} against {baseline_validation:.4f}"
    if "φ̄" not in behind:
        indices = [scores["flithos_bits"] - scores["flithos"] for scores in (learned, baseline)]
        reason = (f"lower on φ̄, but its spikes' indices add more bits ({indices[0]:+.4f} against {indices[1]:+.4f} to "
                  "φ̄): a larger dictionary or more spikes")
    elif learned_validation < baseline_validation:
        reason = f"validation preferred it ({compared}) and test did not: the validation windows did not predict the test windows"
    else:
        reason = f"its validation φ̄ was not lower either ({compared}): the learned kernels did not pay even on validation"
    return f"{margins} on test; {reason}"


@dataclass(frozen=True)
class Experiment:
    """One target of ``sanets reproduce``: a paper table on its dataset(s).

    Attributes
    ----------
    name : str
        Target name, also the prefix of its keys in ``keys-values.csv``.
    table : str
        ``"I"``, ``"II"`` or ``"III"``.
    datasets : tuple of str
        Dataset names (see :data:`sanets.datasets.DATASETS`).
    sweep : Sweep
        The paper's SANs and training protocol.
    spatial_shape : tuple of int
        ``(L,)`` or ``(H, W)`` of the examples; bounds the kernel sizes.
    quick_sweep : (tuple of int, int)
        Kernel sizes and epochs of ``--quick``.
    quick_examples : (int, int, int) or None
        Train, validation and test examples kept by ``--quick``.
    kernel_sizes_per_task : int
        Kernel sizes trained together in one task (more: less overhead; fewer:
        finer resume and parallelism).
    classifier : str or None
        Classifier trained on the reconstructions (Tables II and III).
    seconds_per_kernel_size : float
        About how long one kernel size of a ReLU sweep takes with its classifier
        (measured once, 2 cores): the runner starts the longest tasks first.
    """

    name: str
    table: str
    datasets: tuple[str, ...]
    sweep: Sweep
    spatial_shape: tuple[int, ...]
    quick_sweep: tuple[tuple[int, ...], int]
    quick_examples: tuple[int, int, int] | None
    kernel_sizes_per_task: int
    classifier: str | None = None
    seconds_per_kernel_size: float = 1.0

    label_column = "m"
    """Heading of the first column of the table: what tells its lines apart."""

    def sweep_for(self, settings: Settings) -> Sweep:
        """The sweep under ``settings`` (``--quick``, ``--epochs``)."""
        sweep = self.sweep
        if settings.quick:
            kernel_sizes, epochs = self.quick_sweep
            sweep = replace(sweep, kernel_sizes=kernel_sizes, epochs=epochs)
        if settings.epochs is not None:
            sweep = replace(sweep, epochs=settings.epochs)
        return sweep

    def inits(self, primary: str) -> list[str]:
        """The initialisations this table runs under, ``primary`` first."""
        return [primary]

    def load(self, dataset: str, data_dir: str | None) -> Splits:
        """The splits of ``dataset`` as this table uses them; never downloads."""
        raise NotImplementedError

    def data(self, dataset: str, data_dir: str | None, quick: bool) -> Splits:
        """:meth:`load`, cut to :attr:`quick_examples` under ``--quick``, cached per process."""
        return _cached_data(self, dataset, data_dir, quick)

    def recording_windows(self, data: Splits) -> int | None:
        """The windows of the recording ``data`` was cut from, over which the amortised protocol (issue 30) charges
        W once; None where the examples are not windows of one recording."""
        return None

    # What the table shows.

    def select(self, units: list[Unit], results: dict[Unit, dict]) -> list[Unit]:
        """The units that become rows, from one dataset and activation (ordered by m): every m."""
        return units

    def label(self, unit: Unit) -> str:
        """The table line a unit's row goes to."""
        return str(unit.kernel_size)

    def scope(self, dataset: str, prefix: str) -> str:
        """Where a dataset's keys live in keys-values.csv: under the experiment (one dataset per table)."""
        return prefix

    def key(self, unit: Unit, prefix: str) -> str:
        """The row's key in keys-values.csv, before ``/<quantity>``: a SAN's under its m, a baseline's under its dataset."""
        if not unit.is_san:
            return f"{self.scope(unit.dataset, prefix)}/{unit.activation}"
        return f"{prefix}/m{unit.kernel_size}/{unit.activation}"

    def paper(self, unit: Unit) -> PaperRow | None:
        """The published row the unit's row is compared with."""
        return paper_row(self.table, unit.dataset, unit.activation, unit.kernel_size)

    def effects(self, rows: list, results: dict[Unit, dict], primary_init: str) -> list[str]:
        """Lines of the report on measured differences from the authors' code that only this table has."""
        return []

    # How a task of it runs.

    def run(self, task: Task) -> list[tuple[Unit, dict]]:
        """Compute every unit of ``task``; a pure function of the task (and the data on disk).

        SAN units: Alg. 4 for all kernel sizes of the task at once; per unit the
        SAN's config and kernels, the validation means of every epoch, the best
        epoch, the test means of the best epoch's model (and of the last epoch's,
        which the authors' code reported), and, with a classifier, the classifier
        trained on the frozen SAN's reconstructions. :data:`ORIGINAL` units: the
        classifier on the original data. Baseline units: see :meth:`_run_baseline`.
        Variant units: :func:`sanets.experiments.variants.run_variant`, and the
        classifier on the chosen model's reconstructions.

        Returns
        -------
        list of (Unit, dict)
            Each unit with its JSON-able result, in the order of ``task.units``.
        """
        start = time.perf_counter()
        first = task.units[0]
        data = self.data(first.dataset, task.data_dir, task.settings.quick)
        device = torch.device(task.device)
        sweep = self.sweep_for(task.settings)
        splits = {name: getattr(data, name).to(device) for name in ("train", "validation", "test")}

        def classify_many(inputs: Callable[[str], Tensor]) -> list[dict]:
            """The classifiers trained on each of the K versions ``inputs(split name)`` ``(K, N, ...)`` of every
            split, in lockstep."""
            parts = [(inputs(name), getattr(data, f"{name}_labels").to(device)) for name in splits]
            trained = train_classifiers(
                self.classifier, *parts, epochs=sweep.epochs, batch_size=sweep.batch_size, lr=sweep.lr,
                seed=task.settings.seed,
            )
            return [asdict(result) for result in trained]

        def classify(inputs: Callable[[str], Tensor]) -> dict:
            """The classifier trained on ``inputs(split name)`` of every split."""
            return classify_many(lambda name: inputs(name)[None])[0]

        if first.activation == ORIGINAL:
            records = [{"classifier": classify(lambda name: splits[name])}]
        elif first.baseline is not None:
            records = [self._run_baseline(first.baseline, splits, task, classify, self.recording_windows(data))]
        elif first.variant is not None:
            model, record = run_variant(first.variant, sweep, self.spatial_shape, splits, task.settings.seed,
                                        task.settings.quick)
            if self.classifier is not None:
                record["classifier"] = classify(lambda name: _reconstruct(model, splits[name]))
            records = [{**record, **amortised(model, splits, self.recording_windows(data))}]
        else:
            sweep = replace(sweep, kernel_sizes=tuple(unit.kernel_size for unit in task.units))
            fits = sweep.fit(first.activation, splits["train"], splits["validation"], init=first.init,
                             seed=task.settings.seed, device=device)
            models, last_models = [fit.model.to(device) for fit in fits], [fit.last_model.to(device) for fit in fits]
            tests, last_tests = evaluate_many(models, splits["test"]), evaluate_many(last_models, splits["test"])
            records = [
                {
                    "model": model.config(),
                    "kernels": [kernel.detach().cpu().tolist() for kernel in model.kernels],
                    "best_epoch": fit.best_epoch,
                    "validation": [asdict(scores) for scores in fit.history],
                    "test": asdict(test),
                    "test_last_epoch": asdict(last_test),
                }
                for fit, model, test, last_test in zip(fits, models, tests, last_tests)
            ]
            if self.classifier is not None:
                # The models' reconstructions of all splits, packed: as many models at a time as fit the budget.
                per_model = sum(split.numel() for split in splits.values()) * splits["train"].element_size()
                group = max(1, RECONSTRUCTION_BYTES // per_model)
                for first_model in range(0, len(models), group):
                    together = {name: reconstruct_many(models[first_model : first_model + group], split)
                                for name, split in splits.items()}
                    for record, result in zip(records[first_model : first_model + group], classify_many(together.get)):
                        record["classifier"] = result
        seconds = (time.perf_counter() - start) / len(task.units)
        return [(unit, {**record, "seconds": seconds}) for unit, record in zip(task.units, records)]

    def _run_baseline(self, name: str, splits: dict[str, Tensor], task: Task, classify,
                      recording_windows: int | None) -> dict:
        """A classical baseline's parameters chosen on validation, its test scores (also :func:`amortised` over
        ``recording_windows``), its Fig. 3 curve on test (CR^-1, L~ and phi at each sparsity of the chosen
        structure) and, with a classifier, the classifier trained on its reconstructions."""
        baseline = BASELINES[name].quick() if task.settings.quick else BASELINES[name]()
        baseline.fit(splits["train"], splits["validation"], seed=task.settings.seed)
        record = {
            "baseline": name,
            "parameters": baseline.parameters,
            "num_weights": baseline.num_weights,
            "validation": asdict(baseline.validation),
            "test": asdict(baseline.evaluate(splits["test"])),
            "curve": [[sparsity, *asdict(scores).values()] for sparsity, scores in baseline.curve(splits["test"])],
            **amortised(baseline, splits, recording_windows),
        }
        if self.classifier is not None:

            def reconstruction(split: str) -> Tensor:
                x = splits[split]
                return baseline.decode(baseline.encode(x)).to(x.device, x.dtype)

            record["classifier"] = classify(reconstruction)
        return record


@functools.lru_cache(maxsize=4)
def _cached_data(experiment: Experiment, dataset: str, data_dir: str | None, quick: bool) -> Splits:
    splits = experiment.load(dataset, data_dir)
    if not (quick and experiment.quick_examples):
        return splits
    parts = {}
    for split, limit in zip(("train", "validation", "test"), experiment.quick_examples):
        parts[split] = getattr(splits, split)[:limit]
        labels = getattr(splits, f"{split}_labels")
        parts[f"{split}_labels"] = None if labels is None else labels[:limit]
    return replace(splits, **parts)


@torch.no_grad()
def amortised(model: SAN | Baseline, splits: dict[str, Tensor], recording_windows: int | None) -> dict:
    """``{"amortised": {"recording_windows", "validation", "test"}}``: ``model``'s means with W charged once per
    recording (issue 30's amortised protocol); empty without a recording."""
    if recording_windows is None:
        return {}
    return {"amortised": {"recording_windows": recording_windows, **{
        split: asdict(evaluate_model(model, splits[split], recording_windows)) for split in ("validation", "test")}}}


def evaluate_model(model: SAN | Baseline, x: Tensor, shared_by: int = 1) -> Evaluation:
    """:func:`sanets.evaluate` of a SAN, or a baseline's own (a joined dictionary's too), W charged once per
    ``shared_by`` examples."""
    return model.evaluate(x, shared_by=shared_by) if isinstance(model, Baseline) else evaluate(model, x, shared_by=shared_by)


def _reconstruct(model: SAN | Baseline, x: Tensor, batch_size: int = 1024) -> Tensor:
    """``model.decode(model.encode(x))`` in batches: ``(N, 1, *spatial)`` -> same."""
    return torch.cat([model.decode(model.encode(batch)).to(x) for batch in x.split(batch_size)])
