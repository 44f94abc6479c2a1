"""Tests of sanets.datasets.load_signal on real WFDB data and files written here."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import wfdb

from sanets.datasets import Signal, load_signal
from sanets.errors import DataError, DataNotFoundError


def test_wfdb_record_by_header_and_by_name(shared):
    record = shared / "physionet" / "mitdb" / "100"
    reference = wfdb.rdrecord(str(record))
    for given in (record.with_suffix(".hea"), record):
        signal = load_signal(given)
        assert isinstance(signal, Signal)
        assert signal.data.shape == (2, 650000)
        assert signal.sampling_rate == 360.0
        assert signal.channel_names == ("MLII", "V5") and signal.units == ("mV", "mV")
        np.testing.assert_array_equal(signal.data, reference.p_signal.T)


def test_wfdb_truncated_dat_named(shared, tmp_path):
    for suffix in (".hea", ".dat"):
        shutil.copy(shared / "physionet" / "emgdb" / f"emg_healthy{suffix}", tmp_path)
    with open(tmp_path / "emg_healthy.dat", "r+b") as handle:
        handle.truncate(5000)
    with pytest.raises(DataError, match=r"emg_healthy\.dat: truncated"):
        load_signal(tmp_path / "emg_healthy.hea")


def test_edf_roundtrip(tmp_path):
    import pyedflib

    rng = np.random.default_rng(1)
    data = rng.normal(scale=100.0, size=(2, 2560))
    headers = [
        {"label": name, "dimension": "uV", "sample_frequency": 256, "physical_max": 1000.0, "physical_min": -1000.0,
         "digital_max": 32767, "digital_min": -32768, "transducer": "", "prefilter": ""}
        for name in ("Fp1", "Fp2")
    ]  # fmt: skip
    path = tmp_path / "eeg.edf"
    pyedflib.highlevel.write_edf(str(path), data, headers)
    signal = load_signal(path)
    assert signal.data.shape == (2, 2560)
    assert signal.sampling_rate == 256.0
    assert signal.channel_names == ("Fp1", "Fp2") and signal.units == ("uV", "uV")
    np.testing.assert_allclose(signal.data, data, atol=2000.0 / 65535)  # 16-bit quantisation


def test_edf_garbage(tmp_path):
    path = tmp_path / "broken.edf"
    path.write_bytes(b"0       not an edf header at all")
    with pytest.raises(DataError, match=r"broken\.edf"):
        load_signal(path)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_with_header_columns_are_channels(tmp_path, newline):
    path = tmp_path / "rec.csv"
    path.write_bytes(newline.join(["ecg,resp", "1,10", "2,20.5", "3,-30", ""]).encode())
    signal = load_signal(path)
    np.testing.assert_array_equal(signal.data, [[1, 2, 3], [10, 20.5, -30]])
    assert signal.channel_names == ("ecg", "resp")
    assert signal.sampling_rate is None


def test_csv_without_header(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("0.5\n1.5\n2.5\n")
    signal = load_signal(path)
    assert signal.data.shape == (1, 3) and signal.channel_names == ("ch0",)


def test_csv_bad_cells(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(DataError, match=r"rec\.csv: line 3, column 2 \(b\): non-numeric value 'x'"):
        load_signal(path)
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError, match=r"rec\.csv: line 3: 1 columns; expected 2"):
        load_signal(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match=r"rec\.csv: not a UTF-8 text file"):
        load_signal(path)


def test_npy(tmp_path):
    np.save(tmp_path / "one.npy", np.arange(5, dtype=np.int16))
    np.save(tmp_path / "two.npy", np.ones((3, 7), dtype=np.float32))
    assert load_signal(tmp_path / "one.npy").data.shape == (1, 5)
    two = load_signal(tmp_path / "two.npy")
    assert two.data.shape == (3, 7) and two.data.dtype == np.float64 and two.n_channels == 3
    np.save(tmp_path / "three.npy", np.ones((2, 2, 2)))
    with pytest.raises(DataError, match=r"three\.npy: expected a 1-D or 2-D"):
        load_signal(tmp_path / "three.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"objects\.npy"):
        load_signal(tmp_path / "objects.npy")
    (tmp_path / "cut.npy").write_bytes((tmp_path / "two.npy").read_bytes()[:100])
    with pytest.raises(DataError, match=r"cut\.npy"):
        load_signal(tmp_path / "cut.npy")


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"nothing\.csv: no such file"):
        load_signal(tmp_path / "nothing.csv")
    (tmp_path / "x.mat").write_bytes(b"MATLAB")
    with pytest.raises(DataError, match=r"unsupported file type \.mat"):
        load_signal(tmp_path / "x.mat")
