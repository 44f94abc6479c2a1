"""Tests of sanets.datasets._download: pooch verifies, nothing unverified lands, errors name the file."""

from __future__ import annotations

import hashlib
import sys

import pytest

from sanets.datasets import _download, fetch
from sanets.errors import DataError, DataNotFoundError, MissingExtraError

BODY = b"the file a mirror serves\n"
DIGEST = hashlib.sha256(BODY).hexdigest()


def _files(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def test_transfer_keeps_a_file_with_the_known_hash(serve, tmp_path):
    serve({"/files/data.bin": BODY})
    path = _download.transfer("https://example.org/files/data.bin", tmp_path / "in", "data.bin", known_hash=f"sha256:{DIGEST}")
    assert path == tmp_path / "in" / "data.bin"
    assert path.read_bytes() == BODY
    assert _files(tmp_path / "in") == ["data.bin"]


def test_transfer_deletes_a_file_with_another_hash(serve, tmp_path):
    serve({"/files/data.bin": BODY + b"tampered"})
    with pytest.raises(DataError, match=rf"https://example\.org/files/data\.bin: checksum mismatch: .*expected sha256:{DIGEST}"):
        _download.transfer("https://example.org/files/data.bin", tmp_path / "in", "data.bin", known_hash=f"sha256:{DIGEST}")
    assert _files(tmp_path / "in") == []


def test_transfer_unreachable_names_the_url(tmp_path):
    pytest.importorskip("pooch")
    with pytest.raises(DataNotFoundError, match=r"https://example\.org/files/data\.bin: ConnectionError: network unreachable"):
        _download.transfer("https://example.org/files/data.bin", tmp_path / "in", "data.bin")


def test_transfer_bad_archive_is_a_data_error(serve, tmp_path):
    import pooch

    serve({"/files/bundle.zip": b"PK but not really a zip archive"})
    with pytest.raises(DataError, match=r"bundle\.zip: not a valid zip archive"):
        _download.transfer("https://example.org/files/bundle.zip", tmp_path / "in", "bundle.zip", processor=pooch.Unzip())


def test_download_verified_takes_the_first_good_mirror(serve, tmp_path):
    serve({"/one/data.bin": BODY + b"corrupt", "/two/data.bin": BODY})
    mirrors = ["https://one.example/one/data.bin", "https://none.example/zero/data.bin", "https://two.example/two/data.bin"]
    dest = tmp_path / "cache" / "set" / "data.bin"
    assert _download.download_verified(mirrors, dest, sha256=DIGEST) == dest
    assert dest.read_bytes() == BODY
    assert _files(tmp_path / "cache") == ["set/data.bin"]  # no staging directory left


def test_download_verified_saves_nothing_when_no_mirror_verifies(serve, tmp_path):
    serve({"/data.bin": BODY + b"corrupt"})
    dest = tmp_path / "cache" / "set" / "data.bin"
    with pytest.raises(DataError, match=r"data\.bin: no verified download \(nothing was saved\): .*checksum mismatch"):
        _download.download_verified(["https://one.example/data.bin", "https://two.example/data.bin"], dest, sha256=DIGEST)
    assert _files(tmp_path / "cache") == []


def test_download_verified_runs_the_content_check(serve, tmp_path):
    serve({"/data.bin": BODY})

    def reject(path):
        raise DataError(f"{path.name}: content is not what was expected")

    dest = tmp_path / "cache" / "data.bin"
    with pytest.raises(DataError, match=r"nothing was saved.*data\.bin: content is not what was expected"):
        _download.download_verified(["https://one.example/data.bin"], dest, verify=reject)
    assert _files(tmp_path / "cache") == []


def test_download_verified_unreachable_mirrors_are_not_found(tmp_path):
    pytest.importorskip("pooch")
    dest = tmp_path / "cache" / "data.bin"
    with pytest.raises(DataNotFoundError, match=r"data\.bin: https://one\.example/data\.bin: .*; https://two\.example/data\.bin: "):
        _download.download_verified(["https://one.example/data.bin", "https://two.example/data.bin"], dest)
    assert _files(tmp_path / "cache") == []


def test_download_without_pooch_names_the_pip_command(monkeypatch, cache):
    monkeypatch.setitem(sys.modules, "pooch", None)  # as if pooch were not installed
    with pytest.raises(MissingExtraError, match=r'downloading datasets needs pooch.*pip install "sparsely-activated-networks\[data\]"'):
        fetch(["mnist"])
    assert not [p for p in cache.rglob("*") if p.is_file()]
