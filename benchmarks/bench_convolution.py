"""The decoder's kernel placement: FFT against transposed convolutions, forward and backward.

Run by hand (not part of the tests)::

    python benchmarks/bench_convolution.py

Prints milliseconds per forward + backward pass of :func:`sanets._convolution.place_kernels`
with each method, for the shapes of Table I's packed sweep, the codec and Table II, and the
largest difference between the two relative to the largest value. ``FFT_MIN_KERNEL`` is
where the FFT starts to win.
"""

from __future__ import annotations

import argparse
import time

import torch

import sanets._convolution as convolution


def milliseconds(codes: torch.Tensor, kernels: torch.Tensor, threshold: int, repeats: int) -> tuple[float, torch.Tensor]:
    convolution.FFT_MIN_KERNEL = threshold
    placed = convolution.place_kernels(codes, kernels)
    placed.sum().backward()
    start = time.perf_counter()
    for _ in range(repeats):
        convolution.place_kernels(codes, kernels).sum().backward()
    return (time.perf_counter() - start) / repeats * 1e3, placed.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'examples x channels x samples':>30} {'m':>4} {'transposed ms':>14} {'FFT ms':>8} {'ratio':>6} {'max diff':>9}")
    for n, c, length in [(2, 249, 1000), (256, 1, 1000), (16, 2, 178)]:
        for m in (8, 16, 32, 64, 128, 249):
            if m > length:
                continue
            codes = torch.randn(n, c, length).requires_grad_()
            kernels = torch.randn(c, m).requires_grad_()
            direct, expected = milliseconds(codes, kernels, 10**9, args.repeats)
            fft, placed = milliseconds(codes, kernels, 1, args.repeats)
            difference = float((placed - expected).abs().max() / expected.abs().max())
            print(f"{f'{n} x {c} x {length}':>30} {m:>4} {direct:>14.2f} {fft:>8.2f} {direct / fft:>5.1f}x {difference:>9.1e}")


if __name__ == "__main__":
    main()
