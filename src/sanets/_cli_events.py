"""The ``sanets events`` command: a SAN's spikes, or the beats picked from them, as a CSV table or WFDB annotations."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("csv", "wfdb")

_SPIKE_SYMBOL = '"'  # WFDB's comment annotation: a spike is no beat until the beat rule says so
_BEAT_SYMBOL = "N"  # a detector's beat of unknown class, as wfdb's own detectors write them


def add_events_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "events", help="a SAN's spikes on a recording as events (CSV or WFDB annotations), or the beats among them",
        description="Code a recording (WFDB, EDF, CSV, NPY) with a SAN and write every spike as an event: its sample, "
                    "time in seconds, channel, kernel, scale and signed amplitude. --beats writes one event per "
                    "heartbeat instead, picked from the spikes by a rule that uses no annotation (sanets.detect_beats). "
                    "--format wfdb writes a WFDB annotation file (the kernel as the subtype, the amplitude in the aux "
                    "note) that wfdb.rdann, WAVE and LightWAVE read; OUT's suffix is the annotator name.")
    parser.add_argument("model", type=Path, metavar="MODEL", help="a .safetensors SAN (sanets fit, SAN.save) or a pretrained name (ecg)")
    parser.add_argument("input", type=Path, metavar="INPUT", help="the recording")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="a .csv table, or with --format wfdb an annotation file RECORD.ANNOTATOR (e.g. 100.spk)")
    parser.add_argument("--channels", nargs="+", metavar="C", help="channels by name or index (default: all)")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or wfdb")
    parser.add_argument("--beats", action="store_true", help="one event per detected heartbeat instead of every spike, on the first channel chosen (best with a model from sanets fit --for beats)")
    parser.add_argument("--sampling-rate", type=float, default=None, metavar="HZ",
                        help="the recording's rate where its format states none (CSV, NPY)")
    parser.add_argument("--fill", choices=("linear",), default=None, help="interpolate missing samples instead of refusing them")
    parser.set_defaults(handler=_run_events)


def model_rate(path: Path) -> float | None:
    """The rate a model file's kernels were learned at, from the report ``sanets fit`` writes beside it, if any."""
    report = path.with_suffix(".json")
    try:
        rate = json.loads(report.read_text()).get("sampling_rate") if path.is_file() and report.is_file() else None
    except (OSError, ValueError, AttributeError):
        return None
    return float(rate) if isinstance(rate, (int, float)) else None


def write_csv(path: Path, table: np.ndarray) -> None:
    """The event table as CSV with a header row, atomically."""
    from sanets._files import write_atomically

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(table.dtype.names)
    for row in table.tolist():
        writer.writerow([f"{v:.17g}" if isinstance(v, float) else v for v in row])
    write_atomically(path, lambda file: file.write(text.getvalue().encode()))


def write_wfdb(path: Path, table: np.ndarray, channel_names: tuple[str, ...], sampling_rate: float | None, beats: bool) -> None:
    """The events as a WFDB annotation file ``path`` (``RECORD.ANNOTATOR``): the kernel as subtype, the input
    channel's index as chan, ``k<kernel> <amplitude>`` as aux note; written beside and renamed over ``path``."""
    import numpy as np

    from sanets._extras import require

    wfdb = require("wfdb", "writing WFDB annotations")
    if not path.suffix or not path.suffix[1:].isalnum():
        raise ValueError(f"{str(path)!r}: a WFDB annotation file is named RECORD.ANNOTATOR (e.g. 100.spk)")
    if table["kernel"].max(initial=0) > 127:
        raise ValueError("WFDB subtypes hold kernels 0 to 127; write this model's events as CSV")
    index = {name: i for i, name in enumerate(channel_names)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder:
        wfdb.wrann(path.stem, path.suffix[1:], table["sample"].astype(np.int64),
                   symbol=[_BEAT_SYMBOL if beats else _SPIKE_SYMBOL] * len(table), subtype=table["kernel"].astype(np.int64),
                   chan=np.array([index[name] for name in table["channel"]], dtype=np.int64),
                   aux_note=[f"k{k} {a:+.6g}" for k, a in zip(table["kernel"], table["amplitude"])],
                   fs=sampling_rate, write_dir=folder)
        os.replace(Path(folder) / path.name, path)


def _run_events(args: argparse.Namespace) -> int:
    from sanets._cli_codec import _load_model, parse_channels
    from sanets._events import events
    from sanets._files import check_outputs
    from sanets.datasets import (
        finite_samples,
        load_signal,
        recording_files,
        select_channels,
    )

    if args.format == "csv" and args.output.suffix.lower() != ".csv":
        raise ValueError(f"{str(args.output)!r}: the table is written as .csv (or give --format wfdb)")
    record = args.input.with_suffix("") if args.input.suffix.lower() == ".hea" else args.input
    references = [("reference annotations", file) for file in record.parent.glob(f"{record.name}.*")
                  if file.suffix.lower() in (".atr", ".qrs", ".ecg", ".ari")]
    inputs = [("recording", file) for file in recording_files(args.input)] + references
    check_outputs({"event table": args.output}, ([("model", args.model)] if args.model.is_file() else []) + inputs)
    signal = select_channels(load_signal(args.input), parse_channels(args.channels))
    if args.sampling_rate and signal.sampling_rate and args.sampling_rate != signal.sampling_rate:
        raise ValueError(f"{args.input} states {signal.sampling_rate:g} Hz; --sampling-rate {args.sampling_rate:g} contradicts it")
    rate = args.sampling_rate or signal.sampling_rate
    model = _load_model(args.model, rate)
    signal = dataclasses.replace(signal, data=finite_samples(signal, args.fill))
    if args.beats:
        from sanets._beats import detect_beats

        table = detect_beats(model, signal, sampling_rate=rate, model_rate=model_rate(args.model), as_frame=False)
    else:
        table = events(model, signal, sampling_rate=rate, model_rate=model_rate(args.model), as_frame=False)
    what = "beat" if args.beats else "spike"
    if not len(table):
        print(f"note: no {what}s on {args.input}; " + ("nothing written (a WFDB annotation file holds at least one)"
              if args.format == "wfdb" else f"{args.output} holds the header alone"), file=sys.stderr)
        if args.format == "wfdb":
            return 0
    if args.format == "wfdb":
        write_wfdb(args.output, table, signal.channel_names, rate, args.beats)
    else:
        write_csv(args.output, table)
    print(f"{args.output}: {len(table)} {what}(s) on {signal.n_channels} channel(s)")
    return 0
