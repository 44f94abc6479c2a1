""".san files (issue 11): the round trip of the codes, the reported numbers, and every bad file refused."""

from __future__ import annotations

import functools
import json
import math
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import sanets
from sanets.cli import main
from sanets.codec import DEFAULT_STEP, decode_file, encode_signal, inspect_file
from sanets.codec._format import chunk_payload, read_payload
from sanets.datasets import load_signal
from sanets.datasets._types import Signal
from sanets.errors import CodecError, DataError, OutputError

encode_v1 = functools.partial(encode_signal, codec="activation")
"""The activation codec (format 1), as issue 11 built it: these tests are its."""


def recording(channels: int = 2, samples: int = 2500, seed: int = 0, source: Path | None = None) -> Signal:
    rng = np.random.default_rng(seed)
    t = np.arange(samples)
    data = np.stack([3 + np.sin(t / (7 + c)) + 0.3 * rng.standard_normal(samples) for c in range(channels)])
    return Signal(data, 250.0, tuple(f"lead{c}" for c in range(channels)), ("mV",) * channels, source, 12)


def model() -> sanets.SAN:
    return sanets.SAN([5, 9], "extrema", competition="across-kernels", passes=2, kernel_family="gaussian-derivatives", seed=0)


@torch.no_grad()
def quantised_codes(san: sanets.SAN, data: np.ndarray, window: int, step: float):
    """Independently: pad the tail with the last sample, standardise each window (float32 constants), quantise."""
    channels, samples = data.shape
    count = -(-samples // window)
    padded = np.concatenate([data, np.repeat(data[:, -1:], count * window - samples, axis=1)], axis=1)
    windows = padded.reshape(channels * count, window)
    mean = windows.mean(1).astype(np.float32)
    std = windows.std(1, ddof=1).astype(np.float32)
    x = torch.tensor((windows - mean[:, None]) / std[:, None], dtype=torch.float32)[:, None]
    return torch.round(san.encode(x).double() / step) * step, mean, std


@torch.no_grad()
def expected_reconstruction(san: sanets.SAN, data: np.ndarray, window: int, step: float) -> np.ndarray:
    codes, mean, std = quantised_codes(san, data, window, step)
    x_hat = san.decode(codes.float())[:, 0].double().numpy()
    return (x_hat * std[:, None] + mean[:, None]).reshape(data.shape[0], -1)[:, : data.shape[1]]


def test_decoding_gives_the_models_reconstruction_of_the_quantised_codes(tmp_path):
    san, signal = model(), recording()
    report = encode_v1(san, signal, tmp_path / "r.san", window=400)
    decoded, header = decode_file(tmp_path / "r.san", san)
    assert decoded.shape == (2, 2500) and header["channel_names"] == ["lead0", "lead1"] and header["sampling_rate"] == 250.0
    assert np.allclose(decoded, expected_reconstruction(san, signal.data, 400, DEFAULT_STEP), rtol=0, atol=1e-5)
    assert report.windows == 2 * 7 and report.quantization == DEFAULT_STEP


@pytest.mark.parametrize("channels", ["shared", "separate"])
@torch.no_grad()
def test_a_multichannel_model_codes_the_windows_of_each_time_together(tmp_path, channels):
    san = sanets.SAN([5, 9], "extrema", passes=2, seed=0, in_channels=3, channels=channels)
    signal = recording(channels=3, samples=1300)
    report = encode_v1(san, signal, tmp_path / "r.san", window=400)
    decoded, header = decode_file(tmp_path / "r.san", san)
    assert report.windows == 3 * 4 and header["channels"] == 3
    # Independently: the model's examples are the times, (4, 3, 400), each channel standardised on its own.
    padded = np.concatenate([signal.data, np.repeat(signal.data[:, -1:], 300, axis=1)], axis=1).reshape(3, 4, 400)
    mean, std = padded.mean(2, keepdims=True).astype(np.float32), padded.std(2, ddof=1, keepdims=True).astype(np.float32)
    x = torch.tensor((padded - mean) / std, dtype=torch.float32).transpose(0, 1)
    codes = torch.round(san.encode(x).double() / DEFAULT_STEP) * DEFAULT_STEP
    x_hat = san.decode(codes.float()).transpose(0, 1).double().numpy() * std + mean
    assert np.allclose(decoded, x_hat.reshape(3, -1)[:, :1300], rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="the model codes 3 channels together; the recording has 2"):
        encode_v1(san, recording(channels=2), tmp_path / "two.san")


def test_the_reported_numbers_are_those_of_the_file_and_the_decoded_samples(tmp_path):
    san, signal = model(), recording()
    report = encode_v1(san, signal, tmp_path / "r.san", quantization=0.05)
    decoded, _ = decode_file(tmp_path / "r.san", san)
    size = (tmp_path / "r.san").stat().st_size
    assert report.file_bytes == size
    assert report.bits_per_sample == pytest.approx(8 * size / (2 * 2500))
    assert report.compression_ratio == pytest.approx(2 * 2500 * 12 / (8 * size))
    error = ((signal.data - decoded) ** 2).sum()
    assert report.prd == pytest.approx(100 * math.sqrt(error / (signal.data**2).sum()))
    centred = signal.data - signal.data.mean(1, keepdims=True)
    assert report.prdn == pytest.approx(100 * math.sqrt(error / (centred**2).sum()))
    assert report.snr_db == pytest.approx(10 * math.log10((centred**2).sum() / error))


def test_a_prd_target_is_met_by_the_coarsest_step_found(tmp_path):
    lossless = sanets.SAN([1], "identity", unit_norm=True, seed=0)  # decodes its codes exactly: PRD is the quantiser's
    signal = recording(1, 3000)
    reports = {target: encode_v1(lossless, signal, tmp_path / f"prd-{target}.san", prd=target) for target in (1.0, 5.0)}
    for target, report in reports.items():
        assert report.prd <= target and report.prd > 0.9 * target
    assert reports[5.0].bits_per_sample < reports[1.0].bits_per_sample
    with pytest.raises(ValueError, match="out of reach: the model's unquantised reconstruction has PRD"):
        encode_v1(model(), signal, tmp_path / "never.san", prd=0.001)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_spike_streams_round_trip_exactly(data):
    windows = data.draw(st.integers(1, 5))
    channels = data.draw(st.integers(1, 4))
    window = data.draw(st.integers(1, 40))
    levels = torch.zeros(windows, channels, window, dtype=torch.int64)
    spikes = data.draw(st.lists(st.tuples(st.integers(0, windows - 1), st.integers(0, channels - 1), st.integers(0, window - 1),
                                          st.integers(-(2**40), 2**40).filter(bool)), max_size=30))
    for w, c, p, value in spikes:
        levels[w, c, p] = value
    mean = np.array(data.draw(st.lists(st.floats(-1e6, 1e6, width=32), min_size=windows, max_size=windows)), np.float32)
    std = np.array(data.draw(st.lists(st.floats(0.0009765625, 1e6, width=32), min_size=windows, max_size=windows)), np.float32)
    decoded, decoded_mean, decoded_std = read_payload(chunk_payload(levels, mean, std), windows, channels, window)
    assert torch.equal(decoded, levels) and np.array_equal(decoded_mean, mean) and np.array_equal(decoded_std, std)


def test_an_embedded_model_decodes_without_its_file_and_inspect_describes_the_file(tmp_path):
    san, signal = model(), recording(1, 1200)
    encode_v1(san, signal, tmp_path / "r.san", embed_model=True, coder="zlib")
    alone, header = decode_file(tmp_path / "r.san")
    assert np.array_equal(alone, decode_file(tmp_path / "r.san", san)[0])
    described = inspect_file(tmp_path / "r.san")
    assert described["model"]["embedded"] and "kernels" not in described["model"] and described["coder"] == "zlib"
    assert described["windows"] == 2 and described["window"] == 1000 and described["file_bytes"] == (tmp_path / "r.san").stat().st_size
    assert described["spikes"] == int((quantised_codes(san, signal.data, 1000, DEFAULT_STEP)[0] != 0).sum())


def corrupt(path: Path, how: str) -> None:
    blob = bytearray(path.read_bytes())
    if how == "truncated":
        blob = blob[: len(blob) - 7]
    elif how == "magic":
        blob[0:4] = b"RIFF"
    elif how == "version":
        blob[8:10] = struct.pack("<H", 9)
    elif how == "checksum":
        blob[-6] ^= 0xFF
    elif how == "header":
        blob[20] ^= 0x01
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize(("how", "message"), [
    ("truncated", "truncated"), ("magic", "not a .san file"), ("version", "format version 9"),
    ("checksum", "chunk 0 checksum mismatch"), ("header", "header checksum mismatch"),
])
def test_damaged_files_are_refused_naming_the_file_and_the_problem(tmp_path, how, message):
    san = model()
    encode_v1(san, recording(1, 800), tmp_path / "r.san")
    corrupt(tmp_path / "r.san", how)
    with pytest.raises(CodecError, match=message) as caught:
        decode_file(tmp_path / "r.san", san)
    assert str(tmp_path / "r.san") in str(caught.value)


def test_another_model_a_missing_model_and_bad_requests_are_refused(tmp_path):
    san = model()
    encode_v1(san, recording(1, 800), tmp_path / "r.san")
    with pytest.raises(CodecError, match="not the model given"):
        decode_file(tmp_path / "r.san", sanets.SAN([5, 9], "extrema", seed=1))
    with pytest.raises(CodecError, match="names a model .* but none was given"):
        decode_file(tmp_path / "r.san")
    with pytest.raises(CodecError, match="not found"):
        decode_file(tmp_path / "absent.san", san)
    with pytest.raises(ValueError, match="kernel size 9 does not fit windows of 8 samples"):
        encode_v1(san, recording(1, 800), tmp_path / "x.san", window=8)
    with pytest.raises(ValueError, match="codes 1D signals"):
        encode_v1(sanets.SAN([3], dims=2), recording(1, 800), tmp_path / "x.san")
    with pytest.raises(OutputError, match="the coded file would be written over the recording"):
        encode_v1(san, recording(1, 800, source=tmp_path / "r.san"), tmp_path / "r.san")


def test_nan_samples_are_refused_with_their_position_or_interpolated(tmp_path):
    signal = recording(2, 900)
    data = signal.data.copy()
    data[1, 417] = np.nan
    holed = replace(signal, data=data)
    with pytest.raises(DataError, match=r"channel 1 \('lead1'\), sample 417: not a number"):
        encode_v1(model(), holed, tmp_path / "r.san")
    encode_v1(model(), holed, tmp_path / "r.san", fill="linear")
    assert np.isfinite(decode_file(tmp_path / "r.san", model())[0]).all()


def test_resolution_bits_come_from_the_file(shared, tmp_path):
    assert load_signal(shared / "physionet" / "mitdb" / "100.hea").resolution_bits == 12  # WFDB format 212
    np.save(tmp_path / "x.npy", np.zeros((2, 10), np.int16))
    assert load_signal(tmp_path / "x.npy").resolution_bits == 16


def test_the_three_commands_on_a_real_recording_as_csv(shared, tmp_path, capsys):
    record = load_signal(shared / "physionet" / "mitdb" / "100.hea")
    np.savetxt(tmp_path / "100.csv", record.data[:, :3000].T, delimiter=",", header="MLII,V5", comments="")
    san = model()
    san.save(tmp_path / "model.safetensors")
    assert main(["encode", str(tmp_path / "model.safetensors"), str(tmp_path / "100.csv"), "-o", str(tmp_path / "100.san"), "--json", "--codec", "activation"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["bits_per_sample"] == pytest.approx(8 * (tmp_path / "100.san").stat().st_size / 6000)
    assert printed["original_bits"] == 16, "a CSV does not say its resolution: 16 bits are assumed"
    assert main(["decode", str(tmp_path / "100.san"), "-o", str(tmp_path / "back.csv"), "--model", str(tmp_path / "model.safetensors")]) == 0
    back = load_signal(tmp_path / "back.csv")
    assert back.channel_names == ("MLII", "V5") and back.data.shape == (2, 3000)
    assert np.allclose(back.data, decode_file(tmp_path / "100.san", san)[0], rtol=1e-8)
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "100.san")]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 3000
    assert main(["decode", str(tmp_path / "100.san"), "-o", str(tmp_path / "100.wav")]) == 1
    assert "must be a .npy or .csv file" in capsys.readouterr().err
    (tmp_path / "odd.npy").write_bytes((tmp_path / "100.san").read_bytes())  # a .san file under an odd name
    assert main(["decode", str(tmp_path / "odd.npy"), "-o", str(tmp_path / "odd.npy"), "--model", str(tmp_path / "model.safetensors")]) == 1
    assert "the decoded recording would be written over the .san file" in capsys.readouterr().err


def test_a_header_without_its_fields_or_with_a_broken_embedded_model_is_refused(tmp_path):
    from sanets.codec._format import write_file

    write_file(tmp_path / "bare.san", {"coder": "lzma", "model": {}}, [], "lzma")
    with pytest.raises(CodecError, match="header lacks channels, quantization, samples, window, windows"):
        decode_file(tmp_path / "bare.san")
    san = model()
    encode_v1(san, recording(1, 800), tmp_path / "r.san", embed_model=True)
    from sanets.codec._format import read_file

    header, payloads = read_file(tmp_path / "r.san")
    header["model"]["kernels"] = header["model"]["kernels"][:1]  # one kernel's numbers for two kernel sizes
    write_file(tmp_path / "broken.san", header, payloads, "lzma")
    with pytest.raises(CodecError, match="the embedded model is invalid"):
        decode_file(tmp_path / "broken.san")


@settings(max_examples=25, deadline=None)
@given(exponent=st.floats(-20, 0.5))
def test_property_a_step_is_refused_exactly_when_a_level_would_leave_the_files_integer_range(tmp_path_factory, exponent):
    step, san, signal = 10.0**exponent, model(), recording(1, 800)
    with torch.no_grad():
        codes, _, _ = quantised_codes(san, signal.data, 400, 2.0**-60)  # a step so fine that rounding changes nothing
    path = tmp_path_factory.mktemp("step") / "r.san"
    if float(codes.abs().max()) / step > 2**31 - 1:
        with pytest.raises(ValueError, match="is too fine"):
            encode_v1(san, signal, path, quantization=step, window=400)
        assert not path.exists()
        return
    encode_v1(san, signal, path, quantization=step, window=400)
    decoded, _ = decode_file(path, san)
    np.testing.assert_allclose(decoded, expected_reconstruction(san, signal.data, 400, step), rtol=1e-5, atol=1e-5)
