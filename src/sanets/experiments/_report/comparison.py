"""The report's comparison of each table with the paper, with the measured effects of known differences."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

from sanets.experiments._experiment import Experiment
from sanets.experiments._report.rows import Row
from sanets.experiments._units import ORIGINAL, Unit

__all__ = ["comparison"]


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else math.nan


def comparison(experiment: Experiment, rows: Sequence[Row], results: dict[Unit, dict], primary_init: str) -> list[str]:
    """Markdown lines comparing ``experiment``'s rows with the paper's, and what each known difference changes."""
    primary = [row for row in rows if row.unit.init == primary_init]
    compared = [row for row in primary if "flithos" in row.paper]
    lines = [f"### Table {experiment.table}: {experiment.name}", ""]
    if not compared:
        return lines + ["No published values to compare with for the rows that ran.", ""]
    differences = [row.values["flithos"] - row.paper["flithos"] for row in compared]
    lines.append(
        f"{sum(abs(d) <= 0.05 for d in differences)} of {len(compared)} φ̄ values lie within 0.05 of the paper's "
        f"(mean ours − paper {_mean(differences):+.3f}, mean |difference| {_mean(map(abs, differences)):.3f})."
    )
    far = [row for row, difference in zip(compared, differences) if abs(difference) > 0.05]
    if far:
        lines.append("Beyond 0.05: " + "; ".join(
            f"{row.unit.dataset} {row.unit.activation}" + (f" m={row.unit.kernel_size}" if experiment.label_column == "m" else "")
            + f" {row.values['flithos']:.2f} vs {row.paper['flithos']:.2f}" for row in far) + ".")
    changes = [row.values["accuracy_change"] - row.paper["accuracy_change"]
               for row in primary if "accuracy_change" in row.paper and "accuracy_change" in row.values]
    if changes:
        lines.append(
            f"A% (accuracy change against the classifier on the original data, in points): mean ours − paper "
            f"{_mean(changes):+.1f}, mean |difference| {_mean(map(abs, changes)):.1f}, over {len(changes)} values."
        )
    lines.append("")
    effects = experiment.effects(list(rows), results, primary_init)
    last = [results[row.unit]["test_last_epoch"]["flithos"] - row.values["flithos"] for row in primary]
    effects.append(
        f"- Best epoch: testing the last epoch's weights (the authors' \"best\" model was the live one) instead of "
        f"the best validation epoch's changes test φ̄ by {_mean(last):+.3f} on average."
    )
    if experiment.sweep.dims == 2:
        size = math.prod(experiment.spatial_shape)
        shifts = {row.unit.kernel_size: experiment.sweep.num_kernels * (row.unit.kernel_size**2 - row.unit.kernel_size) / size
                  for row in primary}
        effects.append(
            "- Weights in 2D: we count m² weights per kernel, the authors m; their CR⁻¹ is lower by "
            + ", ".join(f"{shift:.3f} (m={m})" for m, shift in sorted(shifts.items())) + "."
        )
    classified = [results[row.unit]["classifier"] for row in primary if "classifier" in results[row.unit]]
    if classified:
        effects.append(
            "- Classifier epoch: testing each classifier's last epoch (the authors' code kept the live model) instead of "
            "its best validation epoch changes the test accuracy by "
            f"{_mean(c['last_epoch_test_accuracy'] - c['test_accuracy'] for c in classified):+.2f} points on average."
        )
    original = results.get(Unit(experiment.name, experiment.datasets[0], primary_init, ORIGINAL, 0))
    if original is not None:
        classifier = original["classifier"]
        effects.append(
            f"- Baseline accuracy: the classifier on the original data reaches {classifier['test_accuracy']:.2f}% on test "
            f"(best validation epoch {classifier['best_epoch']}); the authors' formula (last epoch, validation and test "
            f"counted together) gives {classifier['authors_accuracy']:.2f}%."
        )
    return lines + ["Measured effects of the known differences from the authors' code:", ""] + effects + [""]
