"""A results folder: one JSON file per finished run, a manifest pinning its settings, a lock while written."""

from __future__ import annotations

import json
import math
import os
import socket
import time
from pathlib import Path

from sanets import __version__
from sanets._extras import require
from sanets._files import remove_orphaned_temporaries, strict_json, write_atomically
from sanets.errors import ReproduceError
from sanets.experiments._units import RESULTS_FORMAT, Settings, Unit

__all__ = ["ResultsFolder", "MANIFEST", "LOCK"]

MANIFEST = "sanets-results.json"
"""The file that marks a results folder, with its format version, settings and invocations."""

LOCK = ".sanets.lock"
"""The lock file held while a reproduction writes to the folder; ``LOCK + ".owner"`` names the holder."""


SCORES = ("validation", "test", "test_last_epoch", "curve")
"""A run record's score fields: numbers only, so their null (strict JSON's non-finite value) reads back as NaN."""


def _nan_for_null(value: object) -> object:
    if value is None:
        return math.nan
    if isinstance(value, dict):
        return {key: _nan_for_null(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nan_for_null(item) for item in value]
    return value


class ResultsFolder:
    """A folder of unit results, marked by a manifest that pins the format and settings.

    Use it as a context manager: entering takes the folder's lock (or refuses,
    naming the process that holds it), creates the manifest of a new folder,
    and leaving releases the lock.

    Parameters
    ----------
    path : path-like
        Must not be a file, nor a non-empty folder that is not a results folder,
        nor a results folder of another format or settings.
    settings : Settings

    Raises
    ------
    ReproduceError
    """

    def __init__(self, path: str | os.PathLike, settings: Settings) -> None:
        self.path = Path(path)
        self.settings = settings
        self._lock = None
        if self.path.exists() and not self.path.is_dir():
            raise ReproduceError(f"--out {str(self.path)!r} is a file, not a folder; choose another --out")
        if self._held():
            raise ReproduceError(self._held_message())
        manifest = self._manifest()
        if manifest is not None:
            if manifest.get("format") != "sanets-results" or manifest.get("format_version") != RESULTS_FORMAT:
                raise ReproduceError(
                    f"{self.path} holds results of an incompatible sanets (format version "
                    f"{manifest.get('format_version')!r}, written by sanets {manifest.get('sanets')!r}; this is "
                    f"format {RESULTS_FORMAT}, sanets {__version__}); choose another --out"
                )
            if manifest.get("settings") != settings.as_dict():
                raise ReproduceError(
                    f"{self.path} holds results made with other settings ({manifest.get('settings')}, now "
                    f"{settings.as_dict()}); rerun with the same --seed/--epochs/--quick or choose another --out"
                )
        elif self.path.is_dir() and any(path.name not in (LOCK, LOCK + ".owner") for path in self.path.iterdir()):
            raise ReproduceError(
                f"--out {str(self.path)!r} is a folder with other files in it and no {MANIFEST}; "
                "choose an empty or new folder"
            )

    def _manifest(self) -> dict | None:
        marker = self.path / MANIFEST
        if not marker.is_file():
            return None
        try:
            return json.loads(marker.read_text())
        except (OSError, ValueError) as error:
            raise ReproduceError(f"{marker}: unreadable results manifest ({error}); choose another --out") from None

    def __enter__(self) -> ResultsFolder:
        filelock = require("filelock", "locking a results folder")
        self.path.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path / LOCK))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise ReproduceError(self._held_message()) from None
        self._lock = lock
        remove_orphaned_temporaries(self.path)
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        write_atomically(self.path / (LOCK + ".owner"), lambda file: file.write(json.dumps(owner).encode()))
        if self._manifest() is None:
            self._write_manifest({"format": "sanets-results", "format_version": RESULTS_FORMAT,
                                  "sanets": __version__, "settings": self.settings.as_dict(), "invocations": []})
        return self

    def __exit__(self, *exc_info) -> None:
        if self._lock is not None:
            (self.path / (LOCK + ".owner")).unlink(missing_ok=True)
            self._lock.release()
            self._lock = None

    def _held(self) -> bool:
        """Whether another process holds the folder's lock now."""
        if not (self.path / LOCK).is_file():
            return False
        filelock = require("filelock", "locking a results folder")
        probe = filelock.FileLock(str(self.path / LOCK))
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            return True
        probe.release()
        return False

    def _held_message(self) -> str:
        try:
            owner = json.loads((self.path / (LOCK + ".owner")).read_text())
            holder = f"process {owner['pid']} on {owner['host']}, started {owner['started']}"
        except (OSError, ValueError, KeyError):
            holder = "another process"
        return (
            f"{self.path} is being written by another sanets reproduce ({holder}; lock {self.path / LOCK}); "
            "wait for it to finish, then rerun to add what is missing, or choose another --out"
        )

    def _write_manifest(self, manifest: dict) -> None:
        write_atomically(self.path / MANIFEST, lambda file: file.write(strict_json(manifest, indent=1).encode()))

    def has(self, unit: Unit) -> bool:
        """Whether ``unit``'s result is written."""
        return (self.path / unit.path).is_file()

    def write(self, unit: Unit, record: dict) -> None:
        """Write ``unit``'s result atomically (the folder must be locked)."""
        assert self._lock is not None, "write results inside `with folder:`"
        payload = strict_json({"unit": unit.__dict__, **record}).encode()
        write_atomically(self.path / unit.path, lambda file: file.write(payload))

    def results(self) -> dict[Unit, dict]:
        """Every finished run in the folder, whichever invocation computed it, in unit order."""
        found = {}
        for file in sorted((self.path / "runs").rglob("*.json")):
            try:
                record = json.loads(file.read_text())
                unit = Unit(**record.pop("unit"))
                for key in SCORES:
                    if key in record:
                        record[key] = _nan_for_null(record[key])
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ReproduceError(f"{file}: unreadable result ({error}); delete it to recompute the unit") from None
            found[unit] = record
        return dict(sorted(found.items()))

    def log_invocation(self, command: str, seconds: float, computed: int) -> list[dict]:
        """Append an invocation to the manifest; return them all, oldest first."""
        manifest = self._manifest() or {}
        invocations = manifest.setdefault("invocations", [])
        invocations.append({"command": command, "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                            "seconds": round(seconds, 3), "computed": computed})
        self._write_manifest(manifest)
        return invocations
