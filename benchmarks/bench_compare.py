"""``sanets compare`` on every shared PhysioNet record: seconds per channel and the corpus table, in both protocols.

Run by hand (not part of the tests)::

    python benchmarks/bench_compare.py --data-dir ../shared/data
    python benchmarks/bench_compare.py --data-dir ../shared/data --records mitdb/100 voiced/voice001 --quick

Per record (channel 0, Table I's protocol): the paper's SAN, the variant and the baseline of lowest validation
phi, their test phi and bit-aware phi, under Table I's protocol (W charged to every window) and under the amortised
one (W charged once per recording); then how many records the best variant wins, and the seconds each comparison
took (issue 30's target: 60 s per channel on 2 cores). ``--json FILE`` also writes each record's ``sanets compare
--json`` object, one per line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sanets import datasets
from sanets.datasets.physionet import local_records
from sanets.experiments.compare import compare_recordings

DATABASES = ("mitdb", "emgdb", "ctu-uhb-ctgdb", "noneeg", "voiced")
KINDS = ("best_san", "best_variant", "best_baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--records", nargs="+", default=None,
                        help="DATABASE/RECORD or DATABASE (its first record); default: every record of the five databases")
    parser.add_argument("--quick", action="store_true", help="Table I's quick sweep, each variant's first configuration")
    parser.add_argument("--json", type=Path, default=None, help="append each record's JSON object to this file")
    args = parser.parse_args()

    records = args.records or [f"{database}/{record}" for database in DATABASES
                               for record in local_records(database, args.data_dir)]
    results, seconds = [], []
    for name in records:
        database, _, record = name.partition("/")
        header, _ = (datasets.physionet.locate_record(database, record, args.data_dir) if record
                     else datasets.physionet.locate(database, args.data_dir))
        start = time.perf_counter()
        (comparison,) = compare_recordings([header], channels=[0], quick=args.quick)
        seconds.append(time.perf_counter() - start)
        results.append((name, comparison.as_json()))
        if args.json is not None:
            with open(args.json, "a") as file:
                file.write(json.dumps(results[-1][1]) + "\n")
        print(f"{name}: {seconds[-1]:.0f} s", flush=True)
    for protocol in ("Table I", "amortised"):
        print(f"\n{protocol} protocol (test φ̄ / bit-aware φ̄)\n")
        print("| record | paper's best SAN | best variant | best baseline |\n|---|---|---|---|")
        won = {"flithos": 0, "flithos_bits": 0}
        for name, result in results:
            best = result if protocol == "Table I" else result["amortised"]
            print(f"| {name} | " + " | ".join(f"{best[kind]['name']} {best[kind]['flithos']:.3f} / "
                                              f"{best[kind]['flithos_bits']:.3f}" for kind in KINDS) + " |")
            for quantity in won:
                won[quantity] += best["best_variant"][quantity] < best["best_baseline"][quantity]
        print(f"\nRecords won by the best variant: {won['flithos']} of {len(results)} on φ̄, "
              f"{won['flithos_bits']} of {len(results)} on the bit-aware φ̄.")
    print(f"\nSeconds per channel: median {statistics.median(seconds):.0f}, largest {max(seconds):.0f}")


if __name__ == "__main__":
    main()
