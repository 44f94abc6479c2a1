"""Tests of sanets.datasets.uci_epilepsy against the real CSV, broken copies of it, and served downloads."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from sanets.datasets import fetch, load_uci_epilepsy, uci_epilepsy
from sanets.errors import DataError


@pytest.fixture(scope="session")
def uci_splits(shared):
    return load_uci_epilepsy(shared, download=False)


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
    with pytest.raises(DataError, match=r"data\.csv: line 3, column 5 \('X4'\): non-numeric value 'abc'"):
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


# --------------------------------------------------------------------------- downloads (served from local files)


def _no_staging_left(cache: Path) -> bool:
    return not any(p.name.startswith(".sanets-download-") for p in cache.rglob("*"))


def test_fetch_uci_verifies_content(shared, cache, serve):
    original = (shared / "uci-epilepsy" / "data.csv").read_bytes()
    tampered = original.replace(b",-104,", b",-105,", 1)
    assert tampered != original
    serve({"/data.csv": tampered})
    with pytest.raises(DataError, match=r"content checksum mismatch"):
        fetch(["uci-epilepsy"])
    assert not (cache / "uci-epilepsy" / "data.csv").exists()
    assert _no_staging_left(cache)
    serve({"/data.csv": original.replace(b"Unnamed,", b",", 1).replace(b"\r\n", b"\n")})
    assert fetch(["uci-epilepsy"]) == [cache / "uci-epilepsy" / "data.csv"]


def test_fetch_uci_from_the_zip_mirror(shared, cache, serve, tmp_path):
    # The first mirror (the CSV itself) is unreachable; the second serves UCI's zip archive.
    archive = tmp_path / "served.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(shared / "uci-epilepsy" / "data.csv", "Epileptic Seizure Recognition.csv")
    serve({".zip": archive})
    assert fetch(["uci-epilepsy"]) == [cache / "uci-epilepsy" / "data.csv"]
    landed = cache / "uci-epilepsy"
    assert (landed / "data.csv").read_bytes() == (shared / "uci-epilepsy" / "data.csv").read_bytes()
    assert [p.name for p in landed.iterdir()] == ["data.csv"]


def test_fetch_uci_rejects_an_archive_without_one_csv(shared, cache, serve, tmp_path):
    archive = tmp_path / "served.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("readme.txt", "no table here")
    serve({".zip": archive})
    with pytest.raises(DataError, match=r"nothing was saved.*expected one CSV in the archive, found \['readme\.txt'\]"):
        load_uci_epilepsy(download=True)
    assert not [p for p in cache.rglob("*") if p.is_file()]
