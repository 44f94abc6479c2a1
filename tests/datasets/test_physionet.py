"""Tests of sanets.datasets.physionet: catalogue, protocol, WFDB checks and verified downloads."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sanets.datasets import PHYSIONET_DATABASES, fetch, load_physionet, physionet
from sanets.errors import DataError

wfdb = pytest.importorskip("wfdb")


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


def test_read_channel_is_the_first_samples_of_one_channel(shared):
    record = shared / "physionet" / "ctu-uhb-ctgdb" / "1001"
    samples, fs = physionet.read_channel(record.with_suffix(".hea"), 500, 1)
    reference = wfdb.rdrecord(str(record), sampto=500, channels=[1])
    assert fs == 4.0 and samples.dtype == np.float64
    np.testing.assert_array_equal(samples, reference.p_signal[:, 0])
    with pytest.raises(DataError, match=r"1001\.hea: record has 2 signal\(s\); channel 2 requested"):
        physionet.read_channel(record, 500, 2)


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


def test_physionet_invalid_samples_are_named(tmp_path):
    signal = np.random.default_rng(1).normal(size=12000)
    _write_record(tmp_path / "root" / "physionet" / "mitdb", "100", signal)
    dat = tmp_path / "root" / "physionet" / "mitdb" / "100.dat"
    raw = bytearray(dat.read_bytes())
    raw[2 * 4321 : 2 * 4321 + 2] = (-32768).to_bytes(2, "little", signed=True)  # WFDB's "no sample" in format 16
    dat.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"channel 0 has 1 invalid \(NaN\) samples in the first 12000, first at sample 4321"):
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


# --------------------------------------------------------------------------- pinned checksums and downloads


def test_pinned_checksums_are_physionets_bytes_of_the_shared_files(shared, physionet_bytes):
    pinned = {database for database, _ in physionet.PINNED_SHA256}
    assert pinned <= set(PHYSIONET_DATABASES)
    # Ten first records are pinned, header and signal file; five could not be found offline.
    assert set(PHYSIONET_DATABASES) - pinned == {"apnea-ecg", "cebsdb", "prcp", "shhpsgdb", "wrist"}
    for database in pinned:
        record = PHYSIONET_DATABASES[database].first_record
        assert record is not None and (database, f"{record}.hea") in physionet.PINNED_SHA256, database
    for database, name in [("mitdb", "100.hea"), ("mitdb", "100.dat"), ("emgdb", "emg_healthy.hea"),
                           ("emgdb", "emg_healthy.dat"), ("ctu-uhb-ctgdb", "1001.dat")]:
        digest = physionet.PINNED_SHA256[database, name]
        assert hashlib.sha256(physionet_bytes(database, name)).hexdigest() == digest, (database, name)
    # noneeg and voiced, added to the shared data for issue 30: their files as they are, byte for byte.
    for database, name in [("noneeg", "Subject10_AccTempEDA.hea"), ("noneeg", "Subject10_AccTempEDA.dat"),
                           ("voiced", "voice001.hea"), ("voiced", "voice001.dat")]:
        path = shared / "physionet" / database / name
        if not path.is_file():
            continue
        assert hashlib.sha256(path.read_bytes()).hexdigest() == physionet.PINNED_SHA256[database, name], (database, name)
    # The restored headers are what wfdb reads from the shared copies.
    assert len(physionet_bytes("mitdb", "100.hea")) == 143


def _sums(entries: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(body).hexdigest()} {name}\n" for name, body in entries.items()).encode()


def test_fetch_physionet_record_with_pins(shared, cache, serve, physionet_bytes):
    # Both files are pinned: no SHA256SUMS.txt is needed (none is served).
    serve({"/mitdb/1.0.0/100.hea": physionet_bytes("mitdb", "100.hea"), "/mitdb/1.0.0/100.dat": shared / "physionet" / "mitdb" / "100.dat"})
    header = fetch(["mitdb"])[0]
    assert header == cache / "physionet" / "mitdb" / "100.hea"
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == ["100.dat", "100.hea"]
    splits = load_physionet("mitdb", download=False)
    reference = load_physionet("mitdb", data_dir=shared, download=False)
    assert torch.equal(splits.train, reference.train) and torch.equal(splits.test, reference.test)


def test_fetch_physionet_without_a_pin_or_sums_fails_and_saves_nothing(shared, cache, serve, physionet_bytes, monkeypatch):
    monkeypatch.delitem(physionet.PINNED_SHA256, ("mitdb", "100.hea"))
    serve({"/mitdb/1.0.0/100.hea": physionet_bytes("mitdb", "100.hea"), "/mitdb/1.0.0/100.dat": shared / "physionet" / "mitdb" / "100.dat"})
    with pytest.raises(DataError, match=r"100\.hea of PhysioNet database mitdb 1\.0\.0 cannot be verified, so nothing was saved.*SHA256SUMS\.txt could not be fetched.*404"):
        fetch(["mitdb"])
    assert not [p for p in cache.rglob("*") if p.is_file()]


@pytest.fixture
def unpinned_ctu_header(monkeypatch):
    """The shared 1001.hea is not PhysioNet's byte for byte (its comments differ): test the unpinned path with it."""
    monkeypatch.delitem(physionet.PINNED_SHA256, ("ctu-uhb-ctgdb", "1001.hea"))


def test_fetch_physionet_unreachable_sums_for_unpinned_file_fails_and_saves_nothing(shared, cache, serve, unpinned_ctu_header):
    folder = shared / "physionet" / "ctu-uhb-ctgdb"
    serve({"/ctu-uhb-ctgdb/1.0.0/1001.hea": folder / "1001.hea", "/ctu-uhb-ctgdb/1.0.0/1001.dat": folder / "1001.dat"})
    with pytest.raises(DataError, match=r"1001\.hea of PhysioNet database ctu-uhb-ctgdb 1\.0\.0 cannot be verified, so nothing was saved") as info:
        load_physionet("ctu-uhb-ctgdb", download=True)
    assert "SHA256SUMS.txt could not be fetched" in str(info.value)
    assert not [p for p in cache.rglob("*") if p.is_file()]
    assert not (cache / "physionet" / "ctu-uhb-ctgdb").exists()


def test_fetch_physionet_sums_that_do_not_list_the_file_fail(shared, cache, serve, unpinned_ctu_header):
    folder = shared / "physionet" / "ctu-uhb-ctgdb"
    serve({
        "/ctu-uhb-ctgdb/1.0.0/SHA256SUMS.txt": _sums({"1002.hea": b"other"}),
        "/ctu-uhb-ctgdb/1.0.0/1001.hea": folder / "1001.hea",
        "/ctu-uhb-ctgdb/1.0.0/1001.dat": folder / "1001.dat",
    })  # fmt: skip
    with pytest.raises(DataError, match=r"1001\.hea of PhysioNet database ctu-uhb-ctgdb .*SHA256SUMS\.txt does not list it"):
        fetch(["ctu-uhb-ctgdb"])
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_fetch_physionet_unpinned_file_checked_against_sums(shared, cache, serve, unpinned_ctu_header):
    folder = shared / "physionet" / "ctu-uhb-ctgdb"
    header = (folder / "1001.hea").read_bytes()
    table = {
        "/ctu-uhb-ctgdb/1.0.0/SHA256SUMS.txt": _sums({"1001.hea": header}),
        "/ctu-uhb-ctgdb/1.0.0/1001.hea": header,
        "/ctu-uhb-ctgdb/1.0.0/1001.dat": folder / "1001.dat",
    }
    serve({**table, "/ctu-uhb-ctgdb/1.0.0/1001.hea": header.replace(b"\r\n", b"\n")})  # not the listed bytes
    with pytest.raises(DataError, match=r"1001\.hea: checksum mismatch"):
        fetch(["ctu-uhb-ctgdb"])
    assert not [p for p in cache.rglob("*") if p.is_file()]
    serve(table)
    assert fetch(["ctu-uhb-ctgdb"]) == [cache / "physionet" / "ctu-uhb-ctgdb" / "1001.hea"]
    reference = load_physionet("ctu-uhb-ctgdb", data_dir=shared, download=False)
    assert torch.equal(load_physionet("ctu-uhb-ctgdb", download=False).validation, reference.validation)


def test_fetch_physionet_rejects_corrupt_dat(shared, cache, serve, physionet_bytes):
    serve({"/mitdb/1.0.0/100.hea": physionet_bytes("mitdb", "100.hea"), "/mitdb/1.0.0/100.dat": b"\x00" * 1950000})
    with pytest.raises(DataError, match=r"100\.dat: checksum mismatch"):
        load_physionet("mitdb", download=True)
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_fetch_physionet_rejects_a_header_that_is_not_physionets(shared, cache, serve):
    # The shared 100.hea is wfdb-python's edited copy: readable, but not the pinned bytes.
    folder = shared / "physionet" / "mitdb"
    serve({"/mitdb/1.0.0/100.hea": folder / "100.hea", "/mitdb/1.0.0/100.dat": folder / "100.dat"})
    with pytest.raises(DataError, match=r"100\.hea: checksum mismatch"):
        fetch(["mitdb"])
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_fetch_physionet_checks_sha256sums_and_resolves_records(shared, cache, serve):
    folder = shared / "physionet" / "emgdb"
    records = b"emg_healthy\nemg_myopathy\n"
    files = {name: (folder / name).read_bytes() for name in ("emg_healthy.hea", "emg_healthy.dat")}
    # prcp's first record is unconfirmed: the download reads RECORDS (here served with emgdb's record)
    assert PHYSIONET_DATABASES["prcp"].first_record is None
    serve({
        "/prcp/1.0.0/RECORDS": records,
        "/prcp/1.0.0/SHA256SUMS.txt": _sums({"RECORDS": records, **files}),
        **{f"/prcp/1.0.0/{name}": body for name, body in files.items()},
    })  # fmt: skip
    splits = load_physionet("prcp", download=True)
    assert splits.source == cache / "physionet" / "prcp" / "emg_healthy"
    assert (cache / "physionet" / "prcp" / "RECORDS").read_text() == "emg_healthy\n"
    assert torch.equal(splits.test, load_physionet("emgdb", data_dir=shared, download=False).test)
