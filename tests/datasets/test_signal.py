"""Tests of sanets.datasets.signal: load_signal on real WFDB data and files written here, save_signal's round trip,
and windows."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sanets.datasets import Signal, finite_samples, load_physionet, load_signal, save_signal, standardize_windows, windows
from sanets.errors import DataError, DataNotFoundError, MissingExtraError

PIP_DATA = r'pip install "sparsely-activated-networks\[data\]"'


def test_wfdb_record_by_header_and_by_name(shared):
    wfdb = pytest.importorskip("wfdb")
    record = shared / "physionet" / "mitdb" / "100"
    reference = wfdb.rdrecord(str(record))
    for path in (record.with_suffix(".hea"), record):
        signal = load_signal(path)
        assert isinstance(signal, Signal)
        assert signal.data.shape == (2, 650000)
        assert signal.sampling_rate == 360.0
        assert signal.channel_names == ("MLII", "V5") and signal.units == ("mV", "mV")
        assert signal.source == record.with_suffix(".hea")
        np.testing.assert_array_equal(signal.data, reference.p_signal.T)


def test_wfdb_truncated_dat_named(shared, tmp_path):
    pytest.importorskip("wfdb")
    for suffix in (".hea", ".dat"):
        shutil.copy(shared / "physionet" / "emgdb" / f"emg_healthy{suffix}", tmp_path)
    with open(tmp_path / "emg_healthy.dat", "r+b") as handle:
        handle.truncate(5000)
    with pytest.raises(DataError, match=r"emg_healthy\.dat: truncated"):
        load_signal(tmp_path / "emg_healthy.hea")


def test_wfdb_without_the_data_extra_names_the_pip_command(shared, monkeypatch):
    monkeypatch.setitem(sys.modules, "wfdb", None)  # as if wfdb were not installed
    with pytest.raises(MissingExtraError, match=rf"reading WFDB records needs wfdb.*{PIP_DATA}"):
        load_signal(shared / "physionet" / "mitdb" / "100.hea")
    with pytest.raises(MissingExtraError, match=PIP_DATA):
        load_physionet("mitdb", data_dir=shared, download=False)


def test_edf_without_the_data_extra_names_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyedflib", None)
    path = tmp_path / "eeg.edf"
    path.write_bytes(b"0       ")
    with pytest.raises(MissingExtraError, match=rf"reading EDF files needs pyedflib.*{PIP_DATA}"):
        load_signal(path)


def test_edf_roundtrip(tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
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
    pytest.importorskip("pyedflib")
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
    with pytest.raises(DataError, match=r"rec\.csv: line 3, column 2 \('b'\): non-numeric value 'x'"):
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


# --------------------------------------------------------------------------- windows


def _naive(data: np.ndarray, length: int, step: int) -> np.ndarray:
    out = []
    start = 0
    while start + length <= data.shape[1]:
        out.append(data[:, start : start + length])
        start += step
    return np.stack(out).astype(np.float32)


@pytest.mark.parametrize(("samples", "length", "step"), [(1037, 100, 37), (1037, 100, None), (1000, 100, 100), (500, 7, 250), (64, 64, 1)])
def test_windows_match_a_slicing_loop(samples, length, step):
    data = np.random.default_rng(samples).normal(size=(3, samples))
    cut = windows(data, length, step)
    expected = _naive(data, length, step or length)
    assert cut.dtype == torch.float32 and cut.is_contiguous()
    assert cut.shape == expected.shape == ((samples - length) // (step or length) + 1, 3, length)
    np.testing.assert_array_equal(cut.numpy(), expected)


def test_windows_drop_the_partial_tail_and_accept_1d_and_tensors():
    ramp = np.arange(1050.0)
    cut = windows(ramp, 100)
    assert cut.shape == (10, 1, 100)
    assert cut[-1, 0, -1].item() == 999.0  # samples 1000..1049 do not fill a window
    torch.testing.assert_close(windows(torch.arange(1050, dtype=torch.int32), 100), cut, rtol=0, atol=0)
    assert windows(np.ones((2, 5)), 5).shape == (1, 2, 5)


def test_windows_select_channels_by_index_and_name():
    data = np.vstack([np.full(30, 1.0), np.full(30, 2.0), np.full(30, 3.0)])
    signal = Signal(data, 10.0, ("ecg", "resp", "ppg"), ("mV", "", ""))
    assert windows(signal, 10).shape == (3, 3, 10)
    assert windows(signal, 10, channel="resp").unique().tolist() == [2.0]
    assert windows(signal, 10, channel=-1).unique().tolist() == [3.0]
    picked = windows(signal, 10, step=5, channel=["ppg", 0])
    assert picked.shape == (5, 2, 10)
    assert picked[:, 0].unique().tolist() == [3.0] and picked[:, 1].unique().tolist() == [1.0]
    torch.testing.assert_close(windows(data, 10, channel=(1,)), windows(signal, 10, channel="resp"))


def test_windows_errors_are_clear():
    signal = Signal(np.zeros((2, 50)), None, ("a", "b"), ("", ""))
    with pytest.raises(ValueError, match="length must be an int >= 1, got 0"):
        windows(signal, 0)
    with pytest.raises(ValueError, match="step must be an int >= 1, got -2"):
        windows(signal, 10, step=-2)
    with pytest.raises(TypeError, match="length must be an int"):
        windows(signal, 2.5)
    with pytest.raises(DataError, match="the signal has 50 samples per channel; one window needs 64"):
        windows(signal, 64)
    with pytest.raises(ValueError, match=r"unknown channel 'c'; the channels are: 'a', 'b'"):
        windows(signal, 10, channel="c")
    with pytest.raises(ValueError, match=r"channel 2 out of range: the signal has 2 channel\(s\)"):
        windows(signal, 10, channel=2)
    with pytest.raises(ValueError, match="channel names need a Signal"):
        windows(np.zeros((2, 50)), 10, channel="a")
    with pytest.raises(ValueError, match=r"expected a signal \(channels, samples\)"):
        windows(np.zeros((2, 2, 50)), 10)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_windows_reject_non_finite_samples(bad):
    data = np.zeros((2, 100))
    data[1, 57] = bad
    with pytest.raises(DataError, match=rf"channel 'b', sample 57 is {bad}; windows must hold finite numbers"):
        windows(Signal(data, None, ("a", "b"), ("", "")), 10)
    with pytest.raises(DataError, match=r"channel 1, sample 57 is"):
        windows(data, 20, step=10, channel=[0, 1])  # overlapping windows
    assert windows(data, 10, channel=0).shape == (10, 1, 10)  # channel 0 is clean
    assert windows(data, 10, step=20, channel=1).shape == (5, 1, 10)  # sample 57 falls between windows
    assert windows(data[:, :57], 10, channel=1).shape == (5, 1, 10)
    data[1, 95] = bad
    with pytest.raises(DataError, match=r"channel 1, sample 57 is"):
        windows(data, 10)  # the first bad sample is named


@pytest.mark.parametrize(("database", "record"), [("mitdb", "100"), ("emgdb", "emg_healthy"), ("ctu-uhb-ctgdb", "1001")])
def test_windows_then_standardising_is_the_physionet_protocol(shared, database, record):
    pytest.importorskip("wfdb")
    reference = load_physionet(database, data_dir=shared, download=False)
    signal = load_signal(shared / "physionet" / database / record)
    cut = windows(signal, 1000, channel=signal.channel_names[0])[:12].double()
    standardised = ((cut - cut.mean(-1, keepdim=True)) / cut.std(-1, keepdim=True)).float()
    # float32 samples standardised in float64 vs float64 throughout: at most an ulp or so apart
    torch.testing.assert_close(standardised, torch.cat([reference.train, reference.validation, reference.test]), rtol=0, atol=2e-6)


def test_standardize_windows_hand_computed_and_flat_windows_only_centred():
    windows = np.array([[[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]], [[0.0, 0.0, 6.0], [1e6, 1e6 + 1e-7, 1e6]]])
    standardized, mean, std, constant = standardize_windows(windows)
    assert mean[0].tolist() == [2.0, 5.0] and mean[1].tolist() == pytest.approx([2.0, 1e6 + 1e-7 / 3], rel=1e-15)
    assert std[0].tolist() == [1.0, 1.0] and std[1, 0] == pytest.approx(np.sqrt(12.0)) and std[1, 1] == 1.0
    assert constant.tolist() == [[False, True], [False, True]]  # 1e-7 on 1e6 is rounding, not a signal
    assert standardized[0].tolist() == [[-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    assert standardized[1, 0] == pytest.approx([-2 / np.sqrt(12), -2 / np.sqrt(12), 4 / np.sqrt(12)])
    assert standardize_windows(np.ones((2, 1)))[3].tolist() == [True, True]  # one sample has no spread


# Any name a header can hold: every character but NUL (Python's csv refuses it) and lone surrogates (not UTF-8).
_CHANNEL_NAMES = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
                          min_size=1, max_size=4)


@settings(max_examples=80, deadline=None)
@given(names=_CHANNEL_NAMES, samples=st.integers(4, 12), seed=st.integers(0, 2**16))
def test_property_a_saved_csv_reads_back_with_the_same_names_and_samples(tmp_path_factory, names, samples, seed):
    data = np.random.default_rng(seed).standard_normal((len(names), samples)) * 10.0 ** np.random.default_rng(seed).integers(-5, 6)
    path = tmp_path_factory.mktemp("csv") / "decoded.csv"
    save_signal(path, data, names)
    back = load_signal(path)
    assert back.channel_names == tuple(names)
    np.testing.assert_array_equal(back.data, data)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=10),
                      min_size=1, max_size=4, unique=True))
def test_property_a_saved_csv_reads_back_through_pandas(tmp_path_factory, names):
    pandas = pytest.importorskip("pandas")
    data = np.arange(len(names) * 5, dtype=float).reshape(len(names), 5) / 7
    path = tmp_path_factory.mktemp("csv") / "decoded.csv"
    save_signal(path, data, names)
    table = pandas.read_csv(path, keep_default_na=False)
    assert list(table.columns) == names
    np.testing.assert_array_equal(table.to_numpy(dtype=float).T, data)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 12), columns=st.integers(1, 5), header=st.booleans(), seed=st.integers(0, 2**16))
def test_property_a_csv_of_any_shape_loads_as_it_is_or_is_refused_as_transposed(tmp_path_factory, rows, columns, header, seed):
    values = np.round(np.random.default_rng(seed).standard_normal((rows, columns)), 4)
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    lines = [",".join(f"c{i}" for i in range(columns))] if header else []
    path.write_text("\n".join(lines + [",".join(f"{v:g}" for v in row) for row in values]) + "\n")
    if columns > rows:
        with pytest.raises(DataError, match=f"read as {columns} channels of {rows} sample"):
            load_signal(path)
        return
    signal = load_signal(path)
    np.testing.assert_array_equal(signal.data, values.T)
    assert signal.channel_names == tuple(f"c{i}" if header else f"ch{i}" for i in range(columns))


def test_save_signal_refuses_other_suffixes_and_names_that_do_not_match(tmp_path):
    with pytest.raises(DataError, match=r"written as \.npy or \.csv, not \.wav"):
        save_signal(tmp_path / "x.wav", np.zeros((1, 3)), ["a"])
    with pytest.raises(DataError, match=r"1 channel name\(s\) for data of shape \(2, 3\)"):
        save_signal(tmp_path / "x.csv", np.zeros((2, 3)), ["a"])


def test_csv_missing_samples_are_nan_for_finite_samples_to_refuse_or_fill(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("a,b\n1,2\n,4\n3,nan\n5,6\n")
    signal = load_signal(path)
    np.testing.assert_array_equal(np.isnan(signal.data), [[False, True, False, False], [False, False, True, False]])
    with pytest.raises(DataError, match=r"channel 0 \('a'\), sample 1: not a number \(2 such samples\); --fill linear"):
        finite_samples(signal)
    np.testing.assert_array_equal(finite_samples(signal, "linear"), [[1, 2, 3, 5], [2, 4, 5, 6]])
