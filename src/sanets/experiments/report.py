"""Everything a reproduction writes from its unit results: keys-values.csv, Tables I-III, figures, report.md.

All of it is derived from the unit files in the results folder, so a report can
be rebuilt at any time, and a resumed run reports exactly what an
uninterrupted one would.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sanets import plots
from sanets._files import write_atomically
from sanets.activations import ACTIVATIONS
from sanets.experiments.paper import paper_row
from sanets.experiments.runner import Plan, ResultsFolder, Run
from sanets.experiments.tables import EXPERIMENTS, Experiment, load_data
from sanets.experiments.units import BASELINE, Settings, Unit
from sanets.model import INITS, SAN

__all__ = ["Row", "table_rows", "keys_values", "write_report", "SUPERVISED_ACCURACY_KEYS"]

METRICS = ("inverse_compression_ratio", "reconstruction_loss", "flithos")
KEY_NAMES = {
    "kernel_size": "kernel-size",
    "inverse_compression_ratio": "inverse-compression-ratio",
    "reconstruction_loss": "reconstruction-loss",
    "flithos": "flithos",
    "accuracy": "accuracy",
    "accuracy_change": "accuracy-change",
}
HEADERS = {
    "kernel_size": "m",
    "inverse_compression_ratio": "CR⁻¹",
    "reconstruction_loss": "L̃",
    "flithos": "φ̄",
    "accuracy_change": "A%",
}
SUPERVISED_ACCURACY_KEYS = {
    "uci-epilepsy": "uci-epilepsy-supervised-accuracy",
    "mnist": "mnist-supervised-accuracy",
    "fashion-mnist": "fashionmnist-supervised-accuracy",
}
"""The authors' keys for the classifiers' test accuracy on the original data."""


@dataclass
class Row:
    """One activation's result in one line of a table, beside the paper's.

    Attributes
    ----------
    experiment, dataset, init, activation : str
    kernel_size : int
    values : dict of str to float
        Test means of CR^-1, L~, phi; Table I adds ``kernel_size``; Tables II
        and III add ``accuracy`` and ``accuracy_change`` (percentage points).
    paper : dict of str to float
        The paper's values of the same quantities, where published.
    unit : Unit
    """

    experiment: str
    dataset: str
    init: str
    activation: str
    kernel_size: int
    values: dict[str, float]
    paper: dict[str, float] = field(default_factory=dict)
    unit: Unit | None = None

    @property
    def quantities(self) -> list[str]:
        """The table's columns for this row, in order."""
        return [name for name in HEADERS if name in self.values]


def _best_validation_flithos(record: dict) -> float:
    return min(epoch["flithos"] for epoch in record["validation"])


def table_rows(experiment: Experiment, results: dict[Unit, dict], init: str) -> list[Row]:
    """The rows of ``experiment``'s table under ``init``, from the unit results.

    Table I: per dataset and activation, the kernel size with the lowest
    validation phi over all epochs (ties: the smaller m), scored on test.
    Tables II and III: every kernel size, with A% against the baseline unit.
    """
    rows = []
    units = [unit for unit in results if unit.experiment == experiment.name and unit.init == init]
    for dataset in experiment.datasets:
        for activation in ACTIVATIONS:
            candidates = sorted(u for u in units if (u.dataset, u.activation) == (dataset, activation))
            if not candidates:
                continue
            if experiment.table == "I":
                candidates = [min(candidates, key=lambda u: (_best_validation_flithos(results[u]), u.kernel_size))]
            for unit in candidates:
                record = results[unit]
                values = {name: record["test"][name] for name in METRICS}
                published = paper_row(experiment.table, dataset, activation, None if experiment.table == "I" else unit.kernel_size)
                paper = {} if published is None else {name: getattr(published, name) for name in METRICS}
                if experiment.table == "I":
                    values["kernel_size"] = unit.kernel_size
                    if published is not None:
                        paper["kernel_size"] = published.kernel_size
                baseline = results.get(Unit(experiment.name, dataset, init, BASELINE, 0))
                if "classifier" in record and baseline is not None:
                    values["accuracy"] = record["classifier"]["test_accuracy"]
                    values["accuracy_change"] = values["accuracy"] - baseline["classifier"]["test_accuracy"]
                    if published is not None and published.accuracy_change is not None:
                        paper["accuracy_change"] = published.accuracy_change
                rows.append(Row(experiment.name, dataset, init, activation, unit.kernel_size, values, paper, unit))
    return rows


def _key(row: Row, primary_init: str) -> str:
    prefix = row.experiment if row.init == primary_init else f"{row.experiment}-init-{row.init}"
    if EXPERIMENTS[row.experiment].table == "I":
        return f"{prefix}/{row.dataset}/{row.activation}"
    return f"{prefix}/m{row.kernel_size}/{row.activation}"


def keys_values(rows: Iterable[Row], results: dict[Unit, dict], primary_init: str) -> list[tuple[str, float]]:
    """``(key, value)`` of every number of every table, plus the authors' supervised-accuracy keys.

    Keys: ``physionet/<database>/<activation>/<quantity>`` (Table I),
    ``<experiment>/m<m>/<activation>/<quantity>`` (Tables II and III), with
    ``-init-<init>`` after the experiment for the other initialisation of
    Table I; quantities ``kernel-size``, ``inverse-compression-ratio``,
    ``reconstruction-loss``, ``flithos``, ``accuracy``, ``accuracy-change``.
    """
    pairs = [(f"{_key(row, primary_init)}/{KEY_NAMES[name]}", value) for row in rows for name, value in row.values.items()]
    for unit, record in results.items():
        if unit.activation == BASELINE:
            pairs.append((SUPERVISED_ACCURACY_KEYS[unit.experiment], record["classifier"]["test_accuracy"]))
    return pairs


def _number(name: str, value: float) -> str:
    if name == "kernel_size":
        return str(int(value))
    if name in ("accuracy_change",):
        return f"{value:+.1f}"
    return f"{value:.2f}"


def _cell(row: Row, name: str) -> str:
    """``ours (paper, difference)``, or just ours where the paper has no value."""
    ours = _number(name, row.values[name])
    if name not in row.paper:
        return ours
    difference = row.values[name] - row.paper[name]
    shown = f"{difference:+.0f}" if name == "kernel_size" else f"{difference:+.2f}" if name != "accuracy_change" else f"{difference:+.1f}"
    return f"{ours} ({_number(name, row.paper[name])}, {shown})"


def _grid(rows: Sequence[Row]) -> tuple[list[str], list[str], list[list[str]]]:
    """Header groups (activations), sub-headers and cells: one line per dataset (Table I) or m."""
    table = EXPERIMENTS[rows[0].experiment].table
    activations = [name for name in ACTIVATIONS if any(row.activation == name for row in rows)]
    quantities = rows[0].quantities
    label = (lambda row: row.dataset) if table == "I" else (lambda row: str(row.kernel_size))
    lines: dict[str, dict[str, Row]] = {}
    for row in rows:
        lines.setdefault(label(row), {})[row.activation] = row
    cells = [
        [name]
        + [_cell(by[activation], q) if activation in by and q in by[activation].values else "" for activation in activations for q in quantities]
        for name, by in lines.items()
    ]
    return activations, [HEADERS[q] for q in quantities], cells


def render_markdown(title: str, rows: Sequence[Row]) -> str:
    """A Markdown table; each cell is ``ours (paper, difference)``."""
    activations, quantities, cells = _grid(rows)
    first = "dataset" if EXPERIMENTS[rows[0].experiment].table == "I" else "m"
    header = [first] + [f"{activation} {q}" for activation in activations for q in quantities]
    lines = [f"### {title}", "", "Each cell: ours (paper, ours − paper).", ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(line) + " |" for line in cells]
    return "\n".join(lines) + "\n"


def render_latex(title: str, rows: Sequence[Row]) -> str:
    """A LaTeX tabular with one column group per activation; cells as in Markdown."""
    activations, quantities, cells = _grid(rows)
    latex_headers = {"m": "$m$", "CR⁻¹": "$CR^{-1}$", "L̃": r"$\tilde{\mathcal{L}}$", "φ̄": r"$\bar\varphi$", "A%": r"A$_{\pm\%}$"}
    columns = "l" + "r" * (len(activations) * len(quantities))
    escape = lambda text: text.replace("%", r"\%").replace("_", r"\_")  # noqa: E731
    lines = [f"% {escape(title)}; each cell: ours (paper, ours - paper)", rf"\begin{{tabular}}{{{columns}}}", r"\toprule"]
    lines.append(" & " + " & ".join(rf"\multicolumn{{{len(quantities)}}}{{c}}{{{a}}}" for a in activations) + r" \\")
    lines.append(" & " + " & ".join(latex_headers[q] for _ in activations for q in quantities) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(escape(cell) for cell in line) + r" \\" for line in cells]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def render_csv(rows: Sequence[Row]) -> str:
    """Long format: one line per (row, quantity) with ours, the paper's value and the difference."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "experiment", "dataset", "init", "activation", "kernel_size", "quantity", "ours", "paper", "difference"])
    for row in rows:
        for name, value in row.values.items():
            paper = row.paper.get(name)
            writer.writerow(
                [EXPERIMENTS[row.experiment].table, row.experiment, row.dataset, row.init, row.activation, row.kernel_size,
                 KEY_NAMES[name], f"{value:.6g}", "" if paper is None else f"{paper:g}",
                 "" if paper is None else f"{value - paper:.6g}"]
            )
    return buffer.getvalue()


def model_of(unit: Unit, record: dict) -> SAN:
    """The SAN of a unit, rebuilt from its config and its best epoch's kernels."""
    experiment = EXPERIMENTS[unit.experiment]
    protocol = experiment.protocol
    model = SAN([unit.kernel_size] * protocol.num_kernels, unit.activation, dims=protocol.dims,
                init=unit.init, border_tolerance=protocol.border_tolerance)
    with torch.no_grad():
        for kernel, values in zip(model.kernels, record["kernels"]):
            kernel.copy_(torch.tensor(values))
    return model


def _write_text(path: Path, text: str) -> Path:
    return write_atomically(path, lambda file: file.write(text.encode()))


def _selected_per_dataset(experiment: Experiment, rows: Sequence[Row], results: dict[Unit, dict]) -> dict[str, dict[str, Row]]:
    """Per dataset, per activation, the row with the lowest validation phi (Table I: the selected one)."""
    chosen: dict[str, dict[str, Row]] = {}
    for row in rows:
        current = chosen.setdefault(row.dataset, {}).get(row.activation)
        if current is None or _best_validation_flithos(results[row.unit]) < _best_validation_flithos(results[current.unit]):
            chosen[row.dataset][row.activation] = row
    return chosen


def write_figures(out: Path, experiment: Experiment, rows: Sequence[Row], results: dict[Unit, dict],
                  data_dir: str | None, settings: Settings) -> list[Path]:
    """Figs. 1, 3, 4b and 5 and a reconstruction per dataset; the selected models as safetensors."""
    written = []
    all_units = [u for u in results if u.experiment == experiment.name and u.init == rows[0].init and u.activation != BASELINE]
    points = {a: [(results[u]["test"]["inverse_compression_ratio"], results[u]["test"]["reconstruction_loss"])
                  for u in all_units if u.activation == a] for a in ACTIVATIONS}
    points = {a: p for a, p in points.items() if p}
    figure = plots.plot_tradeoff(points)
    figure.suptitle(f"{experiment.name}: test CR⁻¹ and L̃ of every run")
    written.append(plots.save_figure(figure, out / "figures" / f"{experiment.name}-tradeoff.png"))
    curves = {}
    for activation in ACTIVATIONS:
        sizes = sorted({u.kernel_size for u in all_units if u.activation == activation})
        if sizes:
            means = [statistics.fmean(results[u]["test"]["flithos"] for u in all_units if (u.activation, u.kernel_size) == (activation, m)) for m in sizes]
            curves[activation] = (sizes, means)
    figure = plots.plot_flithos_vs_kernel_size(curves)
    figure.suptitle(f"{experiment.name}: test φ̄ against m, mean over datasets")
    written.append(plots.save_figure(figure, out / "figures" / f"{experiment.name}-flithos-vs-m.png"))
    for dataset, by_activation in _selected_per_dataset(experiment, rows, results).items():
        models = {f"{a} (m={row.kernel_size})": model_of(row.unit, results[row.unit]) for a, row in by_activation.items()}
        for (activation, row), model in zip(by_activation.items(), models.values()):
            model.save(out / "models" / experiment.name / dataset / f"{activation}.safetensors")
        stem = out / "figures" / f"{experiment.name}-{dataset}"
        figure = plots.plot_kernels(models)
        figure.suptitle(f"{dataset}: learned kernels")
        written.append(plots.save_figure(figure, stem.with_name(stem.name + "-kernels.png")))
        example = load_data(experiment.name, dataset, data_dir, settings.quick).test[:1]
        figure = plots.plot_reconstructions(plots.reconstruction_examples(models, example),
                                            title=f"{dataset}: a test example, its codes and reconstruction")
        written.append(plots.save_figure(figure, stem.with_name(stem.name + "-reconstructions.png")))
        if experiment.protocol.dims == 1 and "extrema" in by_activation:
            source = models[f"extrema (m={by_activation['extrema'].kernel_size})"]
            figure = plots.plot_activations(example[0], plots.activation_maps(source, example))
            figure.suptitle(f"{dataset}: a test example through each activation\n(the kernel Extrema learned)")
            written.append(plots.save_figure(figure, stem.with_name(stem.name + "-activations.png")))
    return written


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else math.nan


def _comparison(experiment: Experiment, rows: Sequence[Row], results: dict[Unit, dict], primary_init: str) -> list[str]:
    """Paragraphs comparing ``experiment``'s table with the paper, with the measured effects of known differences."""
    primary = [row for row in rows if row.init == primary_init]
    compared = [row for row in primary if "flithos" in row.paper]
    lines = [f"### Table {experiment.table}: {experiment.name}", ""]
    if not compared:
        return lines + ["No published values to compare with for the rows that ran.", ""]
    differences = [row.values["flithos"] - row.paper["flithos"] for row in compared]
    close = sum(abs(d) <= 0.05 for d in differences)
    lines.append(
        f"{close} of {len(compared)} φ̄ values lie within 0.05 of the paper's (mean ours − paper "
        f"{_mean(differences):+.3f}, mean |difference| {_mean(map(abs, differences)):.3f})."
    )
    far = [row for row in compared if abs(row.values["flithos"] - row.paper["flithos"]) > 0.05]
    if far:
        lines.append("Beyond 0.05: " + "; ".join(
            f"{row.dataset} {row.activation}" + ("" if experiment.table == "I" else f" m={row.kernel_size}")
            + f" {row.values['flithos']:.2f} vs {row.paper['flithos']:.2f}" for row in far) + ".")
    changes = [row.values["accuracy_change"] - row.paper["accuracy_change"] for row in primary if "accuracy_change" in row.paper and "accuracy_change" in row.values]
    if changes:
        lines.append(
            f"A% (accuracy change against the classifier on the original data, in points): mean ours − paper "
            f"{_mean(changes):+.1f}, mean |difference| {_mean(map(abs, changes)):.1f}, over {len(changes)} values."
        )
    lines.append("")
    effects = []
    if experiment.table == "I":
        for init in INITS:
            if init == primary_init:
                continue
            pairs = [(row, other) for row in primary for other in rows
                     if other.init == init and (other.dataset, other.activation) == (row.dataset, row.activation)]
            if pairs:
                per_activation = ", ".join(
                    f"{a} {_mean(o.values['flithos'] for r, o in pairs if r.activation == a):.2f}"
                    for a in ACTIVATIONS if any(r.activation == a for r, _ in pairs))
                effects.append(
                    f"- Initialisation: with `{init}` kernels instead of `{primary_init}`, the selected φ̄ per activation "
                    f"(mean over datasets) is {per_activation}; with `{primary_init}` it is "
                    + ", ".join(f"{a} {_mean(r.values['flithos'] for r, _ in pairs if r.activation == a):.2f}"
                                for a in ACTIVATIONS if any(r.activation == a for r, _ in pairs)) + "."
                )
        test_selected = []
        for row in primary:
            siblings = [u for u in results if (u.experiment, u.dataset, u.init, u.activation) == (row.experiment, row.dataset, row.init, row.activation)]
            by_test = min(siblings, key=lambda u: (results[u]["test_last_epoch"]["flithos"], u.kernel_size))
            test_selected.append(results[by_test]["test_last_epoch"]["flithos"] - row.values["flithos"])
        effects.append(
            "- Selection: the authors' code picked m by the *test* φ̄ of each m's last epoch; that rule changes the "
            f"reported φ̄ by {_mean(test_selected):+.3f} on average (ours selects on validation and tests the best epoch)."
        )
    last = [results[row.unit]["test_last_epoch"]["flithos"] - row.values["flithos"] for row in primary]
    effects.append(
        f"- Best epoch: testing the last epoch's weights (the authors' \"best\" model was the live one) instead of "
        f"the best validation epoch's changes test φ̄ by {_mean(last):+.3f} on average."
    )
    if experiment.protocol.dims == 2:
        size = math.prod(experiment.spatial_shape)
        shifts = {row.kernel_size: experiment.protocol.num_kernels * (row.kernel_size**2 - row.kernel_size) / size for row in primary}
        effects.append(
            "- Weights in 2D: we count m² weights per kernel, the authors m; their CR⁻¹ is lower by "
            + ", ".join(f"{shift:.3f} (m={m})" for m, shift in sorted(shifts.items())) + "."
        )
    classified = [results[row.unit]["classifier"] for row in primary if "classifier" in results[row.unit]]
    if classified:
        effects.append(
            "- Classifier epoch: testing each classifier's last epoch (the authors' code kept the live model) instead of "
            "its best validation epoch changes the test accuracy by "
            f"{_mean(c['last_epoch_test_accuracy'] - c['test_accuracy'] for c in classified):+.2f} points on average."
        )
    baseline = results.get(Unit(experiment.name, experiment.datasets[0], primary_init, BASELINE, 0))
    if baseline is not None:
        classifier = baseline["classifier"]
        effects.append(
            f"- Baseline accuracy: the classifier on the original data reaches {classifier['test_accuracy']:.2f}% on test "
            f"(best validation epoch {classifier['best_epoch']}); the authors' formula (last epoch, validation and test "
            f"counted together) gives {classifier['authors_accuracy']:.2f}%."
        )
    return lines + ["Measured effects of the known differences from the authors' code:", ""] + effects + [""]


def write_report(
    folder: ResultsFolder,
    the_plan: Plan,
    settings: Settings,
    primary_init: str,
    run: Run,
    data_dir: str | None,
    command: str,
    echo: Callable[[str], object] = print,
) -> tuple[str, list[Path]]:
    """Write keys-values.csv, the tables, figures and report.md; return the status and the files.

    The status is ``"complete"``, ``"partial"`` (some datasets skipped for
    missing data) or ``"failed"`` (some runs failed).
    """
    out = folder.path
    results = {unit: folder.read(unit) for unit in the_plan.units if folder.has(unit)}
    missing = [unit for unit in the_plan.units if unit not in results]
    status = "failed" if run.failures or missing else "partial" if the_plan.skipped else "complete"
    files: list[Path] = []
    all_rows: list[Row] = []
    sections: list[str] = []
    comparisons: list[str] = []
    for experiment in the_plan.experiments:
        inits = [primary_init] + [i for i in INITS if i != primary_init]
        rows = [row for init in inits for row in table_rows(experiment, results, init)]
        if not rows:
            continue
        all_rows += rows
        for init in inits:
            selected = [row for row in rows if row.init == init]
            if not selected:
                continue
            name = f"table-{experiment.table.lower()}-{experiment.name}" + ("" if init == primary_init else f"-init-{init}")
            title = f"Table {experiment.table} ({experiment.name}, {init} initialisation)"
            markdown = render_markdown(title, selected)
            sections.append(markdown)
            files.append(_write_text(out / "tables" / f"{name}.md", markdown))
            files.append(_write_text(out / "tables" / f"{name}.tex", render_latex(title, selected)))
            files.append(_write_text(out / "tables" / f"{name}.csv", render_csv(selected)))
        files += write_figures(out, experiment, [r for r in rows if r.init == primary_init], results, data_dir, settings)
        comparisons += _comparison(experiment, rows, results, primary_init)

    pairs = keys_values(all_rows, results, primary_init)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([("key", "value"), *((k, f"{v:.6g}") for k, v in pairs)])
    files.insert(0, _write_text(out / "keys-values.csv", buffer.getvalue()))

    compute = {e.name: sum(r["seconds"] for u, r in results.items() if u.experiment == e.name) for e in the_plan.experiments}
    lines = [
        "# sanets reproduction of *Sparsely Activated Networks* (Bizopoulos & Koutsouris, 2020)",
        "",
        f"Command: `{command}`  ",
        f"Status: **{status}**  ",
        f"Settings: seed {settings.seed}, {'quick sweeps' if settings.quick else 'the paper protocol'}"
        + ("" if settings.epochs is None else f", {settings.epochs} epochs") + f"; initialisation `{primary_init}` "
        "(Table I also under the other one).  ",
        f"Wall time of this invocation: {run.seconds:.0f} s.",
        "",
        "## What ran",
        "",
    ]
    for experiment in the_plan.experiments:
        units = [u for u in the_plan.units if u.experiment == experiment.name]
        if units:
            names = sorted({u.dataset for u in units})
            sizes = sorted({u.kernel_size for u in units if u.activation != BASELINE})
            lines.append(
                f"- Table {experiment.table} ({experiment.name}): {len(units)} runs on {', '.join(names)}; "
                f"m in {sizes[0]}..{sizes[-1]} ({len(sizes)} sizes); {experiment.protocol_for(settings).epochs} epochs; "
                f"compute time {compute[experiment.name]:.0f} s (sum over runs)."
            )
    if the_plan.skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- {s.experiment}/{s.dataset}: {s.reason}. Get it with `{s.fetch_command}`." for s in the_plan.skipped]
    if run.failures or missing:
        lines += ["", "## Failed", ""]
        lines += [f"- {task}: {error.splitlines()[0]}" for task, error in run.failures.items()]
        lines += [f"- {len(missing)} runs have no result; rerun the same command to retry them."]
    lines += ["", "## Comparison with the paper", "", *comparisons, "## Tables", "", *sections, "## Files", ""]
    lines += [f"- `{path.relative_to(out)}`" for path in files]
    files.append(_write_text(out / "report.md", "\n".join(lines) + "\n"))
    echo(f"Report: {out / 'report.md'} ({status}); {len(pairs)} keys in {out / 'keys-values.csv'}.")
    return status, files
