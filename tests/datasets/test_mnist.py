"""Tests of sanets.datasets.mnist against the real IDX files, broken copies of them, and served downloads."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from sanets.datasets import dataset_status, fetch, load_fashion_mnist, load_mnist, mnist
from sanets.datasets.mnist import read_idx
from sanets.errors import DataError


@pytest.fixture(scope="session")
def mnist_splits(shared):
    return load_mnist(shared, download=False)


def _idx(path: Path, offset: int) -> np.ndarray:
    return np.frombuffer(gzip.decompress(path.read_bytes()), dtype=np.uint8, offset=offset)


def test_mnist_protocol(shared, mnist_splits):
    s = mnist_splits
    assert s.train.shape == (50000, 1, 28, 28)
    assert s.validation.shape == (10000, 1, 28, 28)
    assert s.test.shape == (10000, 1, 28, 28)
    assert s.train.dtype == torch.float32 and s.test_labels.dtype == torch.int64
    assert float(s.train.min()) == 0.0 and float(s.train.max()) == 1.0
    train_counts = (s.train_labels.bincount() + s.validation_labels.bincount()).tolist()
    assert train_counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert s.test_labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # validation = the LAST 10000 images of the training file, read independently here
    raw = _idx(shared / "mnist" / "train-images-idx3-ubyte.gz", 16).reshape(60000, 28, 28)
    np.testing.assert_array_equal(s.validation[:, 0].numpy(), raw[50000:].astype(np.float32) / 255)
    labels = _idx(shared / "mnist" / "train-labels-idx1-ubyte.gz", 8)
    assert s.validation_labels.tolist() == labels[50000:].tolist()
    assert s.source == shared / "mnist"


def test_fashion_mnist_protocol(shared):
    s = load_fashion_mnist(shared, download=False)
    assert (s.train.shape, s.validation.shape, s.test.shape) == ((50000, 1, 28, 28), (10000, 1, 28, 28), (10000, 1, 28, 28))
    assert (s.train_labels.bincount() + s.validation_labels.bincount()).tolist() == [6000] * 10
    assert s.test_labels.bincount().tolist() == [1000] * 10
    assert 0.0 <= float(s.test.min()) and float(s.test.max()) <= 1.0
    assert s.class_names[9] == "Ankle boot"


def test_fashion_mnist_found_in_debian_dir(shared, monkeypatch):
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST_DIR", shared / "fashion-mnist")
    status = dataset_status("fashion-mnist")
    assert status.found == shared / "fashion-mnist"
    assert "Debian" in status.searched[-1].origin
    assert load_fashion_mnist(download=False).source == shared / "fashion-mnist"
    assert all("Debian" not in entry.origin for entry in dataset_status("mnist").searched)


def test_idx_uncompressed_reads_the_same(shared, tmp_path):
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((shared / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    np.testing.assert_array_equal(
        read_idx(raw, "labels", 10000), read_idx(shared / "mnist" / "t10k-labels-idx1-ubyte.gz", "labels", 10000)
    )


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x00\x00" + b"\x00" * 64))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: bad IDX magic 0x00000000; expected 0x00000803 for images"):
        read_idx(path, "images")


def test_idx_short_gzip(shared, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes((shared / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()[:1000])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: corrupt or truncated gzip stream"):
        read_idx(path, "labels")


def test_idx_byte_count_must_match_header(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    header = (0x803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (3, 28, 28))
    path.write_bytes(header + bytes(2 * 784))
    with pytest.raises(DataError, match=r"truncated: header \(3, 28, 28\) promises 2352 data bytes, file has 1568"):
        read_idx(path, "images")
    path.write_bytes(header + bytes(3 * 784))
    with pytest.raises(DataError, match=r"header says 3 images; expected 10000"):
        read_idx(path, "images", 10000)


def test_mnist_loader_names_the_corrupt_file(shared, tmp_path):
    folder = tmp_path / "root" / "mnist"
    folder.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        (folder / name).symlink_to(shared / "mnist" / name)
    (folder / "t10k-labels-idx1-ubyte").write_bytes((0x801).to_bytes(4, "big") + (10000).to_bytes(4, "big") + bytes(10))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: truncated"):
        load_mnist(tmp_path / "root", download=False)


def test_published_checksums_match_the_real_files(shared):
    for dataset in (mnist.MNIST, mnist.FASHION_MNIST):
        for name, digest in dataset.sha256.items():
            assert hashlib.sha256((shared / dataset.name / name).read_bytes()).hexdigest() == digest, name


# --------------------------------------------------------------------------- downloads (served from local files)


def _no_staging_left(cache: Path) -> bool:
    return not any(p.name.startswith(".sanets-download-") for p in cache.rglob("*"))


def test_fetch_mnist_lands_verified_files(shared, cache, serve):
    serve({f"/mnist/{p.name}": p for p in (shared / "mnist").iterdir()})
    places = fetch(["mnist"])
    assert places == [cache / "mnist"]
    assert sorted(p.name for p in places[0].iterdir()) == sorted(p.name for p in (shared / "mnist").iterdir())
    assert _no_staging_left(cache)
    assert load_mnist(download=False).source == cache / "mnist"


def test_bad_download_is_never_left_in_cache(shared, cache, serve):
    table = {f"/mnist/{p.name}": p for p in (shared / "mnist").iterdir()}
    table["/mnist/t10k-labels-idx1-ubyte.gz"] = b"\x1f\x8b definitely not the file"
    serve(table)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz.*checksum mismatch"):
        load_mnist(download=True)
    assert not (cache / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    assert _no_staging_left(cache)


def test_fetch_fashion_mnist_tries_the_next_mirror(shared, cache, serve):
    # The first mirror (Zalando's S3 site) is down; GitHub serves the files.
    serve({f"/data/fashion/{p.name}": p for p in (shared / "fashion-mnist").iterdir()})
    assert fetch(["fashion-mnist"]) == [cache / "fashion-mnist"]
    splits = load_fashion_mnist(download=False)
    assert torch.equal(splits.test_labels, load_fashion_mnist(shared, download=False).test_labels)
