"""The registry of datasets: every dataset sanets knows, where it is, and how to get it.

:data:`DATASETS` maps each name to its :class:`DatasetSpec` (locate, fetch,
load). ``sanets data list/fetch``, the experiments and the loaders go through
it; nothing else switches on a dataset's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from sanets.datasets import _locate, mnist, physionet, uci_epilepsy
from sanets.datasets._types import DataDir, DatasetSpec
from sanets.errors import DataError

DATASETS: MappingProxyType[str, DatasetSpec] = MappingProxyType(
    {**physionet._SPECS, uci_epilepsy._SPEC.name: uci_epilepsy._SPEC, **mnist._SPECS}
)
"""Dataset name -> :class:`DatasetSpec`, in the paper's order: the 15 PhysioNet
databases (Table I), ``"uci-epilepsy"`` (Table II), ``"mnist"`` and
``"fashion-mnist"`` (Table III)."""

_GROUPS = MappingProxyType({"physionet": tuple(physionet.PHYSIONET_DATABASES), "all": tuple(DATASETS)})
"""Names :func:`fetch` also takes, each standing for several datasets."""


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


def _spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def dataset_status(name: str, data_dir: DataDir = None) -> DatasetStatus:
    """Return where dataset ``name`` is found, searching as its loader does.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    data_dir : path-like, optional
        Data root searched first.

    Returns
    -------
    DatasetStatus
        ``found`` is what the loader would read, or ``None``.

    Raises
    ------
    DataError
        Unknown name.
    """
    spec = _spec(name)
    found, searched = spec.locate(data_dir)
    return DatasetStatus(name, spec.title, found, tuple(searched), _locate.fetch_command(name))


def list_datasets(data_dir: DataDir = None) -> list[DatasetStatus]:
    """Return the status of every dataset, in :data:`DATASETS` order."""
    return [dataset_status(name, data_dir) for name in DATASETS]


def _expand(names: Sequence[str]) -> list[str]:
    wanted: list[str] = []
    for name in names:
        if name in _GROUPS:
            group = _GROUPS[name]
        elif name in DATASETS:
            group = (name,)
        else:
            raise DataError(
                f"unknown dataset {name!r}; known: {', '.join(DATASETS)} (or {', '.join(map(repr, _GROUPS))})"
            )
        wanted.extend(n for n in group if n not in wanted)
    return wanted


def fetch(
    names: Sequence[str],
    data_dir: DataDir = None,
    echo: Callable[[str], object] = lambda _: None,
) -> list[Path]:
    """Download datasets that are not found anywhere into the user cache.

    Parameters
    ----------
    names : sequence of str
        Dataset names (keys of :data:`DATASETS`), ``"physionet"`` for the 15
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
        place = DATASETS[name].fetch()
        echo(f"{name}: saved at {place}")
        places.append(place)
    return places
