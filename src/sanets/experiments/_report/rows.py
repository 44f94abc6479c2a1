"""The rows of Tables I-III from the unit results, beside the paper's, and keys-values.csv's pairs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sanets.activations import ACTIVATIONS
from sanets.experiments._experiment import Experiment
from sanets.experiments._registry import EXPERIMENTS
from sanets.experiments._units import ORIGINAL, Unit

__all__ = ["Row", "table_rows", "keys_values", "METRICS", "HEADERS", "KEY_NAMES", "SUPERVISED_ACCURACY_KEYS"]

METRICS = ("inverse_compression_ratio", "reconstruction_loss", "flithos")
KEY_NAMES = {
    "kernel_size": "kernel-size",
    "inverse_compression_ratio": "inverse-compression-ratio",
    "reconstruction_loss": "reconstruction-loss",
    "flithos": "flithos",
    "accuracy": "accuracy",
    "accuracy_change": "accuracy-change",
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
    """

    unit: Unit
    values: dict[str, float]
    paper: dict[str, float] = field(default_factory=dict)

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
    units = [u for u in results if u.experiment == experiment.name and u.init == init and u.activation != ORIGINAL]
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


def keys_values(rows: Iterable[Row], results: dict[Unit, dict], primary_init: str) -> list[tuple[str, float]]:
    """``(key, value)`` of every number of every table, plus the authors' supervised-accuracy keys.

    Keys: ``physionet/<database>/<activation>/<quantity>`` (Table I),
    ``<experiment>/m<m>/<activation>/<quantity>`` (Tables II and III), with
    ``-init-<init>`` after the experiment for the other initialisation of
    Table I; quantities ``kernel-size``, ``inverse-compression-ratio``,
    ``reconstruction-loss``, ``flithos``, ``accuracy``, ``accuracy-change``.
    """
    pairs = []
    for row in rows:
        prefix = row.unit.experiment if row.unit.init == primary_init else f"{row.unit.experiment}-init-{row.unit.init}"
        key = row.experiment.key(row.unit, prefix)
        pairs += [(f"{key}/{KEY_NAMES[name]}", value) for name, value in row.values.items()]
    originals = sorted((u for u in results if u.activation == ORIGINAL), key=lambda u: list(EXPERIMENTS).index(u.experiment))
    pairs += [(SUPERVISED_ACCURACY_KEYS[u.experiment], results[u]["classifier"]["test_accuracy"]) for u in originals]
    return pairs
