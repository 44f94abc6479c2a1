"""Everything a reproduction writes from its unit results: keys-values.csv, Tables I-III, figures, report.md.

All of it is derived from every finished run in the results folder, whichever
invocation computed it, so a report can be rebuilt at any time, reruns of a
subset add to it and never drop from it, and a resumed run reports exactly
what an uninterrupted one would.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from sanets._files import write_atomically
from sanets.experiments._experiment import best_validation_flithos, why_lost
from sanets.experiments._folder import ResultsFolder
from sanets.experiments._registry import EXPERIMENTS
from sanets.experiments._report.comparison import comparison
from sanets.experiments._report.figures import write_figures
from sanets.experiments._report.render import render_baselines, render_csv, render_latex, render_markdown
from sanets.experiments._report.rows import (
    Best,
    Row,
    baseline_rows,
    best_keys,
    best_rows,
    keys_values,
    table_rows,
    variant_rows,
)
from sanets.experiments._runner import Plan, Run
from sanets.experiments._units import Settings
from sanets.experiments.variants import VARIANTS
from sanets.model import INITS
from sanets.training import first_lowest

__all__ = ["write_report"]


def _verdicts(best: dict[str, Best]) -> list[str]:
    """One line per dataset: the SAN, the variant and the baseline chosen on validation, compared on test phi."""
    lines = []
    for dataset, (san, baseline, variant) in best.items():
        if baseline is None:
            continue
        line = (f"- {dataset}: best SAN {san.unit.activation} (m={san.unit.kernel_size}) φ̄ {san.values['flithos']:.3f}"
                f"{_bits(san)}; best baseline {baseline.unit.baseline} ({baseline.parameters}) φ̄ "
                f"{baseline.values['flithos']:.3f}{_bits(baseline)}")
        difference = san.values["flithos"] - baseline.values["flithos"]
        line += f"; {'the baseline is lower' if difference > 0 else 'the SAN is lower'} by {abs(difference):.3f}"
        if variant is not None:
            difference = variant.values["flithos"] - baseline.values["flithos"]
            line += (f". Best variant {variant.unit.variant} ({variant.parameters}) φ̄ {variant.values['flithos']:.3f}"
                     f"{_bits(variant)}: "
                     + ("**beats the best baseline**" if difference < 0 else "does not beat the best baseline")
                     + f" ({difference:+.3f})")
        lines.append(line + ".")
    return lines


def _corpus(best: dict[str, Best], results: dict) -> list[str]:
    """The corpus table: per dataset (record), the paper's best SAN, the best variant and the best baseline (each
    chosen on validation) with their test phi and bit-aware phi; and how many records a variant wins."""
    rows = [(dataset, _cell(san, san.values), variant, baseline) for dataset, (san, baseline, variant) in best.items()
            if baseline is not None and variant is not None]
    return _corpus_table(rows, lambda row: row.values, lambda row: best_validation_flithos(results[row.unit]),
                         "paper's best SAN φ̄ / bits", " on test")


def _corpus_amortised(baselines: list[Row], variants: list[Row], results: dict) -> list[str]:
    """The corpus table under the amortised protocol (issue 30): per record, the variant and the baseline of lowest
    validation phi with W charged once per recording, their test phi and bit-aware phi so charged, and how many
    records the variant wins. Empty where the runs were not scored so (not windows of one recording)."""
    def lowest(rows: list[Row], dataset: str) -> Row | None:
        rows = [row for row in rows if row.unit.dataset == dataset and "amortised" in results[row.unit]]
        return rows[first_lowest([results[row.unit]["amortised"]["validation"]["flithos"] for row in rows])] if rows else None

    rows = [(dataset, variant, baseline) for dataset in dict.fromkeys(row.unit.dataset for row in variants)
            if (variant := lowest(variants, dataset)) and (baseline := lowest(baselines, dataset))]
    table = _corpus_table([(dataset, str(results[variant.unit]["amortised"]["recording_windows"]), variant, baseline)
                           for dataset, variant, baseline in rows],
                          lambda row: results[row.unit]["amortised"]["test"],
                          lambda row: results[row.unit]["amortised"]["validation"]["flithos"], "R windows", ", amortised")
    return table and ["The same records under the amortised protocol (our addition, issue 30): the kernels' W charged "
                      "once per recording, W / R per window, each chosen by its validation φ̄ so charged (test φ̄ / "
                      "bit-aware φ̄).", "", *table]


def _corpus_table(rows: list[tuple[str, str, Row, Row]], scores: Callable[[Row], dict], validation: Callable[[Row], float],
                  first: str, won: str) -> list[str]:
    """Per record (a first cell, the variant, the baseline), the variant's and the baseline's ``scores`` (phi /
    bit-aware phi), how many records the variant wins, and each record lost: by how much and why (its
    ``validation`` phi beside the baseline's); empty without records."""
    def wins(quantity: str) -> int:
        return sum(scores(variant).get(quantity, 1e9) < scores(baseline).get(quantity, -1e9) for *_, variant, baseline in rows)

    if not rows:
        return []
    lines = [f"| record | {first} | best variant | best baseline |", "|---|---|---|---|"]
    lines += [f"| {dataset} | {cell} | {_cell(variant, scores(variant))} | {_cell(baseline, scores(baseline))} |"
              for dataset, cell, variant, baseline in rows]
    lost = [f"- Lost, {dataset}: {why}." for dataset, _, variant, baseline in rows
            if (why := why_lost(scores(variant), scores(baseline), validation(variant), validation(baseline)))]
    return [*lines, "", f"Records where the best variant beats the best baseline{won}: {wins('flithos')} of {len(rows)} "
            f"on φ̄, {wins('flithos_bits')} of {len(rows)} on the bit-aware φ̄.", "", *lost, *[""][: len(lost)]]


def _cell(row: Row, scores: dict) -> str:
    """A row's name (its variant, baseline or activation) and phi / bit-aware phi."""
    name = row.unit.variant or row.unit.baseline or row.unit.activation
    return f"{name} {scores['flithos']:.3f} / {scores.get('flithos_bits', float('nan')):.3f}"


def _bits(row: Row) -> str:
    return f" (bit-aware {row.values['flithos_bits']:.3f})" if "flithos_bits" in row.values else ""


def _write_text(path: Path, text: str) -> Path:
    return write_atomically(path, lambda file: file.write(text.encode()))


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
    """Write keys-values.csv, the tables, figures and report.md from every run in ``folder``.

    Returns the status of this invocation and the files written: ``"complete"``,
    ``"partial"`` (some datasets skipped for missing data) or ``"failed"`` (some
    runs failed or are missing).
    """
    out = folder.path
    results = folder.results()
    missing = [unit for unit in the_plan.units if unit not in results]
    status = "failed" if run.failures or missing else "partial" if the_plan.skipped else "complete"
    invocations = folder.log_invocation(command, run.seconds, run.computed)
    files: list[Path] = []
    all_rows: list[Row] = []
    sections, comparisons, notes, competition, extra_keys = [], [], [], [], []
    experiments = [e for e in EXPERIMENTS.values() if any(unit.experiment == e.name for unit in results)]
    inits = [primary_init] + [i for i in INITS if i != primary_init]
    for experiment in experiments:
        rows = [row for init in inits for row in table_rows(experiment, results, init)]
        all_rows += rows
        for init in inits:
            selected = [row for row in rows if row.unit.init == init]
            if not selected:
                continue
            name = f"table-{experiment.table.lower()}-{experiment.name}" + ("" if init == primary_init else f"-init-{init}")
            title = f"Table {experiment.table} ({experiment.name}, {init} initialisation)"
            markdown = render_markdown(title, selected)
            sections.append(markdown)
            files.append(_write_text(out / "tables" / f"{name}.md", markdown))
            files.append(_write_text(out / "tables" / f"{name}.tex", render_latex(title, selected)))
            files.append(_write_text(out / "tables" / f"{name}.csv", render_csv(selected)))
        figures, left_out = write_figures(out, experiment, results, primary_init, data_dir, settings)
        files += figures
        notes += left_out
        if rows:
            comparisons += comparison(experiment, rows, results, primary_init)
        baselines = baseline_rows(experiment, results, primary_init)
        variants = variant_rows(experiment, results, primary_init)
        primary = [row for row in rows if row.unit.init == primary_init]
        if (baselines or variants) and primary:
            all_rows += variants + baselines
            best = best_rows(primary, baselines, results, variants)
            extra_keys += best_keys(experiment, best)
            title = f"Table {experiment.table} ({experiment.name}): SANs, " + ("variants and " if variants else "") + \
                "classical baselines"
            markdown = render_baselines(title, variants + baselines, best)
            competition += [markdown, *_verdicts(best), "", *_corpus(best, results), *_corpus_amortised(baselines, variants, results)]
            if variants:
                sources = "; ".join(f"`{name}`: {VARIANTS[name].source}" for name in dict.fromkeys(r.unit.variant for r in variants))
                competition += [f"Where the variants come from: {sources}.", ""]
            files.append(_write_text(out / "tables" / f"baselines-{experiment.name}.md", markdown))
            files.append(_write_text(out / "tables" / f"baselines-{experiment.name}.csv", render_csv(variants + baselines)))

    pairs = keys_values(all_rows, results, primary_init) + extra_keys
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [("key", "value"), *((k, v if isinstance(v, str) else f"{v:.6g}") for k, v in pairs)]
    )
    files.insert(0, _write_text(out / "keys-values.csv", buffer.getvalue()))

    total = sum(invocation["seconds"] for invocation in invocations)
    lines = [
        "# sanets reproduction of *Sparsely Activated Networks* (Bizopoulos & Koutsouris, 2020)",
        "",
        f"Command: `{command}`  ",
        f"Status of this invocation: **{status}**  ",
        f"Settings: seed {settings.seed}, {'quick sweeps' if settings.quick else 'the paper protocol'}"
        + ("" if settings.epochs is None else f", {settings.epochs} epochs") + f"; initialisation `{primary_init}` "
        "(Table I also under the other one).  ",
        f"Wall time: {run.seconds:.0f} s in this invocation ({run.computed} runs computed); {total:.0f} s over all "
        f"{len(invocations)} invocations that wrote to this folder.",
        "",
        "## What ran",
        "",
    ]
    for experiment in experiments:
        units = [u for u in results if u.experiment == experiment.name]
        names = sorted({u.dataset for u in units})
        sizes = sorted({u.kernel_size for u in units if u.is_san})
        compute = sum(results[u]["seconds"] for u in units)
        span = f"m in {sizes[0]}..{sizes[-1]} ({len(sizes)} sizes); " if sizes else ""
        lines.append(
            f"- Table {experiment.table} ({experiment.name}): {len(units)} runs on {', '.join(names)}; {span}"
            f"{experiment.sweep_for(settings).epochs} epochs; compute time {compute:.0f} s (sum over runs)."
        )
    if the_plan.skipped or notes or the_plan.notes:
        lines += ["", "## Skipped", ""]
        lines += [f"- {s.experiment}/{s.dataset}: {s.reason}. Get it with `{s.fetch_command}`." for s in the_plan.skipped]
        lines += [f"- {note}." for note in notes + the_plan.notes]
    if run.failures or missing:
        lines += ["", "## Failed", ""]
        lines += [f"- {task}: {error.splitlines()[0]}" for task, error in run.failures.items()]
        lines += [f"- {len(missing)} runs have no result; rerun the same command to retry them."]
    lines += ["", "## Comparison with the paper", "", *comparisons]
    if competition:
        lines += ["## SANs against classical baselines", "",
                  "Each classical baseline chooses its parameters on the validation split, as Alg. 4 chooses an epoch, and "
                  "is scored on test with the same φ: a kept coefficient costs its value and its index, like a spike; a "
                  "learned dictionary pays for its weights (W). The figures `figures/<experiment>-<dataset>-baselines.png` "
                  "draw every SAN run and each baseline's curve over its sparsity.", "",
                  "With `--variants`, each SAN variant of the paper's Sec. V-VI (`sanets.experiments.variants`) trains a "
                  "small grid of configurations with Alg. 4 and keeps the one of lowest validation φ̄; its row is that "
                  "configuration on test, its W counts its learned numbers, and every configuration tried is in "
                  "`runs/<experiment>/<dataset>/variants/<name>.json`. The figures draw each variant as a labelled point, "
                  "and `figures/<experiment>-<dataset>-best-variant-kernels.png` the kernels of the best variant.", "",
                  *competition]
    lines += ["## Tables", "", *sections, "## Files", ""]
    lines += [f"- `{path.relative_to(out)}`" for path in files]
    files.append(_write_text(out / "report.md", "\n".join(lines) + "\n"))
    echo(f"Report: {out / 'report.md'} ({status}); {len(pairs)} keys in {out / 'keys-values.csv'}.")
    return status, files
