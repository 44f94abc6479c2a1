"""Downloading one PhysioNet record, every file verified, landed atomically.

The rule: a file is downloaded only against a known SHA-256, the one pinned
in :data:`sanets.datasets.physionet.PINNED_SHA256` or else the one PhysioNet's
``SHA256SUMS.txt`` of the pinned database version lists. A file neither
covers is an error, never a warning: nothing unverified reaches the cache.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sanets.datasets import _download, _wfdb
from sanets.errors import DataError


def _parse_sha256sums(path: Path) -> dict[str, str]:
    """Return ``{relative file name: sha256}`` from a ``sha256sum``-style listing."""
    sums: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def first_line(path: Path) -> str | None:
    """Return the first non-blank line of ``path`` (a ``RECORDS`` file), stripped, or ``None``."""
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[0] if lines else None


def fetch_record(
    database: str, version: str, first_record: str | None, base: str, target: Path, pins: Mapping[tuple[str, str], str]
) -> Path:
    """Download the first record of PhysioNet ``database`` from ``base`` into ``target``.

    Parameters
    ----------
    database, version : str
        The database's slug and pinned version.
    first_record : str or None
        Its first record; None: read it from ``RECORDS``.
    base : str
        ``https://physionet.org/files/<database>/<version>/``.
    target : Path
        ``<cache>/physionet/<database>``.
    pins : mapping
        ``(database, relative file name) -> sha256``.

    Returns
    -------
    Path
        The record's header, ``target / "<record>.hea"``.

    Raises
    ------
    DataError
        No SHA-256 known for a file, a checksum mismatch or a bad record;
        nothing is saved.
    DataNotFoundError
        A file could not be downloaded (names the URL).
    """
    with _download.staging_dir(target.parent) as tmp:
        stage = tmp / database
        sums: dict[str, str] = {}

        def sha256(relative: str) -> str:
            pinned = pins.get((database, relative))
            if pinned is not None:
                return pinned
            refused = (
                f"{relative} of PhysioNet database {database} {version} cannot be verified, "
                "so nothing was saved"
            )
            if not sums:
                try:
                    listing = _download.transfer(base + "SHA256SUMS.txt", tmp / "meta", "SHA256SUMS.txt")
                except DataError as error:  # DataNotFoundError (offline) stays one, so loaders report it as such
                    raise type(error)(
                        f"{refused}: sanets pins no SHA-256 for it and {base}SHA256SUMS.txt "
                        f"could not be fetched ({error})"
                    ) from error
                sums.update(_parse_sha256sums(listing))
            if relative not in sums:
                raise DataError(f"{refused}: sanets pins no SHA-256 for it and {base}SHA256SUMS.txt does not list it")
            return sums[relative]

        def get(relative: str) -> Path:
            return _download.transfer(
                base + relative, (stage / relative).parent, Path(relative).name, known_hash=f"sha256:{sha256(relative)}"
            )

        record_name = first_record or first_line(get("RECORDS"))
        if record_name is None:
            raise DataError(f"{base}RECORDS: empty; cannot tell the first record")
        record = get(record_name + ".hea").with_suffix("")
        header = _wfdb.read_header(record)
        if not hasattr(header, "file_name"):
            raise DataError(f"{base}{record_name}.hea: multi-segment records are not supported")
        folder = str(Path(record_name).parent)
        signal_files = [
            name if folder in ("", ".") else f"{folder}/{name}" for name in dict.fromkeys(header.file_name or [])
        ]
        for relative in signal_files:
            get(relative)
        _wfdb.check_signal_files(record, header)
        # Signal files first, the header last: a loader finds a record by its header.
        for relative in [*signal_files, record_name + ".hea"]:
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / relative, dest)
        if first_record is None:
            (target / "RECORDS").write_text(record_name + "\n")
    return target / (record_name + ".hea")
