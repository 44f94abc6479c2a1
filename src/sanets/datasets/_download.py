"""Downloads that land in the cache atomically and are verified first.

Every download goes to a private temporary directory *inside* the destination
directory's parent (same file system), is checked (SHA-256 and/or a
format-specific verifier), and only then moved into place with
:func:`os.replace`. Whatever fails, the temporary directory is removed, so a
bad or partial download is never left where a loader would find it. Files
that already exist elsewhere (the user's own data) are never touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sanets.errors import DataError, DataNotFoundError


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, *, label: str | None = None) -> None:
    """Raise :class:`DataError` unless ``path`` has SHA-256 ``expected``."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise DataError(
            f"{label or path}: checksum mismatch: sha256 {actual}, expected {expected.lower()}"
        )


@contextmanager
def staging_dir(parent: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory inside ``parent``; always removed afterwards."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sanets-download-", dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def transfer(url: str, directory: Path, fname: str) -> Path:
    """Download ``url`` to ``directory / fname`` with pooch and return the path.

    Network and HTTP failures are re-raised as :class:`DataNotFoundError`
    naming the URL.
    """
    import pooch

    try:
        return Path(pooch.retrieve(url, known_hash=None, fname=fname, path=directory, progressbar=False))
    except Exception as error:  # requests/HTTP/OS errors differ by transport
        raise DataNotFoundError(f"{url}: {type(error).__name__}: {error}") from error


def download_verified(
    urls: Sequence[str],
    dest: Path,
    *,
    sha256: str | None = None,
    verify: Callable[[Path], None] | None = None,
    unpack: Callable[[Path], Path] | None = None,
) -> Path:
    """Download ``dest`` from the first of ``urls`` that yields a verified file.

    Parameters
    ----------
    urls : sequence of str
        Mirrors, tried in order.
    dest : Path
        Final location; written only after verification succeeds.
    sha256 : str, optional
        Known SHA-256 of the file.
    verify : callable, optional
        Called with the downloaded temporary path; raises :class:`DataError`
        if the content is wrong (used where no trustworthy hash is known).
    unpack : callable, optional
        Turns what a mirror served (named as in its URL, e.g. an archive) into
        the file to verify and keep; raises :class:`DataError` if it cannot.

    Raises
    ------
    DataError
        Every mirror answered but no file passed the checks (checksum mismatch).
    DataNotFoundError
        No mirror could be reached.
    """
    problems: list[str] = []
    corrupt = False
    with staging_dir(dest.parent) as tmp:
        for index, url in enumerate(urls):
            try:
                path = transfer(url, tmp / str(index), url.rsplit("/", 1)[-1] or dest.name)
                if sha256 is not None:
                    check_sha256(path, sha256, label=url)
                if unpack is not None:
                    path = unpack(path)
                if verify is not None:
                    verify(path)
            except DataNotFoundError as error:
                problems.append(str(error))
                continue
            except DataError as error:
                corrupt = True
                problems.append(str(error))
                continue
            os.replace(path, dest)
            return dest
    detail = "; ".join(problems) or "no mirror configured"
    if corrupt:
        raise DataError(f"{dest.name}: no verified download (nothing was saved): {detail}")
    raise DataNotFoundError(f"{dest.name}: {detail}")
