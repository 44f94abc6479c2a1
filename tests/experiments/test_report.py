"""The report's selection, A% and renderings, on hand-made unit results."""

from __future__ import annotations

import csv
import io

import pytest

from sanets.experiments import EXPERIMENTS
from sanets.experiments._experiment import why_lost
from sanets.experiments._report.render import render_csv, render_latex, render_markdown
from sanets.experiments._report.rows import keys_values, table_rows
from sanets.experiments._runner import tasks_for
from sanets.experiments._units import ORIGINAL, Settings, Unit


def san_record(validation_phis, test=(0.2, 0.3, 0.4), accuracy=None):
    record = {
        "best_epoch": 1 + min(range(len(validation_phis)), key=validation_phis.__getitem__),
        "validation": [{"inverse_compression_ratio": 0.0, "reconstruction_loss": 0.0, "flithos": phi} for phi in validation_phis],
        "test": dict(zip(("inverse_compression_ratio", "reconstruction_loss", "flithos"), test)),
        "test_last_epoch": dict(zip(("inverse_compression_ratio", "reconstruction_loss", "flithos"), test)),
        "kernels": [[0.1]],
        "seconds": 1.0,
    }
    if accuracy is not None:
        record["classifier"] = {"validation_accuracy": [accuracy], "best_epoch": 1, "test_accuracy": accuracy,
                                "last_epoch_test_accuracy": accuracy, "authors_accuracy": accuracy}
    return record


def test_table_one_selects_the_lowest_validation_phi_over_all_epochs():
    unit = lambda m: Unit("physionet", "mitdb", "constant", "extrema", m)  # noqa: E731
    results = {
        unit(5): san_record([0.9, 0.5, 0.7], test=(0.1, 0.2, 0.25)),
        unit(9): san_record([0.6, 0.6, 0.6], test=(0.3, 0.3, 0.45)),
        unit(12): san_record([0.8, 0.5], test=(0.4, 0.4, 0.6)),  # ties with m=5: the smaller m wins
    }
    (row,) = table_rows(EXPERIMENTS["physionet"], results, "constant")
    assert row.unit.kernel_size == 5
    assert row.values == {"inverse_compression_ratio": 0.1, "reconstruction_loss": 0.2, "flithos": 0.25, "kernel_size": 5}
    assert row.paper == {"inverse_compression_ratio": 0.24, "reconstruction_loss": 0.38, "flithos": 0.45, "kernel_size": 229}
    assert dict(keys_values([row], results, "constant")) == {
        "physionet/mitdb/extrema/inverse-compression-ratio": 0.1,
        "physionet/mitdb/extrema/reconstruction-loss": 0.2,
        "physionet/mitdb/extrema/flithos": 0.25,
        "physionet/mitdb/extrema/kernel-size": 5,
    }
    other = table_rows(EXPERIMENTS["physionet"], {Unit("physionet", "mitdb", "normal", "relu", 3): san_record([1.0])}, "normal")
    assert [key for key, _ in keys_values(other, {}, "constant")][0] == "physionet-init-normal/mitdb/relu/inverse-compression-ratio"


def test_tables_two_and_three_report_every_m_with_the_accuracy_change():
    baseline = Unit("uci-epilepsy", "uci-epilepsy", "constant", ORIGINAL, 0)
    results = {
        baseline: {"classifier": {"validation_accuracy": [70.0], "best_epoch": 1, "test_accuracy": 71.5,
                                  "last_epoch_test_accuracy": 71.5, "authors_accuracy": 70.0}},
        Unit("uci-epilepsy", "uci-epilepsy", "constant", "relu", 8): san_record([0.5], accuracy=74.0),
        Unit("uci-epilepsy", "uci-epilepsy", "constant", "relu", 9): san_record([0.4], accuracy=60.25),
    }
    rows = table_rows(EXPERIMENTS["uci-epilepsy"], results, "constant")
    assert [row.unit.kernel_size for row in rows] == [8, 9]
    assert [row.values["accuracy_change"] for row in rows] == [2.5, -11.25]
    assert rows[0].paper["accuracy_change"] == 4.3 and rows[0].paper["flithos"] == 2.09
    pairs = dict(keys_values(rows, results, "constant"))
    assert pairs["uci-epilepsy/m9/relu/accuracy-change"] == -11.25
    assert pairs["uci-epilepsy-supervised-accuracy"] == 71.5

    markdown = render_markdown("Table II", rows)
    assert "| 8 | 0.20 (2.09, -1.89) | 0.30 (0.02, +0.28) | 0.40 (2.09, -1.69) | +2.5 (+4.3, -1.8) |" in markdown
    latex = render_latex("Table II", rows)
    assert r"A$_{\pm\%}$" in latex and r"+2.5 (+4.3, -1.8) \\" in latex
    lines = list(csv.DictReader(io.StringIO(render_csv(rows))))
    change = next(line for line in lines if line["kernel_size"] == "9" and line["quantity"] == "accuracy-change")
    assert (float(change["ours"]), float(change["paper"]), float(change["difference"])) == (-11.25, -44.3, pytest.approx(33.05))


def test_tasks_group_fixed_blocks_of_kernel_sizes():
    units = [Unit("physionet", "mitdb", "constant", "relu", m) for m in (1, 2, 125, 126, 249)]
    units.append(Unit("physionet", "mitdb", "normal", "relu", 3))
    tasks = tasks_for(units, Settings())
    assert sorted([unit.kernel_size for unit in task.units] for task in tasks) == [[1, 2, 125], [3], [126, 249]]


def test_tasks_start_longest_first():
    units = [Unit("physionet", "mitdb", "constant", activation, m) for activation in ("relu", "extrema") for m in (1, 2, 3)]
    units += [Unit("mnist", "mnist", "constant", "relu", 3), Unit.of_baseline("physionet", "mitdb", "wavelet"),
              Unit.of_variant("physionet", "mitdb", "gaussian")]
    order = [(task.units[0].experiment, task.units[0].activation) for task in tasks_for(units, Settings())]
    assert order == [("physionet", "variant-gaussian"), ("physionet", "baseline-wavelet"), ("mnist", "relu"),
                     ("physionet", "extrema"), ("physionet", "relu")]


def test_a_record_the_variant_loses_says_by_how_much_and_why():
    def scores(phi, bits):
        return {"flithos": phi, "flithos_bits": bits}

    assert why_lost(scores(0.10, 0.13), scores(0.11, 0.14), 0.2, 0.3) is None  # won on both
    # Lost on both, though validation preferred the variant: validation and test disagree.
    why = why_lost(scores(0.1006, 0.1412), scores(0.0994, 0.1325), 0.1101, 0.1118)
    assert why.startswith("+0.0012 φ̄ and +0.0087 bit-aware φ̄ on test;")
    assert "validation preferred it (validation φ̄ 0.1101 against 0.1118)" in why
    # Validation already preferred the baseline.
    why = why_lost(scores(0.21, 0.25), scores(0.20, 0.26), 0.1842, 0.1841)
    assert why.startswith("+0.0100 φ̄ on test;") and "bit-aware" not in why and "not lower either" in why
    # Won on phi, lost on the bits: what the indices add, beside the baseline's.
    why = why_lost(scores(0.1207, 0.1563), scores(0.1209, 0.1520), 0.1, 0.2)
    assert why.startswith("+0.0043 bit-aware φ̄ on test;") and "(+0.0356 against +0.0311 to φ̄)" in why
