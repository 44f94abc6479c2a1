"""Atomic file writes shared by models, figures and experiment results."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a partial write, and
    an interrupted write leaves no temporary file behind. The temporary file is
    created by ``open`` (not ``tempfile``, whose files are private), so the
    result gets the permissions of the user's umask like any other file.

    Parameters
    ----------
    path : str or path-like
        Target file; its folder is created if missing.
    write : callable
        Receives the open binary file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
