"""Small, typed results returned by the loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch


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
    """

    data: np.ndarray
    sampling_rate: float | None
    channel_names: tuple[str, ...] = field(default=())
    units: tuple[str, ...] = field(default=())
    source: Path | None = None

    @property
    def n_channels(self) -> int:
        """Number of channels (rows of :attr:`data`)."""
        return int(self.data.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel (columns of :attr:`data`)."""
        return int(self.data.shape[1])
