"""Table I (paper Sec. IV-A): one kernel, m = 1..249, on the first record of each of 15 PhysioNet databases.

Other records of a database run under the same protocol as datasets ``<database>/<record>`` (``sanets reproduce
physionet --records mitdb/101`` or ``--all-records``); their keys are ``physionet/<database>/<record>/...``.

30 epochs, batch 2, border tolerance 3. Per database and activation the m whose
best epoch has the lowest validation phi is tested; the table shows that m.
Table I runs under both initialisations, so the report can show what the
authors' constant start changes.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sanets import datasets
from sanets.activations import ACTIVATIONS
from sanets.datasets import Splits
from sanets.datasets._wfdb import read_header
from sanets.experiments._experiment import Experiment, select_by_validation
from sanets.experiments._units import Unit
from sanets.experiments.paper import PaperRow, paper_row
from sanets.model import INITS
from sanets.sweep import Sweep
from sanets.training import first_lowest

__all__ = ["TABLE_I"]


@dataclass(frozen=True)
class TableI(Experiment):
    """Table I: rows per database, one m per activation, selected on validation."""

    label_column = "dataset"

    def inits(self, primary: str) -> list[str]:
        return [primary, *(other for other in INITS if other != primary)]

    def load(self, dataset: str, data_dir: str | None) -> Splits:
        """The database's first record, or for ``<database>/<record>`` that record, under Table I's protocol."""
        database, _, record = dataset.partition("/")
        return datasets.load_physionet(database, data_dir=data_dir, download=False, record=record or None)

    def recording_windows(self, data: Splits) -> int | None:
        """The record's length in windows of 1000 samples (its header's), at least the windows cut from it."""
        if data.source is None:
            return None
        windows = sum(len(getattr(data, split)) for split in ("train", "validation", "test"))
        return max(windows, (read_header(data.source).sig_len or 0) // data.train.shape[-1])

    def select(self, units: list[Unit], results: dict[Unit, dict]) -> list[Unit]:
        """The unit whose best epoch has the lowest validation phi (ties: the smaller m)."""
        return [select_by_validation(units, results)]

    def label(self, unit: Unit) -> str:
        return unit.dataset

    def scope(self, dataset: str, prefix: str) -> str:
        return f"{prefix}/{dataset}"

    def key(self, unit: Unit, prefix: str) -> str:
        return f"{self.scope(unit.dataset, prefix)}/{unit.activation}"

    def paper(self, unit: Unit) -> PaperRow | None:
        return paper_row(self.table, unit.dataset, unit.activation)

    def effects(self, rows: list, results: dict[Unit, dict], primary_init: str) -> list[str]:
        """What the other initialisation and the authors' rule of selecting m by test phi change."""
        primary = [row for row in rows if row.unit.init == primary_init]
        lines = []
        for init in INITS:
            pairs = [(row, other) for row in primary for other in rows if other.unit.init == init != primary_init
                     and (other.unit.dataset, other.unit.activation) == (row.unit.dataset, row.unit.activation)]
            if pairs:
                lines.append(
                    f"- Initialisation: with `{init}` kernels instead of `{primary_init}`, the selected φ̄ per activation "
                    f"(mean over datasets) is {_means(pairs, 1)}; with `{primary_init}` it is {_means(pairs, 0)}."
                )
        changes = []
        for row in primary:
            siblings = sorted(u for u in results if (u.experiment, u.dataset, u.init, u.activation)
                              == (row.unit.experiment, row.unit.dataset, row.unit.init, row.unit.activation))
            by_test = siblings[first_lowest([results[u]["test_last_epoch"]["flithos"] for u in siblings])]
            changes.append(results[by_test]["test_last_epoch"]["flithos"] - row.values["flithos"])
        if changes:
            lines.append(
                "- Selection: the authors' code picked m by the *test* φ̄ of each m's last epoch; that rule changes the "
                f"reported φ̄ by {statistics.fmean(changes):+.3f} on average (ours selects on validation and tests the "
                "best epoch)."
            )
        return lines


def _means(pairs: list, side: int) -> str:
    """Per activation, the mean phi of one side of (row, row under the other initialisation) pairs."""
    return ", ".join(
        f"{a} {statistics.fmean(pair[side].values['flithos'] for pair in pairs if pair[0].unit.activation == a):.2f}"
        for a in ACTIVATIONS if any(row.unit.activation == a for row, _ in pairs))


TABLE_I = TableI(
    name="physionet",
    table="I",
    datasets=tuple(datasets.PHYSIONET_DATABASES),
    sweep=Sweep(tuple(range(1, 250)), num_kernels=1, dims=1, border_tolerance=3, epochs=30, batch_size=2),
    spatial_shape=(1000,),
    quick_sweep=((1, 4, 8, 16, 32, 64), 5),
    quick_examples=None,
    kernel_sizes_per_task=125,
    seconds_per_kernel_size=0.01,
)
"""The PhysioNet experiment of Table I."""
