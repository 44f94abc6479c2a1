"""The rows of Tables I-III from the unit results, beside the paper's, and keys-values.csv's pairs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sanets.activations import ACTIVATIONS
from sanets.baselines import BASELINES
from sanets.experiments._experiment import Experiment, best_validation_flithos
from sanets.experiments._registry import EXPERIMENTS
from sanets.experiments._units import ORIGINAL, Unit
from sanets.training import first_lowest

__all__ = [
    "Row", "table_rows", "baseline_rows", "best_rows", "keys_values", "best_keys",
    "METRICS", "HEADERS", "KEY_NAMES", "SUPERVISED_ACCURACY_KEYS",
]

METRICS = ("inverse_compression_ratio", "reconstruction_loss", "flithos")
KEY_NAMES = {
    "kernel_size": "kernel-size",
    "inverse_compression_ratio": "inverse-compression-ratio",
    "reconstruction_loss": "reconstruction-loss",
    "flithos": "flithos",
    "accuracy": "accuracy",
    "accuracy_change": "accuracy-change",
    "parameters": "parameters",
    "name": "name",
}
HEADERS = {
    "kernel_size": "m",
    "inverse_compression_ratio": "CR⁻¹",
    "reconstruction_loss": "L̃",
    "flithos": "φ̄",
    "accuracy_change": "A%",
}
SUPERVISED_ACCURACY_KEYS = {
    "uci-epilepsy": "uci-epilepsy-supervised-accuracy",
    "mnist": "mnist-supervised-accuracy",
    "fashion-mnist": "fashionmnist-supervised-accuracy",
}
"""The authors' keys for the classifiers' test accuracy on the original data."""


@dataclass
class Row:
    """One activation's result in one line of a table, beside the paper's.

    Attributes
    ----------
    unit : Unit
        The run shown.
    values : dict of str to float
        Test means of CR^-1, L~, phi; ``kernel_size`` where the lines are not
        kernel sizes (Table I); ``accuracy`` and ``accuracy_change`` (percentage
        points) with a classifier (Tables II and III).
    paper : dict of str to float
        The paper's values of the same quantities, where published.
    parameters : str
        A baseline's chosen parameters, e.g. ``"bior2.2/periodization/k=75"``.
    weights : int or None
        A baseline's W (Eq. 2).
    """

    unit: Unit
    values: dict[str, float]
    paper: dict[str, float] = field(default_factory=dict)
    parameters: str = ""
    weights: int | None = None

    @property
    def experiment(self) -> Experiment:
        return EXPERIMENTS[self.unit.experiment]

    @property
    def label(self) -> str:
        """The table line of the row."""
        return self.experiment.label(self.unit)

    @property
    def quantities(self) -> list[str]:
        """The table's columns for this row, in order."""
        return [name for name in HEADERS if name in self.values]


def table_rows(experiment: Experiment, results: dict[Unit, dict], init: str) -> list[Row]:
    """The rows of ``experiment``'s table under ``init``, from the unit results.

    Per dataset and activation, the units :meth:`Experiment.select` keeps (Table
    I: the m of lowest validation phi; Tables II and III: every m), scored on
    test, with A% against the classifier on the original data.
    """
    rows = []
    units = [u for u in results if u.experiment == experiment.name and u.init == init and u.is_san]
    for dataset in experiment.datasets:
        original = results.get(Unit(experiment.name, dataset, init, ORIGINAL, 0))
        for activation in ACTIVATIONS:
            candidates = sorted(u for u in units if (u.dataset, u.activation) == (dataset, activation))
            if not candidates:
                continue
            for unit in experiment.select(candidates, results):
                record = results[unit]
                values = {name: record["test"][name] for name in METRICS}
                published = experiment.paper(unit)
                paper = {} if published is None else {name: getattr(published, name) for name in METRICS}
                if experiment.label_column != "m":  # the lines are not kernel sizes: m is a column
                    values["kernel_size"] = unit.kernel_size
                    if published is not None:
                        paper["kernel_size"] = published.kernel_size
                if "classifier" in record and original is not None:
                    values["accuracy"] = record["classifier"]["test_accuracy"]
                    values["accuracy_change"] = values["accuracy"] - original["classifier"]["test_accuracy"]
                    if published is not None and published.accuracy_change is not None:
                        paper["accuracy_change"] = published.accuracy_change
                rows.append(Row(unit, values, paper))
    return rows


def baseline_rows(experiment: Experiment, results: dict[Unit, dict], init: str) -> list[Row]:
    """One row per dataset and classical baseline: its test means and, with a classifier, its A% against the
    classifier on the original data of the run under ``init`` (as :func:`table_rows`)."""
    rows = []
    for dataset in experiment.datasets:
        original = results.get(Unit(experiment.name, dataset, init, ORIGINAL, 0))
        for name in BASELINES:
            unit = Unit.of_baseline(experiment.name, dataset, name)
            record = results.get(unit)
            if record is None:
                continue
            values = {quantity: record["test"][quantity] for quantity in METRICS}
            if "classifier" in record and original is not None:
                values["accuracy"] = record["classifier"]["test_accuracy"]
                values["accuracy_change"] = values["accuracy"] - original["classifier"]["test_accuracy"]
            rows.append(Row(unit, values, parameters=record["parameters"], weights=record["num_weights"]))
    return rows


def best_rows(san_rows: list[Row], baselines: list[Row], results: dict[Unit, dict]) -> dict[str, tuple[Row, Row | None]]:
    """Per dataset, the SAN row and the baseline row of lowest *validation* phi (ties: the earlier), as
    Alg. 4 would choose between them; their test phi is what they are compared on."""
    best = {}
    for dataset in dict.fromkeys(row.unit.dataset for row in san_rows):
        sans = [row for row in san_rows if row.unit.dataset == dataset]
        others = [row for row in baselines if row.unit.dataset == dataset]
        san = sans[first_lowest([best_validation_flithos(results[row.unit]) for row in sans])]
        other = others[first_lowest([results[row.unit]["validation"]["flithos"] for row in others])] if others else None
        best[dataset] = (san, other)
    return best


def keys_values(rows: Iterable[Row], results: dict[Unit, dict], primary_init: str) -> list[tuple[str, float | str]]:
    """``(key, value)`` of every number of every table, plus the authors' supervised-accuracy keys.

    Keys: ``physionet/<database>/<activation>/<quantity>`` (Table I),
    ``<experiment>/m<m>/<activation>/<quantity>`` (Tables II and III), with
    ``-init-<init>`` after the experiment for the other initialisation of
    Table I; quantities ``kernel-size``, ``inverse-compression-ratio``,
    ``reconstruction-loss``, ``flithos``, ``accuracy``, ``accuracy-change``.
    Baselines: ``physionet/<database>/baseline-<name>/...`` and
    ``<experiment>/baseline-<name>/...`` with ``parameters`` too.
    """
    pairs: list[tuple[str, float | str]] = []
    for row in rows:
        prefix = row.unit.experiment if row.unit.init in (primary_init, "") else f"{row.unit.experiment}-init-{row.unit.init}"
        key = row.experiment.key(row.unit, prefix)
        if row.parameters:
            pairs.append((f"{key}/parameters", row.parameters))
        pairs += [(f"{key}/{KEY_NAMES[name]}", value) for name, value in row.values.items()]
    originals = sorted((u for u in results if u.activation == ORIGINAL), key=lambda u: list(EXPERIMENTS).index(u.experiment))
    pairs += [(SUPERVISED_ACCURACY_KEYS[u.experiment], results[u]["classifier"]["test_accuracy"]) for u in originals]
    return pairs


def best_keys(experiment: Experiment, best: dict[str, tuple[Row, Row | None]]) -> list[tuple[str, float | str]]:
    """``<scope>/best-san/flithos`` and ``<scope>/best-baseline/{name,flithos}`` per dataset
    (``physionet/<database>`` or ``<experiment>``): the test phi of the SAN and of the baseline chosen on
    validation."""
    pairs: list[tuple[str, float | str]] = []
    for dataset, (san, baseline) in best.items():
        scope = experiment.scope(dataset, experiment.name)
        pairs.append((f"{scope}/best-san/flithos", san.values["flithos"]))
        if baseline is not None:
            pairs += [(f"{scope}/best-baseline/name", baseline.unit.baseline),
                      (f"{scope}/best-baseline/flithos", baseline.values["flithos"])]
    return pairs
