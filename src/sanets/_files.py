"""Atomic file writes shared by models, figures and experiment results, and the guard every output passes first."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

from sanets.errors import OutputError


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


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path (symlinks followed), or one inode (hard links)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def _writable_folder(folder: Path) -> None:
    """Raise OSError unless a file can be created in ``folder``, or in its nearest existing ancestor where it is
    yet to be made. Probed by creating and removing a file: permission bits say nothing to root, nor of a
    read-only file system."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "a file stands where a folder is needed", str(existing))
    probe = existing / f".sanets-probe.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(probe, "xb"):
            pass
    except OSError as error:
        raise OSError(error.errno, f"cannot create files in the folder ({error.strerror})", str(existing)) from None
    probe.unlink()


def check_outputs(
    files: Mapping[str, str | os.PathLike],
    inputs: Mapping[str, str | os.PathLike] | Iterable[tuple[str, str | os.PathLike]] = (),
    folders: Mapping[str, str | os.PathLike] | None = None,
) -> None:
    """The output guard every command passes before any work (issue 28).

    Refuses an output that is one of the inputs (a recording, any file its WFDB header names, a model), two
    outputs that are one file, a file output that is a folder, a folder output that is a file, and an output
    whose folder cannot be written.

    Parameters
    ----------
    files : mapping of str to path
        Each file the command writes, by what it is ("model", "report", "kernels figure", ...).
    inputs : mapping of str to path, or (what, path) pairs
        Each file the command reads, by what it is.
    folders : mapping of str to path
        Each folder the command writes into (results, checkpoints).

    Raises
    ------
    OutputError
        Naming both paths (a collision) or the path and what is wrong with it (exists as a folder, not writable).
    """
    inputs = list(inputs.items()) if isinstance(inputs, Mapping) else list(inputs)
    outputs = [(what, Path(path), False) for what, path in files.items()] + [
        (what, Path(path), True) for what, path in (folders or {}).items()]
    for index, (what, path, is_folder) in enumerate(outputs):
        for source, source_path in inputs:
            if _same_file(path, Path(source_path)):
                raise OutputError(f"{str(path)!r}: the {what} would be written over the {source} {str(source_path)!r}; "
                                  "choose another output path")
        for other, other_path, _ in outputs[:index]:
            if _same_file(path, other_path):
                raise OutputError(f"{str(path)!r}: the {what} and the {other} would be the same file; choose another output path")
        if is_folder and path.exists() and not path.is_dir():
            raise OutputError(f"{str(path)!r} is a file, not a folder; the {what} must be a folder")
        if not is_folder and path.is_dir():
            raise OutputError(f"{str(path)!r} is a folder, not a file; the {what} is a file to write there")
        try:
            _writable_folder(path if is_folder else path.parent)
        except OSError as error:
            raise OutputError(f"{str(path)!r}: the {what} cannot be written: {error.strerror}: {error.filename!r}") from None


def strict_json(value: object, **options: object) -> str:
    """``json.dumps`` as strict parsers read it (RFC 8259): a non-finite float (NaN, infinity) is written ``null``.

    In every JSON sanets writes, ``null`` where a number is expected means "no finite value": an SNR of an exact
    reconstruction (infinite), a score that is undefined or diverged (NaN).
    """
    return json.dumps(_finite_or_none(value), allow_nan=False, **options)


def _finite_or_none(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    return value
