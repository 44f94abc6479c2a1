"""sanets fit (issue 11): windows split by time, kernel sizes chosen on validation, the model and report written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import sanets
from sanets.cli import main
from sanets.errors import DataError
from sanets.experiments.recordings import default_kernel_sizes, recording_windows


def test_default_kernel_sizes_reach_a_quarter_of_the_window_or_of_a_second():
    sizes, why = default_kernel_sizes(1000, None)
    assert sizes[0] == 3 and sizes[-1] == 250 and len(sizes) <= 16 and sizes == sorted(set(sizes))
    assert "a quarter of the window" in why
    sizes, why = default_kernel_sizes(1000, 360.0)
    assert sizes[-1] == 90 and "a quarter of a second at 360 Hz" in why
    assert default_kernel_sizes(8, None)[0] == [2]


def test_windows_are_standardised_and_the_last_fifth_of_each_channel_validates(tmp_path):
    samples = np.arange(2 * 1000, dtype=np.float64).reshape(2, 1000)  # a sample's value is its time (+1000 on channel 1)
    samples[1] = samples[1] ** 1.5
    np.save(tmp_path / "ramp.npy", samples)
    train, validation, window, rate, notes = recording_windows([tmp_path / "ramp.npy"], window=100)
    assert window == 100 and rate is None and train.shape == (16, 1, 100) and validation.shape == (4, 1, 100)
    assert torch.allclose(train.mean(-1), torch.zeros(16, 1), atol=1e-5)
    assert torch.allclose(train.std(-1), torch.ones(16, 1), atol=1e-5)
    # Channel 1's windows grow steeper in time: its validation windows are its last two.
    raw = samples[1].reshape(10, 100)
    expected = (raw[8:] - raw[8:].mean(1, keepdims=True)) / raw[8:].std(1, ddof=1, keepdims=True)
    assert np.allclose(validation[2:, 0].numpy(), expected, atol=1e-5)


def test_too_few_windows_nan_samples_and_unknown_channels_are_refused(tmp_path):
    np.save(tmp_path / "short.npy", np.random.default_rng(0).standard_normal(150))
    with pytest.raises(DataError, match="1 window\\(s\\) of 100 samples: training and validation need one each"):
        recording_windows([tmp_path / "short.npy"], window=100)
    wfdb = pytest.importorskip("wfdb")
    holed = np.random.default_rng(1).standard_normal((400, 1))
    holed[123, 0] = np.nan  # written as WFDB's invalid sample, read back as NaN
    wfdb.wrsamp("holed", fs=100, units=["mV"], sig_name=["ECG"], p_signal=holed, fmt=["16"], adc_gain=[200.0], baseline=[0],
                write_dir=str(tmp_path))
    with pytest.raises(DataError, match="channel 0 \\(ECG\\), sample 123: not a number"):
        recording_windows([tmp_path / "holed.hea"], window=100)
    assert recording_windows([tmp_path / "holed.hea"], window=100, fill="linear")[0].isfinite().all()
    with pytest.raises(ValueError, match="no channel 'V5'; it has ECG"):
        recording_windows([tmp_path / "holed.hea"], window=100, channels=["V5"], fill="linear")


def test_sanets_fit_keeps_the_kernel_size_of_lowest_validation_phi_and_its_model_codes_files(shared, tmp_path, capsys):
    record = sanets.datasets.load_signal(shared / "physionet" / "mitdb" / "100.hea")
    np.savetxt(tmp_path / "100.csv", record.data[:, :6000].T, delimiter=",", header="MLII,V5", comments="")
    out = tmp_path / "model.safetensors"
    assert main(["fit", str(tmp_path / "100.csv"), "--out", str(out), "--kernel-sizes", "5", "9-10", "--window", "500",
                 "--channels", "MLII", "--epochs", "3", "--no-progress"]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    candidates = {int(m): phi for m, phi in report["candidates"].items()}
    assert sorted(candidates) == [5, 9, 10] and report["kernel_size"] == min(candidates, key=candidates.get)
    model = sanets.SAN.load(out)
    assert model.kernel_sizes == [report["kernel_size"]]
    assert report["train_windows"] == 9 and report["validation_windows"] == 3
    assert report["validation"]["flithos"] == pytest.approx(candidates[report["kernel_size"]], rel=1e-5)
    assert (tmp_path / "model-kernels.png").is_file()
    assert f"m = {report['kernel_size']}" in capsys.readouterr().out
    assert main(["encode", str(out), str(tmp_path / "100.csv"), "-o", str(tmp_path / "100.san"), "--window", "500"]) == 0
