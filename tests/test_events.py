"""sanets.events and ``sanets events``: every spike of ``model.encode`` as one event, as a table and as WFDB annotations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import sanets
from sanets._events import EVENT_DTYPE
from sanets.cli import main
from sanets.errors import DataError

wfdb = pytest.importorskip("wfdb")


def spikes_by_hand(model: sanets.SAN, data: np.ndarray) -> dict[tuple[int, int, int], float]:
    """(sample, channel, code channel) -> value of every non-zero code, from model.encode on each channel alone."""
    found = {}
    for c, row in enumerate(data):
        codes = model.encode(torch.from_numpy(row)[None, None]).detach()[0].numpy()
        for code, sample in zip(*np.nonzero(codes)):
            found[int(sample), c, int(code)] = float(codes[code, sample])
    return found


@pytest.fixture
def recording() -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(2000)
    return np.stack([np.sin(t / 7) + 0.1 * rng.standard_normal(2000), np.cos(t / 17) + 0.1 * rng.standard_normal(2000)])


def test_events_are_the_non_zero_codes_of_encode_each_channel_on_its_own(recording):
    model = sanets.SAN([9, 15], "extrema", seed=0)
    table = sanets.events(model, recording, sampling_rate=250.0, as_frame=False)
    assert table.dtype == EVENT_DTYPE
    listed = {(int(s), int(name[2:]), int(k)): float(a) for s, name, k, a in
              zip(table["sample"], table["channel"], table["kernel"], table["amplitude"])}
    by_hand = spikes_by_hand(model, recording)
    assert len(listed) == len(table) and set(listed) == set(by_hand)
    np.testing.assert_allclose([listed[key] for key in by_hand], list(by_hand.values()), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(table["seconds"], table["sample"] / 250.0)
    assert np.all(np.diff(table["sample"]) >= 0)


def test_several_scales_give_the_kernel_and_its_scale(recording):
    model = sanets.SAN([9], "extrema", seed=0, scales=(1.0, 2.0))
    table = sanets.events(model, recording[:1], as_frame=False)
    codes = model.encode(torch.from_numpy(recording[:1])[None]).detach()[0].numpy()
    assert sorted(zip(table["sample"], table["scale"])) == sorted(
        (int(s), (1.0, 2.0)[int(c)]) for c, s in zip(*np.nonzero(codes)))
    assert set(table["kernel"]) == {0}
    assert np.isnan(table["seconds"]).all()  # no sampling rate


def test_a_model_of_as_many_input_channels_codes_them_together(recording):
    model = sanets.SAN([9], "extrema", seed=0, in_channels=2, channels="separate")
    table = sanets.events(model, recording, as_frame=False)
    codes = model.encode(torch.from_numpy(recording)[None]).detach()[0].numpy()  # (2 * 1, L)
    assert sorted(zip(table["sample"], table["channel"])) == sorted((int(s), f"ch{c}") for c, s in zip(*np.nonzero(codes)))


def test_the_frame_holds_what_the_array_holds(recording):
    pandas = pytest.importorskip("pandas")
    model = sanets.SAN([9], "extrema", seed=0)
    frame, array = sanets.events(model, recording, as_frame=True), sanets.events(model, recording, as_frame=False)
    assert isinstance(frame, pandas.DataFrame) and list(frame.columns) == list(EVENT_DTYPE.names)
    np.testing.assert_array_equal(frame["sample"].to_numpy(), array["sample"])
    np.testing.assert_array_equal(frame["amplitude"].to_numpy(), array["amplitude"])


def test_a_silent_recording_gives_an_empty_table():
    table = sanets.events(sanets.SAN([9], "extrema", seed=0), np.zeros((2, 500)), as_frame=False)
    assert len(table) == 0 and table.dtype == EVENT_DTYPE


@pytest.mark.parametrize("kwargs, data, message", [
    ({"in_channels": 3}, np.zeros((2, 100)), "codes 3 input channels together but the recording has 2"),
    ({}, np.zeros((1, 100)), "learned at 360 Hz but the recording is sampled at 250 Hz"),
    ({"dims": 2}, np.zeros((1, 100)), "2D SAN"),
])
def test_a_model_that_does_not_fit_is_refused(kwargs, data, message):
    model = sanets.SAN([5], "extrema", seed=0, **kwargs)
    with pytest.raises(DataError, match=message):
        sanets.events(model, data, sampling_rate=250.0, model_rate=360.0 if not kwargs else None)


def test_a_missing_sample_is_refused_by_name():
    data = np.zeros((1, 100))
    data[0, 42] = np.nan
    with pytest.raises(DataError, match="sample 42"):
        sanets.events(sanets.SAN([5], "extrema", seed=0), data)


@pytest.fixture
def record(tmp_path: Path, recording) -> Path:
    wfdb.wrsamp("rec", fs=250, units=["mV", "mV"], sig_name=["I", "II"], p_signal=recording.T, fmt=["16", "16"],
                write_dir=str(tmp_path))
    sanets.SAN([9, 15], "extrema", seed=0).save(tmp_path / "m.safetensors")
    return tmp_path


def test_the_csv_lists_the_events_of_the_recording_as_read(record, capsys):
    assert main(["events", str(record / "m.safetensors"), str(record / "rec.hea"), "-o", str(record / "e.csv")]) == 0
    with open(record / "e.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    signal = sanets.datasets.load_signal(record / "rec.hea")
    expected = sanets.events(sanets.SAN.load(record / "m.safetensors"), signal, as_frame=False)
    assert [(int(r["sample"]), r["channel"], int(r["kernel"]), float(r["amplitude"])) for r in rows] == [
        (int(s), str(c), int(k), float(a)) for s, c, k, a in
        zip(expected["sample"], expected["channel"], expected["kernel"], expected["amplitude"])]
    assert {r["channel"] for r in rows} == {"I", "II"} and float(rows[5]["seconds"]) == int(rows[5]["sample"]) / 250


def test_a_wfdb_annotation_file_reads_back_with_rdann(record, capsys):
    assert main(["events", str(record / "m.safetensors"), str(record / "rec"), "-o", str(record / "rec.spk"),
                 "--format", "wfdb", "--channels", "II"]) == 0
    annotation = wfdb.rdann(str(record / "rec"), "spk")
    expected = sanets.events(sanets.SAN.load(record / "m.safetensors"),
                             sanets.datasets.select_channels(sanets.datasets.load_signal(record / "rec"), ["II"]), as_frame=False)
    np.testing.assert_array_equal(annotation.sample, expected["sample"])
    np.testing.assert_array_equal(annotation.subtype, expected["kernel"])
    np.testing.assert_array_equal(annotation.chan, 0)
    np.testing.assert_allclose([float(note.split()[1]) for note in annotation.aux_note], expected["amplitude"], rtol=1e-5)
    assert annotation.fs == 250 and set(annotation.symbol) == {'"'}
    assert not [p for p in record.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_rate_in_a_models_report_must_match_the_recording(record, capsys):
    (record / "m.json").write_text(json.dumps({"sampling_rate": 360.0}))
    assert main(["events", str(record / "m.safetensors"), str(record / "rec.hea"), "-o", str(record / "e.csv")]) == 1
    assert "learned at 360 Hz but the recording is sampled at 250 Hz" in capsys.readouterr().err
    assert not (record / "e.csv").exists()


@pytest.mark.parametrize("output", ["rec.dat", "rec.hea", "m.safetensors", "rec.atr"])
def test_an_output_over_an_input_is_refused(record, capsys, output):
    (record / "rec.atr").write_bytes(b"reference")
    before = {p.name: p.read_bytes() for p in record.iterdir()}
    assert main(["events", str(record / "m.safetensors"), str(record / "rec.hea"), "-o", str(record / output),
                 "--format", "wfdb"]) == 1
    assert "would be written over the" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in record.iterdir()} == before


def test_no_spikes_writes_the_header_and_a_note(tmp_path, capsys):
    np.save(tmp_path / "flat.npy", np.zeros((1, 300)))
    sanets.SAN([9], "extrema", seed=0).save(tmp_path / "m.safetensors")
    assert main(["events", str(tmp_path / "m.safetensors"), str(tmp_path / "flat.npy"), "-o", str(tmp_path / "e.csv")]) == 0
    assert "note: no spikes" in capsys.readouterr().err
    assert (tmp_path / "e.csv").read_text().strip() == ",".join(EVENT_DTYPE.names)


def test_beats_are_written_one_per_heartbeat_and_read_back(tmp_path, capsys):
    from test_beats import synthetic_ecg

    from sanets._beat_scores import score_beats
    from sanets._beats import fit_beat_model

    x, reference = synthetic_ecg(250.0, 60.0)
    wfdb.wrsamp("ecg", fs=250, units=["mV"], sig_name=["II"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path))
    fit_beat_model([x], 250.0).save(tmp_path / "beats.safetensors")
    assert main(["events", str(tmp_path / "beats.safetensors"), str(tmp_path / "ecg"), "--beats", "--format", "wfdb",
                 "-o", str(tmp_path / "ecg.qrs")]) == 0
    annotation = wfdb.rdann(str(tmp_path / "ecg"), "qrs")
    assert set(annotation.symbol) == {"N"} and score_beats(reference, annotation.sample, 250.0).f1 == 1.0
    assert main(["events", str(tmp_path / "beats.safetensors"), str(tmp_path / "ecg"), "--beats",
                 "-o", str(tmp_path / "beats.csv")]) == 0
    with open(tmp_path / "beats.csv", newline="") as file:
        assert [int(row["sample"]) for row in csv.DictReader(file)] == list(annotation.sample)


def test_a_sampling_rate_that_contradicts_the_recordings_is_refused(record, capsys):
    assert main(["events", str(record / "m.safetensors"), str(record / "rec.hea"), "-o", str(record / "e.csv"),
                 "--sampling-rate", "360"]) == 1
    assert "states 250 Hz; --sampling-rate 360 contradicts it" in capsys.readouterr().err
