"""Speed of the sparse activations: microseconds per map, and the ratio to naive loops.

Run by hand (not part of the tests)::

    python benchmarks/bench_activations.py            # CPU, and CUDA when present
    python benchmarks/bench_activations.py --quick    # fewer repeats

For every activation it times sanets on a batch of maps (1D: 1000 samples, as a
PhysioNet window; 2D: 28 x 28, as an MNIST image) and, in the same run on the
same maps, a naive implementation that loops in Python over examples (and, for
Extrema, over candidates, as the authors' code does). The issue's reference:
the authors' Extrema took 7.1 ms (d = 7) and 1.3 ms (d = 47) per 1000-sample
signal and 0.8-19 ms per 28 x 28 map on a 2-core machine; the target is >= 100x.

Two kinds of maps: white noise (the most candidates, the worst case) and the
similarity maps of a SAN on real ECG (pywt.data.ecg correlated with a smooth
kernel of size m = d + 3), which is what the activation sees in training.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pywt
import torch
import torch.nn.functional as F

from sanets import activations
from sanets.activations import _pool, _topk
from sanets.activations._extrema import extrema_candidates


def naive_extrema(x: torch.Tensor, min_distance: int) -> torch.Tensor:
    """The authors' algorithm: per map, a Python loop over the candidates sorted by |x|.

    Each candidate not yet marked secondary is kept and marks the candidates
    within the distance as secondary (one vectorised step per kept candidate).
    """
    out = torch.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            values = x[n, c]
            candidates = extrema_candidates(values[None, None])[0, 0]
            positions = candidates.nonzero()
            order = torch.argsort(values[candidates].abs(), descending=True, stable=True)
            positions = positions[order]
            secondary = torch.zeros(len(positions), dtype=torch.bool)
            for i in range(len(positions)):
                if not secondary[i]:
                    secondary |= ((positions - positions[i]).abs() <= min_distance).all(1)
                    secondary[i] = False
            kept = positions[~secondary]
            out[n, c][tuple(kept.T)] = values[tuple(kept.T)]
    return out


def naive_per_map(function):
    """Apply ``function`` to one (1, 1, *spatial) map at a time."""

    def loop(x: torch.Tensor, *parameter) -> torch.Tensor:
        return torch.cat([function(x[n : n + 1, c : c + 1], *parameter) for n in range(x.shape[0]) for c in range(x.shape[1])]).view_as(x)

    return loop


def ecg_similarity_1d(count: int, length: int, kernel_size: int) -> torch.Tensor:
    signal = torch.tensor(pywt.data.ecg(), dtype=torch.float32)
    signal = (signal - signal.mean()) / signal.std()
    starts = torch.randint(0, len(signal) - length, (count,), generator=torch.Generator().manual_seed(0))
    windows = torch.stack([signal[s : s + length] for s in starts.tolist()])[:, None]
    kernel = torch.signal.windows.gaussian(kernel_size, std=kernel_size / 6)
    return F.conv1d(windows, kernel[None, None], padding="same")


def ecg_similarity_2d(count: int, size: int, kernel_size: int) -> torch.Tensor:
    from sklearn.datasets import load_digits

    digits = torch.tensor(load_digits().images, dtype=torch.float32) / 16
    images = F.interpolate(digits[:count, None], size=(size, size), mode="bilinear")
    kernel = torch.outer(*(2 * [torch.signal.windows.gaussian(kernel_size, std=kernel_size / 4)]))
    return F.conv2d(images, kernel[None, None], padding="same")


MAX_RUNS_PER_ROUND = 20


def best_seconds(calls, repeats: int) -> list[float]:
    """The best wall time of each ``(function, arguments, device)`` over ``repeats`` rounds.

    The calls alternate within each round, so that a slow spell of a shared
    machine (common: the same call can take twice as long for seconds at a
    time) reaches all of them alike and their ratio stays meaningful. Within a
    round each call runs for about as long as the slowest one does once (as
    timeit gives a fast statement more loops): a call 300 times faster than the
    naive loop would otherwise have a tenth of a percent of the time to meet a
    quiet moment of the machine, and its best time would say more about the
    machine than about the call.
    """

    def timed(function, arguments, device) -> float:
        start = time.perf_counter()
        function(*arguments)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    first = [timed(*call) for call in calls]  # also the warm-up: compile, allocate
    runs = [min(MAX_RUNS_PER_ROUND, max(1, round(max(first) / seconds))) for seconds in first]
    best = [float("inf")] * len(calls)
    for _ in range(repeats):
        best = [min(b, *(timed(*call) for _ in range(count))) for b, call, count in zip(best, calls, runs)]
    return best


def cases(quick: bool):
    """(label, maps, activation name, parameter, authors' ms per map or None)."""
    count_1d, count_2d = (256, 256) if quick else (1024, 1024)
    noise_1d = torch.randn(count_1d, 1, 1000, generator=torch.Generator().manual_seed(0))
    noise_2d = torch.randn(count_2d, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    yield "1D noise", noise_1d, "identity", None, None
    yield "1D noise", noise_1d, "relu", None, None
    yield "1D noise", noise_1d, "topk-absolutes", 142, None
    yield "1D noise", noise_1d, "extrema-pool-indices", 7, None
    for distance, authors_ms in [(7, 7.1), (47, 1.3)]:
        yield "1D noise", noise_1d, "extrema", distance, authors_ms
        yield "1D ECG similarity", ecg_similarity_1d(count_1d, 1000, distance + 3), "extrema", distance, authors_ms
    yield "2D noise", noise_2d, "topk-absolutes", 81, None
    yield "2D noise", noise_2d, "extrema-pool-indices", 3, None
    for distance in [0, 1, 2, 4]:
        yield "2D noise", noise_2d, "extrema", distance, None
        yield "2D digits similarity", ecg_similarity_2d(count_2d, 28, distance + 2), "extrema", distance, None


def compiled_paths(repeats: int) -> None:
    """Top-k and Extrema-Pool on the CPU: the compiled masks against the tensor operations (what other devices run),
    alternating on the same maps: Table III's packed similarity maps (a batch of 64, two 28 x 28 kernels of each
    m = 1..6; k = (28 // m)^2, windows m x m) and 1D maps of 1000 samples (Table I's k = 1000 // m and windows m,
    for m = 1..12)."""
    generator = torch.Generator().manual_seed(0)
    maps_2d, maps_1d = torch.randn(64, 12, 28, 28, generator=generator), torch.randn(64, 12, 1000, generator=generator)
    sizes_2d, sizes_1d = [m for m in range(1, 7) for _ in range(2)], list(range(1, 13))
    cases = [
        ("top-k", _topk, _topk.topk_checked, [
            ("2D, Table III's 12 maps", maps_2d, torch.tensor([(28 // m) ** 2 for m in sizes_2d])),
            ("1D, 1000 samples, 12 maps", maps_1d, torch.tensor([1000 // m for m in sizes_1d])),
        ]),
        ("Extrema-Pool", _pool, _pool.pool_checked, [
            ("2D, Table III's 12 maps", maps_2d, torch.tensor([[m, m] for m in sizes_2d])),
            ("1D, 1000 samples, 12 maps", maps_1d, torch.tensor([[m] for m in sizes_1d])),
        ]),
    ]
    for name, module, checked, tables in cases:

        def path(compiled: bool, module=module, checked=checked):
            def call(maps: torch.Tensor, parameters: torch.Tensor) -> torch.Tensor:
                module.COMPILED_ON_CPU = compiled
                return checked(maps, parameters)

            return call

        print(f"\n{name} on the CPU, ms per batch of 64: compiled mask vs tensor operations")
        for label, x, table in tables:
            assert torch.equal(path(True)(x, table), path(False)(x, table))
            compiled, tensor = best_seconds([(path(True), (x, table), torch.device("cpu")),
                                             (path(False), (x, table), torch.device("cpu"))], repeats)
            print(f"{label:<28}{compiled * 1e3:>8.2f}{tensor * 1e3:>8.2f}{tensor / compiled:>7.1f}x")
        module.COMPILED_ON_CPU = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer maps and repeats")
    parser.add_argument("--naive-maps", type=int, default=16, help="maps timed with the naive loops")
    args = parser.parse_args()
    repeats = 3 if args.quick else 9
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices: {', '.join(map(str, devices))}")
    header = f"{'maps':<22}{'activation':<22}{'param':>6}{'device':>8}{'us/map':>10}{'naive us/map':>14}{'ratio':>8}{'authors us':>12}{'vs authors':>12}"
    print(header)
    print("-" * len(header))
    for label, maps, name, parameter, authors_ms in cases(args.quick):
        parameters = () if parameter is None else (parameter,)
        function = activations.ACTIVATIONS[name].function
        naive = naive_extrema if name == "extrema" else naive_per_map(function)
        sample = maps[: args.naive_maps]
        assert torch.equal(naive(sample, *parameters), function(sample, *parameters)), (label, name)
        cpu = torch.device("cpu")
        calls = [(naive, (sample, *parameters), cpu)] + [(function, (maps.to(d), *parameters), d) for d in devices]
        naive_seconds, *ours_seconds = best_seconds(calls, repeats)
        naive_us = naive_seconds / len(sample) * 1e6
        for device, seconds in zip(devices, ours_seconds):
            ours_us = seconds / len(maps) * 1e6
            authors = "" if authors_ms is None else f"{authors_ms * 1000:.0f}"
            versus = "" if authors_ms is None else f"{authors_ms * 1000 / ours_us:.0f}x"
            print(
                f"{label:<22}{name:<22}{'' if parameter is None else parameter:>6}{device.type:>8}"
                f"{ours_us:>10.2f}{naive_us:>14.1f}{naive_us / ours_us:>7.0f}x{authors:>12}{versus:>12}"
            )
    compiled_paths(repeats)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
