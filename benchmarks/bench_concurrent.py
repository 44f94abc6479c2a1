"""Two ``sanets reproduce`` runs at once against one alone, on the same machine.

Run by hand (not part of the tests)::

    python benchmarks/bench_concurrent.py --data-dir ../shared/data
    python benchmarks/bench_concurrent.py --data-dir ../shared/data --target "physionet --databases mitdb"

The target runs once alone, then twice at once (separate results folders), as
separate ``sanets`` processes with torch's default threads; then the pair again
with each process pinned to one thread by ``OMP_NUM_THREADS=1``, the best any
policy can do. The target of the issue: two concurrent runs on one 2-core
machine finish within 3x a lone run (they took 5-30x before the thread policy
of ``sanets._threads``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(arguments: list[str], out: Path, **environment: str) -> subprocess.Popen:
    environment = {**os.environ, **environment}
    command = [sys.executable, "-m", "sanets.cli", "reproduce", *arguments, "--out", str(out), "--no-progress"]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def timed(processes: list[subprocess.Popen]) -> list[float]:
    start = time.perf_counter()
    ends = {}
    while len(ends) < len(processes):
        for index, process in enumerate(processes):
            if index not in ends and process.poll() is not None:
                ends[index] = time.perf_counter() - start
                if process.returncode not in (0, 3):
                    raise SystemExit(f"sanets reproduce failed: {process.stderr.read()}")
        time.sleep(0.01)
    return [ends[index] for index in range(len(processes))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--target", default="uci-epilepsy --quick", help="arguments after `sanets reproduce`")
    args = parser.parse_args()
    arguments = [*shlex.split(args.target), "--data-dir", args.data_dir]

    print(f"sanets reproduce {args.target}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (alone,) = timed([run(arguments, root / "alone")])
        print(f"alone                          {alone:6.1f} s", flush=True)
        pair = timed([run(arguments, root / f"pair-{i}") for i in range(2)])
        print(f"two at once                    {pair[0]:6.1f} s and {pair[1]:6.1f} s   {max(pair) / alone:4.1f}x alone", flush=True)
        single = timed([run(arguments, root / f"single-{i}", OMP_NUM_THREADS="1") for i in range(2)])
        print(f"two at once, 1 thread each     {single[0]:6.1f} s and {single[1]:6.1f} s   {max(single) / alone:4.1f}x alone")


if __name__ == "__main__":
    main()
