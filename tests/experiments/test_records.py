"""Table I's protocol on records other than each database's first (sanets reproduce --records / --all-records)."""

from __future__ import annotations

import csv
import shutil

import pytest
import torch

from sanets.datasets import load_physionet
from sanets.datasets.physionet import local_records
from sanets.errors import DataError, ReproduceError
from sanets.experiments import reproduce


def keys(out) -> dict[str, str]:
    with open(out / "keys-values.csv", newline="") as file:
        return {row["key"]: row["value"] for row in csv.DictReader(file)}


def test_another_record_is_cut_as_the_first(shared):
    if not (shared / "physionet" / "mitdb" / "101.hea").is_file():
        pytest.skip("mitdb record 101 is not in the shared data")
    assert local_records("mitdb", shared)[:2] == ["100", "101"]
    first, other = load_physionet("mitdb", shared, download=False), load_physionet("mitdb", shared, download=False, record="101")
    assert other.train.shape == first.train.shape == (6, 1, 1000) and not torch.equal(other.train, first.train)
    assert other.source.name == "101"
    with pytest.raises(DataError, match="record '999' of mitdb not found"):
        load_physionet("mitdb", shared, download=False, record="999")


def test_records_get_rows_and_keys_of_their_own(shared, tmp_path):
    if not (shared / "physionet" / "mitdb" / "101.hea").is_file():
        pytest.skip("mitdb record 101 is not in the shared data")
    root = tmp_path / "data"
    (root / "physionet").mkdir(parents=True)
    shutil.copytree(shared / "physionet" / "mitdb", root / "physionet" / "mitdb",
                    ignore=lambda folder, names: [n for n in names if not n.startswith(("100.", "101.", "103."))])
    options = {"data_dir": root, "databases": ["mitdb"], "kernel_sizes": [3], "activations": ["relu"], "epochs": 1,
               "baselines": False, "progress": False, "echo": lambda line: None}
    reproduce(["physionet"], tmp_path / "one", records=["mitdb/101"], **options)
    found = keys(tmp_path / "one")
    assert "physionet/mitdb/relu/flithos" in found and "physionet/mitdb/101/relu/flithos" in found
    assert not any(key.startswith("physionet/mitdb/103/") for key in found)
    reproduce(["physionet"], tmp_path / "all", all_records=True, **options)
    found = keys(tmp_path / "all")
    assert {"physionet/mitdb/101/relu/flithos", "physionet/mitdb/103/relu/flithos"} <= set(found)
    assert found["physionet/mitdb/101/relu/flithos"] == keys(tmp_path / "one")["physionet/mitdb/101/relu/flithos"]
    with pytest.raises(ReproduceError, match="--records takes DATABASE/RECORD"):
        reproduce(["physionet"], tmp_path / "bad", records=["nodb/1"], **options)
