"""Small, typed records: what the loaders return, and what the registry holds."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

DataDir = str | os.PathLike[str] | None
"""A loader's ``data_dir`` argument: an extra data root searched first, or ``None``."""


@dataclass(frozen=True)
class SearchedDir:
    """One directory that was (or will be) searched for a dataset.

    Attributes
    ----------
    path : Path
        The dataset directory itself (e.g. ``<root>/mnist``).
    origin : str
        Why it is searched: ``"data_dir argument"``, ``"$SANETS_DATA"``,
        ``"user cache"`` or a system package name.
    """

    path: Path
    origin: str

    def __str__(self) -> str:
        return f"{self.path} ({self.origin})"


@dataclass(frozen=True, eq=False)
class Splits:
    """Train, validation and test splits of one dataset.

    Attributes
    ----------
    train, validation, test : torch.Tensor
        float32 tensors ``(N, 1, L)`` for 1-D signals (PhysioNet, UCI
        epilepsy) or ``(N, 1, H, W)`` for images (MNIST, Fashion-MNIST).
    train_labels, validation_labels, test_labels : torch.Tensor or None
        int64 tensors ``(N,)``, or ``None`` where the dataset has no labels.
    name : str
        Dataset name as used by ``sanets data fetch`` (e.g. ``"mitdb"``).
    source : Path or None
        The file (or WFDB record path without suffix) the splits were read from.
    class_names : tuple of str
        Name of each label value, index = label (empty without labels).
    sampling_rate : float or None
        Samples per second of 1-D signals where known.
    """

    train: torch.Tensor
    validation: torch.Tensor
    test: torch.Tensor
    train_labels: torch.Tensor | None = None
    validation_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    name: str = ""
    source: Path | None = None
    class_names: tuple[str, ...] = ()
    sampling_rate: float | None = None

    @property
    def has_labels(self) -> bool:
        """Whether every split carries labels."""
        return self.train_labels is not None


@dataclass(frozen=True, eq=False)
class Signal:
    """A multichannel recording read by :func:`sanets.datasets.load_signal`.

    Attributes
    ----------
    data : numpy.ndarray
        float64 array ``(channels, samples)``, in physical units where the
        format carries them (WFDB, EDF).
    sampling_rate : float or None
        Samples per second, or ``None`` where the format has no such field
        (CSV, NPY).
    channel_names : tuple of str
        One name per channel (``"ch0"``, ``"ch1"``, ... where the file has none).
    units : tuple of str
        One unit per channel (empty strings where unknown).
    source : Path
        The file that was read.
    resolution_bits : int or None
        Bits per sample as the file stores them (WFDB: its format, e.g. 12 for
        format 212; EDF: 16; NPY: the dtype's), ``None`` where unknown (CSV).
    """

    data: np.ndarray
    sampling_rate: float | None
    channel_names: tuple[str, ...] = field(default=())
    units: tuple[str, ...] = field(default=())
    source: Path | None = None
    resolution_bits: int | None = None

    @property
    def n_channels(self) -> int:
        """Number of channels (rows of :attr:`data`)."""
        return int(self.data.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel (columns of :attr:`data`)."""
        return int(self.data.shape[1])


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the registry: how to find it, download it and load it.

    Attributes
    ----------
    name : str
        Dataset name, as ``sanets data fetch`` takes it (``"mitdb"``).
    title : str
        Human-readable title (``"MIT-BIH Arrhythmia Database"``).
    locate : callable
        ``locate(data_dir) -> (found, searched)``: the file or directory the
        loader reads (``Path``), or ``None``, and every directory searched
        (list of ``SearchedDir``, in search order).
    fetch : callable
        ``fetch() -> Path``: download into the user cache (verified) and
        return what ``locate`` would then find.
    load : callable
        ``load(data_dir, download) -> Splits`` with the paper's protocol
        (shapes in :class:`Splits`).
    wanted : str
        The files ``locate`` looks for, as error messages name them.
    label : str
        How error messages name the dataset (``"PhysioNet database mitdb"``).
    """

    name: str
    title: str
    locate: Callable[[DataDir], tuple[Path | None, list[SearchedDir]]]
    fetch: Callable[[], Path]
    load: Callable[[DataDir, bool], Splits]
    wanted: str
    label: str
