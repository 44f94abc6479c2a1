"""Fixtures of the sanets.datasets tests: isolation from the real machine, and a fake network."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from sanets.datasets import _download, mnist


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Never touch the real user cache, $SANETS_DATA, Debian's dir, or the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("SANETS_DATA", raising=False)
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")

    def offline(url, output_file, pooch):
        raise ConnectionError(f"network unreachable (test): {url}")

    # Only the transport is replaced; pooch still hashes, unpacks and moves files.
    monkeypatch.setattr(_download, "_downloader", offline)
    return tmp_path


@pytest.fixture
def cache(tmp_path) -> Path:
    """The user cache root the loaders use under :func:`isolated`."""
    return tmp_path / "xdg-cache" / "sanets"


@pytest.fixture
def serve(monkeypatch) -> Callable[[Mapping[str, bytes | Path]], None]:
    """Install a fake network: URLs ending in a key are answered with that value (bytes or a file)."""

    pytest.importorskip("pooch")

    def install(table: Mapping[str, bytes | Path]) -> None:
        def downloader(url, output_file, pooch):
            for suffix, body in table.items():
                if url.endswith(suffix):
                    Path(output_file).write_bytes(body.read_bytes() if isinstance(body, Path) else body)
                    return
            raise OSError(f"404 Client Error: Not Found for url: {url} (test)")

        monkeypatch.setattr(_download, "_downloader", downloader)

    return install


@pytest.fixture
def physionet_bytes(shared) -> Callable[[str, str], bytes]:
    """PhysioNet's bytes of a file of shared/data/physionet, undoing the edits PROVENANCE.md lists."""

    def read(database: str, name: str) -> bytes:
        data = (shared / "physionet" / database / name).read_bytes()
        if (database, name) == ("mitdb", "100.hea"):
            # wfdb-python's fixture: a comment line first, a blank line between the two signal lines.
            assert data.startswith(b"# unnecessary comment\n") and b"MLII\n\r\n" in data
            data = data.removeprefix(b"# unnecessary comment\n").replace(b"MLII\n\r\n", b"MLII\r\n", 1)
        if (database, name) == ("emgdb", "emg_healthy.hea"):
            # The source repository stored it with LF line endings and no final line break.
            assert b"\r" not in data and not data.endswith(b"\n")
            data = data.replace(b"\n", b"\r\n") + b"\r\n"
        return data

    return read
