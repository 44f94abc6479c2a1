"""The ``sanets`` command: parses arguments, calls one library function, prints.

Subcommands
-----------
demo        fit SANs with each activation on embedded real data (ECG, digits)
data        list where the paper's datasets are found, fetch missing ones
reproduce   rerun the paper's experiments: Tables I-III, keys-values.csv, figures
fit         fit a SAN to your own recordings, the kernel size chosen on validation
encode      code a recording into a compressed .san file (a SAN's spikes, or the wavelet anchor)
decode      reconstruct a .san file as .npy or .csv
inspect     describe a .san file
rd          bits per sample of the SAN codec and of the wavelet codec at target PRDNs
events      a SAN's spikes on a recording as events (CSV, WFDB annotations), or the heartbeats among them
compare     the paper's SANs, the variants and the classical baselines on your recordings
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sanets._cli_codec import add_codec_parsers, parse_channels
from sanets._cli_compare import add_compare_parser
from sanets._cli_events import add_events_parser


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
    from sanets._files import check_outputs
    from sanets.experiments.demo import run_demo

    check_outputs({}, folders={"figures folder": args.out})
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


def _kernel_sizes(text: str) -> list[int]:
    """``"7"`` -> [7]; ``"8-15"`` -> [8, ..., 15]."""
    low, _, high = text.partition("-")
    try:
        sizes = list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a kernel size (7) or an inclusive range (8-15)") from None
    if not sizes:
        raise argparse.ArgumentTypeError(f"{text!r} is an empty range")
    return sizes


def _add_reproduce_parser(subparsers: argparse._SubParsersAction) -> None:
    from sanets.activations import ACTIVATIONS
    from sanets.datasets import PHYSIONET_DATABASES
    from sanets.experiments import TARGETS
    from sanets.model import INITS

    parser = subparsers.add_parser(
        "reproduce",
        help="rerun the paper's experiments: Tables I-III, keys-values.csv, figures, report.md",
        description=(
            "Rerun the experiments of Sparsely Activated Networks with the paper's protocol: Table I (physionet), "
            "Table II (uci-epilepsy), Table III (mnist, fashion-mnist). Every run is saved as it finishes, so "
            "running the same command again resumes. Datasets that are not found are skipped and reported "
            "(exit status 3, partial); nothing is downloaded (see 'sanets data fetch')."
        ),
    )
    parser.add_argument("targets", nargs="+", choices=TARGETS, metavar="TARGET", help=f"one or more of: {', '.join(TARGETS)}")
    parser.add_argument("--data-dir", type=Path, default=None, help="data root searched first")
    parser.add_argument("--out", type=Path, default=Path("sanets-results"), help="results folder (default: ./sanets-results)")
    parser.add_argument("--databases", nargs="+", metavar="DB",
                        help=f"PhysioNet databases for Table I, of: {', '.join(PHYSIONET_DATABASES)} (default: all 15)")
    parser.add_argument("--records", nargs="+", metavar="DB/RECORD",
                        help="other records of Table I's databases under its protocol, e.g. mitdb/101 (keys "
                             "physionet/<db>/<record>/...)")
    parser.add_argument("--all-records", action="store_true",
                        help="every record the data root holds beside each database's first")
    parser.add_argument(
        "--kernel-sizes", nargs="+", type=_kernel_sizes, metavar="M", help="kernel sizes, e.g. 7 or 8-15 (default: the paper's)"
    )
    parser.add_argument("--activations", nargs="+", metavar="NAME",
                        help=f"activations, of: {', '.join(ACTIVATIONS)} (default: all five)")
    parser.add_argument("--epochs", type=int, default=None, help="override the paper's epochs")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes on this machine (default: 1)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on the Dask cluster of this scheduler, tcp://HOST:PORT (as `dask scheduler` prints it)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to train (default: cpu)")
    parser.add_argument(
        "--init", choices=INITS, default="constant",
        help="kernel initialisation: 0.1 everywhere as the authors' code ran (default), or N(0, 0.1) as the paper says",
    )
    parser.add_argument("--quick", action="store_true", help="small sweeps on data subsets, to try it out")
    parser.add_argument("--no-baselines", action="store_true", help="skip the classical baselines (DCT, wavelets, ...)")
    parser.add_argument("--variants", action="store_true",
                        help="also train the SAN variants of the paper's Sec. V-VI (competition, passes, kernel families, ...)")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="progress bars on stderr (default: only when stderr is a terminal)",
    )
    parser.set_defaults(handler=_run_reproduce)


_EXIT_STATUS = {"complete": 0, "failed": 1, "partial": 3}


def _run_reproduce(args: argparse.Namespace) -> int:
    from sanets._files import check_outputs
    from sanets.experiments import reproduce

    check_outputs({}, [] if args.data_dir is None else [("data folder", args.data_dir)], folders={"results folder": args.out})
    outcome = reproduce(
        args.targets,
        args.out,
        data_dir=args.data_dir,
        databases=args.databases,
        kernel_sizes=None if args.kernel_sizes is None else [m for sizes in args.kernel_sizes for m in sizes],
        activations=args.activations,
        epochs=args.epochs,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        device=args.device,
        init=args.init,
        quick=args.quick,
        baselines=not args.no_baselines,
        variants=args.variants,
        records=args.records,
        all_records=args.all_records,
        progress=args.progress,
        echo=print,
        command=" ".join(["sanets", *sys.argv[1:]]) if sys.argv[1:2] == ["reproduce"] else "sanets reproduce",
    )
    return _EXIT_STATUS[outcome.status]


def _add_fit_parser(subparsers: argparse._SubParsersAction) -> None:
    from sanets.activations import ACTIVATIONS

    parser = subparsers.add_parser(
        "fit", help="fit a SAN to your own recordings: kernels for the codec, or the paper's SAN",
        description="Read recordings (WFDB, EDF, CSV, NPY) and learn a SAN from every chosen channel. --for codec "
                    "(default): kernels for the san codec, learned on the first four fifths of each channel, their "
                    "count and length chosen by the fewest bits on the last fifth at --prdn. --for paper: the paper's "
                    "protocol: standardised windows, the last fifth for validation, the kernel sizes swept with Alg. 4, "
                    "the SAN of lowest validation phi kept (an interrupted fit resumes when rerun: MODEL.partial/ keeps "
                    "each epoch). --for beats: QRS kernels learned without labels for 'sanets events --beats' (every "
                    "channel a lead). Each writes MODEL (the SAN), MODEL.json (its report; MODEL's suffix replaced by "
                    ".json) and MODEL-kernels.png (its kernels; MODEL's suffix replaced by -kernels.png); none of them "
                    "may be an input.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="recordings (WFDB .hea, EDF, CSV, NPY)")
    parser.add_argument("--out", type=Path, required=True, metavar="MODEL",
                        help="the model to write (MODEL.safetensors), beside MODEL.json and MODEL-kernels.png")
    parser.add_argument("--for", dest="purpose", choices=("codec", "paper", "beats"), default="codec",
                        help="codec: kernels for 'sanets encode' (default); paper: the paper's SAN (Alg. 4, phi); "
                             "beats: QRS kernels for 'sanets events --beats'")
    parser.add_argument("--channels", nargs="+", metavar="C", help="channels by name or index (default: all)")
    codec = parser.add_argument_group("--for codec")
    codec.add_argument("--prdn", type=float, default=5.0, metavar="TARGET",
                       help="the PRDN (%%) at which validation bits choose the kernels (default: 5)")
    beats = parser.add_argument_group("--for beats")
    beats.add_argument("--sampling-rate", type=float, default=None, metavar="HZ",
                       help="the recordings' rate where their format states none (CSV, NPY)")
    paper = parser.add_argument_group("--for paper")
    paper.add_argument("--activation", default=None, metavar="NAME",
                       help=f"sparse activation, one of: {', '.join(ACTIVATIONS)} (default: extrema)")
    paper.add_argument("--kernel-sizes", nargs="+", type=_kernel_sizes, metavar="M",
                       help="kernel sizes, e.g. 7 or 8-15 (default: a range from the window and sampling rate)")
    paper.add_argument("--kernels", type=int, default=None, help="kernels per SAN, q (default: 1); with --for beats, "
                       "QRS templates (default: 2)")
    paper.add_argument("--window", type=int, default=None, help="samples per window (default: 1000, or the shortest signal)")
    paper.add_argument("--channel-kernels", choices=("shared", "separate"), default=None,
                       help="code the channels together, as one SAN of C input channels with kernels shared by every "
                            "channel or a set per channel (default: a one-channel SAN that codes each channel alone)")
    paper.add_argument("--epochs", type=int, default=None, help="epochs of Alg. 4 (default: 30)")
    paper.add_argument("--batch-size", type=int, default=None,
                       help="windows per Adam step (default: an eighth of the training windows, from 2 to 32)")
    paper.add_argument("--device", choices=("cpu", "cuda"), default=None, help="where to train (default: cpu)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--fill", choices=("linear",), default=None,
                        help="interpolate missing samples (NaN, empty CSV cells) instead of refusing them")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar on stderr (default: only when stderr is a terminal)")
    parser.set_defaults(handler=_run_fit)


_PAPER_OPTIONS = ("activation", "kernel_sizes", "kernels", "window", "channel_kernels", "epochs", "batch_size", "device")


def _run_fit(args: argparse.Namespace) -> int:
    if args.sampling_rate is not None and args.purpose != "beats":
        raise ValueError("--sampling-rate: an option of --for beats")
    if args.purpose == "beats":
        from sanets._beats import BEAT_KERNELS
        from sanets.experiments.beat_models import fit_beats

        given = [f"--{name.replace('_', '-')}" for name in _PAPER_OPTIONS if name != "kernels" and getattr(args, name) is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: the paper's options; a beat model takes --kernels and --sampling-rate")
        fit_beats(args.inputs, args.out, channels=parse_channels(args.channels), kernels=BEAT_KERNELS if args.kernels is None else args.kernels,
                  sampling_rate=args.sampling_rate, fill=args.fill, seed=args.seed, echo=print)
        return 0
    if args.purpose == "codec":
        from sanets.experiments.codec_models import fit_codec

        given = [f"--{name.replace('_', '-')}" for name in _PAPER_OPTIONS if getattr(args, name) is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: the paper's options; add --for paper (or leave them out for the codec)")
        fit_codec(args.inputs, args.out, channels=parse_channels(args.channels), prdn=args.prdn, fill=args.fill, seed=args.seed,
                  echo=print)
        return 0
    from sanets.experiments.recordings import fit_recordings

    if args.device == "cuda" and not __import__("torch").cuda.is_available():
        raise ValueError("--device cuda: torch sees no CUDA GPU here")
    fit_recordings(
        args.inputs, args.out, activation=args.activation or "extrema",
        kernel_sizes=None if args.kernel_sizes is None else [m for sizes in args.kernel_sizes for m in sizes],
        kernels=args.kernels or 1, window=args.window, channels=parse_channels(args.channels), channel_kernels=args.channel_kernels,
        epochs=args.epochs or 30, batch_size=args.batch_size, seed=args.seed, device=args.device or "cpu", fill=args.fill,
        progress=sys.stderr.isatty() if args.progress is None else args.progress, echo=print,
    )
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
    _add_reproduce_parser(subparsers)
    _add_fit_parser(subparsers)
    add_codec_parsers(subparsers)
    add_events_parser(subparsers)
    add_compare_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sanets`` console script; returns the exit status (130 after Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    from sanets.errors import SanetsError

    try:
        return args.handler(args)
    except KeyboardInterrupt as interrupt:
        print(f"sanets {args.command}: {interrupt or 'interrupted'}", file=sys.stderr)
        return 130
    except (SanetsError, ValueError, TypeError) as error:
        print(f"sanets {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a disk full, a folder made read-only mid-run: one line naming the path
        where = f"{error.filename!r}: " if error.filename else ""
        print(f"sanets {args.command}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
