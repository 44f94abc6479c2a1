"""MNIST and Fashion-MNIST from their IDX files (gzipped or not).

Protocol (paper, Sec. IV): pixels scaled to [0, 1]; the 60000 training
images split into train (first 50000) and validation (last 10000); the 10000
test images are the test split. Images are ``(N, 1, 28, 28)`` float32,
labels ``(N,)`` int64.
"""

from __future__ import annotations

import functools
import gzip
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sanets.datasets import _download, _locate
from sanets.datasets._types import DataDir, DatasetSpec, Splits
from sanets.errors import DataError

__all__ = ["load_fashion_mnist", "load_mnist", "read_idx"]

IMAGES_MAGIC = 0x00000803
"""IDX magic of an unsigned-byte 3-D array (images)."""
LABELS_MAGIC = 0x00000801
"""IDX magic of an unsigned-byte 1-D array (labels)."""

N_TRAIN_FILE = 60000
N_TEST_FILE = 10000
N_VALIDATION = 10000

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's package ``dataset-fashion-mnist`` installs the IDX files."""


@dataclass(frozen=True)
class _IdxFile:
    stem: str  # file name without ".gz"
    kind: str  # "images" or "labels"
    count: int


_FILES = (
    _IdxFile("train-images-idx3-ubyte", "images", N_TRAIN_FILE),
    _IdxFile("train-labels-idx1-ubyte", "labels", N_TRAIN_FILE),
    _IdxFile("t10k-images-idx3-ubyte", "images", N_TEST_FILE),
    _IdxFile("t10k-labels-idx1-ubyte", "labels", N_TEST_FILE),
)


@dataclass(frozen=True)
class _ImageDataset:
    name: str
    title: str
    mirrors: tuple[str, ...]
    sha256: dict[str, str]  # "<stem>.gz" -> sha256 of the published gzip file
    class_names: tuple[str, ...]
    # Searched after the data roots; a callable so it reads the module constant at call time.
    system_dirs: Callable[[], tuple[_locate.SearchedDir, ...]] = tuple


MNIST = _ImageDataset(
    name="mnist",
    title="MNIST",
    # yann.lecun.com now often refuses downloads; these mirrors serve the same bytes.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    class_names=tuple(str(digit) for digit in range(10)),
)

FASHION_MNIST = _ImageDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    },
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    system_dirs=lambda: (_locate.SearchedDir(DEBIAN_FASHION_MNIST_DIR, "Debian package dataset-fashion-mnist"),),
)

_DATASETS = {MNIST.name: MNIST, FASHION_MNIST.name: FASHION_MNIST}


def read_idx(path: str | os.PathLike[str], kind: str, count: int | None = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes with strict validation.

    Parameters
    ----------
    path : path-like
        ``*-ubyte`` or ``*-ubyte.gz`` file (gzip is detected by content).
    kind : {"images", "labels"}
        Expected content: images are ``(N, 28, 28)``, labels ``(N,)``.
    count : int, optional
        Expected ``N``.

    Returns
    -------
    numpy.ndarray
        uint8 array ``(N, 28, 28)`` or ``(N,)``.

    Raises
    ------
    DataError
        Corrupt or truncated gzip stream, bad magic number, unexpected
        dimensions, or a byte count that does not match the header.
    """
    path = Path(path)
    if kind not in ("images", "labels"):
        raise ValueError(f"kind must be 'images' or 'labels', not {kind!r}")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise DataError(f"{path}: corrupt or truncated gzip stream: {error}") from error
    expected_magic, ndim = (IMAGES_MAGIC, 3) if kind == "images" else (LABELS_MAGIC, 1)
    if len(raw) < 4:
        raise DataError(f"{path}: only {len(raw)} bytes; too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"{path}: bad IDX magic 0x{magic:08x}; expected 0x{expected_magic:08x} for {kind}"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} of {header_size} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if kind == "images" and dims[1:] != (28, 28):
        raise DataError(f"{path}: images are {dims[1]}x{dims[2]}; expected 28x28")
    if count is not None and dims[0] != count:
        raise DataError(f"{path}: header says {dims[0]} {kind}; expected {count}")
    expected_bytes = int(np.prod(dims))
    payload = len(raw) - header_size
    if payload != expected_bytes:
        problem = "truncated" if payload < expected_bytes else "has trailing bytes"
        raise DataError(
            f"{path}: {problem}: header {dims} promises {expected_bytes} data bytes, file has {payload}"
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)
    if kind == "labels" and array.size and int(array.max()) > 9:
        raise DataError(f"{path}: label {int(array.max())} out of range 0..9")
    return array


def _file_in(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def locate(name: str, data_dir: DataDir = None) -> tuple[Path | None, list[_locate.SearchedDir]]:
    """Return (directory holding all four IDX files or None, directories searched)."""
    dataset = _DATASETS[name]
    searched = _locate.candidate_dirs(dataset.name, data_dir, dataset.system_dirs())
    for entry in searched:
        if all(_file_in(entry.path, spec.stem) for spec in _FILES):
            return entry.path, searched
    return None, searched


def fetch(name: str) -> Path:
    """Download the four gzipped IDX files of ``name`` into the user cache.

    Each file is verified against its published SHA-256 before it is moved
    into ``<cache>/<name>/``.

    Returns
    -------
    Path
        That directory.
    """
    dataset = _DATASETS[name]
    target = _locate.cache_dir() / dataset.name
    for spec in _FILES:
        fname = f"{spec.stem}.gz"
        dest = target / fname
        if not dest.is_file():
            urls = [mirror + fname for mirror in dataset.mirrors]
            _download.download_verified(urls, dest, sha256=dataset.sha256[fname])
    return target


def _load(dataset: _ImageDataset, data_dir: DataDir, download: bool) -> Splits:
    directory = _locate.resolve(_SPECS[dataset.name], data_dir, download)
    files = {spec.stem: _file_in(directory, spec.stem) for spec in _FILES}
    train_images = read_idx(files["train-images-idx3-ubyte"], "images", N_TRAIN_FILE)
    train_labels = read_idx(files["train-labels-idx1-ubyte"], "labels", N_TRAIN_FILE)
    test_images = read_idx(files["t10k-images-idx3-ubyte"], "images", N_TEST_FILE)
    test_labels = read_idx(files["t10k-labels-idx1-ubyte"], "labels", N_TEST_FILE)

    def images(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array.astype(np.float32) / np.float32(255.0)).unsqueeze(1)

    def labels(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array.astype(np.int64))

    split = N_TRAIN_FILE - N_VALIDATION
    return Splits(
        train=images(train_images[:split]),
        validation=images(train_images[split:]),
        test=images(test_images),
        train_labels=labels(train_labels[:split]),
        validation_labels=labels(train_labels[split:]),
        test_labels=labels(test_labels),
        name=dataset.name,
        source=directory,
        class_names=dataset.class_names,
    )


def load_mnist(data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Splits:
    """Load MNIST with the paper's split.

    Parameters
    ----------
    data_dir : path-like, optional
        Data root searched first; holds ``mnist/*-ubyte[.gz]``.
    download : bool
        Download into the user cache (SHA-256 verified) when found nowhere.

    Returns
    -------
    Splits
        ``train`` ``(50000, 1, 28, 28)``, ``validation`` ``(10000, 1, 28, 28)``
        (the last 10000 training images), ``test`` ``(10000, 1, 28, 28)``,
        float32 in [0, 1]; int64 labels 0..9.
    """
    return _load(MNIST, data_dir, download)


def load_fashion_mnist(data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Splits:
    """Load Fashion-MNIST with the paper's split.

    Also searches Debian's ``/usr/share/datasets/fashion-mnist`` (package
    ``dataset-fashion-mnist``) after the usual roots.

    Parameters
    ----------
    data_dir : path-like, optional
        Data root searched first; holds ``fashion-mnist/*-ubyte[.gz]``.
    download : bool
        Download into the user cache (SHA-256 verified) when found nowhere.

    Returns
    -------
    Splits
        Shapes as :func:`load_mnist`; labels 0..9 with
        :attr:`Splits.class_names` ``("T-shirt/top", ..., "Ankle boot")``.
    """
    return _load(FASHION_MNIST, data_dir, download)


_SPECS = {
    dataset.name: DatasetSpec(
        name=dataset.name,
        title=dataset.title,
        locate=functools.partial(locate, dataset.name),
        fetch=functools.partial(fetch, dataset.name),
        load=loader,
        wanted="IDX files (" + ", ".join(f"{spec.stem}[.gz]" for spec in _FILES) + ")",
        label=dataset.title,
    )
    for dataset, loader in ((MNIST, load_mnist), (FASHION_MNIST, load_fashion_mnist))
}
"""Registry entries, collected by :mod:`sanets.datasets._registry`."""
