"""The registry of experiments: target name -> the paper table it reproduces."""

from __future__ import annotations

from sanets.experiments._experiment import Experiment
from sanets.experiments.table_i import TABLE_I
from sanets.experiments.table_ii import TABLE_II
from sanets.experiments.table_iii import TABLE_III_FASHION_MNIST, TABLE_III_MNIST

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment for experiment in (TABLE_I, TABLE_II, TABLE_III_MNIST, TABLE_III_FASHION_MNIST)
}
"""The experiments, by target name, in the paper's order."""

TARGETS = (*EXPERIMENTS, "all")
"""What ``sanets reproduce`` accepts: an experiment name or ``"all"``."""
