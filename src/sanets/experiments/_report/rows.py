"""The rows of Tables I-III from the unit results, beside the paper's, and keys-values.csv's pairs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sanets.activations import ACTIVATIONS
from sanets.baselines import BASELINES
from sanets.experiments._experiment import Experiment, best_validation_flithos
from sanets.experiments._registry import EXPERIMENTS
from sanets.experiments._units import ORIGINAL, Unit
from sanets.experiments.variants import VARIANTS
from sanets.training import first_lowest

__all__ = [
    "Row", "measured", "datasets_of", "table_rows", "baseline_rows", "variant_rows", "best_rows", "keys_values", "best_keys",
    "METRICS", "BIT_AWARE", "HEADERS", "KEY_NAMES", "SUPERVISED_ACCURACY_KEYS",
]

METRICS = ("inverse_compression_ratio", "reconstruction_loss", "flithos")
"""The paper's quantities (Eqs. 4-7)."""
BIT_AWARE = "flithos_bits"
"""Our addition beside them (:func:`sanets.metrics.flithos_bits`); absent from results written before it."""
KEY_NAMES = {
    "kernel_size": "kernel-size",
    "inverse_compression_ratio": "inverse-compression-ratio",
    "reconstruction_loss": "reconstruction-loss",
    "flithos": "flithos",
    "flithos_bits": "flithos-bits",
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
    "flithos_bits": "φ̄ bits",
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
        A baseline's chosen parameters, e.g. ``"bior2.2/periodization/k=75"``,
        or a variant's chosen configuration.
    weights : int or None
        A baseline's or a variant's W (Eq. 2).
    seconds : float or None
        A baseline's or a variant's compute time (every configuration it tried).
    """

    unit: Unit
    values: dict[str, float]
    paper: dict[str, float] = field(default_factory=dict)
    parameters: str = ""
    weights: int | None = None
    seconds: float | None = None

    @property
    def experiment(self) -> Experiment:
        return EXPERIMENTS[self.unit.experiment]

    @property
    def label(self) -> str:
        """The table line of the row."""
        return self.experiment.label(self.unit)

    @property
    def representation(self) -> str:
        """What a competition table calls the row: the baseline's or the variant's name, or the activation."""
        return self.unit.baseline or (self.unit.variant and f"variant {self.unit.variant}") or self.unit.activation

    @property
    def quantities(self) -> list[str]:
        """The table's columns for this row, in order."""
        return [name for name in HEADERS if name in self.values]


def datasets_of(experiment: Experiment, results: dict[Unit, dict]) -> list[str]:
    """The experiment's datasets, then the other records its results hold (Table I's ``<database>/<record>``)."""
    others = sorted({unit.dataset for unit in results if unit.experiment == experiment.name} - set(experiment.datasets))
    return [*experiment.datasets, *others]


def table_rows(experiment: Experiment, results: dict[Unit, dict], init: str) -> list[Row]:
    """The rows of ``experiment``'s table under ``init``, from the unit results.

    Per dataset and activation, the units :meth:`Experiment.select` keeps (Table
    I: the m of lowest validation phi; Tables II and III: every m), scored on
    test, with A% against the classifier on the original data.
    """
    rows = []
    units = [u for u in results if u.experiment == experiment.name and u.init == init and u.is_san]
    for dataset in datasets_of(experiment, results):
        original = results.get(Unit(experiment.name, dataset, init, ORIGINAL, 0))
        for activation in ACTIVATIONS:
            candidates = sorted(u for u in units if (u.dataset, u.activation) == (dataset, activation))
            if not candidates:
                continue
            for unit in experiment.select(candidates, results):
                record = results[unit]
                values = measured(record["test"])
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
    return _competitor_rows(experiment, results, init, [(Unit.of_baseline, name) for name in BASELINES], "parameters")


def variant_rows(experiment: Experiment, results: dict[Unit, dict], init: str) -> list[Row]:
    """One row per dataset and SAN variant (:mod:`sanets.experiments.variants`), as :func:`baseline_rows`."""
    return _competitor_rows(experiment, results, init, [(Unit.of_variant, name) for name in VARIANTS], "configuration")


def _competitor_rows(experiment: Experiment, results: dict[Unit, dict], init: str, kinds: list, described: str) -> list[Row]:
    rows = []
    for dataset in datasets_of(experiment, results):
        original = results.get(Unit(experiment.name, dataset, init, ORIGINAL, 0))
        for make, name in kinds:
            unit = make(experiment.name, dataset, name)
            record = results.get(unit)
            if record is None:
                continue
            values = measured(record["test"])
            if "classifier" in record and original is not None:
                values["accuracy"] = record["classifier"]["test_accuracy"]
                values["accuracy_change"] = values["accuracy"] - original["classifier"]["test_accuracy"]
            rows.append(Row(unit, values, parameters=record[described], weights=record["num_weights"],
                            seconds=record["seconds"]))
    return rows


def measured(test: dict) -> dict[str, float]:
    """A record's test means of the paper's quantities, and the bit-aware phi where it was measured."""
    values = {name: test[name] for name in METRICS}
    if test.get(BIT_AWARE) is not None:
        values[BIT_AWARE] = test[BIT_AWARE]
    return values


Best = tuple[Row, Row | None, Row | None]
"""Per dataset: the paper's SAN, the baseline and the variant of lowest validation phi (None where none ran)."""


def best_rows(san_rows: list[Row], baselines: list[Row], results: dict[Unit, dict], variants: list[Row] = ()) -> dict[str, Best]:
    """Per dataset, the SAN row, the baseline row and the variant row of lowest *validation* phi (ties: the
    earlier), as Alg. 4 would choose between them; their test phi is what they are compared on."""
    def lowest(rows: list[Row], dataset: str) -> Row | None:
        rows = [row for row in rows if row.unit.dataset == dataset]
        return rows[first_lowest([best_validation_flithos(results[row.unit]) for row in rows])] if rows else None

    return {dataset: (lowest(san_rows, dataset), lowest(baselines, dataset), lowest(variants, dataset))
            for dataset in dict.fromkeys(row.unit.dataset for row in san_rows)}


def keys_values(rows: Iterable[Row], results: dict[Unit, dict], primary_init: str) -> list[tuple[str, float | str]]:
    """``(key, value)`` of every number of every table, plus the authors' supervised-accuracy keys.

    Keys: ``physionet/<database>/<activation>/<quantity>`` (Table I),
    ``<experiment>/m<m>/<activation>/<quantity>`` (Tables II and III), with
    ``-init-<init>`` after the experiment for the other initialisation of
    Table I; quantities ``kernel-size``, ``inverse-compression-ratio``,
    ``reconstruction-loss``, ``flithos``, ``flithos-bits`` (the bit-aware phi, our addition), ``accuracy``,
    ``accuracy-change``.
    Baselines: ``physionet/<database>/baseline-<name>/...`` and
    ``<experiment>/baseline-<name>/...`` with ``parameters`` too; variants
    likewise under ``variant-<name>``, with ``configuration``.
    """
    pairs: list[tuple[str, float | str]] = []
    for row in rows:
        prefix = row.unit.experiment if row.unit.init in (primary_init, "") else f"{row.unit.experiment}-init-{row.unit.init}"
        key = row.experiment.key(row.unit, prefix)
        if row.parameters:
            pairs.append((f"{key}/{'configuration' if row.unit.variant else 'parameters'}", row.parameters))
        pairs += [(f"{key}/{KEY_NAMES[name]}", value) for name, value in row.values.items()]
    originals = sorted((u for u in results if u.activation == ORIGINAL), key=lambda u: list(EXPERIMENTS).index(u.experiment))
    pairs += [(SUPERVISED_ACCURACY_KEYS[u.experiment], results[u]["classifier"]["test_accuracy"]) for u in originals]
    return pairs


def best_keys(experiment: Experiment, best: dict[str, Best]) -> list[tuple[str, float | str]]:
    """``<scope>/best-san/{flithos,flithos-bits}``, ``<scope>/best-baseline/{name,flithos,flithos-bits}`` and
    ``<scope>/best-variant/{name,flithos,flithos-bits}`` per dataset (``physionet/<database>`` or ``<experiment>``): the
    test phi of the SAN, the baseline and the variant chosen on validation."""
    pairs: list[tuple[str, float | str]] = []
    for dataset, (san, baseline, variant) in best.items():
        scope = experiment.scope(dataset, experiment.name)
        pairs += [(f"{scope}/best-san/{KEY_NAMES[q]}", san.values[q]) for q in ("flithos", BIT_AWARE) if q in san.values]
        for kind, row, name in (("baseline", baseline, baseline and baseline.unit.baseline),
                                ("variant", variant, variant and variant.unit.variant)):
            if row is not None:
                pairs.append((f"{scope}/best-{kind}/name", name))
                pairs += [(f"{scope}/best-{kind}/{KEY_NAMES[q]}", row.values[q]) for q in ("flithos", BIT_AWARE) if q in row.values]
    return pairs
