"""Where datasets are looked for; the one locate -> fetch -> not-found path.

Search order (first match wins):

1. the ``data_dir`` argument of a loader;
2. every directory in ``$SANETS_DATA`` (one path, or several separated by
   ``os.pathsep``);
3. the user cache directory, ``platformdirs.user_cache_dir("sanets")``
   (e.g. ``~/.cache/sanets`` on Linux), which is also where downloads land;
4. dataset-specific system directories (Debian's
   ``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST).

Each of the roots 1-3 holds one sub-directory per dataset:
``physionet/<database>/``, ``uci-epilepsy/``, ``mnist/``, ``fashion-mnist/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import platformdirs

from sanets.datasets._types import DataDir, DatasetSpec, SearchedDir
from sanets.errors import DataError, DataNotFoundError

ENV_VAR = "SANETS_DATA"
"""Environment variable naming extra data roots (``os.pathsep``-separated)."""

APP_NAME = "sanets"


def cache_dir() -> Path:
    """Return the user cache root where downloads land (not created here)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def data_roots(data_dir: DataDir = None) -> list[SearchedDir]:
    """Return the data roots in search order: ``data_dir``, ``$SANETS_DATA``, cache."""
    roots: list[SearchedDir] = []
    if data_dir is not None:
        roots.append(SearchedDir(Path(data_dir).expanduser(), "data_dir argument"))
    for part in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if part.strip():
            roots.append(SearchedDir(Path(part.strip()).expanduser(), f"${ENV_VAR}"))
    roots.append(SearchedDir(cache_dir(), "user cache"))
    return roots


def candidate_dirs(
    subdir: str,
    data_dir: DataDir = None,
    extra: Iterable[SearchedDir] = (),
) -> list[SearchedDir]:
    """Return the directories where the dataset stored under ``subdir`` may be."""
    dirs = [SearchedDir(root.path / subdir, root.origin) for root in data_roots(data_dir)]
    dirs.extend(extra)
    return dirs


def fetch_command(name: str) -> str:
    """Return the shell command that downloads dataset ``name``."""
    return f"sanets data fetch {name}"


def not_found_error(
    title: str,
    name: str,
    wanted: str,
    searched: Sequence[SearchedDir],
    reason: str | None = None,
) -> DataNotFoundError:
    """Build the error for a dataset found nowhere.

    The message names the dataset, the files wanted, every directory
    searched, why a download did not help (``reason``) and the command that
    fetches the dataset.
    """
    lines = [f"{title} not found: no {wanted} in any of these directories:"]
    lines += [f"  - {entry}" for entry in searched]
    if reason:
        lines.append(f"Download failed: {reason}")
    else:
        lines.append("Download was off (download=False).")
    lines.append(
        f"Get it with `{fetch_command(name)}` (needs internet), or put the files in one of "
        f"the directories above, or point ${ENV_VAR} at a folder that holds them."
    )
    return DataNotFoundError("\n".join(lines))


def resolve(spec: DatasetSpec, data_dir: DataDir, download: bool) -> Path:
    """Return what ``spec.locate`` finds, downloading it first if needed.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset.
    data_dir : path-like, optional
        Data root searched first.
    download : bool
        Whether to call ``spec.fetch`` when the dataset is found nowhere.

    Returns
    -------
    Path
        The file or directory the loader reads.

    Raises
    ------
    DataNotFoundError
        Found nowhere, and download was off or could not be made; the
        message lists every directory searched and the fetch command.
    DataError
        A download that failed verification (raised by ``spec.fetch``).
    MissingExtraError
        A download is needed but pooch (the ``[data]`` extra) is missing.
    """
    found, searched = spec.locate(data_dir)
    if found is not None:
        return found
    if not download:
        raise not_found_error(spec.label, spec.name, spec.wanted, searched)
    try:
        place = spec.fetch()
    except DataNotFoundError as error:
        raise not_found_error(spec.label, spec.name, spec.wanted, searched, str(error)) from error
    # Re-locate so the loader reads exactly what locate (and `sanets data list`) reports.
    found, _ = spec.locate(data_dir)
    if found is None:
        raise DataError(f"{spec.label}: downloaded to {place}, but not found there afterwards")
    return found
