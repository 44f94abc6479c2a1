"""Format 2 through the public API: every codec meets its target per channel, the file is what was measured, bad
files and requests are refused; ``sanets rd`` against an independent count of bits and PRDN; ``fit --for codec``;
pretrained models by name."""

from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import sanets
from sanets.cli import main
from sanets.codec import decode_file, encode_signal, inspect_file, rate_distortion
from sanets.codec._format import MAGIC, read_file, write_file
from sanets.datasets._types import Signal
from sanets.errors import CodecError, ModelFileError, OutOfReachError
from sanets.pretrained import PRETRAINED, pretrained, resolve_model


def beats(channels: int = 2, samples: int = 6000, seed: int = 0) -> Signal:
    """A recurring shape every ~200 samples with jitter, on a slow wave and noise: what the san codec is for."""
    rng = np.random.default_rng(seed)
    t = np.arange(80) - 30
    shape = np.exp(-t**2 / 2.0) - 0.6 * np.exp(-(t - 3) ** 2 / 2.0) + 0.3 * np.exp(-(t - 25) ** 2 / 60.0)
    data = np.zeros((channels, samples))
    for c in range(channels):
        for start in np.cumsum(rng.integers(180, 220, samples // 180)):
            if start + 80 < samples:
                data[c, start : start + 80] += rng.uniform(0.8, 1.2) * shape * (1 + c)
        data[c] += 0.05 * np.sin(np.arange(samples) / 300) + 0.003 * rng.standard_normal(samples) + c
    return Signal(data, 250.0, tuple(f"lead{c}" for c in range(channels)), ("mV",) * channels, None, 12)


def model(width: int = 80, count: int = 2) -> sanets.SAN:
    return sanets.SAN([width] * count, "extrema", seed=0)


def prdn(x: np.ndarray, y: np.ndarray) -> float:
    return 100 * np.linalg.norm(x - y) / np.linalg.norm(x - x.mean())


@pytest.mark.parametrize("codec", ["san", "wavelet"])
def test_each_channel_meets_the_prdn_target_and_the_file_is_what_was_measured(tmp_path, codec):
    signal = beats()
    san = model() if codec == "san" else None
    report = encode_signal(san, signal, tmp_path / "r.san", codec=codec, prdn=4.0)
    decoded, header = decode_file(tmp_path / "r.san", san)
    assert header["version"] == 3 and header["codec"] == codec and report.choices == header["choices"]
    for c in range(2):
        assert prdn(signal.data[c], decoded[c]) <= 4.0
        assert prdn(signal.data[c], decoded[c]) == pytest.approx(report.per_channel[c].prdn)
        assert prdn(signal.data[c], decoded[c]) > 3.5, "the coarsest step that meets the target, not a much finer one"
    size = (tmp_path / "r.san").stat().st_size
    assert report.file_bytes == size and report.bits_per_sample == pytest.approx(8 * size / signal.data.size)
    assert report.compression_ratio == pytest.approx(signal.data.size * 12 / (8 * size))


def test_a_finer_target_costs_more_bits_and_quantization_is_relative_to_each_channel(tmp_path):
    signal = beats(1)
    sizes = [encode_signal(None, signal, tmp_path / f"{t}.san", codec="wavelet", prdn=t).file_bytes for t in (2.0, 5.0, 9.0)]
    assert sizes[0] > sizes[1] > sizes[2]
    scaled = replace(signal, data=signal.data * 1000)
    a = encode_signal(None, signal, tmp_path / "a.san", codec="wavelet", quantization=0.05)
    b = encode_signal(None, scaled, tmp_path / "b.san", codec="wavelet", quantization=0.05)
    assert a.prdn == pytest.approx(b.prdn, rel=1e-6)


def test_the_prd_target_holds_over_the_whole_recording(tmp_path):
    signal = beats()
    report = encode_signal(model(), signal, tmp_path / "r.san", codec="san", prd=3.0)
    decoded, _ = decode_file(tmp_path / "r.san", model())
    assert 100 * np.linalg.norm(signal.data - decoded) / np.linalg.norm(signal.data) <= 3.0 == pytest.approx(3.0)
    assert report.prd <= 3.0


def test_the_san_codec_uses_spikes_and_beats_the_wavelet_codec_on_a_recurring_shape(tmp_path):
    signal = beats(1, 20000)
    san = encode_signal(model(), signal, tmp_path / "s.san", codec="san", prdn=5.0)
    wavelet = encode_signal(None, signal, tmp_path / "w.san", codec="wavelet", prdn=5.0)
    assert san.bits_per_sample < wavelet.bits_per_sample


def test_where_spikes_do_not_pay_the_san_codec_writes_the_wavelet_codecs_file_byte_for_byte(tmp_path):
    noise = Signal(np.random.default_rng(7).standard_normal((1, 6000)), 250.0, ("x",), ("",), None, 12)
    san = encode_signal(model(), noise, tmp_path / "s.san", codec="san", prdn=20.0)
    wavelet = encode_signal(None, noise, tmp_path / "w.san", codec="wavelet", prdn=20.0)
    assert (tmp_path / "s.san").read_bytes() == (tmp_path / "w.san").read_bytes()
    assert san.codec == "wavelet" and san.bits_per_sample == wavelet.bits_per_sample
    assert decode_file(tmp_path / "s.san")[0].shape == (1, 6000)  # no model needed


def test_spikes_that_save_less_than_the_header_they_need_are_not_sent(tmp_path):
    signal = beats(1, 6000)
    named = encode_signal(model(), signal, tmp_path / "s.san", codec="san", prdn=5.0)
    embedded = encode_signal(model(), signal, tmp_path / "e.san", codec="san", prdn=5.0, embed_model=True)
    wavelet = encode_signal(None, signal, tmp_path / "w.san", codec="wavelet", prdn=5.0)
    assert named.codec == "san" and named.file_bytes < wavelet.file_bytes  # spikes pay for a model's name
    # not for its numbers in the header: the file is the wavelet codec's
    assert embedded.codec == "wavelet" and (tmp_path / "e.san").read_bytes() == (tmp_path / "w.san").read_bytes()


def _noise_beside_beats() -> Signal:
    signal = beats(2, 8000)
    data = signal.data.copy()
    data[1] = np.random.default_rng(7).standard_normal(8000)
    return replace(signal, data=data)


def test_a_channel_without_spikes_costs_what_the_wavelet_codec_does_beside_one_with_them(tmp_path):
    signal = _noise_beside_beats()
    encode_signal(model(), signal, tmp_path / "s.san", codec="san", prdn=10.0)
    noise = replace(signal, data=signal.data[1:], channel_names=signal.channel_names[1:], units=signal.units[1:])
    encode_signal(None, noise, tmp_path / "w.san", codec="wavelet", prdn=10.0)
    choices = inspect_file(tmp_path / "s.san")["choices"]
    assert choices[0][0] is not None and choices[1] == [None, inspect_file(tmp_path / "w.san")["choices"][0]]
    assert read_file(tmp_path / "s.san")[1][-1] == read_file(tmp_path / "w.san")[1][0]  # the noise's chunk


def test_a_version_2_file_still_decodes(tmp_path, monkeypatch, write_format_2_spikes):
    import sanets.codec as codec_module
    from sanets.codec import _format
    from sanets.codec import _wavelet as W
    from sanets.codec._pursuit import PursuitCodec

    class Version2(PursuitCodec):
        def write_segment(self, writer, coded, choice):  # as version 2 wrote segments
            kernel_levels, spike_step, spikes, levels = coded[:4]
            writer.float64(spike_step)  # inf for a segment without spikes
            if choice[0] is not None:
                for level in kernel_levels:
                    W.write_segment(writer, level)
                write_format_2_spikes(writer, *spikes, 2 * len(kernel_levels))
            W.write_segment(writer, levels)  # without side magnitudes

    signal, san = _noise_beside_beats(), model()
    monkeypatch.setattr(_format, "VERSION", 2)
    monkeypatch.setattr(codec_module, "_segment_codec", lambda name, m, wavelet="auto", version=2: Version2(m.kernel_weights(), version))
    report = encode_signal(san, signal, tmp_path / "old.san", codec="san", prdn=10.0)
    monkeypatch.undo()
    assert inspect_file(tmp_path / "old.san")["version"] == 2 and report.choices[1][0] is None
    decoded, _ = decode_file(tmp_path / "old.san", san)
    assert [prdn(x, y) for x, y in zip(signal.data, decoded)] == pytest.approx([c.prdn for c in report.per_channel])



def test_a_file_decodes_only_with_its_model_or_its_embedded_copy(tmp_path, monkeypatch):
    from sanets.codec._pursuit import PursuitCodec

    monkeypatch.setattr(PursuitCodec, "fixed_bytes", lambda self, choice: 0)  # spikes, whatever the header costs
    signal = beats(1)
    encode_signal(model(), signal, tmp_path / "r.san", codec="san", prdn=5.0)
    with pytest.raises(CodecError, match="names a model .* but none was given"):
        decode_file(tmp_path / "r.san")
    with pytest.raises(CodecError, match="coded with model sha256"):
        decode_file(tmp_path / "r.san", sanets.SAN([80, 80], "extrema", seed=1))
    encode_signal(model(), signal, tmp_path / "e.san", codec="san", prdn=5.0, embed_model=True)
    np.testing.assert_array_equal(decode_file(tmp_path / "e.san")[0], decode_file(tmp_path / "r.san", model())[0])


def _rewrite_header(path: Path, change) -> None:
    blob = path.read_bytes()
    length = struct.unpack_from("<I", blob, len(MAGIC) + 2)[0]
    start = len(MAGIC) + 6
    header = json.loads(blob[start : start + length])
    change(header)
    text = json.dumps(header).encode()
    path.write_bytes(blob[: len(MAGIC) + 2] + struct.pack("<I", len(text)) + text + struct.pack("<I", zlib.crc32(text))
                     + blob[start + length + 4 :])


def test_unknown_versions_and_codecs_and_corrupt_chunks_are_refused(tmp_path):
    path = tmp_path / "r.san"
    encode_signal(None, beats(1), path, codec="wavelet", prdn=5.0)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(MAGIC)] + struct.pack("<H", 4) + blob[len(MAGIC) + 2 :])
    with pytest.raises(CodecError, match="format version 4; this sanets reads versions 1, 2, 3"):
        decode_file(path)
    path.write_bytes(blob)
    _rewrite_header(path, lambda header: header.update(codec="jpeg"))
    with pytest.raises(CodecError, match="coded by 'jpeg', which this sanets does not know"):
        decode_file(path)
    path.write_bytes(blob[:-6] + bytes([blob[-6] ^ 0xFF]) + blob[-5:])
    with pytest.raises(CodecError, match="checksum mismatch"):
        decode_file(path)


@pytest.mark.parametrize("target", [0, -1, math.nan, math.inf, "5"])
def test_targets_that_are_not_positive_numbers_are_refused(tmp_path, target):
    with pytest.raises(ValueError, match="prdn must be a positive number"):
        encode_signal(None, beats(1), tmp_path / "r.san", codec="wavelet", prdn=target)


def test_a_target_beyond_the_codecs_reach_is_refused_with_the_floor(tmp_path):
    with pytest.raises(OutOfReachError, match=r"PRDN 1e-09% is out of reach: the finest step reaches") as info:
        encode_signal(None, beats(1), tmp_path / "r.san", codec="wavelet", prdn=1e-9)
    assert 0 < info.value.floor < 1e-3
    assert not (tmp_path / "r.san").exists()


def test_requests_a_codec_cannot_serve_are_refused(tmp_path):
    with pytest.raises(ValueError, match="codec must be one of san, wavelet, activation"):
        encode_signal(None, beats(1), tmp_path / "r.san", codec="mp3")
    with pytest.raises(ValueError, match="the san codec needs a model"):
        encode_signal(None, beats(1), tmp_path / "r.san", codec="san")
    with pytest.raises(ValueError, match="window and coder are the activation codec's"):
        encode_signal(model(), beats(1), tmp_path / "r.san", codec="san", window=100)
    with pytest.raises(ValueError, match="give one of a PRDN target, a PRD target or a quantization step"):
        encode_signal(model(), beats(1), tmp_path / "r.san", prdn=5, prd=5)
    with pytest.raises(ValueError, match="takes a one-channel SAN"):
        encode_signal(sanets.SAN([9], in_channels=2), beats(2), tmp_path / "r.san", codec="san")


def test_inspect_names_the_codec_and_each_channels_choice(tmp_path):
    encode_signal(None, beats(), tmp_path / "r.san", codec="wavelet", prdn=5.0)
    described = inspect_file(tmp_path / "r.san")
    assert described["codec"] == "wavelet" and len(described["choices"]) == 2 and described["chunks"] == 2
    assert described["bits_per_sample"] == pytest.approx(8 * (tmp_path / "r.san").stat().st_size / 12000)


def test_rate_distortion_rows_are_the_files_bits_and_the_decoded_prdn(tmp_path):
    signal = beats(1, 8000)
    rows = rate_distortion(model(), signal, [3.0, 8.0])
    for row in rows:
        for codec, san in (("san", model()), ("wavelet", None)):
            report = encode_signal(san, signal, tmp_path / f"{codec}.san", codec=codec, prdn=row["target_prdn"])
            decoded, _ = decode_file(tmp_path / f"{codec}.san", san)
            assert row[f"{codec}_bits_per_sample"] == pytest.approx(8 * (tmp_path / f"{codec}.san").stat().st_size / 8000)
            assert row[f"{codec}_prdn"] == pytest.approx(prdn(signal.data[0], decoded[0])) == pytest.approx(report.prdn)
            assert row[f"{codec}_prdn"] <= row["target_prdn"]
    assert rows[0]["san_bits_per_sample"] > rows[1]["san_bits_per_sample"]


def test_sanets_rd_prints_one_strict_json_object_per_input_and_target(tmp_path, capsys):
    np.save(tmp_path / "rec.npy", beats(1, 6000).data)
    sanets.SAN([60, 60], "extrema", seed=0).save(tmp_path / "m.safetensors")
    assert main(["rd", str(tmp_path / "rec.npy"), "--model", str(tmp_path / "m.safetensors"), "--prdn", "4", "1e-9", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [json.loads(line, parse_constant=lambda c: pytest.fail(c)) for line in lines]
    assert [row["target_prdn"] for row in rows] == [4.0, 1e-9]
    assert set(rows[0]) >= {"input", "target_prdn", "san_bits_per_sample", "san_prdn", "wavelet_bits_per_sample",
                            "wavelet_prdn", "wavelet"}
    assert rows[1]["wavelet_bits_per_sample"] is None and rows[1]["wavelet_floor"] > 0
    assert main(["rd", str(tmp_path / "rec.npy"), "--prdn", "5"]) == 0
    assert "san no model; wavelet" in capsys.readouterr().out


def test_fit_for_codec_chooses_the_candidate_of_fewest_validation_bits(tmp_path, capsys):
    np.save(tmp_path / "a.npy", beats(1, 12000, seed=1).data)
    np.save(tmp_path / "b.npy", beats(1, 12000, seed=2).data)
    assert main(["fit", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--out", str(tmp_path / "m.safetensors")]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    candidates = report["candidates_bits_per_sample"]
    assert set(candidates) == {f"{k}x{m}" for k in (4, 8, 16) for m in (128, 256)}  # NPY states no rate: lengths in samples
    assert f"{report['kernels']}x{report['length']}" == min(candidates, key=candidates.get)
    fitted = sanets.SAN.load(tmp_path / "m.safetensors")
    assert fitted.num_kernels == report["kernels"] and fitted.kernel_sizes == [report["length"]] * report["kernels"]
    assert (tmp_path / "m-kernels.png").is_file()
    assert main(["encode", str(tmp_path / "m.safetensors"), str(tmp_path / "a.npy"), "-o", str(tmp_path / "a.san"), "--prdn", "5"]) == 0
    assert main(["fit", str(tmp_path / "a.npy"), "--out", str(tmp_path / "x.safetensors"), "--epochs", "3"]) == 1
    assert "--epochs: the paper's options; add --for paper" in capsys.readouterr().err


def test_the_pretrained_ecg_model_by_name_and_at_other_rates():
    assert PRETRAINED == ("ecg",)
    ecg = pretrained("ecg")
    about = json.loads((Path(sanets.pretrained.__file__).with_name("ecg.json")).read_text())
    assert about["sampling_rate"] == 360 and ecg.kernel_sizes == [about["length"]] * about["kernels"]
    double = pretrained("ecg", 720.0)
    assert double.kernel_sizes == [2 * about["length"]] * about["kernels"]
    for kernel in double.kernel_weights():
        kernel = kernel.detach()
        assert float(torch.linalg.norm(kernel)) == pytest.approx(1.0)
    original, stretched = (model.kernel_weights()[0].detach().double().numpy() for model in (ecg, double))
    assert np.corrcoef(np.interp(np.linspace(0, len(original) - 1, len(stretched)), np.arange(len(original)), original), stretched)[0, 1] > 0.999
    with pytest.raises(ValueError, match="trained at 360 Hz; it serves 90 to 1440 Hz, not 50 Hz"):
        pretrained("ecg", 50.0)
    with pytest.raises(ValueError, match="no pretrained model 'eeg'; sanets ships 'ecg'"):
        pretrained("eeg")
    with pytest.raises(ModelFileError, match="'nothing': no such model file, nor a pretrained model"):
        resolve_model("nothing")
    assert sum(path.stat().st_size for path in Path(sanets.pretrained.__file__).parent.glob("ecg.*")) < 1_000_000


def test_encode_and_decode_take_a_pretrained_name(tmp_path, capsys):
    signal = beats(1, 8000)
    np.save(tmp_path / "rec.npy", signal.data)
    assert main(["encode", str(tmp_path / "rec.npy"), "--model", "ecg", "-o", str(tmp_path / "r.san"), "--prdn", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["prdn"] <= 5
    assert main(["decode", str(tmp_path / "r.san"), "--model", "ecg", "-o", str(tmp_path / "r.npy")]) == 0
    assert main(["encode", str(tmp_path / "rec.npy"), "-o", str(tmp_path / "w.san"), "--codec", "wavelet", "--prdn", "5"]) == 0
    assert main(["encode", str(tmp_path / "rec.npy"), "-o", str(tmp_path / "x.san")]) == 1
    assert "the san codec needs a model: give MODEL INPUT or --model" in capsys.readouterr().err


def test_a_file_made_with_other_decoding_constants_is_refused(tmp_path):
    path = tmp_path / "r.san"
    encode_signal(None, beats(1), path, codec="wavelet", prdn=5.0)
    _rewrite_header(path, lambda header: header.update(bias=0.2))
    with pytest.raises(CodecError, match=r"coded with \{'bias': 0.2\}; this sanets decodes \{'bias': 0.05\}"):
        decode_file(path)


def test_a_long_channel_chooses_on_its_probe_segments_then_codes_every_segment_with_that_choice(tmp_path, monkeypatch):
    from sanets.codec import _channels
    from sanets.codec._pursuit import PursuitCodec

    monkeypatch.setattr(_channels, "SEGMENT", 4096)  # six segments
    prepared = []
    original = PursuitCodec.prepare
    monkeypatch.setattr(PursuitCodec, "prepare", lambda self, x, choice: prepared.append((len(x), choice)) or original(self, x, choice))
    signal = beats(1, 6 * 4096)
    report = encode_signal(model(), signal, tmp_path / "r.san", codec="san", prdn=5.0)
    probes = [part.stop - part.start for part in _channels._probes(6 * 4096)]
    searched = {choice for _, choice in prepared[:-6]}
    assert len(probes) == 3 and len(prepared) == 3 * len(searched) + 6 and searched <= set(PursuitCodec.choices)
    assert sorted({choice for _, choice in prepared[-6:]}) == [tuple(report.choices[0])]  # the rest: one choice
    decoded, _ = decode_file(tmp_path / "r.san", model())
    assert prdn(signal.data[0], decoded[0]) <= 5.0


@pytest.mark.parametrize("start", [0.01, 0.29, 0.9])
def test_the_coarsest_step_is_bracketed_from_a_start_on_either_side_of_it(start):
    from sanets.codec._channels import coarsest_step

    tried = []

    def error_at(step: float) -> float:  # monotone, with steps: a dead-zone quantiser's error is not smooth
        tried.append(step)
        return math.floor(step * 1000) / 1000

    found = coarsest_step(error_at, 0.3, start, 1e-6, factor=1.5, precision=1.003, ceiling=1.0)
    assert error_at(found) <= 0.3 and 0.301 / 1.003 <= found <= 0.301 and max(tried) <= 1.0
    assert coarsest_step(error_at, 0.3, 0.2, 1e-6) == 0.2  # no ceiling: the start is the coarsest step allowed


@pytest.mark.skipif(sys.platform != "linux", reason="channels are coded in forked processes on Linux only")
def test_channels_coded_in_processes_make_the_file_threads_make(tmp_path, monkeypatch):
    from sanets.codec import _channels

    signal = _noise_beside_beats()
    monkeypatch.setattr(_channels, "_processes", lambda channels: 2)
    forked = encode_signal(model(), signal, tmp_path / "p.san", codec="san", prdn=5.0)
    monkeypatch.setattr(_channels, "_processes", lambda channels: 1)
    threaded = encode_signal(model(), signal, tmp_path / "t.san", codec="san", prdn=5.0)
    assert (tmp_path / "p.san").read_bytes() == (tmp_path / "t.san").read_bytes() and forked.choices == threaded.choices
    monkeypatch.setattr(_channels, "_processes", lambda channels: 2)
    with pytest.raises(OutOfReachError, match="out of reach") as info:  # an error in a worker reaches the caller whole
        encode_signal(sanets.SAN([3], "extrema", seed=0), signal, tmp_path / "x.san", codec="san", prdn=1e-9)
    assert info.value.floor > 0


@pytest.mark.skipif(sys.platform != "linux", reason="chunks are decoded in forked processes on Linux only")
def test_chunks_decoded_in_processes_are_those_threads_decode(tmp_path, monkeypatch):
    from sanets.codec import _channels

    monkeypatch.setattr(_channels, "SEGMENT", 4096)
    monkeypatch.setattr(_channels, "available_cores", lambda: 2)
    signal = beats(2, 6 * 4096)  # 12 chunks: more than the cores
    encode_signal(model(), signal, tmp_path / "r.san", codec="san", prdn=5.0)
    monkeypatch.setattr(_channels, "_processes", lambda count: 2)
    forked = decode_file(tmp_path / "r.san", model())[0]
    monkeypatch.setattr(_channels, "_processes", lambda count: 1)
    np.testing.assert_array_equal(forked, decode_file(tmp_path / "r.san", model())[0])
    header, payloads = read_file(tmp_path / "r.san")
    write_file(tmp_path / "bad.san", header, [*payloads[:-1], payloads[-1][:8]])  # checksums right, a chunk cut short
    monkeypatch.setattr(_channels, "_processes", lambda count: 2)
    with pytest.raises(CodecError, match="chunk 11 is malformed"):  # raised in a worker, whole
        decode_file(tmp_path / "bad.san", model())
