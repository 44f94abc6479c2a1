"""The ``sanets compare`` command: which sparse representation suits a recording (see :mod:`sanets.cli`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sanets._cli_codec import parse_channels


def add_compare_parser(subparsers: argparse._SubParsersAction) -> None:
    from sanets.activations import ACTIVATIONS
    from sanets.baselines import BASELINES
    from sanets.experiments.variants import VARIANTS

    parser = subparsers.add_parser(
        "compare", help="the paper's SANs, the variants and the classical baselines on your recordings",
        description="Table I's protocol on each channel of each recording (WFDB, EDF, CSV, NPY): its first 12 windows of "
                    "1000 samples, standardised, split 6 / 2 / 4 in time (fewer windows, at least 3: the same proportions). "
                    "The paper's SANs (every activation, m chosen on validation), every variant and every baseline choose "
                    "their parameters on validation and are scored on test with φ and the bit-aware φ; one row per "
                    "representation, then the verdict.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="recordings")
    parser.add_argument("--channels", nargs="+", metavar="C", help="channels by name or index (default: all)")
    parser.add_argument("--activations", nargs="*", metavar="NAME", default=None,
                        help=f"the paper's SANs to run (default: all; none with no name): {', '.join(ACTIVATIONS)}")
    parser.add_argument("--variants", nargs="*", metavar="NAME", default=None,
                        help=f"variants to run (default: all; none with no name): {', '.join(VARIANTS)}")
    parser.add_argument("--baselines", nargs="*", metavar="NAME", default=None,
                        help=f"baselines to run (default: all that can; none with no name): {', '.join(BASELINES)}")
    parser.add_argument("--quick", action="store_true",
                        help="Table I's quick sweep (m in 1..64, 5 epochs), each variant's first configuration, small grids")
    parser.add_argument("--fill", choices=("linear",), default=None,
                        help="interpolate missing samples (NaN, empty CSV cells) instead of refusing them")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes per channel: with 2, the variants run beside the rest (default: the cores, at most 2)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per input and channel instead of the table")
    parser.set_defaults(handler=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from sanets._threads import available_cores
    from sanets.experiments.compare import compare_recordings

    comparisons = compare_recordings(args.inputs, channels=parse_channels(args.channels), activations=args.activations,
                                     variants=args.variants, baselines=args.baselines, quick=args.quick, seed=args.seed,
                                     fill=args.fill, workers=available_cores() if args.workers is None else args.workers,
                                     echo=(lambda line: None) if args.json else print)
    if args.json:
        for comparison in comparisons:
            print(json.dumps(comparison.as_json()))
    return 0
