"""Downloads that are verified before they land in the cache, atomically.

``pooch`` transfers, hashes (SHA-256) and unpacks. Every download goes to a
private staging directory *inside* the destination's parent (same file
system), is checked, and only then moved into place with :func:`os.replace`.
Whatever fails, the staging directory is removed, so a bad or partial
download is never left where a loader would find it. Files that already
exist elsewhere (the user's own data) are never touched.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sanets._extras import require
from sanets.errors import DataError, DataNotFoundError, SanetsError

Processor = Callable[[str, str, Any], str]
"""A pooch processor ``(file name, action, pooch) -> path of the file to keep``."""

_downloader: Callable[[str, str, Any], None] | None = None
"""The pooch downloader :func:`transfer` uses; ``None`` lets pooch choose one
by URL. Tests put a fake network here, so pooch still does the hashing and
unpacking it does for real downloads."""


@contextmanager
def staging_dir(parent: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory inside ``parent``; always removed afterwards."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sanets-download-", dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    # pooch logs every download and unzip at INFO on stderr; sanets reports progress itself.
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def transfer(
    url: str,
    directory: Path,
    fname: str,
    known_hash: str | None = None,
    processor: Processor | None = None,
) -> Path:
    """Download ``url`` to ``directory / fname`` with pooch, verify and unpack it.

    Parameters
    ----------
    url : str
        What to download.
    directory : Path
        Where to put it (created if missing); a staging directory.
    fname : str
        File name to save it as.
    known_hash : str, optional
        ``"sha256:<hex>"``; pooch deletes the file unless it matches.
    processor : callable, optional
        pooch processor run on the verified file (e.g. one that unzips);
        returns the path of the file to keep.

    Returns
    -------
    Path
        The downloaded file, or what ``processor`` returned.

    Raises
    ------
    DataError
        Checksum mismatch, or an archive that cannot be unpacked (the
        message names the URL).
    DataNotFoundError
        The URL could not be fetched (no network, HTTP error); names the URL.
    MissingExtraError
        pooch is not installed.
    """
    pooch = require("pooch", "downloading datasets")
    try:
        with _quiet(pooch.get_logger()):
            result = pooch.retrieve(
                url,
                known_hash=known_hash,
                fname=fname,
                path=directory,
                processor=processor,
                downloader=_downloader,
                progressbar=False,
            )
    except SanetsError:
        raise
    except zipfile.BadZipFile as error:
        raise DataError(f"{url}: not a valid zip archive: {error}") from error
    except ValueError as error:
        # pooch's hash mismatch is a plain ValueError; requests' URL errors subclass it.
        if type(error) is not ValueError:
            raise DataNotFoundError(f"{url}: {type(error).__name__}: {error}") from error
        raise DataError(f"{url}: checksum mismatch: {error}") from error
    except Exception as error:  # requests/HTTP/OS errors differ by transport
        raise DataNotFoundError(f"{url}: {type(error).__name__}: {error}") from error
    return Path(result)


def download_verified(
    urls: Sequence[str],
    dest: Path,
    *,
    sha256: str | None = None,
    verify: Callable[[Path], None] | None = None,
    processor: Processor | None = None,
) -> Path:
    """Download ``dest`` from the first of ``urls`` that yields a verified file.

    Parameters
    ----------
    urls : sequence of str
        Mirrors, tried in order.
    dest : Path
        Final location; written only after verification succeeds.
    sha256 : str, optional
        Known SHA-256 (hex) of what a mirror serves, checked by pooch.
    verify : callable, optional
        Called with the (unpacked) temporary file; raises :class:`DataError`
        if the content is wrong (for files without a trustworthy hash).
    processor : callable, optional
        pooch processor turning what a mirror served (e.g. an archive) into
        the file to verify and keep.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DataError
        Every mirror answered but no file passed the checks (nothing was saved).
    DataNotFoundError
        No mirror could be reached.
    """
    problems: list[str] = []
    corrupt = False
    with staging_dir(dest.parent) as tmp:
        for index, url in enumerate(urls):
            try:
                path = transfer(
                    url,
                    tmp / str(index),
                    url.rsplit("/", 1)[-1] or dest.name,
                    known_hash=None if sha256 is None else f"sha256:{sha256}",
                    processor=processor,
                )
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
