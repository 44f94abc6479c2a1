"""Table III (paper Sec. IV-C): MNIST and Fashion-MNIST, two m x m kernels, m = 1..6, a linear classifier.

5 epochs, batch 64, border tolerance 2; pixels in [0, 1], the last 10000
training images validate. Every m is a row; A% compares the linear classifier
on each SAN's reconstructions with the same classifier on the original images.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanets import datasets
from sanets.datasets import Splits
from sanets.experiments._experiment import Experiment
from sanets.sweep import Sweep

__all__ = ["TABLE_III_MNIST", "TABLE_III_FASHION_MNIST"]


@dataclass(frozen=True)
class TableIII(Experiment):
    """Table III on one image dataset: every m, with the linear classifier's accuracy change."""

    def load(self, dataset: str, data_dir: str | None) -> Splits:
        return datasets.DATASETS[dataset].load(data_dir=data_dir, download=False)


def _table_iii(name: str) -> TableIII:
    return TableIII(
        name=name,
        table="III",
        datasets=(name,),
        sweep=Sweep(tuple(range(1, 7)), num_kernels=2, dims=2, border_tolerance=2, epochs=5, batch_size=64),
        spatial_shape=(28, 28),
        quick_sweep=((2, 4), 1),
        quick_examples=(2000, 500, 500),
        kernel_sizes_per_task=6,
        seconds_per_kernel_size=30.0,
        classifier="linear",
    )


TABLE_III_MNIST = _table_iii("mnist")
TABLE_III_FASHION_MNIST = _table_iii("fashion-mnist")
