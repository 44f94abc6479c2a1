"""Tests of the dataset registry: names, search order, status, fetch dispatch, and `sanets data`."""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from sanets import cli
from sanets.datasets import (
    DATASETS,
    PHYSIONET_DATABASES,
    DatasetStatus,
    _registry,
    dataset_status,
    fetch,
    list_datasets,
    load_fashion_mnist,
    load_mnist,
    load_physionet,
    load_uci_epilepsy,
)
from sanets.errors import DataError, DataNotFoundError


def test_registry_holds_every_dataset_in_paper_order():
    assert list(DATASETS) == [*PHYSIONET_DATABASES, "uci-epilepsy", "mnist", "fashion-mnist"]
    for name, spec in DATASETS.items():
        assert spec.name == name and spec.title and spec.wanted and spec.label
    assert DATASETS["mitdb"].title == "MIT-BIH Arrhythmia Database"
    assert DATASETS["mitdb"].label == "PhysioNet database mitdb"


def test_registry_load_is_the_loader(shared):
    pytest.importorskip("wfdb")
    assert DATASETS["uci-epilepsy"].load(shared, False).test.equal(load_uci_epilepsy(shared, download=False).test)
    assert DATASETS["emgdb"].load(shared, False).train.equal(load_physionet("emgdb", shared, download=False).train)
    assert DATASETS["fashion-mnist"].load(shared, False).class_names[0] == "T-shirt/top"


@pytest.mark.parametrize(
    ("loader", "args", "name", "title", "wanted"),
    [
        (load_physionet, ("apnea-ecg",), "apnea-ecg", "PhysioNet database apnea-ecg", "physionet/apnea-ecg"),
        (load_uci_epilepsy, (), "uci-epilepsy", "UCI Epileptic Seizure Recognition", "uci-epilepsy"),
        (load_mnist, (), "mnist", "MNIST", "mnist"),
        (load_fashion_mnist, (), "fashion-mnist", "Fashion-MNIST", "fashion-mnist"),
    ],
)
def test_missing_data_names_dataset_dirs_and_command(tmp_path, cache, monkeypatch, loader, args, name, title, wanted):
    monkeypatch.setenv("SANETS_DATA", str(tmp_path / "env-root"))
    with pytest.raises(DataNotFoundError) as info:
        loader(*args, data_dir=tmp_path / "arg-root", download=False)
    message = str(info.value)
    assert message.startswith(f"{title} not found")
    assert str(tmp_path / "arg-root" / wanted) in message
    assert str(tmp_path / "env-root" / wanted) in message
    assert str(cache / wanted) in message
    assert "Download was off (download=False)." in message
    assert f"sanets data fetch {name}" in message
    assert isinstance(info.value, FileNotFoundError)


def test_download_failure_offline_is_reported(tmp_path, cache):
    pytest.importorskip("pooch")
    with pytest.raises(DataNotFoundError, match=r"(?s)MNIST not found.*Download failed: .*network unreachable.*sanets data fetch mnist"):
        load_mnist(tmp_path / "empty", download=True)
    assert not any(cache.rglob("*-ubyte*"))


def test_search_order(shared, tmp_path, cache, monkeypatch):
    roots = {}
    for label in ("arg", "env", "cache"):
        root = cache if label == "cache" else tmp_path / label
        (root / "uci-epilepsy").mkdir(parents=True)
        (root / "uci-epilepsy" / "data.csv").symlink_to(shared / "uci-epilepsy" / "data.csv")
        roots[label] = root
    monkeypatch.setenv("SANETS_DATA", str(roots["env"]))
    assert dataset_status("uci-epilepsy", roots["arg"]).found == roots["arg"] / "uci-epilepsy" / "data.csv"
    assert dataset_status("uci-epilepsy").found == roots["env"] / "uci-epilepsy" / "data.csv"
    assert load_uci_epilepsy(download=False).source == roots["env"] / "uci-epilepsy" / "data.csv"
    monkeypatch.delenv("SANETS_DATA")
    assert dataset_status("uci-epilepsy").found == cache / "uci-epilepsy" / "data.csv"


def test_status_of_found_and_missing(shared, tmp_path, cache):
    found = dataset_status("mitdb", shared)
    assert isinstance(found, DatasetStatus) and found.available
    assert found.found == shared / "physionet" / "mitdb" / "100.hea"
    assert found.describe().split() == ["mitdb", "found", str(found.found)]
    missing = dataset_status("mnist", tmp_path / "empty")
    assert not missing.available and missing.found is None
    assert [entry.path for entry in missing.searched] == [tmp_path / "empty" / "mnist", cache / "mnist"]
    assert missing.describe().endswith("missing  get it with: sanets data fetch mnist")
    with pytest.raises(DataError, match=r"unknown dataset 'nope'; known: apnea-ecg, .*fashion-mnist"):
        dataset_status("nope")


@pytest.fixture
def fake_fetches(monkeypatch) -> list[str]:
    """Replace every spec's fetch with one that records its name and returns /fetched/<name>."""
    calls: list[str] = []

    def fake(name: str) -> Path:
        calls.append(name)
        return Path("/fetched") / name

    specs = {name: dataclasses.replace(spec, fetch=functools.partial(fake, name)) for name, spec in DATASETS.items()}
    monkeypatch.setattr(_registry, "DATASETS", MappingProxyType(specs))
    return calls


def test_fetch_skips_what_is_present_and_dispatches_the_rest(shared, fake_fetches):
    lines: list[str] = []
    places = fetch(["mitdb", "physionet", "mnist", "uci-epilepsy"], data_dir=shared, echo=lines.append)
    present = {folder.name for folder in (shared / "physionet").iterdir() if any(folder.glob("*.hea"))}
    missing = [name for name in PHYSIONET_DATABASES if name not in present]
    assert fake_fetches == missing  # each once, in registry order after the first name given
    assert places[0] == shared / "physionet" / "mitdb" / "100.hea"
    assert places[-2:] == [shared / "mnist", shared / "uci-epilepsy" / "data.csv"]
    assert len(places) == 1 + 14 + 2
    assert lines[0] == f"mitdb: already present at {places[0]}"
    assert "apnea-ecg: saved at /fetched/apnea-ecg" in lines


def test_fetch_all_and_unknown_names(tmp_path, fake_fetches):
    assert fetch(["all"], data_dir=tmp_path / "empty") == [Path("/fetched") / name for name in DATASETS]
    assert fake_fetches == list(DATASETS)
    with pytest.raises(DataError, match=r"unknown dataset 'nope'; known: .* \(or 'physionet', 'all'\)"):
        fetch(["mnist", "nope"])
    assert fake_fetches == list(DATASETS)  # names are checked before anything is fetched


def test_import_needs_no_data_extra(shared, tmp_path):
    # wfdb, pyedflib and pooch are the [data] extra: the package and the local loaders work without them.
    recording = tmp_path / "rec.csv"
    recording.write_text("a,b\n" + "1,2\n" * 9)
    code = f"""
import sys
for name in ("wfdb", "pyedflib", "pooch"):
    sys.modules[name] = None
import sanets.datasets as d
assert d.load_uci_epilepsy({str(shared)!r}, download=False).train.shape == (8740, 1, 178)
assert d.load_mnist({str(shared)!r}, download=False).test.shape == (10000, 1, 28, 28)
assert d.windows(d.load_signal({str(recording)!r}), 2, channel="b").shape == (4, 1, 2)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_import_loads_no_data_extra():
    code = "import sys, sanets.datasets; print(sorted(m for m in ('wfdb', 'pyedflib', 'pooch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


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
    present = [name for name in PHYSIONET_DATABASES if any((shared / "physionet" / name).glob("*.hea"))]
    others = [name for name in ("uci-epilepsy", "mnist", "fashion-mnist") if (shared / name).is_dir()]
    assert [s.name for s in list_datasets(shared) if s.available] == present + others


def test_cli_data_fetch(shared, capsys):
    pytest.importorskip("pooch")
    assert cli.main(["data", "fetch", "mitdb", "--data-dir", str(shared)]) == 0
    assert "mitdb: already present at" in capsys.readouterr().out
    assert cli.main(["data", "fetch", "nope"]) == 1
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert cli.main(["data", "fetch", "apnea-ecg"]) == 1
    err = capsys.readouterr().err
    assert "network unreachable" in err and "Traceback" not in err
