"""``sanets compare`` on the first records of Table I's databases: seconds per channel and the corpus table.

Run by hand (not part of the tests)::

    python benchmarks/bench_compare.py --data-dir ../shared/data
    python benchmarks/bench_compare.py --data-dir ../shared/data --quick --databases mitdb noneeg

Per record (channel 0, Table I's protocol): the paper's SAN, the variant and the baseline of lowest validation
phi, their test phi and bit-aware phi, and the seconds the whole comparison took (the issue's target: 60 s per
channel on 2 cores). ``--json FILE`` also writes each record's ``sanets compare --json`` object, one per line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sanets import datasets
from sanets.experiments.compare import compare_recordings

DATABASES = ("mitdb", "emgdb", "ctu-uhb-ctgdb", "noneeg", "voiced")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--databases", nargs="+", default=list(DATABASES))
    parser.add_argument("--quick", action="store_true", help="Table I's quick sweep, each variant's first configuration")
    parser.add_argument("--json", type=Path, default=None, help="append each record's JSON object to this file")
    args = parser.parse_args()

    lines = []
    for database in args.databases:
        header, _ = datasets.physionet.locate(database, args.data_dir)
        start = time.perf_counter()
        (comparison,) = compare_recordings([header], channels=[0], quick=args.quick)
        seconds = time.perf_counter() - start
        result = comparison.as_json()
        if args.json is not None:
            with open(args.json, "a") as file:
                file.write(json.dumps(result) + "\n")
        cells = [f"{result[kind]['name']} {result[kind]['flithos']:.3f} / {result[kind]['flithos_bits']:.3f}"
                 if result[kind] else "-" for kind in ("best_san", "best_variant", "best_baseline")]
        lines.append(f"{database:<15}" + "".join(f"{cell:<40}" for cell in cells) + f"{seconds:>8.0f}")
        print(lines[-1], flush=True)
    print(f"\n{'record':<15}{'best SAN: φ̄ / bit-aware φ̄':<40}{'best variant':<40}{'best baseline':<40}{'seconds':>8}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
