"""A table's rows as Markdown, LaTeX and long-format CSV; every cell reads ``ours (paper, ours - paper)``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sanets.activations import ACTIVATIONS
from sanets.experiments._report.rows import HEADERS, KEY_NAMES, Row

__all__ = ["render_markdown", "render_latex", "render_csv", "render_baselines", "BITS_NOTE"]

BITS_NOTE = (" φ̄ bits: our addition beside the paper's φ̄, each spike's index charged log2(q n) / log2(n) numbers "
             "instead of 1 (q code channels, n samples; sanets.metrics.flithos_bits), so that a large dictionary "
             "does not name its atoms for free; with one kernel it equals φ̄.")


def _number(name: str, value: float) -> str:
    if name == "kernel_size":
        return str(int(value))
    if name == "accuracy_change":
        return f"{value:+.1f}"
    return f"{value:.2f}"


def _cell(row: Row, name: str) -> str:
    """``ours (paper, difference)``, or just ours where the paper has no value."""
    ours = _number(name, row.values[name])
    if name not in row.paper:
        return ours
    difference = row.values[name] - row.paper[name]
    shown = {"kernel_size": f"{difference:+.0f}", "accuracy_change": f"{difference:+.1f}"}.get(name, f"{difference:+.2f}")
    return f"{ours} ({_number(name, row.paper[name])}, {shown})"


def _grid(rows: Sequence[Row]) -> tuple[list[str], list[str], list[list[str]]]:
    """Header groups (activations), sub-headers and cells: one line per label (dataset or m)."""
    activations = [name for name in ACTIVATIONS if any(row.unit.activation == name for row in rows)]
    quantities = rows[0].quantities
    lines: dict[str, dict[str, Row]] = {}
    for row in rows:
        lines.setdefault(row.label, {})[row.unit.activation] = row
    cells = [
        [label]
        + [_cell(by[a], q) if a in by and q in by[a].values else "" for a in activations for q in quantities]
        for label, by in lines.items()
    ]
    return activations, [HEADERS[q] for q in quantities], cells


def render_markdown(title: str, rows: Sequence[Row]) -> str:
    """A Markdown table; each cell is ``ours (paper, difference)``."""
    activations, quantities, cells = _grid(rows)
    header = [rows[0].experiment.label_column] + [f"{activation} {q}" for activation in activations for q in quantities]
    lines = [f"### {title}", "", "Each cell: ours (paper, ours − paper)." + (BITS_NOTE if "φ̄ bits" in quantities else ""), ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(line) + " |" for line in cells]
    return "\n".join(lines) + "\n"


def render_latex(title: str, rows: Sequence[Row]) -> str:
    """A LaTeX tabular with one column group per activation; cells as in Markdown."""
    activations, quantities, cells = _grid(rows)
    latex_headers = {"m": "$m$", "CR⁻¹": "$CR^{-1}$", "L̃": r"$\tilde{\mathcal{L}}$", "φ̄": r"$\bar\varphi$",
                     "φ̄ bits": r"$\bar\varphi_\mathrm{bits}$", "A%": r"A$_{\pm\%}$"}
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
    writer.writerow(
        ["table", "experiment", "dataset", "init", "activation", "kernel_size", "quantity", "ours", "paper", "difference"]
    )
    for row in rows:
        unit = row.unit
        for name, value in row.values.items():
            paper = row.paper.get(name)
            writer.writerow(
                [row.experiment.table, unit.experiment, unit.dataset, unit.init, unit.activation, unit.kernel_size,
                 KEY_NAMES[name], f"{value:.6g}", "" if paper is None else f"{paper:g}",
                 "" if paper is None else f"{value - paper:.6g}"]
            )
    return buffer.getvalue()


def render_baselines(title: str, rows: Sequence[Row], best: dict[str, tuple]) -> str:
    """A Markdown table of the variants and classical baselines per dataset, with the best SAN of each dataset first.

    ``best`` maps each dataset to its rows of lowest validation phi, the paper's SAN first.
    """
    quantities = [q for q in ("inverse_compression_ratio", "reconstruction_loss", "flithos", "flithos_bits", "accuracy_change")
                  if any(q in row.values for row in rows)]
    header = ["dataset", "representation", "parameters", "W", *(HEADERS[q] for q in quantities), "compute (s)"]
    lines = [f"### {title}", "", "Test means; parameters chosen on validation. The best SAN is the table's row of "
             "lowest validation φ̄. Compute: the run's seconds, every configuration tried included."
             + (BITS_NOTE if "flithos_bits" in quantities else ""), "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset, (san, *_) in best.items():
        described = f"m={san.unit.kernel_size}"
        lines.append(_baseline_line(dataset, f"best SAN: {san.unit.activation}", described, "", san, quantities))
        for row in (row for row in rows if row.unit.dataset == dataset):
            lines.append(_baseline_line(dataset, row.representation, row.parameters, row.weights, row, quantities))
    return "\n".join(lines) + "\n"


def _baseline_line(dataset: str, name: str, parameters: str, weights, row: Row, quantities: list[str]) -> str:
    cells = [dataset, name, parameters, str(weights)] + [_number(q, row.values[q]) if q in row.values else "" for q in quantities]
    cells.append("" if row.seconds is None else f"{row.seconds:.0f}")
    return "| " + " | ".join(cells) + " |"
