"""The convolutions' methods: the decoder's FFT against transposed convolutions, the 2D encoder's kernel
gradient against oneDNN's, and Table III's training step with the native correlations against torch's.

Run by hand (not part of the tests)::

    python benchmarks/bench_convolution.py

Prints milliseconds per forward + backward pass of :func:`sanets._convolution.place_kernels`
with each method, for the shapes of Table I's packed sweep, the codec and Table II, and the
largest difference between the two relative to the largest value. ``FFT_MIN_KERNEL`` is
where the FFT starts to win. Then, for Table III's batches, milliseconds per forward +
backward pass of the 2D similarity (:func:`sanets._convolution.correlate_same`) with
oneDNN's kernel gradient, sanets' torch one and the native one (``sanets/_native.c``), and each
one's distance from the float64 gradient. Last, milliseconds per training step of Table III's
packed sweep (12 kernels, m = 1..6, batch 64 of MNIST-sized images) for each activation, with
the native correlations and with torch's alone, in interleaved rounds (the best of each).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import torch
import torch.nn.functional as F

import sanets._convolution as convolution
from sanets import SAN
from sanets.activations import ACTIVATIONS
from sanets.sweep import _PackedSANs


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
    print(f"\n{'2D kernel gradient: images x kernels':>38} {'m':>3} {'oneDNN ms':>10} {'torch ms':>9} {'native ms':>10}"
          f" {'oneDNN err':>11} {'torch err':>10} {'native err':>11}")
    for n, m in [(64, 3), (64, 6), (256, 6)]:
        x = torch.rand(n, 1, 28, 28)
        kernels = (0.1 * torch.randn(12, m, m)).requires_grad_()
        upstream = torch.randn(n, 12, 28, 28)
        exact_kernels = kernels.detach().double().requires_grad_()
        exact = torch.autograd.grad(convolution.correlate_same(x.double(), exact_kernels), exact_kernels, upstream.double())[0]
        methods = (onednn_similarity, partial(with_native, False), partial(with_native, True))
        errors = [
            float((torch.autograd.grad(similarity(x, kernels), kernels, upstream)[0].double() - exact).abs().max() / exact.abs().max())
            for similarity in methods
        ]
        # Interleaved rounds, the best of each: a slow spell of a shared machine reaches all alike.
        best = [float("inf")] * len(methods)
        for _ in range(3 * args.repeats):
            for i, similarity in enumerate(methods):
                best[i] = min(best[i], kernel_gradient_milliseconds(similarity, x, kernels, upstream))
        print(f"{f'{n} x 12':>38} {m:>3} {best[0]:>10.2f} {best[1]:>9.2f} {best[2]:>10.2f}"
              f" {errors[0]:>11.1e} {errors[1]:>10.1e} {errors[2]:>11.1e}")
    print(f"\n{'Table III step: activation':>38} {'torch ms':>9} {'native ms':>10} {'ratio':>6}")
    for activation in ACTIVATIONS:
        steps = [training_step(activation, native) for native in (False, True)]
        best = [float("inf")] * 2
        for _ in range(args.repeats):
            for i, step in enumerate(steps):
                best[i] = min(best[i], step_milliseconds(step))
        print(f"{activation:>38} {best[0]:>9.2f} {best[1]:>10.2f} {best[0] / best[1]:>5.1f}x")
    convolution.NATIVE_ENABLED = True


def onednn_similarity(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """The 2D similarity with oneDNN's own kernel gradient (sanets' before the fourth session of 2026-12-03)."""
    convolution.NATIVE_ENABLED = False
    return F.conv2d(F.pad(x, convolution.same_padding(kernels.shape[1:])), kernels[:, None])


def with_native(native: bool, x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """The 2D similarity through the native correlations or through torch's (sanets' own kernel gradient)."""
    convolution.NATIVE_ENABLED = native
    return convolution.correlate_same(x, kernels)


def training_step(activation: str, native: bool):
    """One Adam step of Table III's packed sweep on a batch of 64 images, as ``fit_sweep`` takes it."""
    packed = _PackedSANs([SAN([m] * 2, activation, dims=2, seed=0) for m in range(1, 7)], (28, 28))
    optimizer = torch.optim.Adam(packed.parameters(), lr=0.01)
    batch = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    def step() -> None:
        convolution.NATIVE_ENABLED = native
        _, reconstructions = packed(batch)
        loss = F.l1_loss(reconstructions, batch.expand_as(reconstructions), reduction="sum") / batch.numel()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def step_milliseconds(step) -> float:
    """Milliseconds of one training step, the mean of 20."""
    start = time.perf_counter()
    for _ in range(20):
        step()
    return (time.perf_counter() - start) / 20 * 1e3


def kernel_gradient_milliseconds(similarity, x: torch.Tensor, kernels: torch.Tensor, upstream: torch.Tensor) -> float:
    """Milliseconds of one forward pass and its kernel gradient, the mean of 10."""
    start = time.perf_counter()
    for _ in range(10):
        torch.autograd.grad(similarity(x, kernels), kernels, upstream)
    return (time.perf_counter() - start) / 10 * 1e3


if __name__ == "__main__":
    main()
