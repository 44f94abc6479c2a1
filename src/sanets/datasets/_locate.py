"""Where datasets are looked for, and the error raised when they are not found.

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
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from sanets.errors import DataNotFoundError

ENV_VAR = "SANETS_DATA"
"""Environment variable naming extra data roots (``os.pathsep``-separated)."""

APP_NAME = "sanets"


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


def cache_dir() -> Path:
    """Return the user cache root where downloads land (not created here)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def data_roots(data_dir: str | os.PathLike[str] | None = None) -> list[SearchedDir]:
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
    data_dir: str | os.PathLike[str] | None = None,
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
