"""Rate-distortion of the .san codec against a wavelet codec built the same way, on the shared PhysioNet records.

Run by hand (not part of the tests)::

    python benchmarks/bench_codec.py --data-dir ../shared/data [--passes 80] [--epochs 30] [--seconds 300] [--plot rd.png]

Per record, a SAN of the ``pursuit-gaussian`` variant (Gaussian-derivative
kernels of 7-127 samples, matching pursuit with ``--passes`` spikes per window)
is trained with Alg. 4 on the record's training windows, then the record's first
``--seconds`` (every channel) are written as a .san file at the coarsest quantisation step that
reaches PRD 2 %, 5 % and 9 %. The wavelet codec cuts and standardises the same
windows, keeps the wavelet coefficients (the wavelet and mode chosen on the
record's validation windows by the classical baseline) and quantises them with
the same uniform quantiser, writes them as the same streams with the same coder
and framing, and is bisected on its step the same way. Printed: bits per sample
at each PRD, or the lowest PRD a codec reaches where it cannot reach the target.
``--plot`` also draws bits per sample against PRD from 1 % to 20 % per record.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pywt
import torch

import sanets
from sanets import codec
from sanets.baselines import BASELINES
from sanets.codec import encode_signal
from sanets.codec._format import chunk_payloads, write_file
from sanets.datasets import finite_samples, load_physionet, load_signal

RECORDS = {"mitdb": "mitdb/100", "emgdb": "emgdb/emg_healthy", "ctu-uhb-ctgdb": "ctu-uhb-ctgdb/1001"}
TARGETS = (2.0, 5.0, 9.0)
CURVE = (1.0, 2.0, 3.0, 5.0, 7.0, 9.0, 12.0, 15.0, 20.0)


def wavelet_bits(data: np.ndarray, wavelet: str, mode: str, target: float, window: int = 1000) -> float:
    """Bits per sample of the wavelet codec at the coarsest step reaching PRD ``target`` (%)."""
    x, mean, std = codec._windows(data, window)
    bands = pywt.wavedec(x.astype(np.float64), wavelet, mode=mode, axis=-1)
    coefficients, edges = np.concatenate(bands, axis=-1), np.cumsum([band.shape[-1] for band in bands])[:-1]

    def decoded(step: float) -> np.ndarray:
        restored = pywt.waverec(np.split(np.round(coefficients / step) * step, edges, axis=-1), wavelet, mode=mode, axis=-1)
        return codec._destandardised(restored[:, :window], mean, std, data.shape)

    step = codec.coarsest_step(decoded, data, target, float(np.abs(coefficients).max()) * 2)
    levels = torch.from_numpy(np.round(coefficients / step).astype(np.int64))[:, None]
    header = {"wavelet": wavelet, "mode": mode, "samples": data.shape[1], "channels": data.shape[0], "window": window,
              "windows": len(levels), "quantization": step, "coder": "lzma"}
    payloads = chunk_payloads(levels, mean, std)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.san"
        write_file(path, header, payloads, "lzma")
        return 8 * path.stat().st_size / data.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--passes", type=int, default=80)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--records", nargs="+", default=list(RECORDS))
    parser.add_argument("--seconds", type=float, default=300.0, help="seconds of each record to code (default: 300)")
    parser.add_argument("--plot", type=Path, default=None, help="also draw bits/sample against PRD (1-20 %%) to this PNG")
    args = parser.parse_args()
    targets = sorted(set(TARGETS) | (set(CURVE) if args.plot else set()))
    print(f"{'record':<15}{'codec':<34}" + "".join(f"{f'PRD {t:g} %':>14}" for t in targets) + f"{'time':>8}")
    curves: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for database in args.records:
        splits = load_physionet(database, data_dir=args.data_dir, download=False)
        signal = load_signal(args.data_dir / "physionet" / f"{RECORDS[database]}.hea")
        signal = replace(signal, data=signal.data[:, : round(args.seconds * signal.sampling_rate)])
        start = time.perf_counter()
        sizes = [7, 15, 31, 63, 127]
        model = sanets.SAN(sizes, "topk-absolutes", sparsity=[1] * 5, competition="across-kernels", passes=args.passes,
                           unit_norm=True, kernel_family="gaussian-derivatives", seed=0)
        sanets.fit(model, splits.train, splits.validation, epochs=args.epochs, batch_size=2, seed=0)
        cells, curve = [], curves.setdefault(database, {})
        for target in targets:
            with tempfile.TemporaryDirectory() as folder:
                try:
                    report = encode_signal(model, signal, Path(folder) / "r.san", prd=target, fill="linear")
                    cells.append(f"{report.bits_per_sample:.3f}")
                    curve.setdefault("SAN", []).append((report.prd, report.bits_per_sample))
                except ValueError as error:
                    floor = str(error).rsplit("PRD ", 1)[-1].rstrip("%")
                    cells.append(f"> {floor}%")
        print(f"{database:<15}{f'SAN pursuit-gaussian T={args.passes}':<34}" + "".join(f"{c:>14}" for c in cells)
              + f"{time.perf_counter() - start:7.0f}s", flush=True)
        start = time.perf_counter()
        baseline = BASELINES["wavelet"]()
        baseline.fit(splits.train, splits.validation, seed=0)
        wavelet, mode = baseline.parameters.split("/")[:2]
        data = finite_samples(signal, "linear")  # as encode_signal(fill="linear")
        bits = [wavelet_bits(data, wavelet, mode, target) for target in targets]
        curve[f"wavelet {wavelet}"] = list(zip(targets, bits))
        cells = [f"{b:.3f}" for b in bits]
        print(f"{database:<15}{f'wavelet {wavelet}/{mode}':<34}" + "".join(f"{c:>14}" for c in cells)
              + f"{time.perf_counter() - start:7.0f}s", flush=True)

    if args.plot:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(4 * len(curves), 3.5), layout="constrained")
        for ax, (database, lines) in zip(figure.subplots(1, len(curves), squeeze=False)[0], curves.items()):
            for label, points in lines.items():
                ax.plot(*zip(*points), marker="o", label=label)
            ax.set(title=database, xlabel="PRD (%)", ylabel="bits per sample")
            ax.legend(fontsize="small")
        figure.savefig(args.plot, dpi=100)
        print(f"figure: {args.plot}")


if __name__ == "__main__":
    main()
