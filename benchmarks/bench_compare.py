"""``sanets compare`` on every shared PhysioNet record: seconds per channel and the corpus table, in both protocols.

Run by hand (not part of the tests)::

    python benchmarks/bench_compare.py --data-dir ../shared/data
    python benchmarks/bench_compare.py --data-dir ../shared/data --records mitdb/100 voiced/voice001 --quick
    python benchmarks/bench_compare.py --data-dir ../shared/data --workers 1    # one process, as before
    python benchmarks/bench_compare.py --data-dir ../shared/data --databases mitdb --channel 1   # the second lead

Per record (channel 0, or ``--channel``; Table I's protocol): the paper's SAN, the variant and the baseline of lowest validation
phi, their test phi and bit-aware phi, under Table I's protocol (W charged to every window) and under the amortised
one (W charged once per recording); then how many records the best variant wins, each record lost with by how
much and why (:func:`sanets.experiments._experiment.why_lost`), and the seconds each comparison took (issue 30's
target: 60 s per channel on 2 cores). ``--json FILE`` also writes each record's ``sanets compare
--json`` object, one per line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sanets import datasets
from sanets._threads import available_cores
from sanets.datasets.physionet import local_records
from sanets.experiments._experiment import why_lost
from sanets.experiments.compare import compare_recordings

DATABASES = ("mitdb", "emgdb", "ctu-uhb-ctgdb", "noneeg", "voiced")
KINDS = ("best_san", "best_variant", "best_baseline")


def _scored(result: dict, kind: str, amortised: bool) -> tuple[dict, float]:
    """The test means and the validation phi of the row ``result[kind]`` names, under the protocol."""
    chosen = (result["amortised"] if amortised else result)[kind]
    row = next(row for row in result["rows"] if (row["name"], row["parameters"]) == (chosen["name"], chosen["parameters"]))
    scores = row["amortised"] if amortised else row
    return scores, scores["validation_flithos"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--records", nargs="+", default=None,
                        help="DATABASE/RECORD or DATABASE (its first record); default: every record of the five databases")
    parser.add_argument("--databases", nargs="+", default=DATABASES, metavar="DATABASE",
                        help=f"without --records, every record of these (default: {' '.join(DATABASES)})")
    parser.add_argument("--quick", action="store_true", help="Table I's quick sweep, each variant's first configuration")
    parser.add_argument("--json", type=Path, default=None, help="append each record's JSON object to this file")
    parser.add_argument("--channel", type=int, default=0, help="the channel of every record (default: 0)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes per channel, as sanets compare's (default: the cores, at most 2)")
    args = parser.parse_args()

    records = args.records or [f"{database}/{record}" for database in args.databases
                               for record in local_records(database, args.data_dir)]
    results, seconds = [], []
    workers = available_cores() if args.workers is None else args.workers
    for name in records:
        database, _, record = name.partition("/")
        header, _ = (datasets.physionet.locate_record(database, record, args.data_dir) if record
                     else datasets.physionet.locate(database, args.data_dir))
        start = time.perf_counter()
        (comparison,) = compare_recordings([header], channels=[args.channel], quick=args.quick, workers=workers)
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
        for name, result in results:
            variant, baseline = (_scored(result, kind, protocol == "amortised") for kind in ("best_variant", "best_baseline"))
            if why := why_lost(variant[0], baseline[0], variant[1], baseline[1]):
                print(f"- Lost, {name}: {why}.")
    print(f"\nSeconds per channel: median {statistics.median(seconds):.0f}, largest {max(seconds):.0f}")


if __name__ == "__main__":
    main()
