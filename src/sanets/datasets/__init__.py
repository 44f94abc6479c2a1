"""Loaders for the paper's datasets and the user's own recordings.

>>> from sanets.datasets import load_physionet, load_mnist
>>> splits = load_physionet("mitdb")        # doctest: +SKIP
>>> splits.train.shape                      # doctest: +SKIP
torch.Size([6, 1, 1000])

Data is looked for in the ``data_dir`` argument, then ``$SANETS_DATA``, then
the user cache (``platformdirs.user_cache_dir("sanets")``), and for
Fashion-MNIST also ``/usr/share/datasets/fashion-mnist``. Missing datasets
are downloaded into the cache and verified, unless ``download=False``.
"""

from sanets.datasets._locate import ENV_VAR, SearchedDir, cache_dir, data_roots
from sanets.datasets._types import Signal, Splits
from sanets.datasets.catalog import DatasetStatus, dataset_names, dataset_status, fetch, list_datasets
from sanets.datasets.mnist import load_fashion_mnist, load_mnist, read_idx
from sanets.datasets.physionet import PHYSIONET_DATABASES, PhysioNetDatabase, load_physionet
from sanets.datasets.signal import load_signal
from sanets.datasets.uci_epilepsy import CLASS_NAMES as UCI_EPILEPSY_CLASS_NAMES
from sanets.datasets.uci_epilepsy import load_uci_epilepsy

__all__ = [
    "ENV_VAR",
    "PHYSIONET_DATABASES",
    "UCI_EPILEPSY_CLASS_NAMES",
    "DatasetStatus",
    "PhysioNetDatabase",
    "SearchedDir",
    "Signal",
    "Splits",
    "cache_dir",
    "data_roots",
    "dataset_names",
    "dataset_status",
    "fetch",
    "list_datasets",
    "load_fashion_mnist",
    "load_mnist",
    "load_physionet",
    "load_signal",
    "load_uci_epilepsy",
    "read_idx",
]
