"""Every classical baseline on the paper's datasets: parameters chosen on validation, test phi, fit time.

Run by hand (not part of the tests)::

    python benchmarks/bench_baselines.py --data-dir ../shared/data
    python benchmarks/bench_baselines.py --data-dir ../shared/data --datasets mitdb --baselines wavelet

The issue's targets: a baseline's whole selection on one PhysioNet record in
under 20 s on 2 cores; on MNIST, within the time Table III already takes
(999 s for the SANs on 2 cores). With ``--best-san RESULTS`` (a folder of
``sanets reproduce``), the SAN of lowest validation phi of each dataset is
printed beside them, from that folder's keys-values.csv.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from sanets.baselines import BASELINES
from sanets.experiments import EXPERIMENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--datasets", nargs="+", default=["mitdb", "emgdb", "ctu-uhb-ctgdb", "uci-epilepsy", "mnist", "fashion-mnist"])
    parser.add_argument("--baselines", nargs="+", default=list(BASELINES), choices=list(BASELINES))
    parser.add_argument("--best-san", type=Path, default=None, help="a sanets reproduce results folder")
    args = parser.parse_args()

    keys = {}
    if args.best_san is not None:
        with open(args.best_san / "keys-values.csv", newline="") as file:
            keys = {row["key"]: row["value"] for row in csv.DictReader(file)}
    print(f"{'dataset':<15}{'representation':<26}{'parameters':<34}{'W':>7}{'CR^-1':>8}{'L~':>8}{'phi':>8}{'fit':>9}")
    for dataset in args.datasets:
        experiment = next(e for e in EXPERIMENTS.values() if dataset in e.datasets)
        splits = experiment.load(dataset, args.data_dir)
        scope = experiment.scope(dataset, experiment.name)
        if f"{scope}/best-san/flithos" in keys:
            print(f"{dataset:<15}{'best SAN':<26}{'(from ' + str(args.best_san) + ')':<34}{'':>7}{'':>8}{'':>8}"
                  f"{float(keys[scope + '/best-san/flithos']):8.3f}")
        for name in args.baselines:
            if not BASELINES[name].runs_on(splits.train.dim() - 2):
                continue
            start = time.perf_counter()
            baseline = BASELINES[name]().fit(splits.train, splits.validation)
            seconds = time.perf_counter() - start
            scores = baseline.evaluate(splits.test)
            print(f"{dataset:<15}{name:<26}{baseline.parameters:<34}{baseline.num_weights:>7}"
                  f"{scores.inverse_compression_ratio:8.3f}{scores.reconstruction_loss:8.3f}{scores.flithos:8.3f}"
                  f"{seconds:8.1f}s", flush=True)


if __name__ == "__main__":
    main()
