"""Speed-up of this checkout over an older commit, both timed on this machine, alternately.

Run by hand (not part of the tests), from the repository's root::

    python benchmarks/bench_speedup.py --data-dir ../shared/data                   # issue 12's two reproductions
    python benchmarks/bench_speedup.py --data-dir ../shared/data --rounds 2 --target "uci-epilepsy --quick"

Machines differ several-fold in speed (and a shared one from hour to hour), so an
issue's "before" figure and a figure measured elsewhere do not compare; their
ratio on one machine does. The older commit (default: 82c15c4, the code before
issue 12) is checked out into a temporary git worktree; each target runs as
``sanets reproduce … --no-baselines`` under each code in turn, the order
alternating from round to round so that a slow spell of the machine falls on
both, each into a fresh results folder. Printed: the best time of each code and
their ratio, beside the speed-up issue 12 asks for (its "now" over its target).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from bench_concurrent import run  # the same `python -m sanets.cli reproduce` process

ROOT = Path(__file__).resolve().parents[1]
BEFORE_ISSUE_12 = "82c15c4"
# Issue 12's table: (its figure before, its target) in seconds, for the targets it names.
ISSUE_12 = {
    "physionet --databases mitdb --workers 2": (84.0, 45.0),
    "mnist": (999.0, 300.0),
    "all": (52 * 60.0, 25 * 60.0),
}
DEFAULT_TARGETS = ["physionet --databases mitdb --workers 2", "mnist"]


def timed_reproduce(source: Path, target: str, data_dir: str, out: Path) -> float:
    """Wall time of ``sanets reproduce TARGET`` with the package at ``source/src``; exits unless it ran in full."""
    start = time.perf_counter()
    process = run([*shlex.split(target), "--no-baselines", "--data-dir", data_dir], out, PYTHONPATH=str(source / "src"))
    _, errors = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:  # 3 (partial) too: a dataset skipped would time less work
        raise SystemExit(f"sanets reproduce {target} under {source}: exit status {process.returncode}\n{errors[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--ref", default=BEFORE_ISSUE_12, help="the older commit (default: the code before issue 12)")
    parser.add_argument("--target", action="append", help="arguments after `sanets reproduce` (repeatable)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    data_dir = os.path.abspath(args.data_dir)
    targets = args.target or DEFAULT_TARGETS

    with tempfile.TemporaryDirectory() as scratch:
        older = Path(scratch) / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(older), args.ref], check=True)
        try:
            print(f"{args.ref} against this checkout, {os.cpu_count()} cores, best of {args.rounds}", flush=True)
            print(f"{'sanets reproduce …':<42}{args.ref:>10}{'now':>10}{'speed-up':>10}{'issue 12 asks':>15}")
            for target in targets:
                best = {"ref": float("inf"), "now": float("inf")}
                for round_ in range(args.rounds):
                    order = [("ref", older), ("now", ROOT)]
                    for name, source in order if round_ % 2 == 0 else reversed(order):
                        seconds = timed_reproduce(source, target, data_dir, Path(scratch) / f"{name}-{round_}")
                        best[name] = min(best[name], seconds)
                asked = f"{ISSUE_12[target][0] / ISSUE_12[target][1]:.2f}x" if target in ISSUE_12 else ""
                print(f"{target:<42}{best['ref']:9.1f}s{best['now']:9.1f}s{best['ref'] / best['now']:9.2f}x{asked:>15}",
                      flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(older)], check=False)


if __name__ == "__main__":
    main()
