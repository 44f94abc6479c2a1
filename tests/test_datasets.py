"""Tests of sanets.datasets against the real files in ../shared/data, plus broken files made here."""

from __future__ import annotations

import csv
import gzip
import zipfile
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import wfdb

from sanets import cli
from sanets.datasets import (
    PHYSIONET_DATABASES,
    dataset_status,
    fetch,
    list_datasets,
    load_fashion_mnist,
    load_mnist,
    load_physionet,
    load_uci_epilepsy,
    read_idx,
)
from sanets.datasets import _download, mnist, physionet, uci_epilepsy
from sanets.errors import DataError, DataNotFoundError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Never touch the real user cache, $SANETS_DATA, Debian's dir, or the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("SANETS_DATA", raising=False)
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")

    def offline(url, directory, fname):
        raise DataNotFoundError(f"{url}: network unreachable (test)")

    monkeypatch.setattr(_download, "transfer", offline)
    return tmp_path


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "xdg-cache" / "sanets"


@pytest.fixture(scope="session")
def mnist_splits(shared):
    return load_mnist(shared, download=False)


@pytest.fixture(scope="session")
def uci_splits(shared):
    return load_uci_epilepsy(shared, download=False)


# --------------------------------------------------------------------------- PhysioNet


def test_paper_databases_listed_with_versions():
    assert list(PHYSIONET_DATABASES) == [
        "apnea-ecg", "bidmc", "bpssrat", "cebsdb", "ctu-uhb-ctgdb", "drivedb", "emgdb", "mitdb",
        "noneeg", "prcp", "shhpsgdb", "slpdb", "sufhsdb", "voiced", "wrist",
    ]  # fmt: skip
    assert PHYSIONET_DATABASES["mitdb"].first_record == "100"
    assert PHYSIONET_DATABASES["sufhsdb"].version == "1.0.1"
    for info in PHYSIONET_DATABASES.values():
        assert info.version.count(".") == 2
        assert info.first_record is not None or "not confirmed" in info.note


@pytest.mark.parametrize("database", ["mitdb", "emgdb", "ctu-uhb-ctgdb"])
def test_physionet_protocol_shapes_and_standardisation(shared, database):
    splits = load_physionet(database, data_dir=shared, download=False)
    assert splits.train.shape == (6, 1, 1000)
    assert splits.validation.shape == (2, 1, 1000)
    assert splits.test.shape == (4, 1, 1000)
    for part in (splits.train, splits.validation, splits.test):
        assert part.dtype == torch.float32
        assert torch.allclose(part.mean(dim=-1), torch.zeros(part.shape[:2]), atol=1e-5)
        assert torch.allclose(part.std(dim=-1), torch.ones(part.shape[:2]), atol=1e-5)
    assert splits.train_labels is None and not splits.has_labels
    assert splits.name == database


def test_physionet_window_matches_wfdb_read_directly(shared):
    splits = load_physionet("mitdb", data_dir=shared, download=False)
    record = wfdb.rdrecord(str(shared / "physionet" / "mitdb" / "100"), sampto=12000, channels=[0])
    raw = record.p_signal[:, 0]
    assert splits.sampling_rate == 360.0
    # validation window 1 = samples 7000..7999 (train is 0..5999, validation 6000..7999)
    window = raw[7000:8000]
    expected = (window - window.mean()) / window.std(ddof=1)
    np.testing.assert_allclose(splits.validation[1, 0].numpy(), expected, rtol=1e-5, atol=1e-5)
    window = raw[11000:12000]
    expected = (window - window.mean()) / window.std(ddof=1)
    np.testing.assert_allclose(splits.test[3, 0].numpy(), expected, rtol=1e-5, atol=1e-5)


def _copy_record(shared: Path, root: Path, database: str, record: str) -> Path:
    folder = root / "physionet" / database
    folder.mkdir(parents=True)
    for suffix in (".hea", ".dat"):
        shutil.copy(shared / "physionet" / database / f"{record}{suffix}", folder)
    return folder


def test_physionet_truncated_dat_is_named(shared, tmp_path):
    folder = _copy_record(shared, tmp_path / "root", "mitdb", "100")
    with open(folder / "100.dat", "r+b") as handle:
        handle.truncate(10000)
    with pytest.raises(DataError, match=r"100\.dat: truncated.*1950000 bytes.*10000 bytes"):
        load_physionet("mitdb", data_dir=tmp_path / "root", download=False)
    assert (folder / "100.dat").stat().st_size == 10000  # the user's files are never touched


def test_physionet_missing_signal_file(shared, tmp_path):
    folder = _copy_record(shared, tmp_path / "root", "emgdb", "emg_healthy")
    (folder / "emg_healthy.dat").unlink()
    with pytest.raises(DataError, match=r"emg_healthy\.dat: signal file named in .*emg_healthy\.hea is missing"):
        load_physionet("emgdb", data_dir=tmp_path / "root", download=False)


def test_physionet_garbage_header(tmp_path):
    folder = tmp_path / "root" / "physionet" / "mitdb"
    folder.mkdir(parents=True)
    (folder / "100.hea").write_text("this is not a header\n")
    with pytest.raises(DataError, match=r"100\.hea: unreadable WFDB header"):
        load_physionet("mitdb", data_dir=tmp_path / "root", download=False)


def _write_record(folder: Path, name: str, signal: np.ndarray, fs: float = 360.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(name, fs=fs, units=["mV"], sig_name=["x"], p_signal=signal[:, None], fmt=["16"], adc_gain=[1000.0], baseline=[0], write_dir=str(folder))


def test_physionet_short_record_says_found_and_needed(tmp_path):
    rng = np.random.default_rng(0)
    _write_record(tmp_path / "root" / "physionet" / "mitdb", "100", rng.normal(size=5000))
    with pytest.raises(DataError, match=r"found 5000.*needed 12000"):
        load_physionet("mitdb", data_dir=tmp_path / "root", download=False)


def test_physionet_constant_window_is_an_error_not_nan(tmp_path):
    signal = np.random.default_rng(0).normal(size=12000)
    signal[6000:7000] = 0.25  # validation window 0
    _write_record(tmp_path / "root" / "physionet" / "mitdb", "100", signal)
    with pytest.raises(DataError, match=r"validation window 0 \(samples 6000\.\.6999\) is constant"):
        load_physionet("mitdb", data_dir=tmp_path / "root", download=False)


def test_physionet_unknown_database():
    with pytest.raises(DataError, match=r"unknown PhysioNet database 'nope'.*mitdb"):
        load_physionet("nope", download=False)


def test_physionet_unconfirmed_record_found_via_records_file(shared, tmp_path):
    assert PHYSIONET_DATABASES["wrist"].first_record is None
    folder = tmp_path / "root" / "physionet" / "wrist"
    folder.mkdir(parents=True)
    for suffix in (".hea", ".dat"):
        shutil.copy(shared / "physionet" / "mitdb" / f"100{suffix}", folder)
    (folder / "RECORDS").write_text("100\nother\n")
    splits = load_physionet("wrist", data_dir=tmp_path / "root", download=False)
    assert splits.source == folder / "100"


# --------------------------------------------------------------------------- UCI epilepsy


def _raw_uci(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return np.array([r[1:179] for r in rows], dtype=float), np.array([int(r[179]) for r in rows])


def test_uci_protocol(shared, uci_splits):
    x, y = _raw_uci(shared / "uci-epilepsy" / "data.csv")
    s = uci_splits
    assert s.train.shape == (8740, 1, 178)
    assert s.validation.shape == (1380, 1, 178)
    assert s.test.shape == (1380, 1, 178)
    assert s.train.dtype == torch.float32 and s.train_labels.dtype == torch.int64
    merged = np.select([y == 1, np.isin(y, (2, 3)), np.isin(y, (4, 5))], [0, 1, 2])
    labels = torch.cat([s.train_labels, s.validation_labels, s.test_labels])
    assert labels.bincount().tolist() == [2300, 4600, 4600]
    assert labels.tolist() == merged.tolist()  # file order kept
    assert s.class_names == ("seizure", "tumour", "eyes")
    # scaled with the TRAINING split's min and max only
    lo, hi = x[:8740].min(), x[:8740].max()
    assert float(s.train.min()) == 0.0 and float(s.train.max()) == 1.0
    np.testing.assert_allclose(s.test[:, 0].numpy(), (x[10120:] - lo) / (hi - lo), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s.validation[5, 0].numpy(), (x[8745] - lo) / (hi - lo), rtol=1e-6, atol=1e-6)
    # on this file the training extremes happen to be the global ones, so no split strays outside [0, 1]
    assert float(s.validation.min()) >= 0.0 and float(s.test.max()) <= 1.0


def test_uci_authors_value_range(shared, uci_splits):
    # The authors' code mapped min and max to [-1, 1]: 2 * (x - lo) / (hi - lo) - 1.
    wide = load_uci_epilepsy(data_dir=shared, download=False, value_range=(-1.0, 1.0))
    assert float(wide.train.min()) == -1.0 and float(wide.train.max()) == 1.0
    torch.testing.assert_close(wide.test, 2 * uci_splits.test - 1, rtol=0, atol=1e-6)
    assert torch.equal(wide.test_labels, uci_splits.test_labels)
    with pytest.raises(ValueError, match="value_range must be"):
        load_uci_epilepsy(data_dir=shared, download=False, value_range=(1.0, 1.0))


def test_uci_header_variants_and_line_endings(shared, uci_splits, tmp_path):
    text = (shared / "uci-epilepsy" / "data.csv").read_bytes().decode()
    lf = text.replace("\r\n", "\n")
    uci_style = lf.replace("Unnamed,", ",", 1)  # UCI's original: empty first header cell
    assert uci_style.startswith(",X1,")
    for variant, content in (("uci-lf", uci_style), ("kaggle-lf", lf), ("uci-crlf", uci_style.replace("\n", "\r\n"))):
        root = tmp_path / variant
        (root / "uci-epilepsy").mkdir(parents=True)
        (root / "uci-epilepsy" / "data.csv").write_bytes(content.encode())
        splits = load_uci_epilepsy(root, download=False)
        assert torch.equal(splits.train, uci_splits.train), variant
        assert torch.equal(splits.test_labels, uci_splits.test_labels), variant


def _small_csv(tmp_path: Path, rows: list[list[str]]) -> Path:
    header = ["Unnamed", *[f"X{i}" for i in range(1, 179)], "y"]
    path = tmp_path / "root" / "uci-epilepsy" / "data.csv"
    path.parent.mkdir(parents=True)
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *rows])
    return tmp_path / "root"


def _row(label: int = 1) -> list[str]:
    return ["X1.V1.1", *[str(i) for i in range(178)], str(label)]


def test_uci_wrong_column_count(tmp_path):
    root = _small_csv(tmp_path, [_row(), _row()[:-2] + ["1"], _row()])
    with pytest.raises(DataError, match=r"data\.csv: line 3: 179 columns; expected 180"):
        load_uci_epilepsy(root, download=False)


def test_uci_non_numeric_cell(tmp_path):
    bad = _row()
    bad[4] = "abc"
    root = _small_csv(tmp_path, [_row(), bad])
    with pytest.raises(DataError, match=r"data\.csv: line 3, column 5 \(X4\): non-numeric value 'abc'"):
        uci_epilepsy.parse_csv(root / "uci-epilepsy" / "data.csv")


def test_uci_wrong_row_count_and_bad_class_and_header(tmp_path):
    root = _small_csv(tmp_path, [_row(), _row()])
    with pytest.raises(DataError, match=r"2 data rows; expected 11500"):
        load_uci_epilepsy(root, download=False)
    path = root / "uci-epilepsy" / "data.csv"
    with open(path, "a", newline="") as handle:  # lines 4..11500 fine, line 11501 class 7
        csv.writer(handle).writerows([_row(3)] * 11497 + [_row(7)])
    with pytest.raises(DataError, match=r"line 11501, column 180 \(y\): class '7'; expected 1\.\.5"):
        load_uci_epilepsy(root, download=False)
    path.write_text(path.read_text().replace("X7,", "X7b,", 1))
    with pytest.raises(DataError, match=r"line 1, column 8: header 'X7b'; expected 'X7'"):
        load_uci_epilepsy(root, download=False)


def test_uci_content_digest_matches_shared_copy(shared):
    x, y = uci_epilepsy.parse_csv(shared / "uci-epilepsy" / "data.csv")
    assert uci_epilepsy.content_sha256(x, y) == uci_epilepsy.CONTENT_SHA256


# --------------------------------------------------------------------------- MNIST / Fashion-MNIST


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


def test_pinned_checksums_match_the_real_files(shared):
    for dataset in (mnist.MNIST, mnist.FASHION_MNIST):
        for name, digest in dataset.sha256.items():
            assert hashlib.sha256((shared / dataset.name / name).read_bytes()).hexdigest() == digest, name
    for (database, name), digest in physionet.PINNED_SHA256.items():
        assert hashlib.sha256((shared / "physionet" / database / name).read_bytes()).hexdigest() == digest


# --------------------------------------------------------------------------- search order and missing data


@pytest.mark.parametrize(
    ("loader", "args", "name", "title", "wanted"),
    [
        (load_physionet, ("apnea-ecg",), "apnea-ecg", "PhysioNet database apnea-ecg", "physionet/apnea-ecg"),
        (load_uci_epilepsy, (), "uci-epilepsy", "UCI Epileptic Seizure Recognition", "uci-epilepsy"),
        (load_mnist, (), "mnist", "MNIST", "mnist"),
        (load_fashion_mnist, (), "fashion-mnist", "Fashion-MNIST", "fashion-mnist"),
    ],
)
def test_missing_data_names_dataset_dirs_and_command(tmp_path, monkeypatch, loader, args, name, title, wanted):
    monkeypatch.setenv("SANETS_DATA", str(tmp_path / "env-root"))
    with pytest.raises(DataNotFoundError) as info:
        loader(*args, data_dir=tmp_path / "arg-root", download=False)
    message = str(info.value)
    assert message.startswith(f"{title} not found")
    assert str(tmp_path / "arg-root" / wanted) in message
    assert str(tmp_path / "env-root" / wanted) in message
    assert str(_cache(tmp_path) / wanted) in message
    assert f"sanets data fetch {name}" in message
    assert isinstance(info.value, FileNotFoundError)


def test_download_failure_offline_is_reported(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"(?s)Download failed: .*network unreachable.*sanets data fetch mnist"):
        load_mnist(tmp_path / "empty", download=True)
    assert not any(_cache(tmp_path).rglob("*-ubyte*"))


def test_search_order(shared, tmp_path, monkeypatch):
    roots = {}
    for label in ("arg", "env", "cache"):
        root = _cache(tmp_path) if label == "cache" else tmp_path / label
        (root / "uci-epilepsy").mkdir(parents=True)
        (root / "uci-epilepsy" / "data.csv").symlink_to(shared / "uci-epilepsy" / "data.csv")
        roots[label] = root
    monkeypatch.setenv("SANETS_DATA", str(roots["env"]))
    assert dataset_status("uci-epilepsy", roots["arg"]).found == roots["arg"] / "uci-epilepsy" / "data.csv"
    assert dataset_status("uci-epilepsy").found == roots["env"] / "uci-epilepsy" / "data.csv"
    monkeypatch.delenv("SANETS_DATA")
    assert dataset_status("uci-epilepsy").found == _cache(tmp_path) / "uci-epilepsy" / "data.csv"


# --------------------------------------------------------------------------- downloads (served from local files)


def _serve(monkeypatch, table):
    """Replace the network: URLs ending in a key are answered with that value (bytes or Path)."""

    def transfer(url, directory, fname):
        for suffix, body in table.items():
            if url.endswith(suffix):
                Path(directory).mkdir(parents=True, exist_ok=True)
                target = Path(directory) / fname
                target.write_bytes(body.read_bytes() if isinstance(body, Path) else body)
                return target
        raise DataNotFoundError(f"{url}: HTTP 404 (test)")

    monkeypatch.setattr(_download, "transfer", transfer)


def _no_staging_left(tmp_path):
    return not any(p.name.startswith(".sanets-download-") for p in _cache(tmp_path).rglob("*"))


def test_fetch_mnist_lands_verified_files(shared, tmp_path, monkeypatch):
    _serve(monkeypatch, {f"/mnist/{p.name}": p for p in (shared / "mnist").iterdir()})
    places = fetch(["mnist"])
    assert places == [_cache(tmp_path) / "mnist"]
    assert sorted(p.name for p in places[0].iterdir()) == sorted(p.name for p in (shared / "mnist").iterdir())
    assert _no_staging_left(tmp_path)
    assert load_mnist(download=False).source == _cache(tmp_path) / "mnist"


def test_bad_download_is_never_left_in_cache(shared, tmp_path, monkeypatch):
    table = {f"/mnist/{p.name}": p for p in (shared / "mnist").iterdir()}
    table["/mnist/t10k-labels-idx1-ubyte.gz"] = b"\x1f\x8b definitely not the file"
    _serve(monkeypatch, table)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz.*checksum mismatch"):
        load_mnist(download=True)
    assert not (_cache(tmp_path) / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    assert _no_staging_left(tmp_path)


def test_fetch_physionet_record(shared, tmp_path, monkeypatch):
    folder = shared / "physionet" / "mitdb"
    _serve(monkeypatch, {"/mitdb/1.0.0/100.hea": folder / "100.hea", "/mitdb/1.0.0/100.dat": folder / "100.dat"})
    with pytest.warns(UserWarning, match="SHA256SUMS"):
        header = fetch(["mitdb"])[0]
    assert header == _cache(tmp_path) / "physionet" / "mitdb" / "100.hea"
    assert _no_staging_left(tmp_path)
    splits = load_physionet("mitdb", download=False)
    reference = load_physionet("mitdb", data_dir=shared, download=False)
    assert torch.equal(splits.test, reference.test)


def test_fetch_physionet_rejects_corrupt_dat(shared, tmp_path, monkeypatch):
    folder = shared / "physionet" / "mitdb"
    _serve(monkeypatch, {"/mitdb/1.0.0/100.hea": folder / "100.hea", "/mitdb/1.0.0/100.dat": b"\x00" * 1950000})
    with pytest.warns(UserWarning), pytest.raises(DataError, match=r"100\.dat: checksum mismatch"):
        load_physionet("mitdb", download=True)
    assert not (_cache(tmp_path) / "physionet" / "mitdb").exists() or not any((_cache(tmp_path) / "physionet" / "mitdb").iterdir())
    assert _no_staging_left(tmp_path)


def test_fetch_physionet_checks_sha256sums_and_resolves_records(shared, tmp_path, monkeypatch):
    folder = shared / "physionet" / "emgdb"
    sums = "".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()} {n}\n" for n in ("emg_healthy.hea", "emg_healthy.dat")
    )
    # noneeg's first record is unconfirmed: the download reads RECORDS (here served with emgdb's record)
    _serve(monkeypatch, {
        "/noneeg/1.0.0/RECORDS": b"emg_healthy\nemg_myopathy\n",
        "/noneeg/1.0.0/SHA256SUMS.txt": sums.encode(),
        "/noneeg/1.0.0/emg_healthy.hea": folder / "emg_healthy.hea",
        "/noneeg/1.0.0/emg_healthy.dat": folder / "emg_healthy.dat",
    })  # fmt: skip
    splits = load_physionet("noneeg", download=True)
    assert splits.source == _cache(tmp_path) / "physionet" / "noneeg" / "emg_healthy"
    assert (_cache(tmp_path) / "physionet" / "noneeg" / "RECORDS").read_text() == "emg_healthy\n"


def test_fetch_uci_verifies_content(shared, tmp_path, monkeypatch):
    original = (shared / "uci-epilepsy" / "data.csv").read_bytes()
    tampered = original.replace(b",-104,", b",-105,", 1)
    assert tampered != original
    _serve(monkeypatch, {"/data.csv": tampered})
    with pytest.raises(DataError, match=r"content checksum mismatch"):
        fetch(["uci-epilepsy"])
    assert not (_cache(tmp_path) / "uci-epilepsy" / "data.csv").exists()
    assert _no_staging_left(tmp_path)
    _serve(monkeypatch, {"/data.csv": original.replace(b"Unnamed,", b",", 1).replace(b"\r\n", b"\n")})
    assert fetch(["uci-epilepsy"]) == [_cache(tmp_path) / "uci-epilepsy" / "data.csv"]


def test_fetch_uci_from_the_zip_mirror(shared, tmp_path, monkeypatch):
    # The first mirror (the CSV itself) is unreachable; the second serves UCI's zip archive.
    archive = tmp_path / "served.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(shared / "uci-epilepsy" / "data.csv", "Epileptic Seizure Recognition.csv")
    _serve(monkeypatch, {".zip": archive})
    assert fetch(["uci-epilepsy"]) == [_cache(tmp_path) / "uci-epilepsy" / "data.csv"]
    landed = _cache(tmp_path) / "uci-epilepsy"
    assert (landed / "data.csv").read_bytes() == (shared / "uci-epilepsy" / "data.csv").read_bytes()
    assert [p.name for p in landed.iterdir()] == ["data.csv"]


# --------------------------------------------------------------------------- CLI


def test_cli_data_list(shared, capsys):
    assert cli.main(["data", "list", "--data-dir", str(shared)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(lines) == {*PHYSIONET_DATABASES, "uci-epilepsy", "mnist", "fashion-mnist"}
    assert "found" in lines["mitdb"] and str(shared / "physionet" / "mitdb" / "100.hea") in lines["mitdb"]
    assert "found" in lines["uci-epilepsy"] and "found" in lines["fashion-mnist"]
    assert "missing" in lines["apnea-ecg"] and "sanets data fetch apnea-ecg" in lines["apnea-ecg"]
    assert str(shared) in out.splitlines()[0]
    assert [s.name for s in list_datasets(shared) if s.available] == ["ctu-uhb-ctgdb", "emgdb", "mitdb", "uci-epilepsy", "mnist", "fashion-mnist"]


def test_cli_data_fetch(shared, capsys):
    assert cli.main(["data", "fetch", "mitdb", "--data-dir", str(shared)]) == 0
    assert "mitdb: already present at" in capsys.readouterr().out
    assert cli.main(["data", "fetch", "nope"]) == 1
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert cli.main(["data", "fetch", "apnea-ecg"]) == 1
    err = capsys.readouterr().err
    assert "network unreachable" in err and "Traceback" not in err
