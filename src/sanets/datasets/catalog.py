"""Every dataset sanets knows, where it is, and how to get it (``sanets data``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sanets.datasets import _locate, mnist, physionet, uci_epilepsy
from sanets.errors import DataError

PHYSIONET_GROUP = "physionet"
"""Name that stands for all 15 PhysioNet databases in :func:`fetch`."""


@dataclass(frozen=True)
class DatasetStatus:
    """Where one dataset was found, or that it is missing and how to get it.

    Attributes
    ----------
    name : str
        Dataset name accepted by ``sanets data fetch``.
    title : str
        Human-readable title.
    found : Path or None
        The file or directory the loader would read, or ``None`` if missing.
    searched : tuple of SearchedDir
        Every directory searched, in order.
    fetch_command : str
        The shell command that downloads it.
    """

    name: str
    title: str
    found: Path | None
    searched: tuple[_locate.SearchedDir, ...]
    fetch_command: str

    @property
    def available(self) -> bool:
        """Whether the dataset was found."""
        return self.found is not None

    def describe(self) -> str:
        """One line: name, status, and the path or the command that fetches it."""
        if self.found is not None:
            return f"{self.name:<15} found    {self.found}"
        return f"{self.name:<15} missing  get it with: {self.fetch_command}"


def dataset_names() -> tuple[str, ...]:
    """All dataset names: the 15 PhysioNet databases, UCI epilepsy, MNIST, Fashion-MNIST."""
    return (*physionet.PHYSIONET_DATABASES, uci_epilepsy.NAME, mnist.MNIST.name, mnist.FASHION_MNIST.name)


def _title(name: str) -> str:
    if name in physionet.PHYSIONET_DATABASES:
        return physionet.PHYSIONET_DATABASES[name].title
    if name == uci_epilepsy.NAME:
        return uci_epilepsy.TITLE
    return mnist._DATASETS[name].title


def _locate_one(name: str, data_dir) -> tuple[Path | None, list[_locate.SearchedDir]]:
    if name in physionet.PHYSIONET_DATABASES:
        return physionet.locate(name, data_dir)
    if name == uci_epilepsy.NAME:
        return uci_epilepsy.locate(data_dir)
    if name in mnist._DATASETS:
        return mnist.locate(name, data_dir)
    raise DataError(f"unknown dataset {name!r}; known: {', '.join(dataset_names())}")


def dataset_status(name: str, data_dir: str | os.PathLike[str] | None = None) -> DatasetStatus:
    """Return where dataset ``name`` is found (search order of the loaders)."""
    found, searched = _locate_one(name, data_dir)
    return DatasetStatus(name, _title(name), found, tuple(searched), _locate.fetch_command(name))


def list_datasets(data_dir: str | os.PathLike[str] | None = None) -> list[DatasetStatus]:
    """Return the status of every dataset, in :func:`dataset_names` order."""
    return [dataset_status(name, data_dir) for name in dataset_names()]


def _expand(names: Sequence[str]) -> list[str]:
    known = dataset_names()
    wanted: list[str] = []
    for name in names:
        if name == "all":
            group = list(known)
        elif name == PHYSIONET_GROUP:
            group = list(physionet.PHYSIONET_DATABASES)
        elif name in known:
            group = [name]
        else:
            raise DataError(
                f"unknown dataset {name!r}; known: {', '.join(known)} (or '{PHYSIONET_GROUP}', 'all')"
            )
        wanted.extend(n for n in group if n not in wanted)
    return wanted


def fetch(
    names: Sequence[str],
    data_dir: str | os.PathLike[str] | None = None,
    echo: Callable[[str], object] = lambda _: None,
) -> list[Path]:
    """Download datasets that are not found anywhere into the user cache.

    Parameters
    ----------
    names : sequence of str
        Dataset names (see :func:`dataset_names`), ``"physionet"`` for the 15
        PhysioNet databases, or ``"all"``.
    data_dir : path-like, optional
        Extra root searched first; datasets found anywhere are not downloaded.
    echo : callable
        Receives one progress line per dataset.

    Returns
    -------
    list of Path
        Where each dataset now is.

    Raises
    ------
    DataError
        Unknown name, or a download that failed verification.
    DataNotFoundError
        A download could not be made (no network, HTTP error).
    """
    places: list[Path] = []
    for name in _expand(names):
        status = dataset_status(name, data_dir)
        if status.found is not None:
            echo(f"{name}: already present at {status.found}")
            places.append(status.found)
            continue
        echo(f"{name}: downloading into {_locate.cache_dir()} ...")
        if name in physionet.PHYSIONET_DATABASES:
            place = physionet.fetch(name)
        elif name == uci_epilepsy.NAME:
            place = uci_epilepsy.fetch()
        else:
            place = mnist.fetch(name)
        echo(f"{name}: saved at {place}")
        places.append(place)
    return places
