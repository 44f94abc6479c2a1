"""``sanets fit --for beats`` (sanets.experiments.beat_models): a beat model from recordings, used by ``events --beats``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from test_beats import synthetic_ecg  # tests/ is on the path (conftest)

from sanets.cli import main
from sanets.model import SAN

wfdb = pytest.importorskip("wfdb")
pytest.importorskip("scipy")


def test_a_fitted_beat_model_finds_the_beats_of_another_recording(tmp_path, capsys):
    from sanets._beat_scores import score_beats

    for name, seed in (("train", 0), ("test", 1)):
        x, reference = synthetic_ecg(250.0, 60.0, seed)
        wfdb.wrsamp(name, fs=250, units=["mV"], sig_name=["II"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path))
    out = tmp_path / "beats.safetensors"
    assert main(["fit", "--for", "beats", str(tmp_path / "train.hea"), "--out", str(out), "--kernels", "2"]) == 0
    assert "beat model written" in capsys.readouterr().out
    report = json.loads((tmp_path / "beats.json").read_text())
    assert (report["for"], report["sampling_rate"], report["kernels"], report["length"]) == ("beats", 250.0, 2, 25)
    assert (tmp_path / "beats-kernels.png").is_file()
    model = SAN.load(out)
    # Zero-mean unit kernels of 0.1 s (25 samples at 250 Hz), one input channel.
    assert (model.in_channels, model.kernel_sizes) == (1, [25, 25])
    for kernel in model.kernel_weights():
        assert float(kernel.detach().sum()) == pytest.approx(0.0, abs=1e-6)
        assert float(torch.linalg.vector_norm(kernel.detach())) == pytest.approx(1.0)
    assert main(["events", str(out), str(tmp_path / "test.hea"), "--beats", "-o", str(tmp_path / "beats.csv")]) == 0
    with open(tmp_path / "beats.csv", newline="") as file:
        found = [int(row["sample"]) for row in csv.DictReader(file)]
    assert score_beats(reference, np.array(found), 250.0).f1 == 1.0


def test_a_rate_is_needed_and_must_agree(tmp_path, capsys):
    x, _ = synthetic_ecg(250.0, 30.0)
    np.save(tmp_path / "ecg.npy", x[None])
    out = str(tmp_path / "m.safetensors")
    assert main(["fit", "--for", "beats", str(tmp_path / "ecg.npy"), "--out", out]) == 1
    assert "give --sampling-rate" in capsys.readouterr().err
    assert main(["fit", "--for", "beats", str(tmp_path / "ecg.npy"), "--out", out, "--sampling-rate", "250"]) == 0
    assert json.loads((tmp_path / "m.json").read_text())["sampling_rate"] == 250.0
    wfdb.wrsamp("ecg", fs=250, units=["mV"], sig_name=["II"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path))
    assert main(["fit", "--for", "beats", str(tmp_path / "ecg.hea"), "--out", out, "--sampling-rate", "360"]) == 1
    assert "state 250 Hz; --sampling-rate 360 contradicts them" in capsys.readouterr().err


@pytest.mark.parametrize(("options", "message"), [
    (["--for", "beats", "--epochs", "2"], "--epochs: the paper's options"),
    (["--for", "codec", "--sampling-rate", "250"], "--sampling-rate: an option of --for beats"),
    (["--for", "beats", "--kernels", "0"], "at least one kernel"),
])
def test_options_of_other_purposes_are_refused(tmp_path, capsys, options, message):
    x, _ = synthetic_ecg(250.0, 10.0)
    wfdb.wrsamp("ecg", fs=250, units=["mV"], sig_name=["II"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path))
    assert main(["fit", str(tmp_path / "ecg.hea"), "--out", str(tmp_path / "m.safetensors"), *options]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.safetensors").exists()


def test_a_flat_recording_has_no_beats_to_learn(tmp_path, capsys):
    wfdb.wrsamp("flat", fs=250, units=["mV"], sig_name=["II"], p_signal=np.zeros((2500, 1)), fmt=["16"], write_dir=str(tmp_path))
    assert main(["fit", "--for", "beats", str(tmp_path / "flat.hea"), "--out", str(tmp_path / "m.safetensors")]) == 1
    assert "every channel is constant" in capsys.readouterr().err
