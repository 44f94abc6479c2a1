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
    with pytest.raises(DataError, match="channel 0 \\('ECG'\\), sample 123: not a number"):
        recording_windows([tmp_path / "holed.hea"], window=100)
    assert recording_windows([tmp_path / "holed.hea"], window=100, fill="linear")[0].isfinite().all()
    with pytest.raises(ValueError, match="unknown channel 'V5'; the channels are: 'ECG'"):
        recording_windows([tmp_path / "holed.hea"], window=100, channels=["V5"], fill="linear")


def test_sanets_fit_keeps_the_kernel_size_of_lowest_validation_phi_and_its_model_codes_files(shared, tmp_path, capsys):
    record = sanets.datasets.load_signal(shared / "physionet" / "mitdb" / "100.hea")
    np.savetxt(tmp_path / "100.csv", record.data[:, :6000].T, delimiter=",", header="MLII,V5", comments="")
    out = tmp_path / "model.safetensors"
    assert main(["fit", "--for", "paper", str(tmp_path / "100.csv"), "--out", str(out), "--kernel-sizes", "5", "9-10", "--window", "500",
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
    assert main(["encode", str(out), str(tmp_path / "100.csv"), "-o", str(tmp_path / "100.san"), "--window", "500", "--codec", "activation"]) == 0


def test_windows_kept_together_drop_a_time_where_any_channel_is_constant(tmp_path):
    samples = np.random.default_rng(0).standard_normal((2, 1000))
    samples[1, 300:400] = 7.0  # channel 1's window 3 is flat
    np.save(tmp_path / "two.npy", samples)
    np.save(tmp_path / "one.npy", samples[:1])
    train, validation, _, _, notes = recording_windows([tmp_path / "two.npy"], window=100, together=True)
    assert train.shape == (7, 2, 100) and validation.shape == (2, 2, 100)
    assert notes == ["1 constant window(s) left out (they cannot be standardised)"]
    expected = (samples[:, 400:500] - samples[:, 400:500].mean(1, keepdims=True)) / samples[:, 400:500].std(1, ddof=1, keepdims=True)
    assert np.allclose(train[3].numpy(), expected, atol=1e-5)  # the window after the flat one, both channels
    alone = recording_windows([tmp_path / "two.npy"], window=100)[0]
    assert alone.shape == (8 + 7, 1, 100)  # apart, only channel 1's flat window goes
    with pytest.raises(DataError, match="one.npy: 1 channel\\(s\\) where the recordings before it have \\{2\\}"):
        recording_windows([tmp_path / "two.npy", tmp_path / "one.npy"], window=100, together=True)


@pytest.mark.parametrize("channel_kernels", ["shared", "separate"])
def test_a_multichannel_fit_chooses_m_by_the_multichannel_sans_phi_and_codes_the_recording(shared, tmp_path, channel_kernels):
    record = sanets.datasets.load_signal(shared / "physionet" / "mitdb" / "100.hea")
    np.savetxt(tmp_path / "100.csv", record.data[:, :5000].T, delimiter=",", header="MLII,V5", comments="")
    out = tmp_path / "model.safetensors"
    assert main(["fit", "--for", "paper", str(tmp_path / "100.csv"), "--out", str(out), "--kernel-sizes", "5", "9", "--window", "500",
                 "--channel-kernels", channel_kernels, "--epochs", "2", "--no-progress"]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    model = sanets.SAN.load(out)
    assert (model.in_channels, model.channels, report["channel_kernels"]) == (2, channel_kernels, channel_kernels)
    assert model.num_weights == report["kernel_size"] * (2 if channel_kernels == "separate" else 1)
    _, validation, *_ = recording_windows([tmp_path / "100.csv"], window=500, together=True)
    assert validation.shape == (2, 2, 500)
    assert report["validation"]["flithos"] == pytest.approx(sanets.evaluate(model, validation).flithos, rel=1e-6)
    assert report["validation"]["flithos"] == min(report["candidates"].values())
    assert not out.with_name(out.name + ".partial").exists()
    san = tmp_path / "100.san"
    assert main(["encode", str(out), str(tmp_path / "100.csv"), "-o", str(san), "--window", "500", "--codec", "activation"]) == 0
    decoded, header = sanets.codec.decode_file(san, model)
    assert decoded.shape == (2, 5000) and header["channels"] == 2
    np.savetxt(tmp_path / "one.csv", record.data[:1, :5000].T, delimiter=",", header="MLII", comments="")
    with pytest.raises(ValueError, match="the model codes 2 channels together; the recording has 1"):
        sanets.codec.encode_signal(model, sanets.datasets.load_signal(tmp_path / "one.csv"), tmp_path / "one.san", codec="activation")


def test_an_interrupted_fit_resumes_and_a_locked_one_is_refused(tmp_path, monkeypatch):
    import filelock

    import sanets.sweep
    from sanets.errors import CheckpointError, Interrupted
    from sanets.experiments.recordings import fit_recordings

    np.save(tmp_path / "noise.npy", np.cumsum(np.random.default_rng(2).standard_normal((2, 2000)), axis=1))
    options = dict(kernel_sizes=[3, 7], window=200, channel_kernels="separate", epochs=3, echo=lambda line: None)
    whole = fit_recordings([tmp_path / "noise.npy"], tmp_path / "whole.safetensors", **options)
    write, calls = sanets.sweep.write_atomically, []

    def write_then_stop(path, contents):
        write(path, contents)
        calls.append(path)
        if len(calls) == 4:  # channel 0's sweep done, channel 1's at epoch 1
            raise KeyboardInterrupt

    out = tmp_path / "model.safetensors"
    monkeypatch.setattr(sanets.sweep, "write_atomically", write_then_stop)
    with pytest.raises(Interrupted, match="model.safetensors.partial; rerun the same command to resume"):
        fit_recordings([tmp_path / "noise.npy"], out, **options)
    monkeypatch.setattr(sanets.sweep, "write_atomically", write)
    partial = out.with_name(out.name + ".partial")
    assert sorted(path.name for path in partial.glob("*.pt")) == ["sweep-0.pt", "sweep-1.pt"]
    with filelock.FileLock(str(partial / "lock")):
        with pytest.raises(CheckpointError, match="is being written by another sanets fit"):
            fit_recordings([tmp_path / "noise.npy"], out, **options)
    lines = []
    resumed = fit_recordings([tmp_path / "noise.npy"], out, **{**options, "echo": lines.append})
    assert any("resuming from the checkpoints" in line for line in lines) and not partial.exists()
    assert resumed.candidates == whole.candidates
    assert all(torch.equal(a, b) for a, b in zip(resumed.model.kernels, whole.model.kernels))
