"""Atomic file writes shared by models, figures and experiment results."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a partial write. A
    write stopped by an exception removes its temporary file; one killed outright
    (SIGKILL, power loss) cannot, and leaves a ``.NAME.PID.HEX.tmp`` that
    :func:`remove_orphaned_temporaries` sweeps once the folder is locked again. The temporary file is
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


_TEMPORARY = re.compile(r"\..+\.\d+\.[0-9a-f]{32}\.tmp")


def remove_orphaned_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed :func:`write_atomically` calls left under ``folder``.

    Call it only while holding the folder's lock: a writer that holds none may
    be mid-write. Only names of the form ``write_atomically`` makes are touched.

    Returns
    -------
    list of Path
        The files removed.
    """
    orphans = [path for path in Path(folder).rglob("*.tmp") if path.is_file() and _TEMPORARY.fullmatch(path.name)]
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans
