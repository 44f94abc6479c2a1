"""Bits per sample of the san codec against the wavelet codec at PRDN 2, 5 and 9 %, on recordings no model saw.

Run by hand (not part of the tests)::

    python benchmarks/bench_codec.py --data-dir ../shared/data [--seconds S] [--plot rd.png] [--json rd.jsonl]

MIT-BIH (every record of ``<data-dir>/physionet/mitdb``, channel 0, whole records): two folds by record order;
each fold's model is ``sanets fit --for codec`` on the other fold (channel 0), so no record is scored with a model
that saw it. The other Table I records (emgdb, ctu-uhb-ctgdb, noneeg, voiced; channel 0): the pretrained ``ecg``
model resampled to the record's rate where it serves that rate, else an untrained SAN of 4 kernels of 0.75 s, at
most 512 samples (the
san codec learns each segment's kernels from the segment itself and sends them; the model is where that starts).
Every cell is a file written, decoded and measured (:func:`sanets.codec.rate_distortion`). ``--plot`` draws bits
per sample against PRDN, one panel per record; ``--speed`` times encoding and decoding a 2-lead recording of
``--seconds`` instead (MIT-BIH 100, or the records joined for longer: ``--seconds 21600`` is a 6-hour Holter).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import sanets
from sanets._threads import available_cores
from sanets.codec import decode_file, encode_signal, rate_distortion
from sanets.datasets import load_signal
from sanets.experiments.codec_models import fit_codec
from sanets.pretrained import pretrained

TARGETS = (2.0, 5.0, 9.0)
CURVE = (1.0, 2.0, 3.0, 5.0, 7.0, 9.0, 12.0)
OTHERS = {"emgdb": "emg_healthy", "ctu-uhb-ctgdb": "1001", "noneeg": "Subject10_AccTempEDA", "voiced": "voice001"}


def first_channel(path: Path, seconds: float | None):
    signal = load_signal(path)
    end = signal.n_samples if seconds is None else round(seconds * signal.sampling_rate)
    return replace(signal, data=signal.data[:1, :end], channel_names=signal.channel_names[:1], units=signal.units[:1])


def fold_models(records: list[Path], folder: Path) -> dict[Path, sanets.SAN]:
    """Each record's model: ``fit --for codec`` on channel 0 of the other fold's records."""
    half = len(records) // 2
    folds = [records[:half], records[half:]]
    models = {}
    for index, fold in enumerate(folds):
        other = folds[1 - index]
        fit = fit_codec(other, folder / f"fold{index}.safetensors", channels=[0], echo=lambda line: None)
        print(f"fold {index + 1}: model of {fit.kernels} kernels x {fit.length} samples from {', '.join(p.stem for p in other)}",
              flush=True)
        models.update({record: fit.model for record in fold})
    return models


def other_model(signal) -> tuple[sanets.SAN, str]:
    try:
        return pretrained("ecg", signal.sampling_rate), "pretrained ecg"
    except ValueError:
        width = min(max(round(0.75 * signal.sampling_rate), 3), 512)
        return sanets.SAN([width] * 4, "extrema", seed=0), f"untrained 4 x {width}"


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the codecs fork workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def speed(data_dir: Path, seconds: float) -> None:
    """Encode and decode a 2-lead MIT-BIH recording at PRDN 5 % with the pretrained model: times real time. Longer
    than a record (a Holter's hours), the records are joined in order."""
    records = [load_signal(path) for path in sorted((data_dir / "physionet" / "mitdb").glob("*.hea"))]
    signal = records[0]
    data = np.concatenate([record.data for record in records], axis=1)[:, : round(seconds * signal.sampling_rate)]
    signal = replace(signal, data=data)
    duration = signal.n_samples / signal.sampling_rate
    with tempfile.TemporaryDirectory() as folder:
        warm = replace(signal, data=signal.data[:, :20000])  # numba's compilation (cached on disk) is not timed
        encode_signal(pretrained("ecg"), warm, Path(folder) / "w.san", codec="san", prdn=5.0)
        for codec, model in (("san", pretrained("ecg")), ("wavelet", None)):
            start, cpu = time.perf_counter(), _cpu()
            report = encode_signal(model, signal, Path(folder) / "r.san", codec=codec, prdn=5.0)
            encoded, encoded_cpu = time.perf_counter() - start, _cpu() - cpu
            start = time.perf_counter()
            decode_file(Path(folder) / "r.san", model)
            decoded = time.perf_counter() - start
            print(f"{codec}: 2 leads x {duration:.0f} s at PRDN 5 %: {report.bits_per_sample:.3f} bits/sample; encode {encoded:.1f} s "
                  f"({duration / encoded:.0f}x real time, the decode check included; {encoded_cpu:.1f} s of CPU on "
                  f"{available_cores()} cores), decode {decoded:.2f} s ({duration / decoded:.0f}x)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--seconds", type=float, default=None, help="code only the first S seconds of each record")
    parser.add_argument("--plot", type=Path, default=None, help="draw bits/sample against PRDN to this PNG")
    parser.add_argument("--json", type=Path, default=None, help="append every row, as it is measured, to this JSON-lines file")
    parser.add_argument("--speed", action="store_true", help="time encoding and decoding instead")
    args = parser.parse_args()
    if args.speed:
        speed(args.data_dir, args.seconds or 1805.0)
        return
    targets = sorted(set(TARGETS) | (set(CURVE) if args.plot else set()))
    records = sorted((args.data_dir / "physionet" / "mitdb").glob("*.hea"))
    rows, ratios = [], {target: [] for target in TARGETS}
    print(f"{'record':<28}{'model':<22}" + "".join(f"{f'PRDN {t:g} %: san / wavelet':>30}" for t in TARGETS), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        models = fold_models(records, Path(folder)) if records else {}
        others = [args.data_dir / "physionet" / db / f"{record}.hea" for db, record in OTHERS.items()]
        for path in records + [p for p in others if p.is_file()]:
            signal = first_channel(path, args.seconds)
            model, origin = (models[path], "the other fold") if path in models else other_model(signal)
            found = rate_distortion(model, signal, targets, fill="linear")
            cells = []
            for row in found:
                rows.append({"input": f"{path.parent.name}/{path.stem}", "model": origin, **row})
                if args.json:
                    with args.json.open("a") as file:
                        file.write(json.dumps(rows[-1]) + "\n")
                if row["target_prdn"] not in TARGETS:
                    continue
                san, wavelet = row["san_bits_per_sample"], row["wavelet_bits_per_sample"]
                if san is None:
                    cells.append(f"out of reach ({row['san_floor']:.2f} %) / {wavelet:.3f}")
                    continue
                ratio = san / wavelet
                if path in models:
                    ratios[row["target_prdn"]].append(ratio)
                cells.append(f"{san:.3f} / {wavelet:.3f} = {ratio:.2f}")
            print(f"{path.parent.name + '/' + path.stem:<28}{origin:<22}" + "".join(f"{c:>30}" for c in cells), flush=True)
    for target, values in ratios.items():
        if values:
            print(f"MIT-BIH, PRDN {target:g} %: median san/wavelet {statistics.median(values):.3f}, worst {max(values):.3f}, "
                  f"san smaller on {sum(v <= 1 for v in values)} of {len(values)}")
    if args.plot:
        plot(rows, args.plot)


def plot(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    inputs = list(dict.fromkeys(row["input"] for row in rows))
    columns = 4
    figure = Figure(figsize=(3.2 * columns, 2.6 * -(-len(inputs) // columns)), layout="constrained")
    axes = figure.subplots(-(-len(inputs) // columns), columns, squeeze=False).ravel()
    for ax, name in zip(axes, inputs):
        mine = [row for row in rows if row["input"] == name]
        for codec, style in (("san", "o-"), ("wavelet", "s--")):
            points = [(row[f"{codec}_prdn"], row[f"{codec}_bits_per_sample"]) for row in mine if row[f"{codec}_bits_per_sample"]]
            if points:
                ax.plot(*zip(*points), style, label=codec, markersize=3)
        ax.set(title=name, xlabel="PRDN (%)", ylabel="bits per sample")
        ax.legend(fontsize="x-small")
    for ax in axes[len(inputs) :]:
        ax.remove()
    figure.savefig(path, dpi=90)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
