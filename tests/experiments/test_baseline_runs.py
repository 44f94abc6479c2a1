"""Baseline units of sanets reproduce: chosen on validation only, scored on test, beside the SANs."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from sanets.experiments import EXPERIMENTS
from sanets.experiments._report.rows import (
    baseline_rows,
    best_rows,
    keys_values,
    table_rows,
)
from sanets.experiments._units import Settings, Task, Unit


@pytest.mark.parametrize("name", ["dct", "wavelet", "pca"])
def test_changing_the_test_split_cannot_change_the_chosen_parameters(shared, monkeypatch, name):
    experiment = EXPERIMENTS["physionet"]
    splits = experiment.load("mitdb", str(shared))
    noise = torch.randn(splits.test.shape, generator=torch.Generator().manual_seed(0))
    unit = Unit("physionet", "mitdb", "", f"baseline-{name}", 0)
    task = Task((unit,), Settings(quick=True), str(shared))
    records = []
    for test in (splits.test, noise):
        monkeypatch.setattr(type(experiment), "data", lambda self, *args, test=test: dataclasses.replace(splits, test=test))
        ((_, record),) = experiment.run(task)
        records.append(record)
    assert records[0]["parameters"] == records[1]["parameters"]
    assert records[0]["validation"] == records[1]["validation"]
    assert records[0]["test"] != records[1]["test"], "the test split is scored, so its change shows there"


def san(validation_phi: float, test_phi: float) -> dict:
    scores = {"inverse_compression_ratio": 0.1, "reconstruction_loss": 0.1, "flithos": test_phi}
    return {"validation": [{**scores, "flithos": validation_phi}], "test": scores, "test_last_epoch": scores,
            "model": {}, "kernels": [], "best_epoch": 1, "seconds": 1.0}


def baseline(name: str, validation_phi: float, test_phi: float, parameters: str) -> dict:
    scores = {"inverse_compression_ratio": 0.2, "reconstruction_loss": 0.3, "flithos": test_phi}
    return {"baseline": name, "parameters": parameters, "num_weights": 0, "validation": {**scores, "flithos": validation_phi},
            "test": scores, "curve": [[1, 0.2, 0.3, test_phi]], "seconds": 1.0}


def test_rows_keys_and_the_best_of_each_are_chosen_on_validation():
    results = {
        Unit("physionet", "mitdb", "constant", "relu", 3): san(0.9, 0.8),
        Unit("physionet", "mitdb", "constant", "extrema", 5): san(0.5, 0.6),  # best SAN on validation
        Unit("physionet", "mitdb", "", "baseline-dct", 0): baseline("dct", 0.40, 0.38, "k=154"),
        Unit("physionet", "mitdb", "", "baseline-wavelet", 0): baseline("wavelet", 0.41, 0.21, "haar/periodization/k=75"),
    }
    experiment = EXPERIMENTS["physionet"]
    sans, others = table_rows(experiment, results, "constant"), baseline_rows(experiment, results, "constant")
    (san_row, best, _) = best_rows(sans, others, results)["mitdb"]
    # Chosen on validation: the DCT (0.40 < 0.41), although the wavelet is lower on test.
    assert san_row.unit.activation == "extrema" and best.unit.baseline == "dct"
    pairs = dict(keys_values(others, results, "constant"))
    assert pairs["physionet/mitdb/baseline-wavelet/parameters"] == "haar/periodization/k=75"
    assert pairs["physionet/mitdb/baseline-dct/flithos"] == 0.38
    uci = {Unit("uci-epilepsy", "uci-epilepsy", "", "baseline-pca", 0): baseline("pca", 2.0, 2.1, "k=1")}
    assert "uci-epilepsy/baseline-pca/flithos" in dict(keys_values(baseline_rows(EXPERIMENTS["uci-epilepsy"], uci, "constant"), uci, "constant"))
