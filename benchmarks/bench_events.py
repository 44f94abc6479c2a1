"""A SAN's spikes against the MIT-BIH cardiologists' beat annotations: beats found, beat classes, speed (issue 32).

Run by hand (not part of the tests)::

    python benchmarks/bench_events.py --data-dir ../shared/data [--records 100 203] [--seconds S]
        [--figure docs/user_guide/events.png] [--xqrs-cache DIR] [--json OUT.jsonl]

Every record of ``<data-dir>/physionet/mitdb`` with ``.atr`` annotations, channel 0 (MLII), whole records unless
``--seconds``. Non-beat annotations are excluded; a detection matches a beat within 150 ms
(:func:`sanets._beat_scores.score_beats`, i.e. ``wfdb.processing.compare_annotations``).

Beats (:func:`sanets.detect_beats`, the same band-pass and rule for every column):

- ``self``: a SAN of two kernels of 0.1 s (:data:`sanets._beats.BEAT_KERNELS`) fitted without labels on the
  record itself (:func:`fit_beat_model`);
- ``others``: the same, fitted on the other records (leave one out);
- ``xqrs``: ``wfdb.processing.xqrs_detect`` on the raw channel (its own filters);
- controls: a delta kernel; the untrained kernel (a SAN's N(0, 0.1) initialisation, as it is); that kernel made
  zero-mean (a zero-mean kernel is a high-pass filter of its own); and that kernel made blind to slow waves like the
  learned ones (:func:`sanets._beats.blind_to_slow_waves`: what the projection does without the learned shape).

Classes: each reference beat's kernel is that of the largest spike within 50 ms of it, for a SAN of 8 zero-mean
kernels of 0.1 s learned where the record's energy peaks (:func:`fit_beat_model`'s first pass); k-means (scikit-learn, 8 clusters) clusters the same band-passed windows of 0.1 s centred on the
beats. Each cluster is named by the majority AAMI class of its beats in the first half of the record and scored on
the second half: V beats' sensitivity, positive predictivity and F1 (records with at least 50 V beats starred).
Speed: ``sanets.events`` of the record's two leads with the beat SAN and with the pretrained ``ecg`` model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import sanets
from sanets._beat_scores import BEAT_SYMBOLS, aami_classes, class_scores, score_beats
from sanets._beats import (
    beat_model,
    blind_to_slow_waves,
    fit_beat_model,
    remove_baseline,
)
from sanets.codec._learn import learn_kernels
from sanets.datasets import load_signal

CLASS_KERNELS = 8
CLASS_WINDOW = 0.05  # s each side of a beat in which its kernel's spike lies


def load(record: Path, seconds: float | None) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray]:
    """Channel 0, its rate, the reference beats' samples and symbols within the span, and both leads."""
    import wfdb

    signal = load_signal(record.with_suffix(".hea"))
    end = signal.n_samples if seconds is None else round(seconds * signal.sampling_rate)
    annotation = wfdb.rdann(str(record), "atr")
    symbols = np.asarray(annotation.symbol)
    beats = np.isin(symbols, list(BEAT_SYMBOLS)) & (annotation.sample < end)
    return signal.data[0, :end], signal.sampling_rate, annotation.sample[beats], symbols[beats], signal.data[:, :end]


def xqrs(x: np.ndarray, rate: float, cache: Path | None, name: str) -> np.ndarray:
    """``xqrs_detect`` of one channel, kept in ``cache`` (it takes seconds per record)."""
    from wfdb.processing import xqrs_detect

    file = None if cache is None else cache / f"xqrs-{name}-{len(x)}.npy"
    if file is not None and file.is_file():
        return np.load(file)
    found = np.asarray(xqrs_detect(x, rate, verbose=False), dtype=np.int64)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.save(file, found)
    return found


def controls(rate: float) -> dict[str, sanets.SAN]:
    width = max(round(0.1 * rate), 3)
    untrained = sanets.SAN([width], "extrema", seed=0).kernel_weights()[0].detach().double().numpy()[None]
    return {"delta": beat_model(np.ones((1, 1)), rate), "untrained": beat_model(untrained, rate),
            "untrained-zm": beat_model(untrained - untrained.mean(), rate), "untrained-blind": beat_model(blind_to_slow_waves(untrained), rate)}


def kernel_of_each_beat(model: sanets.SAN, filtered: np.ndarray, rate: float, beats: np.ndarray) -> np.ndarray:
    """The kernel of the largest spike within :data:`CLASS_WINDOW` of each beat (-1 where none fired)."""
    spikes = sanets.events(model, filtered, sampling_rate=rate, as_frame=False)
    reach = round(CLASS_WINDOW * rate)
    kernels = np.full(len(beats), -1)
    for i, beat in enumerate(beats):
        lo, hi = np.searchsorted(spikes["sample"], [beat - reach, beat + reach + 1])
        if hi > lo:
            kernels[i] = spikes["kernel"][lo + int(np.argmax(np.abs(spikes["amplitude"][lo:hi])))]
    return kernels


def classes(x: np.ndarray, rate: float, beats: np.ndarray, symbols: np.ndarray) -> dict[str, object]:
    """V-beat scores of the SAN's kernels and of k-means as beat classes (first half names, second half scored)."""
    from sklearn.cluster import KMeans

    aami = aami_classes(symbols)
    width = max(round(0.1 * rate), 3)
    filtered = remove_baseline(x, rate)
    inside = (beats >= width) & (beats < len(x) - width) & (aami != "")
    beats, aami = beats[inside], aami[inside]
    cut = len(beats) // 2
    shapes = learn_kernels([filtered], CLASS_KERNELS, width)  # where the energy peaks, as fit_beat_model's first pass
    # Zero-mean, not blind to slow waves: a ventricular beat is broad, and its slow part is what sets it apart.
    san = kernel_of_each_beat(beat_model(shapes - shapes.mean(axis=1, keepdims=True), rate), filtered, rate, beats)
    windows = np.stack([filtered[b - width // 2 : b - width // 2 + width] for b in beats])
    kmeans = KMeans(n_clusters=CLASS_KERNELS, n_init=10, random_state=0).fit_predict(windows)
    return {"v_beats": int(np.sum(aami == "V")), "san": class_scores(san, aami, cut), "kmeans": class_scores(kmeans, aami, cut)}


def speed(leads: np.ndarray, rate: float, model: sanets.SAN) -> dict[str, float]:
    """Seconds of ``sanets.events`` on both leads (after one call that compiles), for the beat SAN and ``ecg``."""
    from sanets.pretrained import pretrained

    found = {}
    for name, san in (("beat SAN", model), ("pretrained ecg", pretrained("ecg", rate))):
        sanets.events(san, leads[:, : round(10 * rate)], sampling_rate=rate, as_frame=False)
        started = time.perf_counter()
        table = sanets.events(san, leads, sampling_rate=rate, as_frame=False)
        found[name] = time.perf_counter() - started
        print(f"speed: events of {leads.shape[0]} leads x {leads.shape[1] / rate / 60:.1f} min with the {name} "
              f"({san.num_kernels} kernels of {san.kernel_sizes[0]}): {found[name]:.2f} s, {len(table)} spikes", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--records", nargs="+", default=None, help="record names (default: every annotated record)")
    parser.add_argument("--seconds", type=float, default=None, help="the first S seconds of each record (default: whole)")
    parser.add_argument("--figure", type=Path, default=None, help="write the events figure of the record of most V beats")
    parser.add_argument("--xqrs-cache", type=Path, default=None, help="keep xqrs detections here between runs")
    parser.add_argument("--json", type=Path, default=None, help="one JSON object per record")
    args = parser.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    folder = args.data_dir / "physionet" / "mitdb"
    names = args.records or sorted(p.stem for p in folder.glob("*.atr"))
    data = {name: load(folder / name, args.seconds) for name in names}
    rate = next(iter(data.values()))[1]
    print(f"{len(names)} records, channel 0, {'whole' if args.seconds is None else f'first {args.seconds:g} s'}; "
          "F1 % (Se/PPV % where shown), median timing error in ms", flush=True)
    header = f"{'record':>6} {'beats':>5} | {'self Se/PPV/F1':>20} {'err':>4} | {'others':>6} | {'xqrs':>6} | " \
             f"{'delta':>6} {'untrnd':>6} {'unt-zm':>6} {'unt-bl':>6}"
    print(header + "\n" + "-" * len(header), flush=True)
    rows = []
    for name, (x, rate, beats, symbols, _) in data.items():
        others = [data[o][0] for o in names if o != name] or [x]
        models = {"self": fit_beat_model([x], rate), "others": fit_beat_model(others, rate)} | controls(rate)
        scores = {key: score_beats(beats, sanets.detect_beats(model, x, sampling_rate=rate, as_frame=False)["sample"], rate)
                  for key, model in models.items()}
        scores["xqrs"] = score_beats(beats, xqrs(x, rate, args.xqrs_cache, name), rate)
        s = scores["self"]
        print(f"{name:>6} {len(beats):>5} | {100 * s.sensitivity:6.2f} {100 * s.ppv:6.2f} {100 * s.f1:6.2f} "
              f"{1000 * s.median_error:4.0f} | " + " | ".join(f"{100 * scores[k].f1:6.2f}" for k in ("others", "xqrs"))
              + " | " + " ".join(f"{100 * scores[k].f1:6.2f}" for k in ("delta", "untrained", "untrained-zm", "untrained-blind")), flush=True)
        rows.append({"record": name, "beats": len(beats), **{k: v.__dict__ for k, v in scores.items()}})
    keys = ("self", "others", "xqrs", "delta", "untrained", "untrained-zm", "untrained-blind")
    means = {k: 100 * statistics.mean(row[k]["f1"] for row in rows) for k in keys}
    print("  mean F1 %: " + ", ".join(f"{k} {v:.2f}" for k, v in means.items()))
    for k in ("self", "others"):
        print(f"  {k} >= xqrs on {sum(row[k]['f1'] >= row['xqrs']['f1'] for row in rows)} of {len(rows)} records")
    print(f"\nbeat classes: V beats, second half of each record, {CLASS_KERNELS} SAN kernels vs k-means of "
          f"{CLASS_KERNELS} (* = at least 50 V beats)\n{'record':>7} {'V':>5} | {'SAN Se/PPV/F1 %':>20} | {'k-means Se/PPV/F1 %':>20}")
    for row, (name, (x, rate, beats, symbols, _)) in zip(rows, data.items()):
        found = classes(x, rate, beats, symbols)
        row["classes"] = found
        star = "*" if found["v_beats"] >= 50 else " "
        cells = [" ".join(f"{100 * v:6.1f}" for v in found[k]) for k in ("san", "kmeans")]
        print(f"{name:>6}{star} {found['v_beats']:>5} | {cells[0]} | {cells[1]}", flush=True)
    starred = [row for row in rows if row["classes"]["v_beats"] >= 50]
    better = sum(row["classes"]["san"][2] > row["classes"]["kmeans"][2] for row in starred)
    print(f"  V F1: SAN above k-means on {better} of {len(starred)} records with at least 50 V beats")
    first = names[0]
    speed(data[first][4], data[first][1], fit_beat_model([data[first][0]], data[first][1]))
    if args.figure is not None:
        figure(data, args.figure)
    if args.json is not None:
        args.json.write_text("".join(json.dumps(row) + "\n" for row in rows))


def figure(data: dict, path: Path) -> None:
    """A strip of the record of most V beats, around its first: spikes by kernel, reference symbols, kernels."""
    from sanets.plots import plot_events, save_figure

    name = max(data, key=lambda n: int(np.sum(data[n][3] == "V")))
    x, rate, beats, symbols, _ = data[name]
    model = fit_beat_model([x], rate, kernels=4)
    filtered = remove_baseline(x, rate)
    spikes = sanets.events(model, filtered, sampling_rate=rate, as_frame=False)
    first_v = beats[list(symbols).index("V")] / rate if "V" in set(symbols) else 0.0
    fig = plot_events(filtered, spikes, [w.detach() for w in model.kernel_weights()], rate, reference=(beats, symbols),
                      start=max(first_v - 3.0, 0.0), seconds=8.0,
                      title=f"MIT-BIH {name}: the spikes of 4 kernels learned without labels, and the cardiologists' labels")
    save_figure(fig, path)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
