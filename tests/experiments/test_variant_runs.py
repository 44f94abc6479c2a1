"""Variant units of sanets reproduce --variants: grids that fit the data, chosen on validation, in keys and report."""

from __future__ import annotations

import csv
import json

import pytest
import torch

import sanets
from sanets.baselines import BASELINES, GRIDS, GaborMP
from sanets.experiments import EXPERIMENTS
from sanets.experiments._report.rows import baseline_rows, best_keys, best_rows, keys_values, table_rows, variant_rows
from sanets.experiments._runner import plan
from sanets.experiments._units import Settings, Unit
from sanets.experiments.variants import (
    KEPT_USES,
    VARIANTS,
    _join_gabor,
    _pruned,
    describe_configuration,
    run_variant,
    split_configuration,
)
from sanets.sweep import Sweep
from sanets.training import evaluate


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_configuration_of_every_variant_fits_the_tables_examples(name):
    experiment = EXPERIMENTS[name]
    sweep = experiment.sweep
    for variant in VARIANTS.values():
        grid = variant.grid(sweep.dims, min(experiment.spatial_shape), sweep.border_tolerance)
        assert len(grid) >= 2, "a variant is a choice made on validation"
        for configuration in grid:
            arguments, _ = split_configuration(configuration)
            arguments = {"activation": "extrema", "dims": sweep.dims, "border_tolerance": sweep.border_tolerance, **arguments}
            model = sanets.SAN(**arguments)
            codes = model.encode(torch.randn(2, 1, *experiment.spatial_shape))
            assert codes.shape == (2, model.num_channels, *experiment.spatial_shape)


def test_describe_configuration():
    configuration = {"kernel_sizes": [16, 32, 64], "competition": "across-kernels", "passes": 3,
                     "scales": [0.5, 1.0, 2.0], "distance_schedule": (8, 29)}
    assert describe_configuration(configuration) == "16+32+64 free, across-kernels, T=3, scales 0.5/1/2, d 8->29"
    assert describe_configuration({"kernel_sizes": [9] * 4, "kernel_family": "piecewise-constant", "sparsity": [4] * 4}) \
        == "4x9 piecewise-constant, T=1, d=4"
    pursuit = {"kernel_sizes": [7, 15], "kernel_family": "gaussian-derivatives", "activation": "topk-absolutes",
               "sparsity": [1, 1], "competition": "across-kernels", "passes": 40, "unit_norm": True, "grow_to": 3}
    assert describe_configuration(pursuit) == ("7+15 gaussian-derivatives, topk-absolutes, unit-norm, across-kernels, T=40, "
                                                "k=1, growing to 3 (patience 2)")
    assert split_configuration(pursuit)[1] == {"grow_to": 3}


def test_a_variant_keeps_its_configuration_of_lowest_validation_phi_and_scores_it_on_test():
    generator = torch.Generator().manual_seed(0)
    splits = {name: torch.randn(n, 1, 200, generator=generator) for name, n in (("train", 4), ("validation", 2), ("test", 3))}
    sweep = Sweep((8,), 1, 1, 3, epochs=2, batch_size=2)
    model, record = run_variant("residual", sweep, (200,), splits, seed=0, quick=False)
    candidates = record["candidates"]
    assert len(candidates) == 2
    chosen = min(range(2), key=lambda i: candidates[i]["validation_flithos"])
    assert record["configuration"] == candidates[chosen]["configuration"]
    assert record["validation"]["flithos"] == candidates[chosen]["validation_flithos"]
    rebuilt = sanets.SAN.from_config(record["model"], record["kernels"])
    assert record["test"] == pytest.approx(vars(evaluate(rebuilt, splits["test"])), rel=1e-6)
    assert record["num_weights"] == rebuilt.num_weights == model.num_weights
    json.dumps(record)  # a unit's result is written as JSON


def test_pursuit_gabor_grows_kernels_to_the_whole_signal_two_per_size_at_different_frequencies():
    (configuration, *_) = VARIANTS["pursuit-gabor"].grid(1, 1000, 3)
    sizes = configuration["kernel_sizes"]
    assert sizes == [7, 7, 15, 15, 31, 31, 63, 63, 127, 127, 255, 255, 1000, 1000]
    model = sanets.SAN(seed=0, **configuration)
    assert model.num_weights == 3 * len(sizes)
    frequencies = [float(kernel[1].detach()) for kernel in model.kernels]
    assert all(frequencies[i] != frequencies[i + 1] for i in range(0, len(sizes), 2))
    (image, *_) = VARIANTS["pursuit-gabor"].grid(2, 28, 2)
    assert image["kernel_sizes"][-1] == 28 and sanets.SAN(dims=2, **image).num_weights == 6 * len(image["kernel_sizes"])


def test_pursuit_mixed_puts_one_kernel_of_each_family_at_each_size():
    (configuration, *_) = VARIANTS["pursuit-mixed"].grid(1, 1000, 3)
    assert configuration["kernel_sizes"] == [m for m in (7, 15, 31, 63, 127) for _ in range(3)]
    model = sanets.SAN(**configuration)
    assert [kernel.numel() for kernel in model.kernels] == [3, 4, 2] * 5 and model.num_weights == 45


def test_auto_chooses_among_one_grid_per_family_on_validation():
    grid = VARIANTS["auto"].grid(1, 1000, 3)
    choices = [VARIANTS[name].grid(1, 1000, 3) for name in ("pursuit-gabor", "pursuit-gaussian", "pursuit-piecewise",
                                                             "pursuit-mixed", "several-sizes")]
    assert sorted(map(str, grid)) == sorted(str(c) for choice in choices for c in choice)
    quick = grid[: VARIANTS["auto"].quick]
    assert quick == [choice[0] for choice in choices]
    assert [c.get("kernel_family", "free") for c in quick] == ["gabor", "gaussian-derivatives", "piecewise-constant", "mixed",
                                                               "free"]
    generator = torch.Generator().manual_seed(1)
    splits = {name: torch.randn(n, 1, 200, generator=generator) for name, n in (("train", 4), ("validation", 2), ("test", 2))}
    _, record = run_variant("auto", Sweep((8,), 1, 1, 3, epochs=2, batch_size=2), (200,), splits, seed=0, quick=True)
    candidates = record["candidates"]
    tried = VARIANTS["auto"].grid(1, 200, 1)[:5]
    assert [c["configuration"] for c in candidates] == [describe_configuration(c) for c in tried]
    chosen = min(range(5), key=lambda i: candidates[i]["validation_flithos"])
    assert record["configuration"] == candidates[chosen]["configuration"]
    assert record["model"]["kernel_family"] == tried[chosen].get("kernel_family", "free")


def test_plan_adds_a_unit_per_variant_only_when_asked(shared):
    experiments = [EXPERIMENTS["physionet"]]
    without = plan(experiments, Settings(quick=True), databases=["mitdb"], data_dir=str(shared))
    with_variants = plan(experiments, Settings(quick=True), databases=["mitdb"], data_dir=str(shared), variants=True)
    added = set(with_variants.units) - set(without.units)
    assert added == {Unit.of_variant("physionet", "mitdb", name) for name in VARIANTS}
    unit = Unit.of_variant("physionet", "mitdb", "gaussian")
    assert str(unit.path) == "runs/physionet/mitdb/variants/gaussian.json" and not unit.is_san and unit.variant == "gaussian"


def variant(name: str, validation_phi: float, test_phi: float) -> dict:
    scores = {"inverse_compression_ratio": 0.1, "reconstruction_loss": 0.2, "flithos": test_phi}
    return {"variant": name, "configuration": f"{name} grid point", "num_weights": 16,
            "validation": {**scores, "flithos": validation_phi}, "test": scores, "seconds": 1.0}


def test_the_best_variant_is_chosen_on_validation_and_has_its_keys():
    scores = {"inverse_compression_ratio": 0.1, "reconstruction_loss": 0.1, "flithos": 0.5}
    results = {
        Unit("physionet", "mitdb", "constant", "extrema", 5): {
            "validation": [scores], "test": scores, "test_last_epoch": scores, "model": {}, "kernels": [], "best_epoch": 1},
        Unit.of_variant("physionet", "mitdb", "gaussian"): variant("gaussian", 0.30, 0.25),
        Unit.of_variant("physionet", "mitdb", "residual"): variant("residual", 0.29, 0.33),
    }
    experiment = EXPERIMENTS["physionet"]
    sans, variants = table_rows(experiment, results, "constant"), variant_rows(experiment, results, "constant")
    best = best_rows(sans, baseline_rows(experiment, results, "constant"), results, variants)
    _, baseline, chosen = best["mitdb"]
    assert baseline is None and chosen.unit.variant == "residual", "chosen on validation, although higher on test"
    keys = dict(keys_values(variants, results, "constant") + best_keys(experiment, best))
    assert keys["physionet/mitdb/variant-gaussian/configuration"] == "gaussian grid point"
    assert keys["physionet/mitdb/variant-gaussian/flithos"] == 0.25
    assert keys["physionet/mitdb/best-variant/name"] == "residual" and keys["physionet/mitdb/best-variant/flithos"] == 0.33


def test_quick_reproduction_with_variants_reports_them_beside_the_baselines(shared, tmp_path, monkeypatch):
    from sanets.experiments import reproduce

    # Three kinds of variant and one baseline keep the test quick.
    for registry, kept in ((VARIANTS, {"residual", "gaussian", "pursuit-piecewise"}), (BASELINES, {"wavelet"})):
        for name in set(registry) - kept:
            monkeypatch.delitem(registry, name)
    out = tmp_path / "out"
    outcome = reproduce(["physionet"], out, data_dir=shared, databases=["mitdb"], activations=["extrema"],
                        kernel_sizes=[8], quick=True, variants=True, echo=lambda line: None)
    assert outcome.status == "complete"
    with open(out / "keys-values.csv") as file:
        keys = {row["key"]: row["value"] for row in csv.DictReader(file)}
    for name in VARIANTS:
        record = json.loads((out / "runs" / "physionet" / "mitdb" / "variants" / f"{name}.json").read_text())
        assert float(keys[f"physionet/mitdb/variant-{name}/flithos"]) == pytest.approx(record["test"]["flithos"], rel=1e-5)
    chosen = min(VARIANTS, key=lambda name: json.loads(
        (out / "runs" / "physionet" / "mitdb" / "variants" / f"{name}.json").read_text())["validation"]["flithos"])
    assert keys["physionet/mitdb/best-variant/name"] == chosen
    report = (out / "report.md").read_text()
    assert "| mitdb | variant gaussian |" in report and "Best variant" in report
    # The corpus table: the chosen SAN, variant and baseline with phi and the bit-aware phi, and the records won.
    best = {kind: (keys[f"physionet/mitdb/best-{kind}/name"], float(keys[f"physionet/mitdb/best-{kind}/flithos"]),
                   float(keys[f"physionet/mitdb/best-{kind}/flithos-bits"])) for kind in ("variant", "baseline")}
    assert f"| {best['variant'][0]} {best['variant'][1]:.3f} / {best['variant'][2]:.3f} | " \
           f"{best['baseline'][0]} {best['baseline'][1]:.3f} / {best['baseline'][2]:.3f} |" in report
    won = int(best["variant"][1] < best["baseline"][1])
    assert f"Records where the best variant beats the best baseline on test: {won} of 1 on φ̄" in report
    table_i_lost = not won or best["variant"][2] >= best["baseline"][2]
    assert (out / "figures" / "physionet-mitdb-best-variant-kernels.png").is_file()
    # The amortised protocol: W charged once per recording (100 holds 650 windows of 1000 samples), chosen so.
    records = {name: json.loads((out / "runs" / "physionet" / "mitdb" / kind / f"{name}.json").read_text())
               for kind, names in (("variants", VARIANTS), ("baselines", ["wavelet"])) for name in names}
    assert {record["amortised"]["recording_windows"] for record in records.values()} == {650}
    residual = records["residual"]  # 4 kernels of 32: W = 128 numbers, 0.128 per window under Table I's protocol
    shift = residual["test"]["inverse_compression_ratio"] - residual["amortised"]["test"]["inverse_compression_ratio"]
    assert shift == pytest.approx(128 / 1000 * (1 - 1 / 650), rel=1e-4)
    chosen = min(VARIANTS, key=lambda name: records[name]["amortised"]["validation"]["flithos"])
    test = records[chosen]["amortised"]["test"]
    assert f"| mitdb | 650 | {chosen} {test['flithos']:.3f} / {test['flithos_bits']:.3f} |" in report
    won = int(test["flithos"] < records["wavelet"]["amortised"]["test"]["flithos"])
    assert f"Records where the best variant beats the best baseline, amortised: {won} of 1 on φ̄" in report
    amortised_lost = not won or test["flithos_bits"] >= records["wavelet"]["amortised"]["test"]["flithos_bits"]
    assert report.count("- Lost, mitdb: ") == table_i_lost + amortised_lost  # each with its margins and why


def test_joined_gabor_codes_with_learned_kernels_joining_gabor_mp_and_is_scored_as_that_dictionary():
    families = ("pursuit-gaussian", "pursuit-piecewise")
    assert VARIANTS["joined-gabor"].grid(1, 1000, 3) == [VARIANTS[name].grid(1, 1000, 3)[0] for name in families]
    generator = torch.Generator().manual_seed(2)
    t = torch.arange(200.0)
    splits = {name: torch.sin(2 * torch.pi * t / 37 + torch.rand(n, 1, 1, generator=generator) * 6) +
              0.3 * torch.randn(n, 1, 200, generator=generator) for name, n in (("train", 4), ("validation", 2), ("test", 2))}
    sweep = Sweep((8,), 1, 1, 3, epochs=2, batch_size=2)
    joined, record = run_variant("joined-gabor", sweep, (200,), splits, seed=0, quick=True)
    san, _ = run_variant("pursuit-gaussian", sweep, (200,), splits, seed=0, quick=True)
    expected = GaborMP(GRIDS[-1:], kernels=list(san.kernel_weights()), learned_weights=san.num_weights)
    expected.fit(splits["train"], splits["validation"])
    assert "+3 learned" in expected.parameters  # sizes 7, 15, 31
    assert expected.num_weights == san.num_weights == 3 * 4 and record["num_weights"] == joined.num_weights
    assert record["candidates"][0]["validation_flithos"] == pytest.approx(expected.validation.flithos)
    assert record["candidates"][0]["test"]["flithos"] == pytest.approx(expected.evaluate(splits["test"]).flithos)
    lines = [candidate["configuration"] for candidate in record["candidates"]]
    assert lines[0].endswith(f"joining {expected.parameters}")
    uses = expected.learned_uses(splits["validation"])  # kernels kept by their use on the validation windows
    subsets, notes = [[0, 1, 2]], []
    for least in KEPT_USES:
        kept = [k for k in range(3) if uses[k] >= least]
        if kept and kept not in subsets:
            subsets.append(kept)
            notes.append(f", the {len(kept)} kernels used >= {least:g} times per window, joining ")
    assert notes and [note for line in lines[1:] for note in notes if note in line] == notes
    assert record["configuration"] == lines[min(range(len(lines)), key=lambda i: record["candidates"][i]["validation_flithos"])]
    assert record["kernels"] == [kernel.tolist() for kernel in san.kernels]
    kept = record["kept_kernels"] or [0, 1, 2]  # the chosen candidate's kernels, W of theirs only
    assert f"+{len(kept)} learned" in record["configuration"] and record["num_weights"] == 4 * len(kept)
    assert [kept == [k for k in range(3) if uses[k] >= least] for least in KEPT_USES].count(True) >= (kept != [0, 1, 2])
    with pytest.raises(ValueError, match="variant joined-gabor codes 1D examples, not 2D"):
        run_variant("joined-gabor", Sweep((3,), 1, 2, 1, epochs=1, batch_size=2), (8, 8), splits, seed=0, quick=True)


def test_joined_kernels_are_kept_by_their_use_on_the_training_windows_and_pay_only_for_themselves():
    san = sanets.SAN(kernel_sizes=[5, 9], activation="topk-absolutes", sparsity=[1, 1], competition="across-kernels",
                     passes=2)
    with torch.no_grad():
        san.kernels[0].copy_(torch.tensor([1.0, -2.0, 3.0, 0.5, -1.0]))
        san.kernels[1].copy_(torch.linspace(-1, 1, 9) ** 3)
    codes = torch.zeros(8, 2, 60)
    for example in range(8):  # kernel 0 twice per window, apart; kernel 1 never
        codes[example, 0, 10 + example], codes[example, 0, 40 - example] = 1.0 + example, -2.0
    x = san.decode(codes).detach()
    splits = {"train": x[:4], "validation": x[4:6], "test": x[6:]}
    full = _join_gabor(list(san.kernel_weights()), san.num_weights).fit(x[:4], x[4:6])
    assert full.learned_uses(x[4:6]).tolist() == [2.0, 0.0]
    ((pruned, note, kept),) = _pruned(_join_gabor, san, full, splits, seed=0)  # >= 1 and >= 2: the same kernel
    assert (note, kept) == (", the 1 kernels used >= 1 times per window", [0])
    assert (full.num_weights, pruned.num_weights) == (14, 5)
    assert pruned.evaluate(x[6:]).reconstruction_loss < 1e-6
    assert pruned.validation.flithos < full.validation.flithos


def test_the_report_draws_only_the_kernels_that_joined_the_dictionary(tmp_path, monkeypatch):
    from sanets.experiments._report import figures

    san = sanets.SAN(kernel_sizes=[5, 9, 13], activation="topk-absolutes", sparsity=[1] * 3, competition="across-kernels",
                     passes=2, kernel_family="gaussian-derivatives")
    record = {"variant": "joined-gabor", "configuration": "5+9+13, the 1 kernels used >= 1 times per window",
              "model": san.config(), "kernels": [kernel.tolist() for kernel in san.kernels], "kept_kernels": [1]}
    drawn, draw = [], figures.plots.plot_kernels
    monkeypatch.setattr(figures.plots, "plot_kernels", lambda groups: drawn.append(groups) or draw(groups))
    assert figures.best_variant_figure(record, tmp_path / "kernels.png", "mitdb").is_file()
    ((kernels,),) = [list(groups.values()) for groups in drawn]
    assert len(kernels) == 1 and torch.equal(kernels[0], san.kernel_weights()[1].detach())
