"""The paper's datasets, and the user's own recordings.

>>> from sanets.datasets import DATASETS, load_physionet, windows
>>> splits = load_physionet("mitdb")          # doctest: +SKIP
>>> splits.train.shape                        # doctest: +SKIP
torch.Size([6, 1, 1000])
>>> DATASETS["mnist"].load(None, False)       # doctest: +SKIP

Data is looked for in the ``data_dir`` argument, then ``$SANETS_DATA``, then
the user cache (``platformdirs.user_cache_dir("sanets")``), and for
Fashion-MNIST also ``/usr/share/datasets/fashion-mnist``. Missing datasets
are downloaded into the cache and verified, unless ``download=False``.
Reading WFDB or EDF files and downloading need the ``[data]`` extra
(``pip install "sparsely-activated-networks[data]"``).
"""

from sanets.datasets._locate import cache_dir, data_roots
from sanets.datasets._registry import (
    DATASETS,
    DatasetStatus,
    dataset_status,
    fetch,
    list_datasets,
)
from sanets.datasets._types import Signal, Splits
from sanets.datasets._windows import (
    finite_samples,
    select_channels,
    standardize_windows,
    windows,
)
from sanets.datasets.mnist import load_fashion_mnist, load_mnist
from sanets.datasets.physionet import PHYSIONET_DATABASES, load_physionet
from sanets.datasets.signal import load_signal, recording_files, save_signal
from sanets.datasets.uci_epilepsy import load_uci_epilepsy

__all__ = [
    "DATASETS",
    "PHYSIONET_DATABASES",
    "DatasetStatus",
    "Signal",
    "Splits",
    "cache_dir",
    "data_roots",
    "dataset_status",
    "fetch",
    "finite_samples",
    "list_datasets",
    "load_fashion_mnist",
    "load_mnist",
    "load_physionet",
    "load_signal",
    "load_uci_epilepsy",
    "recording_files",
    "save_signal",
    "select_channels",
    "standardize_windows",
    "windows",
]
