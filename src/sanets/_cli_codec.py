"""The ``sanets`` commands of the ``.san`` codecs: ``encode``, ``decode``, ``inspect``, ``rd`` (see :mod:`sanets.cli`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_channels(given: list[str] | None) -> list[int | str] | None:
    """``--channels`` as indices (digits) and names (anything else)."""
    return None if given is None else [int(c) if c.isdigit() else c for c in given]


def add_codec_parsers(subparsers: argparse._SubParsersAction) -> None:
    from sanets.codec import CODECS, CODERS, DEFAULT_STEP

    encode = subparsers.add_parser(
        "encode", help="code a recording into a compressed .san file (a SAN's spikes, or the wavelet anchor)",
        description="Code each channel of a recording (WFDB, EDF, CSV, NPY) into a .san file, then decode it and report "
                    "its size and its distortion (PRD, PRDN, SNR), over all channels and per channel. Codecs: "
                    + "; ".join(f"{name}: {text}" for name, text in CODECS.items()) + ".",
    )
    encode.add_argument("paths", nargs="+", type=Path, metavar="[MODEL] INPUT",
                        help="the model (a .safetensors file from 'sanets fit' or SAN.save; or give --model), then the recording")
    encode.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.san", help="the file to write")
    encode.add_argument("--model", type=Path, default=None,
                        help="the model, instead of the first path: a file or a pretrained name (ecg)")
    encode.add_argument("--codec", default="san", choices=CODECS, help=f"one of: {', '.join(CODECS)} (default: san)")
    step = encode.add_mutually_exclusive_group()
    step.add_argument("--prdn", type=float, metavar="TARGET",
                      help="the coarsest quantisation whose PRDN (%%, error over each channel's spread about its mean) is at "
                           "most TARGET in every channel")
    step.add_argument("--prd", type=float, metavar="TARGET", help="the coarsest quantisation whose PRD (%%) is at most TARGET")
    step.add_argument("--quantization", type=float, metavar="STEP",
                      help=f"the step, in standardised units (default: {DEFAULT_STEP:g})")
    encode.add_argument("--channels", nargs="+", metavar="C", help="channels by name or index (default: all)")
    encode.add_argument("--wavelet", default="auto",
                        help="the wavelet codec's wavelet: auto (the smallest file per channel, default) or a PyWavelets name")
    encode.add_argument("--window", type=int, default=None,
                        help="the activation codec's samples per window, at most the recording's length (default: 1000, or "
                             "the whole signal)")
    encode.add_argument("--coder", default=None, choices=CODERS,
                        help=f"the activation codec's compressor, one of: {', '.join(CODERS)} (default: lzma)")
    encode.add_argument("--embed-model", action="store_true", help="store the model in the file")
    encode.add_argument("--fill", choices=("linear",), default=None,
                        help="interpolate missing samples (NaN, empty CSV cells) instead of refusing them")
    encode.add_argument("--json", action="store_true",
                        help="print one JSON object of sizes and distortion (null for an infinite SNR)")
    encode.set_defaults(handler=_run_encode)
    decode = subparsers.add_parser("decode", help="reconstruct a .san file as .npy or .csv",
                                   description="Decode a .san file to (channels, samples): .npy, or .csv with a column per "
                                               "channel under a header of the channel names (quoted). The file written is "
                                               "read back before the command ends.")
    decode.add_argument("input", type=Path, metavar="IN.san", help="a file written by 'sanets encode'")
    decode.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="a .npy or .csv file")
    decode.add_argument("--model", type=Path, default=None,
                        help="the model the file names, a file or a pretrained name (not needed if embedded, nor for the "
                             "wavelet codec)")
    decode.set_defaults(handler=_run_decode)
    inspect = subparsers.add_parser("inspect", help="describe a .san file", description="Print a .san file's header and sizes as JSON.")
    inspect.add_argument("input", type=Path, metavar="IN.san", help="a file written by 'sanets encode'")
    inspect.set_defaults(handler=_run_inspect)
    rd = subparsers.add_parser(
        "rd", help="bits per sample of the SAN codec and of the wavelet codec at target PRDNs",
        description="For each recording and each target PRDN, code the chosen channels with the san codec (with --model) "
                    "and with the wavelet codec, decode each file, and print bits per sample and the PRDN reached (the "
                    "worst channel's). A target a codec cannot reach is shown with the floor it reached.")
    rd.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="recordings (WFDB .hea, EDF, CSV, NPY)")
    rd.add_argument("--model", type=Path, default=None,
                    help="the SAN whose kernels the san codec starts from, a file or a pretrained name (ecg); without "
                         "it, the wavelet codec alone")
    rd.add_argument("--channels", nargs="+", metavar="C", help="channels by name or index (default: all)")
    rd.add_argument("--prdn", nargs="+", type=float, default=[2.0, 5.0, 9.0], metavar="TARGET",
                    help="target PRDNs in %% (default: 2 5 9)")
    rd.add_argument("--wavelet", default="auto", help="the wavelet codec's wavelet (default: auto)")
    rd.add_argument("--fill", choices=("linear",), default=None, help="interpolate missing samples instead of refusing them")
    rd.add_argument("--json", action="store_true",
                    help='one JSON object per input and target: {"input", "target_prdn", "san_bits_per_sample", "san_prdn", '
                         '"wavelet_bits_per_sample", "wavelet_prdn", "wavelet"}; null where a target is out of reach, with '
                         '"san_floor" the PRDN reached')
    rd.set_defaults(handler=_run_rd)


def _model_and_input(args: argparse.Namespace) -> tuple[Path | None, Path]:
    """``encode``'s paths: [MODEL] INPUT, or INPUT with --model."""
    if len(args.paths) > 2:
        raise ValueError(f"encode takes [MODEL] INPUT, got {len(args.paths)} paths")
    if len(args.paths) == 2 and args.model is not None:
        raise ValueError("give the model as the first path or as --model, not both")
    return (args.paths[0], args.paths[1]) if len(args.paths) == 2 else (args.model, args.paths[0])


def _load_model(given: Path | None, sampling_rate: float | None = None):
    """``--model``: a model file or a pretrained name (its kernels resampled to the recording's rate)."""
    from sanets.pretrained import resolve_model

    return None if given is None else resolve_model(given, sampling_rate)


def _run_encode(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from sanets._files import check_outputs, strict_json
    from sanets.codec import encode_signal
    from sanets.datasets import load_signal, recording_files, select_channels

    model_path, input_path = _model_and_input(args)
    if model_path is None and args.codec != "wavelet":
        raise ValueError(f"the {args.codec} codec needs a model: give MODEL INPUT or --model (or --codec wavelet)")
    check_outputs({"coded file": args.output}, ([("model", model_path)] if model_path else [])
                  + [("recording", file) for file in recording_files(input_path)])
    signal = select_channels(load_signal(input_path), parse_channels(args.channels))
    report = encode_signal(_load_model(model_path, signal.sampling_rate), signal, args.output, codec=args.codec, prdn=args.prdn, prd=args.prd,
                           quantization=args.quantization, window=args.window, coder=args.coder, wavelet=args.wavelet,
                           embed_model=args.embed_model, fill=args.fill)
    if args.json:
        print(strict_json(asdict(report)))
        return 0
    print(f"{args.output}: {report.file_bytes} bytes, {report.bits_per_sample:.3f} bits/sample, compression ratio "
          f"{report.compression_ratio:.1f}, PRD {report.prd:.2f} %, PRDN {report.prdn:.2f} %, SNR {report.snr_db:.1f} dB")
    if len(report.per_channel) > 1:
        for channel in report.per_channel:
            print(f"  channel {channel.name!r}: PRD {channel.prd:.2f} %, PRDN {channel.prdn:.2f} %, SNR {channel.snr_db:.1f} dB")
    return 0


def _run_decode(args: argparse.Namespace) -> int:
    from sanets._files import check_outputs
    from sanets.codec import decode_file
    from sanets.codec._format import read_file
    from sanets.datasets import save_signal

    if args.output.suffix.lower() not in (".npy", ".csv"):
        raise ValueError(f"{str(args.output)!r}: the output must be a .npy or .csv file")
    check_outputs({"decoded recording": args.output},
                  [(".san file", args.input)] + ([] if args.model is None else [("model", args.model)]))
    # Only a pretrained name needs the file's sampling rate (to resample its kernels).
    rate = read_file(args.input)[0].get("sampling_rate") if args.model is not None and not args.model.is_file() else None
    model = None if args.model is None else _load_model(args.model, rate)
    data, header = decode_file(args.input, model)
    save_signal(args.output, data, header["channel_names"] or [f"ch{i}" for i in range(len(data))])
    print(f"{args.output}: {data.shape[0]} channel(s) x {data.shape[1]} samples")
    return 0


def _run_rd(args: argparse.Namespace) -> int:
    from sanets._files import strict_json
    from sanets.codec import rate_distortion
    from sanets.datasets import load_signal, select_channels

    for path in args.inputs:
        signal = select_channels(load_signal(path), parse_channels(args.channels))
        model = _load_model(args.model, signal.sampling_rate)
        for row in rate_distortion(model, signal, args.prdn, wavelet=args.wavelet, fill=args.fill):
            row = {"input": str(path), **row}
            if args.json:
                print(strict_json(row), flush=True)
                continue
            san = ("no model" if model is None else f"{row['san_bits_per_sample']:.3f} bits/sample (PRDN {row['san_prdn']:.2f} %, "
                   + ", ".join("no spikes" if choice[0] is None else f"spikes, {choice[2]} rounds" for choice in row["san_choices"]) + ")"
                   if row["san_bits_per_sample"] is not None else f"out of reach (floor {row['san_floor']:.2f} %)")
            print(f"{path} PRDN {row['target_prdn']:g} %: san {san}; wavelet {row['wavelet_bits_per_sample']:.3f} bits/sample "
                  f"(PRDN {row['wavelet_prdn']:.2f} %, {', '.join(row['wavelet'])})", flush=True)
    return 0


def _run_inspect(args: argparse.Namespace) -> int:
    from sanets._files import strict_json
    from sanets.codec import inspect_file

    print(strict_json(inspect_file(args.input), indent=2))
    return 0
