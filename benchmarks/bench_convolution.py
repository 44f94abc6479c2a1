"""The convolutions' methods: the decoder's FFT against transposed convolutions, and the 2D encoder's kernel
gradient against oneDNN's.

Run by hand (not part of the tests)::

    python benchmarks/bench_convolution.py

Prints milliseconds per forward + backward pass of :func:`sanets._convolution.place_kernels`
with each method, for the shapes of Table I's packed sweep, the codec and Table II, and the
largest difference between the two relative to the largest value. ``FFT_MIN_KERNEL`` is
where the FFT starts to win. Then, for Table III's batches, milliseconds per forward +
backward pass of the 2D similarity (:func:`sanets._convolution.correlate_same`) with
sanets' kernel gradient and with oneDNN's, and each one's distance from the float64 gradient.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

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
    print(f"\n{'2D kernel gradient: images x kernels':>38} {'m':>3} {'oneDNN ms':>10} {'sanets ms':>10} {'ratio':>6} {'oneDNN err':>11} {'sanets err':>11}")
    for n, m in [(64, 3), (64, 6), (256, 6)]:
        x = torch.rand(n, 1, 28, 28)
        kernels = (0.1 * torch.randn(12, m, m)).requires_grad_()
        upstream = torch.randn(n, 12, 28, 28)
        exact_kernels = kernels.detach().double().requires_grad_()
        exact = torch.autograd.grad(convolution.correlate_same(x.double(), exact_kernels), exact_kernels, upstream.double())[0]
        methods = (onednn_similarity, convolution.correlate_same)
        slow_error, fast_error = (
            float((torch.autograd.grad(similarity(x, kernels), kernels, upstream)[0].double() - exact).abs().max() / exact.abs().max())
            for similarity in methods
        )
        # Interleaved rounds, the best of each: a slow spell of a shared machine reaches both alike.
        slow = fast = float("inf")
        for _ in range(3 * args.repeats):
            slow = min(slow, kernel_gradient_milliseconds(methods[0], x, kernels, upstream))
            fast = min(fast, kernel_gradient_milliseconds(methods[1], x, kernels, upstream))
        print(f"{f'{n} x 12':>38} {m:>3} {slow:>10.2f} {fast:>10.2f} {slow / fast:>5.1f}x {slow_error:>11.1e} {fast_error:>11.1e}")


def onednn_similarity(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """The 2D similarity with oneDNN's own kernel gradient (sanets' before the fourth session of 2026-12-03)."""
    return F.conv2d(F.pad(x, convolution.same_padding(kernels.shape[1:])), kernels[:, None])


def kernel_gradient_milliseconds(similarity, x: torch.Tensor, kernels: torch.Tensor, upstream: torch.Tensor) -> float:
    """Milliseconds of one forward pass and its kernel gradient, the mean of 10."""
    start = time.perf_counter()
    for _ in range(10):
        torch.autograd.grad(similarity(x, kernels), kernels, upstream)
    return (time.perf_counter() - start) / 10 * 1e3


if __name__ == "__main__":
    main()
