"""sanets reproduce: end to end on the shared data (--quick), resume, locks, Ctrl-C, subsets, Dask, skips, bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import sanets
from sanets import cli
from sanets.activations import ACTIVATIONS
from sanets.baselines import BASELINES
from sanets.datasets import load_physionet
from sanets.errors import ReproduceError
from sanets.experiments import reproduce
from sanets.experiments._folder import LOCK, MANIFEST
from sanets.experiments._units import ORIGINAL

pytestmark = pytest.mark.slow  # the suite stays under 3 minutes; CI runs these too (.ci/run)
from sanets.experiments.paper import paper_row, paper_rows

SHARED_DATABASES = ("ctu-uhb-ctgdb", "emgdb", "mitdb")
SUPERVISED = {"uci-epilepsy": "uci-epilepsy-supervised-accuracy", "mnist": "mnist-supervised-accuracy",
              "fashion-mnist": "fashionmnist-supervised-accuracy"}
QUANTITIES = ("kernel-size", "inverse-compression-ratio", "reconstruction-loss", "flithos")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No data from the user's cache or $SANETS_DATA: only what a test names."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("SANETS_DATA", raising=False)


def read_keys(path: Path) -> dict[str, float]:
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["key", "value"]
    return {key: value if key.endswith(("/parameters", "/name")) else float(value) for key, value in rows[1:]}


@pytest.fixture(scope="module")
def full_quick(shared, tmp_path_factory):
    """One quick reproduction of all four targets through the command line."""
    out = tmp_path_factory.mktemp("reproduce") / "results"
    status = cli.main(["reproduce", "all", "--quick", "--epochs", "1", "--data-dir", str(shared), "--out", str(out)])
    return out, status


def test_quick_reproduction_has_every_key(full_quick):
    out, status = full_quick
    assert status == 3, "12 of the 15 PhysioNet databases are not in the shared data: the run is partial"
    keys = read_keys(out / "keys-values.csv")
    for prefix in ("physionet", "physionet-init-normal"):
        for database in SHARED_DATABASES:
            for activation in ACTIVATIONS:
                for quantity in QUANTITIES:
                    assert f"{prefix}/{database}/{activation}/{quantity}" in keys
    for experiment, sizes in (("uci-epilepsy", (8, 12)), ("mnist", (2, 4)), ("fashion-mnist", (2, 4))):
        for m in sizes:
            for activation in ACTIVATIONS:
                for quantity in ("inverse-compression-ratio", "reconstruction-loss", "flithos", "accuracy", "accuracy-change"):
                    assert f"{experiment}/m{m}/{activation}/{quantity}" in keys
    for key in ("uci-epilepsy-supervised-accuracy", "mnist-supervised-accuracy", "fashionmnist-supervised-accuracy"):
        assert 0 <= keys[key] <= 100


def test_quick_reproduction_has_a_row_per_baseline(full_quick):
    out, _ = full_quick
    keys = read_keys(out / "keys-values.csv")
    scopes = [f"physionet/{database}" for database in SHARED_DATABASES] + ["uci-epilepsy", "mnist", "fashion-mnist"]
    for scope in scopes:
        for name in [name for name, cls in BASELINES.items() if (1 if scope.startswith(("physionet", "uci")) else 2) in cls.dimensions]:
            for quantity in ("parameters", *QUANTITIES[1:]):
                assert f"{scope}/baseline-{name}/{quantity}" in keys, (scope, name, quantity)
            if not scope.startswith("physionet"):
                # A% of the classifier trained on the baseline's reconstructions, against the original data.
                original = keys[SUPERVISED[scope]]
                change = keys[f"{scope}/baseline-{name}/accuracy-change"]
                assert change == pytest.approx(keys[f"{scope}/baseline-{name}/accuracy"] - original, abs=1e-4)
        assert keys[f"{scope}/best-baseline/name"] in BASELINES
        best = keys[f"{scope}/best-baseline/name"]
        assert keys[f"{scope}/best-baseline/flithos"] == keys[f"{scope}/baseline-{best}/flithos"]
        assert keys[f"{scope}/best-san/flithos"] > 0
    # The wavelet's own numbers: no weights, two numbers per kept coefficient of a 1000-sample window.
    k = int(keys["physionet/mitdb/baseline-wavelet/parameters"].rsplit("k=", 1)[1])
    assert keys["physionet/mitdb/baseline-wavelet/inverse-compression-ratio"] == pytest.approx(2 * k / 1000, abs=1e-4)
    report = (out / "report.md").read_text()
    assert "## SANs against classical baselines" in report and "- mitdb: best SAN " in report
    assert (out / "figures" / "physionet-mitdb-baselines.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| mitdb | wavelet |" in (out / "tables" / "baselines-physionet.md").read_text()


def test_quick_reproduction_numbers_are_consistent(full_quick, shared):
    out, _ = full_quick
    keys = read_keys(out / "keys-values.csv")
    for database in SHARED_DATABASES:
        # Identity keeps every sample: nnz = 1000 per window (no exact zeros in a
        # standardised ECG), so CR^-1 = (m + 2 * 1000) / 1000 by Eq. 4.
        m = keys[f"physionet/{database}/identity/kernel-size"]
        assert keys[f"physionet/{database}/identity/inverse-compression-ratio"] == pytest.approx(2 + m / 1000)
        for activation in ACTIVATIONS:
            cr, loss, phi = (keys[f"physionet/{database}/{activation}/{q}"] for q in QUANTITIES[1:])
            assert phi >= max(cr, loss) - 1e-5 and phi <= cr + loss + 1e-5  # phi = ||(CR^-1, L~)||_2 averaged
    # The saved model of a row, evaluated here on the test split, gives the row's numbers.
    model = sanets.SAN.load(out / "models" / "physionet" / "mitdb" / "extrema.safetensors")
    scores = sanets.evaluate(model, load_physionet("mitdb", data_dir=shared, download=False).test)
    assert model.kernel_sizes == [int(keys["physionet/mitdb/extrema/kernel-size"])]
    assert scores.flithos == pytest.approx(keys["physionet/mitdb/extrema/flithos"], rel=1e-5)
    # A% is the accuracy change against the classifier on the original data.
    for experiment, baseline in (("uci-epilepsy", "uci-epilepsy"), ("mnist", "mnist"), ("fashion-mnist", "fashionmnist")):
        for activation in ACTIVATIONS:
            change = keys[f"{experiment}/m2/{activation}/accuracy" if experiment != "uci-epilepsy" else f"{experiment}/m8/{activation}/accuracy"]
            delta = keys[f"{experiment}/m2/{activation}/accuracy-change" if experiment != "uci-epilepsy" else f"{experiment}/m8/{activation}/accuracy-change"]
            assert delta == pytest.approx(change - keys[f"{baseline}-supervised-accuracy"], abs=1e-4)


def test_quick_reproduction_times_runs_within_its_wall_time(full_quick):
    out, _ = full_quick
    wall = sum(invocation["seconds"] for invocation in json.loads((out / MANIFEST).read_text())["invocations"])
    runs = [json.loads(path.read_text()) for path in (out / "runs").rglob("*.json")]
    seconds = [run["seconds"] for run in runs]
    assert len(seconds) > 100 and min(seconds) >= 0
    # A task's time is shared among its runs, and one worker ran them one after another.
    assert sum(seconds) <= wall


def test_quick_reproduction_writes_tables_figures_and_report(full_quick):
    out, _ = full_quick
    for name in ("table-i-physionet", "table-i-physionet-init-normal", "table-ii-uci-epilepsy", "table-iii-mnist", "table-iii-fashion-mnist"):
        markdown = (out / "tables" / f"{name}.md").read_text()
        assert "ours (paper, ours − paper)" in markdown
        assert (out / "tables" / f"{name}.tex").read_text().count(r"\begin{tabular}") == 1
        with open(out / "tables" / f"{name}.csv", newline="") as file:
            assert next(csv.reader(file))[-3:] == ["ours", "paper", "difference"]
    # The paper's mitdb Extrema row (m = 229, phi = 0.45) stands beside ours in Table I.
    table = (out / "tables" / "table-i-physionet.md").read_text()
    mitdb = next(line for line in table.splitlines() if line.startswith("| mitdb"))
    assert "(229, " in mitdb and "(0.45, " in mitdb
    figures = sorted(path.name for path in (out / "figures").iterdir())
    for name in ("physionet-tradeoff.png", "physionet-flithos-vs-m.png", "physionet-mitdb-kernels.png",
                 "physionet-mitdb-activations.png", "mnist-mnist-reconstructions.png", "uci-epilepsy-uci-epilepsy-kernels.png"):
        assert name in figures
        assert (out / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "Status of this invocation: **partial**" in report
    assert "physionet/apnea-ecg: data not found" in report and "`sanets data fetch apnea-ecg`" in report
    assert "Comparison with the paper" in report and "Wall time" in report


def test_rerun_computes_nothing_and_changes_no_result(full_quick, shared, capsys):
    out, _ = full_quick
    before = {path: path.stat().st_mtime_ns for path in (out / "runs").rglob("*.json")}
    keys = (out / "keys-values.csv").read_text()
    outcome = reproduce(["all"], out, data_dir=shared, quick=True, epochs=1, progress=False)
    assert "0 to compute" in capsys.readouterr().out
    assert outcome.status == "partial"
    assert {path: path.stat().st_mtime_ns for path in (out / "runs").rglob("*.json")} == before
    assert (out / "keys-values.csv").read_text() == keys


# Progress: the default (off in logs). Baselines are tested with the full reproduction above.
SMALL = ["physionet", "--quick", "--databases", "mitdb", "--activations", "relu", "extrema", "--no-baselines"]


def _sanets(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys, sanets.cli; sys.exit(sanets.cli.main())", *args]


def test_killed_run_resumes_without_recomputing(shared, tmp_path):
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert cli.main(["reproduce", *SMALL, "--data-dir", str(shared), "--out", str(reference)]) == 0
    total = len(list((reference / "runs").rglob("*.json")))

    process = subprocess.Popen(_sanets("reproduce", *SMALL, "--data-dir", str(shared), "--out", str(resumed)))
    deadline = time.monotonic() + 120
    while not list((resumed / "runs").rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    survivors = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in (resumed / "runs").rglob("*.json")}
    assert 0 < len(survivors) < total, "the kill should land between the first and the last unit"
    for _, content in survivors.values():
        json.loads(content)  # complete: a write cut short by SIGKILL can only leave its temporary file
    # Whether the kill lands inside a write is luck; make sure the sweep of orphans is exercised.
    orphan = resumed / "runs" / ".orphan.json.12345.0123456789abcdef0123456789abcdef.tmp"
    orphan.write_bytes(b'{"unit": {"experi')

    assert cli.main(["reproduce", *SMALL, "--data-dir", str(shared), "--out", str(resumed)]) == 0
    assert not list(resumed.rglob("*.tmp")), "the resumed run sweeps the killed one's temporary files"
    for path, (mtime, content) in survivors.items():
        assert path.stat().st_mtime_ns == mtime and path.read_bytes() == content
    assert len(list((resumed / "runs").rglob("*.json"))) == total
    assert (resumed / "keys-values.csv").read_text() == (reference / "keys-values.csv").read_text()


def test_dask_and_joblib_give_the_serial_results(shared, tmp_path):
    from distributed import LocalCluster

    # Table II: a SAN sweep and a classifier per run, the two kinds of work a task does.
    options = dict(data_dir=shared, quick=True, activations=["extrema"], kernel_sizes=[4, 8], baselines=False, progress=False)
    serial = reproduce(["uci-epilepsy"], tmp_path / "serial", **options)
    parallel = reproduce(["uci-epilepsy"], tmp_path / "joblib", workers=2, **options)
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        on_dask = reproduce(["uci-epilepsy"], tmp_path / "dask", scheduler=cluster.scheduler_address, **options)
    expected = read_keys(serial.out / "keys-values.csv")
    assert serial.status == parallel.status == on_dask.status == "complete"
    assert any(key.startswith("uci-epilepsy/m8/extrema/") for key in expected)
    for outcome in (parallel, on_dask):
        found = read_keys(outcome.out / "keys-values.csv")
        assert found.keys() == expected.keys()
        # Other thread counts sum in another order: the SANs agree to rounding, while a
        # classifier's few epochs of training amplify it (accuracies are not compared).
        for key, value in expected.items():
            if "accuracy" not in key:
                assert found[key] == pytest.approx(value, rel=1e-3, abs=1e-3), key


def test_missing_data_is_skipped_with_reason(shared, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "physionet").mkdir(parents=True)
    (data / "physionet" / "mitdb").symlink_to(shared / "physionet" / "mitdb")
    out = tmp_path / "out"
    status = cli.main(["reproduce", "physionet", "uci-epilepsy", "--quick", "--no-baselines", "--databases", "mitdb", "emgdb",
                       "--activations", "relu", "--kernel-sizes", "4", "--data-dir", str(data), "--out", str(out), "--no-progress"])
    assert status == 3
    printed = capsys.readouterr().out
    assert "skipping physionet/emgdb" in printed and "skipping uci-epilepsy/uci-epilepsy" in printed
    report = (out / "report.md").read_text()
    assert "Status of this invocation: **partial**" in report
    assert "uci-epilepsy/uci-epilepsy: data not found" in report and "`sanets data fetch uci-epilepsy`" in report
    assert str(data / "uci-epilepsy") in report, "the report names the folders searched"
    keys = read_keys(out / "keys-values.csv")
    assert "physionet/mitdb/relu/flithos" in keys and not any(key.startswith("uci-epilepsy") for key in keys)


def test_cuda_without_a_device_is_refused(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ReproduceError, match="no CUDA device"):
        reproduce(["physionet"], tmp_path / "out", device="cuda")


def test_results_folder_must_be_a_compatible_folder(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ReproduceError, match="is a file"):
        reproduce(["physionet"], a_file)
    crowded = tmp_path / "crowded"
    crowded.mkdir()
    (crowded / "thesis.tex").write_text("x")
    with pytest.raises(ReproduceError, match="other files in it"):
        reproduce(["physionet"], crowded)
    old = tmp_path / "old"
    old.mkdir()
    (old / MANIFEST).write_text(json.dumps({"format": "sanets-results", "format_version": 999, "sanets": "9.0"}))
    with pytest.raises(ReproduceError, match="incompatible sanets"):
        reproduce(["physionet"], old)
    other = tmp_path / "other"
    other.mkdir()
    (other / MANIFEST).write_text(json.dumps({"format": "sanets-results", "format_version": 2,
                                              "settings": {"seed": 5, "quick": False, "epochs": None}}))
    with pytest.raises(ReproduceError, match="other settings"):
        reproduce(["physionet"], other, seed=0)


def test_the_packaged_paper_tables_are_the_papers(shared):
    published = shared.parent / "paper" / "paper-tables.csv"
    if not published.is_file():
        pytest.skip(f"{published} not available")
    with open(published, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(paper_rows()) == len(rows) == 15 * 5 + 8 * 5 + 2 * 6 * 5
    mitdb = [paper_row("I", "mitdb", a).flithos for a in ACTIVATIONS]
    assert mitdb == [2.00, 0.92, 0.59, 0.49, 0.45]
    assert paper_row("I", "mitdb", "extrema").kernel_size == 229
    assert paper_row("II", "uci-epilepsy", "extrema", 12).accuracy_change == 3.0
    assert paper_row("III", "mnist", "relu", 99) is None


def test_unit_paths_and_original_naming():
    from sanets.experiments._units import Unit

    unit = Unit("physionet", "mitdb", "constant", "extrema", 7)
    assert str(unit.path) == "runs/physionet/mitdb/constant/extrema/m007.json"
    assert str(Unit("mnist", "mnist", "constant", ORIGINAL, 0).path) == "runs/mnist/mnist/original.json"


def _wait_for(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_second_run_on_the_same_folder_is_refused_naming_the_first(shared, tmp_path, capsys):
    out = tmp_path / "out"
    first = subprocess.Popen(_sanets("reproduce", *SMALL, "--data-dir", str(shared), "--out", str(out)))
    try:
        _wait_for(lambda: (out / (LOCK + ".owner")).is_file() or first.poll() is not None)
        assert first.poll() is None, "the first run must still be writing"
        with pytest.raises(ReproduceError) as refused:
            reproduce(["physionet"], out, data_dir=shared, quick=True, databases=["mitdb"], activations=["relu", "extrema"],
                      baselines=False, progress=False)
        message = str(refused.value)
        assert f"process {first.pid}" in message and str(out / LOCK) in message and "is being written" in message
    finally:
        assert first.wait() == 0
    assert not (out / (LOCK + ".owner")).exists(), "the lock's owner note leaves with the lock"
    # Once the first run is done, the same command computes nothing: no run was computed twice.
    assert cli.main(["reproduce", *SMALL, "--data-dir", str(shared), "--out", str(out)]) == 0
    assert "0 to compute" in capsys.readouterr().out


def test_a_folder_locked_before_its_manifest_exists_is_refused_as_locked(tmp_path):
    # The moment between taking the lock and writing the manifest: still "being written", not "other files".
    out = tmp_path / "out"
    out.mkdir()
    code = (f"import filelock, sys; lock = filelock.FileLock({str(out / LOCK)!r}); lock.acquire(); "
            "print('ready', flush=True); sys.stdin.readline()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(ReproduceError, match=r"is being written by another sanets reproduce \(another process"):
            reproduce(["physionet"], out, progress=False)
    finally:
        holder.communicate("\n")
    assert not (out / MANIFEST).exists()


def test_rerunning_a_subset_adds_to_the_report_and_drops_nothing(shared, tmp_path, capsys):
    out = tmp_path / "out"
    options = dict(data_dir=shared, quick=True, kernel_sizes=[4], baselines=False, progress=False)
    reproduce(["physionet"], out, databases=["mitdb"], activations=["relu"], **options)
    first = read_keys(out / "keys-values.csv")
    reproduce(["physionet"], out, databases=["emgdb"], activations=["extrema"], **options)
    keys = read_keys(out / "keys-values.csv")
    assert {key: keys[key] for key in first} == first, "the first invocation's numbers are all still there"
    assert "physionet/emgdb/extrema/flithos" in keys and "physionet/mitdb/relu/flithos" in keys
    table = (out / "tables" / "table-i-physionet.md").read_text()
    assert "| mitdb |" in table and "| emgdb |" in table
    report = (out / "report.md").read_text()
    assert "over all 2 invocations" in report and "Table I (physionet): 4 runs on emgdb, mitdb" in report
    manifest = json.loads((out / MANIFEST).read_text())
    assert [invocation["computed"] for invocation in manifest["invocations"]] == [2, 2]  # one m, both inits
    assert all(invocation["seconds"] > 0 for invocation in manifest["invocations"])


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_stops_cleanly_with_exit_130_and_says_how_to_resume(shared, tmp_path, workers):
    out = tmp_path / "out"
    command = ["reproduce", *SMALL, "--data-dir", str(shared), "--out", str(out), "--workers", str(workers)]
    # A session of its own, so that Ctrl-C reaches the whole process group (workers too) as on a terminal.
    process = subprocess.Popen(_sanets(*command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    _wait_for(lambda: list((out / "runs").rglob("*.json")) or process.poll() is not None)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    kept = len(list((out / "runs").rglob("*.json")))
    assert lines[0].startswith(f"sanets reproduce: interrupted: {kept} of 24 runs are saved in {out}; resume with `sanets reproduce")
    assert not list(out.rglob("*.tmp")) and not (out / (LOCK + ".owner")).exists()


def test_a_run_record_is_strict_json_and_its_non_finite_scores_read_back_as_nan(tmp_path):
    """Issue 28: JSON is strict everywhere; a diverged run's NaN scores are null on disk and NaN again in memory."""
    import math

    from sanets.experiments._folder import ResultsFolder
    from sanets.experiments._units import Settings, Unit

    unit = Unit("physionet", "mitdb", "constant", "relu", 3)
    record = {"model": {"activation": "relu"}, "best_epoch": None, "validation": [{"flithos": math.nan}],
              "test": {"flithos": math.inf, "reconstruction_loss": 0.5}, "curve": [[1, math.nan]]}
    folder = ResultsFolder(tmp_path / "r", Settings())
    with folder:
        folder.write(unit, record)

    def refuse(constant):
        raise ValueError(constant)

    on_disk = json.loads((tmp_path / "r" / unit.path).read_text(), parse_constant=refuse)
    assert on_disk["test"]["flithos"] is None and on_disk["curve"] == [[1, None]]
    back = folder.results()[unit]
    assert math.isnan(back["validation"][0]["flithos"]) and math.isnan(back["test"]["flithos"])
    assert back["test"]["reconstruction_loss"] == 0.5 and back["best_epoch"] is None and math.isnan(back["curve"][0][1])
