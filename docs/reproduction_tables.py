"""Write the user guide's reproduction tables from a ``sanets reproduce`` results folder.

    python docs/reproduction_tables.py RESULTS [RESULTS...] > docs/_includes/reproduction_tables.rst

Reads ``RESULTS/tables/table-*.csv`` (long format: ours, the paper's value and the difference per quantity) and
prints one reStructuredText table per experiment, each row one selected SAN, each quantity as ours beside the
paper's. Table I shows the constant initialisation (what the authors' code ran); the report has the other.
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

QUANTITIES = {"kernel-size": "m", "inverse-compression-ratio": "CR⁻¹", "reconstruction-loss": "L̃",
              "flithos": "φ̄", "accuracy-change": "A%"}
TITLES = {"I": "Table I: PhysioNet", "II": "Table II: UCI epilepsy", "III": "Table III"}


def _width(text: str) -> int:
    """Columns ``text`` takes, as docutils counts them: combining marks (the tilde of L̃, the bar of φ̄) take none."""
    return sum(not unicodedata.combining(character) for character in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _number(text: str, quantity: str) -> str:
    if text == "":
        return "—"
    return f"{float(text):.0f}" if quantity == "kernel-size" else f"{float(text):.2f}"


def render(path: Path) -> str:
    """One table of ``path`` (a ``tables/table-*.csv``): rows keyed by dataset, m and activation."""
    cells: dict[tuple[str, str, str], dict[str, tuple[str, str]]] = defaultdict(dict)
    table = experiment = ""
    with path.open(newline="", encoding="utf-8") as file:
        for line in csv.DictReader(file):
            if line["init"] not in ("", "constant") or line["quantity"] not in QUANTITIES:
                continue
            table, experiment = line["table"], line["experiment"]
            size = "" if table == "I" else line["kernel_size"]
            cells[(line["dataset"], size, line["activation"])][line["quantity"]] = (line["ours"], line["paper"])
    quantities = [q for q in QUANTITIES if any(q in row for row in cells.values())]
    header = ["dataset", *([] if table == "I" else ["m"]), "activation"]
    header += [f"{QUANTITIES[q]} {who}" for q in quantities for who in ("ours", "paper")]
    rows = []
    for (dataset, size, activation), values in cells.items():
        row = [dataset, *([] if table == "I" else [size]), activation]
        for quantity in quantities:
            ours, paper = values.get(quantity, ("", ""))
            row += [_number(ours, quantity), _number(paper, quantity)]
        rows.append(row)
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    rule = " ".join("=" * w for w in widths)
    body = [" ".join(_pad(str(cell), w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    title = f"{TITLES.get(table, table)} ({experiment})" if table == "III" else TITLES.get(table, table)
    return "\n".join([title, "~" * len(title), "", rule, " ".join(_pad(h, w) for h, w in zip(header, widths)).rstrip(),
                      rule, *body, rule, ""])


def main(*folders: str) -> None:
    """Print every table of the results ``folders``; a table found in several comes from the first."""
    tables: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(Path(folder, "tables").glob("table-*.csv")):
            if "-init-" not in path.name:
                tables.setdefault(path.name, path)
    if not tables:
        raise SystemExit(f"{', '.join(folders)}: no tables/table-*.csv; run sanets reproduce into it first")
    print("Reproduction tables\n-------------------\n")
    print("Each row is the SAN that ``sanets reproduce`` selected, our value beside the paper's (its Tables I–III,\n"
          "``sanets/experiments/paper-tables.csv``); Table I with the constant initialisation the authors' code ran.\n")
    for name in sorted(tables):
        print(render(tables[name]))


if __name__ == "__main__":
    main(*sys.argv[1:])
