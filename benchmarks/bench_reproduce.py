"""Wall time of ``sanets reproduce`` per table, and Table I's phi beside the paper's.

Run by hand (not part of the tests)::

    python benchmarks/bench_reproduce.py --data-dir ../shared/data                  # every table, paper protocol
    python benchmarks/bench_reproduce.py --data-dir ../shared/data --quick          # a smoke run
    python benchmarks/bench_reproduce.py --data-dir ../shared/data --targets physionet --databases mitdb

Each target runs into its own fresh folder under ``--out`` (kept, so its
report and figures can be read afterwards), so the printed wall time is the
table's alone. Issue 12's targets on a 2-core CPU, without baselines: Table III
(MNIST) <= 300 s; all four targets on the shared data <= 25 min. On one CUDA
GPU (``--device cuda``), all four in under 5 minutes.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from pathlib import Path

import torch

from sanets.activations import ACTIVATIONS
from sanets.experiments import EXPERIMENTS, reproduce
from sanets.experiments.paper import paper_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench-reproduce"))
    parser.add_argument("--targets", nargs="+", default=list(EXPERIMENTS), choices=list(EXPERIMENTS))
    parser.add_argument("--databases", nargs="+", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--init", default="constant")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-baselines", action="store_true", help="the paper's runs only, as the issue's figures")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_reproduce: --device cuda, but torch sees no CUDA device on this machine")

    times = {}
    for target in args.targets:
        out = args.out / target
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        outcome = reproduce(
            [target], out, data_dir=args.data_dir, databases=args.databases if target == "physionet" else None,
            workers=args.workers, device=args.device, init=args.init, quick=args.quick, baselines=not args.no_baselines,
            progress=False, echo=lambda _: None,
        )
        times[target] = time.perf_counter() - start
        runs = len(list((out / "runs").rglob("*.json")))
        print(f"{target:<14} Table {EXPERIMENTS[target].table:<4} {times[target]:8.1f} s  {runs:5d} runs  ({outcome.status})", flush=True)
    print(f"{'total':<25} {sum(times.values()):8.1f} s")

    if "physionet" in times:
        with open(args.out / "physionet" / "keys-values.csv", newline="") as file:
            keys = {row["key"]: float(row["value"]) for row in csv.DictReader(file)}
        print("\nTable I, test phi (m) per activation: ours / paper")
        databases = sorted({key.split("/")[1] for key in keys if key.startswith("physionet/")})
        print(f"{'database':<15}" + "".join(f"{name:>24}" for name in ACTIVATIONS))
        for prefix in ("physionet", *(f"physionet-init-{i}" for i in ("normal", "constant") if i != args.init)):
            for database in databases:
                cells = []
                for activation in ACTIVATIONS:
                    ours = f"{keys[f'{prefix}/{database}/{activation}/flithos']:.2f} ({keys[f'{prefix}/{database}/{activation}/kernel-size']:.0f})"
                    paper = paper_row("I", database, activation)
                    cells.append(f"{ours} / {paper.flithos:.2f} ({paper.kernel_size})")
                label = database if prefix == "physionet" else f"{database}*"
                print(f"{label:<15}" + "".join(f"{cell:>24}" for cell in cells))
        print("(* the other initialisation)")


if __name__ == "__main__":
    main()
