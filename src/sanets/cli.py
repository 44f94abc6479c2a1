"""The ``sanets`` command: parses arguments, calls one library function, prints.

Subcommands
-----------
demo        fit SANs with each activation on embedded real data (ECG, digits)
data        list where the paper's datasets are found, fetch missing ones
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _add_demo_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="fit SANs with each activation on embedded ECG and digits",
        description=(
            "Fit SANs with each of the five sparse activations on the real ECG "
            "shipped in PyWavelets and on scikit-learn's real 8x8 digits; print "
            "m, CR^-1, L~ and phi per activation and write figures as PNG."
        ),
    )
    parser.add_argument("--out", type=Path, default=Path("sanets-demo"), help="folder for the figures (default: ./sanets-demo)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from sanets.demo import run_demo

    run_demo(out_dir=args.out, seed=args.seed, echo=print)
    return 0


def _add_data_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="list where the paper's datasets are found; fetch missing ones",
        description=(
            "Datasets are looked for in --data-dir, then $SANETS_DATA, then the user cache "
            "(where downloads land), and for Fashion-MNIST also /usr/share/datasets/fashion-mnist."
        ),
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show each dataset, where it was found or how to get it")
    listing.add_argument("--data-dir", type=Path, default=None, help="extra data root searched first")
    listing.set_defaults(handler=_run_data_list)
    fetching = actions.add_parser("fetch", help="download datasets into the user cache (verified)")
    fetching.add_argument("names", nargs="+", metavar="NAME", help="dataset names, 'physionet' (all 15) or 'all'")
    fetching.add_argument("--data-dir", type=Path, default=None, help="extra data root; datasets found there are skipped")
    fetching.set_defaults(handler=_run_data_fetch)


def _run_data_list(args: argparse.Namespace) -> int:
    from sanets.datasets import data_roots, list_datasets

    statuses = list_datasets(data_dir=args.data_dir)
    print("Data roots searched, in order: " + "; ".join(str(root) for root in data_roots(args.data_dir)))
    for status in statuses:
        print(status.describe())
    return 0


def _run_data_fetch(args: argparse.Namespace) -> int:
    from sanets.datasets import fetch

    fetch(args.names, data_dir=args.data_dir, echo=print)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``sanets`` command."""
    from sanets import __version__

    parser = argparse.ArgumentParser(
        prog="sanets",
        description="Sparsely Activated Networks (Bizopoulos & Koutsouris, IEEE TNNLS 2020).",
    )
    parser.add_argument("--version", action="version", version=f"sanets {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo_parser(subparsers)
    _add_data_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sanets`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    from sanets.errors import SanetsError

    try:
        return args.handler(args)
    except (SanetsError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"sanets {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
