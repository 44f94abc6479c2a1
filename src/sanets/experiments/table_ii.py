"""Table II (paper Sec. IV-B): UCI epilepsy EEG, two kernels, m = 8..15, then a 1D CNN on the reconstructions.

5 epochs, batch 64, border tolerance 2. Signals are scaled to [-1, 1] with the
training split's min and max, as the authors' code scaled them for the
published numbers (the paper's text says [0, 1]): on [0, 1] inputs the
similarity of the positive starting kernels is positive everywhere and ReLU
keeps every value. Every m is a row; A% compares the CNN on each SAN's
reconstructions with the same CNN on the original signals.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanets import datasets
from sanets.datasets import Splits
from sanets.experiments._experiment import Experiment
from sanets.sweep import Sweep

__all__ = ["TABLE_II"]


@dataclass(frozen=True)
class TableII(Experiment):
    """Table II: every m, with the CNN's accuracy change."""

    def load(self, dataset: str, data_dir: str | None) -> Splits:
        return datasets.load_uci_epilepsy(data_dir=data_dir, download=False, value_range=(-1.0, 1.0))


TABLE_II = TableII(
    name="uci-epilepsy",
    table="II",
    datasets=("uci-epilepsy",),
    sweep=Sweep(tuple(range(8, 16)), num_kernels=2, dims=1, border_tolerance=2, epochs=5, batch_size=64),
    spatial_shape=(178,),
    quick_sweep=((8, 12), 1),
    quick_examples=(1500, 300, 300),
    kernel_sizes_per_task=8,
    seconds_per_kernel_size=5.0,
    classifier="cnn",
)
"""The UCI epilepsy experiment of Table II."""
