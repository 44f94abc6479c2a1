"""sanets compare: Table I's cut of any recording, its rows against evaluate and the baselines' own scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sanets import cli
from sanets.baselines import BASELINES
from sanets.errors import DataError
from sanets.experiments._units import Settings
from sanets.experiments.compare import compare_recordings, protocol_splits
from sanets.experiments.table_i import TABLE_I
from sanets.experiments.variants import VARIANTS, run_variant
from sanets.training import evaluate, first_lowest


def standardised(frames: np.ndarray) -> np.ndarray:
    """Each row to mean 0 and sample std 1, written out."""
    return (frames - frames.mean(1, keepdims=True)) / frames.std(1, ddof=1, keepdims=True)


def test_twelve_windows_split_six_two_four_in_time_and_shorter_channels_keep_the_proportions():
    samples = np.cumsum(np.random.default_rng(0).standard_normal(12500))
    splits, notes = protocol_splits(samples)
    assert [len(splits[name]) for name in ("train", "validation", "test")] == [6, 2, 4] and not notes
    expected = standardised(samples[:12000].reshape(12, 1000))
    np.testing.assert_allclose(torch.cat(list(splits.values()))[:, 0].numpy(), expected, rtol=1e-5, atol=1e-5)
    splits, notes = protocol_splits(samples[:5400])  # 5 windows: round(5/6) = 1 validation, round(5/3) = 2 test
    assert [len(splits[name]) for name in ("train", "validation", "test")] == [2, 1, 2]
    assert notes == ["5 windows instead of 12: split in the proportions 6 : 2 : 4"]


def test_constant_windows_are_left_out_and_too_short_or_flat_channels_refused():
    samples = np.cumsum(np.random.default_rng(1).standard_normal(14000))
    samples[1000:3000] = 7.0  # windows 1 and 2 are flat
    splits, notes = protocol_splits(samples)
    assert notes == ["2 constant window(s) left out (they cannot be standardised)"]
    kept = np.delete(samples.reshape(14, 1000), [1, 2], axis=0)[:12]
    np.testing.assert_allclose(torch.cat(list(splits.values()))[:, 0].numpy(), standardised(kept), rtol=1e-5, atol=1e-5)
    with pytest.raises(DataError, match="2999 samples make 2 usable window"):
        protocol_splits(samples[4000:6999], "x.npy")
    with pytest.raises(DataError, match="every window is constant"):
        protocol_splits(np.full(5000, 3.0), "x.npy")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    t = np.arange(4000)
    rng = np.random.default_rng(2)
    signal = np.sin(2 * np.pi * t / 90) + 0.3 * np.sin(2 * np.pi * t / 23 + 1) + 0.1 * rng.standard_normal(4000)
    path = tmp_path_factory.mktemp("compare") / "signal.npy"
    np.save(path, signal[None])
    (result,) = compare_recordings([path], variants=["competing"], baselines=["dct", "wavelet", "gabor-mp"], quick=True)
    splits, _ = protocol_splits(signal)
    return result, splits


def test_compare_rows_are_the_scores_of_evaluate_and_of_the_baselines_themselves(compared):
    result, splits = compared
    document = json.loads(json.dumps(result.as_json()))
    assert document["windows"] == {"train": 2, "validation": 1, "test": 1}
    rows = {(row["kind"], row["name"]): row for row in document["rows"]}
    for name in ("dct", "wavelet", "gabor-mp"):
        baseline = BASELINES[name].quick().fit(splits["train"], splits["validation"])
        scores = baseline.evaluate(splits["test"])
        assert rows["baseline", name]["parameters"] == baseline.parameters
        assert [rows["baseline", name]["flithos"], rows["baseline", name]["flithos_bits"]] == \
            pytest.approx([scores.flithos, scores.flithos_bits])
    sweep = TABLE_I.sweep_for(Settings(0, True))
    model, _ = run_variant("competing", sweep, (1000,), splits, 0, True)
    assert rows["variant", "competing"]["flithos_bits"] == pytest.approx(evaluate(model, splits["test"]).flithos_bits)
    fits = sweep.fit("relu", splits["train"], splits["validation"], init="constant", seed=0)
    chosen = first_lowest([fit.best_flithos for fit in fits])
    assert rows["san", "relu"]["parameters"] == f"m={sweep.kernel_sizes[chosen]}"
    assert rows["san", "relu"]["flithos"] == pytest.approx(evaluate(fits[chosen].model, splits["test"]).flithos)
    baselines = [row for row in document["rows"] if row["kind"] == "baseline"]
    best = baselines[first_lowest([row["validation_flithos"] for row in baselines])]
    assert document["best_baseline"] == {key: best[key] for key in ("name", "parameters", "flithos", "flithos_bits")}
    assert document["best_variant"]["name"] == "competing"
    sans = [row for row in document["rows"] if row["kind"] == "san"]
    assert document["best_san"]["name"] == sans[first_lowest([row["validation_flithos"] for row in sans])]["name"]
    # The verdict compares the learned representation validation chose with the best baseline, on test.
    learner = min((result.best("san"), result.best("variant")), key=lambda row: row.validation_flithos)
    baseline = result.best("baseline")
    if learner.test.flithos < baseline.test.flithos:
        assert f"{learner.kind} {learner.name} beats the best baseline on φ̄" in result.verdict()
    else:
        assert (f"no SAN beats the best baseline (behind by {learner.test.flithos - baseline.test.flithos:+.4f} φ̄"
                in result.verdict())


def test_two_workers_give_the_rows_of_one(compared):
    result, _ = compared
    (parallel,) = compare_recordings([result.input], variants=["competing"], baselines=["dct", "wavelet", "gabor-mp"],
                                     quick=True, workers=2)
    assert [(row.kind, row.name, row.parameters) for row in parallel.rows] == \
        [(row.kind, row.name, row.parameters) for row in result.rows]  # the variants in their place, between
    for ours, theirs in zip(parallel.rows, result.rows):
        assert ours.test.flithos == pytest.approx(theirs.test.flithos, rel=1e-5)
        assert ours.amortised.flithos == pytest.approx(theirs.amortised.flithos, rel=1e-5)
    with pytest.raises(ValueError, match="workers"):
        compare_recordings([result.input], variants=[], baselines=[], activations=[], workers=0)


def test_the_amortised_protocol_charges_w_once_per_recording(compared):
    result, splits = compared
    document = result.as_json()
    assert document["amortised"]["recording_windows"] == 4  # 4000 samples
    sweep = TABLE_I.sweep_for(Settings(0, True))
    model, _ = run_variant("competing", sweep, (1000,), splits, 0, True)
    x = splits["test"]
    with torch.no_grad():
        codes = model.encode(x)
        x_hat = model.decode(codes)
    numbers = (model.num_weights / 4 + 2 * (codes != 0).flatten(1).sum(1)) / 1000
    loss = (x - x_hat).abs().flatten(1).mean(1) / x.abs().flatten(1).mean(1)
    (row,) = [row for row in document["rows"] if row["name"] == "competing"]
    assert row["amortised"]["flithos"] == pytest.approx(float(torch.hypot(numbers, loss).mean()), rel=1e-5)
    assert row["amortised"]["flithos"] < row["flithos"]
    (dct,) = [row for row in document["rows"] if row["name"] == "dct"]  # W = 0: nothing to share
    assert dct["amortised"]["flithos"] == pytest.approx(dct["flithos"])
    learned = [row for row in result.rows if row.kind != "baseline"]
    assert document["amortised"]["best_variant"]["flithos"] == pytest.approx(row["amortised"]["flithos"])
    assert min(learned, key=lambda r: r.amortised.flithos).amortised.flithos <= row["amortised"]["flithos"]
    assert result.verdict(amortised=True).startswith("W once per 4 windows: best san")


def test_the_command_prints_rows_or_json_and_refuses_bad_input(tmp_path, capsys):
    assert cli.main(["compare", str(tmp_path / "x.npy"), "--variants", "nope"]) == 1
    error = capsys.readouterr().err
    assert "unknown variant 'nope'; choose from " in error and all(name in error for name in VARIANTS)
    assert cli.main(["compare", str(tmp_path / "x.npy"), "--activations", "relu", "sigmoid"]) == 1
    assert "unknown activation 'sigmoid'; choose from identity, relu" in capsys.readouterr().err
    holed = np.cumsum(np.random.default_rng(3).standard_normal(4000))
    holed[2500] = np.nan
    np.save(tmp_path / "holed.npy", holed)
    assert cli.main(["compare", str(tmp_path / "holed.npy"), "--variants", "--baselines", "dct"]) == 1
    assert "sample 2500: not a number" in capsys.readouterr().err
    np.save(tmp_path / "short.npy", holed[:2000])
    assert cli.main(["compare", str(tmp_path / "short.npy"), "--fill", "linear"]) == 1
    assert "usable window(s) of 1000" in capsys.readouterr().err
    assert cli.main(["compare", str(tmp_path / "holed.npy"), "--fill", "linear", "--quick", "--activations", "relu",
                     "--variants", "--baselines", "dct", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert document["best_variant"] is None and document["best_baseline"]["name"] == "dct"
    assert [(row["kind"], row["name"]) for row in document["rows"]] == [("san", "relu"), ("baseline", "dct")]
    assert cli.main(["compare", str(tmp_path / "holed.npy"), "--fill", "linear", "--quick", "--activations", "--variants",
                     "--baselines", "dct"]) == 0
    printed = capsys.readouterr().out
    assert "baseline dct" in printed.replace("  ", " ") and "best baseline dct" in printed
