"""Issue 28 at the command line: no command loses a user's file, what sanets writes reads back, and every refusal
is one line naming the problem. One test per numbered defect of the issue."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sanets
from sanets.cli import main
from sanets.codec import decode_file
from sanets.datasets import load_signal

wfdb = pytest.importorskip("wfdb")


def _refuse(constant: str):
    raise ValueError(f"not strict JSON: {constant}")


def strict(text: str) -> dict:
    """JSON as a strict parser reads it: NaN and Infinity are refused."""
    return json.loads(text, parse_constant=_refuse)


def one_line(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"sanets {command}: error: "), err
    return err


@pytest.fixture
def files(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(3000)
    data = np.stack([np.sin(t / 9) + 0.2 * rng.standard_normal(3000), 2 + np.cos(t / 13) + 0.2 * rng.standard_normal(3000)])
    np.save(tmp_path / "victim.npy", data)
    np.savetxt(tmp_path / "rec.csv", data.T, delimiter=",", header="a,b", comments="")
    # Some PhysioNet headers end their channel names in a comma (bidmc: "RESP,", "PLETH,").
    wfdb.wrsamp("bw", fs=125, units=["pm", "NU"], sig_name=["RESP,", "PLETH,"], p_signal=data.T, fmt=["16", "16"],
                write_dir=str(tmp_path))
    sanets.SAN([8], "extrema", seed=0).save(tmp_path / "m.safetensors")
    return tmp_path


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


FIT = ["--for", "paper", "--epochs", "1", "--kernel-sizes", "8", "--window", "500", "--no-progress"]


def test_1_fit_never_writes_over_a_recording_or_a_signal_file_its_header_names(files, capsys):
    before = contents(files)
    assert main(["fit", str(files / "victim.npy"), "--out", str(files / "victim.npy"), *FIT]) == 1
    assert "the model would be written over the recording" in one_line(capsys, "fit")
    assert main(["fit", str(files / "bw.hea"), "--out", str(files / "bw.dat"), "--channels", "0", *FIT]) == 1
    assert re.search(r"would be written over the recording '.*bw\.dat'", one_line(capsys, "fit"))
    assert main(["fit", str(files / "bw"), "--out", str(files / "bw.hea"), *FIT]) == 1
    one_line(capsys, "fit")
    assert contents(files) == before


def test_2_fit_refuses_a_model_path_its_report_would_overwrite(files, capsys):
    assert main(["fit", str(files / "rec.csv"), "--out", str(files / "run.json"), *FIT]) == 1
    assert "the report and the model would be the same file" in one_line(capsys, "fit")
    assert not (files / "run.json").exists() and not (files / "run.json.partial").exists()


def test_3_encode_never_writes_over_its_model(files, capsys):
    before = contents(files)
    assert main(["encode", str(files / "m.safetensors"), str(files / "victim.npy"), "-o", str(files / "m.safetensors")]) == 1
    assert "the coded file would be written over the model" in one_line(capsys, "encode")
    assert main(["encode", str(files / "m.safetensors"), str(files / "bw.hea"), "-o", str(files / "bw.dat")]) == 1
    assert "would be written over the recording" in one_line(capsys, "encode")
    assert contents(files) == before
    sanets.SAN.load(files / "m.safetensors")


def test_4_a_decoded_csv_reads_back_with_its_channel_names_through_sanets_and_pandas(files, capsys):
    pandas = pytest.importorskip("pandas")
    assert main(["encode", str(files / "m.safetensors"), str(files / "bw.hea"), "-o", str(files / "b.san")]) == 0
    assert main(["decode", str(files / "b.san"), "-o", str(files / "b.csv"), "--model", str(files / "m.safetensors")]) == 0
    decoded, _ = decode_file(files / "b.san", sanets.SAN.load(files / "m.safetensors"))
    back = load_signal(files / "b.csv")
    assert back.channel_names == ("RESP,", "PLETH,")
    np.testing.assert_array_equal(back.data, decoded)
    table = pandas.read_csv(files / "b.csv")
    assert list(table.columns) == ["RESP,", "PLETH,"]
    np.testing.assert_array_equal(table.to_numpy().T, decoded)


def test_5_a_quantisation_step_beyond_the_files_integer_range_is_refused(files, capsys):
    arguments = ["encode", str(files / "m.safetensors"), str(files / "rec.csv"), "-o", str(files / "q.san"), "--json",
                 "--codec", "activation"]
    assert main([*arguments, "--quantization", "1e-18"]) == 1
    err = one_line(capsys, "encode")
    assert "is too fine" in err and not (files / "q.san").exists()
    finest = float(re.search(r"the finest step for this recording is (\S+)$", err.strip()).group(1))
    assert main([*arguments, "--quantization", str(finest * 1.01)]) == 0
    fine = strict(capsys.readouterr().out)
    assert main([*arguments, "--quantization", "0.01"]) == 0
    assert fine["prd"] <= strict(capsys.readouterr().out)["prd"] + 1e-9, "a finer step never codes worse"


@pytest.mark.parametrize("command", ["fit", "encode", "decode", "demo", "reproduce"])
def test_6_an_unwritable_output_is_one_line_before_any_work(files, capsys, monkeypatch, command):
    def never(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr("sanets.experiments.recordings.load_signal", never)
    monkeypatch.setattr("sanets.datasets.load_signal", never)
    monkeypatch.setattr("sanets.experiments.demo.run_demo", never)
    monkeypatch.setattr("sanets.experiments.reproduce", never)
    monkeypatch.setattr("sanets.codec.decode_file", never)
    blocked = files / "victim.npy" / "out"  # a file stands where the folder would be
    arguments = {
        "fit": ["fit", str(files / "rec.csv"), "--out", str(blocked / "m.safetensors")],
        "encode": ["encode", str(files / "m.safetensors"), str(files / "rec.csv"), "-o", str(blocked / "r.san")],
        "decode": ["decode", str(files / "r.san"), "-o", str(blocked / "r.csv")],
        "demo": ["demo", "--out", str(blocked)],
        "reproduce": ["reproduce", "physionet", "--out", str(blocked)],
    }[command]
    assert main(arguments) == 1
    assert re.search(r"cannot be written: a file stands where a folder is needed: '.*victim\.npy'", one_line(capsys, command))


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_7_fill_linear_interpolates_missing_samples_of_npy_and_csv(files, capsys, suffix):
    data = np.load(files / "victim.npy")
    data[1, 700:705] = np.nan
    path = files / f"holed{suffix}"
    if suffix == ".npy":
        np.save(path, data)
    else:
        # Empty cells and a literal nan are both missing samples.
        lines = ["a,b"] + [",".join("" if np.isnan(v) and i % 2 else f"{v:.17g}" for v in row) for i, row in enumerate(data.T)]
        path.write_text("\n".join(lines) + "\n")
    assert main(["fit", str(path), "--out", str(files / "h.safetensors"), *FIT]) == 1
    name = "'b'" if suffix == ".csv" else "'ch1'"
    assert f"channel 1 ({name}), sample 700: not a number (5 such samples); --fill linear" in one_line(capsys, "fit")
    assert main(["fit", str(path), "--out", str(files / "h.safetensors"), *FIT, "--fill", "linear"]) == 0
    capsys.readouterr()
    assert main(["encode", str(files / "h.safetensors"), str(path), "-o", str(files / "h.san"), "--fill", "linear"]) == 0


def test_8_a_scheduler_that_is_no_address_is_refused_at_once_and_leaves_no_noise(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sanets.cli", "reproduce", "physionet", "--scheduler", "notanaddress",
                           "--out", str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "'notanaddress' is not a scheduler address; give tcp://HOST:PORT" in done.stderr
    assert not (tmp_path / "r").exists()


def test_9_encode_json_is_strict_where_the_snr_is_infinite(files, capsys):
    np.savetxt(files / "flat.csv", np.full((1500, 1), 3.25), delimiter=",")
    assert main(["encode", str(files / "m.safetensors"), str(files / "flat.csv"), "-o", str(files / "f.san"), "--json"]) == 0
    report = strict(capsys.readouterr().out)
    assert report["prd"] == 0 and report["snr_db"] is None and report["per_channel"][0]["snr_db"] is None
    assert main(["inspect", str(files / "f.san")]) == 0
    strict(capsys.readouterr().out)


def test_10_a_window_longer_than_the_recording_is_refused(files, capsys):
    assert main(["encode", str(files / "m.safetensors"), str(files / "rec.csv"), "-o", str(files / "w.san"), "--window", "5000",
                 "--codec", "activation"]) == 1
    assert "window 5000 is longer than the recording (3000 samples per channel)" in one_line(capsys, "encode")
    assert main(["fit", str(files / "rec.csv"), "--out", str(files / "w.safetensors"), *FIT[:-3], "--window", "5000"]) == 1
    assert "3000 samples per channel, shorter than one window of 5000" in one_line(capsys, "fit")


def test_11_channel_names_are_quoted_in_messages(files, capsys):
    assert main(["fit", str(files / "bw.hea"), "--out", str(files / "c.safetensors"), "--channels", "II", *FIT]) == 1
    assert "unknown channel 'II'; the channels are: 'RESP,', 'PLETH,'" in one_line(capsys, "fit")
    assert main(["encode", str(files / "m.safetensors"), str(files / "bw.hea"), "-o", str(files / "c.san"), "--channels", "II"]) == 1
    assert "'RESP,', 'PLETH,'" in one_line(capsys, "encode")


def test_12_an_all_constant_recording_says_so(files, capsys):
    np.savetxt(files / "const.csv", np.ones((3000, 2)), delimiter=",", header="x,y", comments="")
    assert main(["fit", str(files / "const.csv"), "--out", str(files / "k.safetensors"), *FIT]) == 1
    assert "every window is constant (all 12 of 500 samples)" in one_line(capsys, "fit")


def test_13_an_array_stored_samples_first_is_refused_with_the_hint(files, capsys):
    np.save(files / "tall.npy", np.load(files / "victim.npy").T)
    assert main(["fit", str(files / "tall.npy"), "--out", str(files / "t.safetensors"), *FIT]) == 1
    assert "read as 3000 channels of 2 sample(s) each" in (err := one_line(capsys, "fit")) and "transpose" in err
    (files / "row.csv").write_text("1,2,3,4\n")
    assert main(["encode", str(files / "m.safetensors"), str(files / "row.csv"), "-o", str(files / "r.san")]) == 1
    assert "probably transposed" in one_line(capsys, "encode")


def test_14_encode_codes_the_channels_asked_for_and_reports_each(files, capsys):
    model = files / "m.safetensors"
    assert main(["encode", str(model), str(files / "bw.hea"), "-o", str(files / "one.san"), "--channels", "PLETH,", "--json"]) == 0
    one = strict(capsys.readouterr().out)
    assert one["channels"] == 1 and [c["name"] for c in one["per_channel"]] == ["PLETH,"]
    assert main(["encode", str(model), str(files / "bw.hea"), "-o", str(files / "two.san"), "--json"]) == 0
    two = strict(capsys.readouterr().out)
    original = load_signal(files / "bw.hea").data
    decoded, header = decode_file(files / "two.san", sanets.SAN.load(model))
    assert header["channel_names"] == ["RESP,", "PLETH,"]
    for channel, reported in enumerate(two["per_channel"]):
        x, y = original[channel], decoded[channel]
        assert reported["prd"] == pytest.approx(100 * math.sqrt(np.sum((x - y) ** 2) / np.sum(x**2)))
        assert reported["prdn"] == pytest.approx(100 * math.sqrt(np.sum((x - y) ** 2) / np.sum((x - x.mean()) ** 2)))
    assert main(["encode", str(model), str(files / "bw.hea"), "-o", str(files / "two.san")]) == 0
    assert "channel 'PLETH,': PRD" in capsys.readouterr().out


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_15_help_states_defaults_choices_formats_and_every_file_written(capsys):
    encode = _help("encode", capsys)
    assert f"(default: {sanets.codec.DEFAULT_STEP:g})" in encode and "one of: lzma, zlib" in encode
    reproduce = _help("reproduce", capsys)
    assert all(name in reproduce for name in sanets.activations.ACTIVATIONS)
    assert "mitdb" in reproduce and "tcp://HOST:PORT" in reproduce
    decode = _help("decode", capsys)
    assert "IN.san a file written by 'sanets encode'" in decode
    fit = _help("fit", capsys)
    assert "MODEL.json" in fit and "MODEL-kernels.png" in fit and "none of them may be an input" in fit


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["encode", "decode", "fit"]), target=st.sampled_from(["m.safetensors", "bw.hea", "bw.dat", "x.san"]),
       spelling=st.sampled_from(["{}", "./{}", "sub/../{}", "link-{}"]))
def test_property_no_command_writes_over_a_file_it_reads(files, capsys, command, target, spelling):
    (files / "sub").mkdir(exist_ok=True)
    if not (files / "x.san").exists():
        assert main(["encode", str(files / "m.safetensors"), str(files / "bw.hea"), "-o", str(files / "x.san")]) == 0
    if spelling.startswith("link-") and not (files / spelling.format(target)).exists():
        (files / spelling.format(target)).symlink_to(files / target)
    before = contents(files)
    output = str(files / spelling.format(target))
    arguments = {"encode": ["encode", str(files / "m.safetensors"), str(files / "bw.hea"), "-o", output],
                 "decode": ["decode", str(files / "x.san"), "-o", output, "--model", str(files / "m.safetensors")],
                 "fit": ["fit", str(files / "bw.hea"), "--out", output, *FIT]}[command]
    reads = {"encode": {"m.safetensors", "bw.hea", "bw.dat"}, "decode": {"x.san", "m.safetensors"},
             "fit": {"bw.hea", "bw.dat"}}[command]
    if target not in reads:
        return  # writing over a file the command does not read is the user's choice
    capsys.readouterr()
    assert main(arguments) == 1
    err = one_line(capsys, command)
    assert "would be written over" in err or "must be a .npy or .csv file" in err
    assert contents(files) == before
