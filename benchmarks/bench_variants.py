"""SAN variants (issue 10, first step) on the PhysioNet records: configuration chosen on validation, test phi.

Run by hand (not part of the tests)::

    python benchmarks/bench_variants.py --data-dir ../shared/data
    python benchmarks/bench_variants.py --data-dir ../shared/data --activation-dropout 0.1

Each configuration of :data:`CONFIGS` is trained by Alg. 4 (Extrema, border
tolerance 3, Adam lr 0.01, 30 epochs, batch 2, the epoch of lowest validation
phi kept); per record the configuration of lowest validation phi is chosen
and scored on test, beside every configuration's test phi for the record.
"""

from __future__ import annotations

import argparse
import time

import sanets
from sanets.datasets import load_physionet
from sanets.training import first_lowest

CONFIGS = [
    # kernel sizes, competition, passes, distance schedule of fit (the final distance is 32 - 3)
    ([32], "none", 1, None),
    ([32], "none", 3, None),
    ([32] * 4, "none", 1, None),
    ([32] * 4, "across-kernels", 1, None),
    ([32] * 4, "across-kernels", 3, None),
    ([16, 32, 64], "across-kernels", 3, None),
    ([32] * 4, "across-kernels", 1, (58, 29)),
    ([32] * 4, "across-kernels", 3, (58, 29)),
    ([32] * 4, "across-kernels", 3, (8, 29)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--databases", nargs="+", default=["mitdb", "emgdb", "ctu-uhb-ctgdb"])
    parser.add_argument("--activation-dropout", type=float, default=0.0, help="fit(activation_dropout=...) for every configuration")
    args = parser.parse_args()
    print(f"{'record':<15}{'kernels':<18}{'competition':<16}{'T':>3}{'d schedule':>12}{'val phi':>9}{'CR^-1':>8}{'L~':>8}{'test phi':>10}{'fit':>8}")
    for database in args.databases:
        splits = load_physionet(database, data_dir=args.data_dir, download=False)
        rows = []
        for sizes, competition, passes, schedule in CONFIGS:
            start = time.perf_counter()
            model = sanets.SAN(sizes, "extrema", seed=0, border_tolerance=3, competition=competition, passes=passes)
            result = sanets.fit(model, splits.train, splits.validation, epochs=30, batch_size=2, seed=0,
                                distance_schedule=schedule, activation_dropout=args.activation_dropout)
            test = sanets.evaluate(model, splits.test)
            rows.append((result.best_flithos, test.flithos))
            print(f"{database:<15}{str(sizes):<18}{competition:<16}{passes:>3}{str(schedule or '-'):>12}{result.best_flithos:9.3f}"
                  f"{test.inverse_compression_ratio:8.3f}{test.reconstruction_loss:8.3f}{test.flithos:10.3f}"
                  f"{time.perf_counter() - start:7.1f}s", flush=True)
        chosen = first_lowest([validation for validation, _ in rows])
        sizes, competition, passes, schedule = CONFIGS[chosen]
        print(f"{database:<15}chosen on validation: {sizes} {competition} T={passes} d schedule {schedule}, "
              f"test phi {rows[chosen][1]:.3f}\n")


if __name__ == "__main__":
    main()
