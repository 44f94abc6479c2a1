"""The compiled matching pursuit against a pursuit written out here, and against the SAN's passes it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sanets import _matching_pursuit as matching_pursuit
from sanets.model import SAN


def naive_pursuit(x: np.ndarray, kernels: list[np.ndarray], passes: int) -> np.ndarray:
    """Matching pursuit as a textbook writes it: correlate what is left with every kernel at every position (zero
    beyond the signal, a kernel of m samples at p spanning p - (m - 1) // 2 ...), keep the largest |value| (the first
    kernel, then the first position, among equals), subtract that kernel placed there and cut to the signal."""
    length = len(x)
    codes = np.zeros((len(kernels), length))
    residual = x.astype(np.float64).copy()
    for _ in range(passes):
        best, chosen = 0.0, None
        for p in range(length):
            for k, kernel in enumerate(kernels):
                start = p - (len(kernel) - 1) // 2
                value = sum(residual[start + i] * kernel[i] for i in range(len(kernel)) if 0 <= start + i < length)
                if abs(value) > best:
                    best, chosen = abs(value), (k, p, value)
        if chosen is None:
            break
        k, p, value = chosen
        codes[k, p] += value
        start = p - (len(kernels[k]) - 1) // 2
        for i, weight in enumerate(kernels[k]):
            if 0 <= start + i < length:
                residual[start + i] -= value * weight
    return codes


@pytest.mark.parametrize("sizes", [(3,), (5, 2, 9), (4, 40)])
def test_pursue_matches_the_textbook_pursuit(sizes):
    generator = np.random.default_rng(len(sizes))
    x = generator.standard_normal((2, 1, 30))
    kernels = [generator.standard_normal(m) for m in sizes]  # 40 > 30: a kernel longer than the signal
    codes = matching_pursuit.pursue(torch.tensor(x), [torch.tensor(k) for k in kernels], passes=7)
    for n in range(2):
        np.testing.assert_allclose(codes[n].numpy(), naive_pursuit(x[n, 0], kernels, 7), atol=1e-10)


def test_pursue_stops_when_nothing_is_left_and_prefers_the_first_of_equal_kernels():
    kernel = torch.full((4,), 0.5, dtype=torch.float64)  # unit norm, exact in binary: nothing left is exactly 0
    x = torch.zeros(1, 1, 20, dtype=torch.float64)
    x[0, 0, 4:8] += 3 * kernel  # two copies of the kernel, apart: two passes leave nothing
    x[0, 0, 12:16] -= 0.5 * kernel
    codes = matching_pursuit.pursue(x, [kernel, kernel.clone()], passes=5)
    expected = torch.zeros(2, 20, dtype=torch.float64)
    expected[0, 5], expected[0, 13] = 3.0, -0.5
    torch.testing.assert_close(codes[0], expected)


@pytest.mark.parametrize("family, sizes", [("free", [7, 16, 31]), ("gabor", [7, 15, 60, 60])])
def test_pursue_gives_the_passes_codes_and_gradients(monkeypatch, family, sizes):
    model = SAN(kernel_sizes=sizes, activation="topk-absolutes", sparsity=[1] * len(sizes), competition="across-kernels",
                passes=9, unit_norm=True, kernel_family=family, init="normal", seed=3)
    x = torch.randn(3, 1, 60, generator=torch.Generator().manual_seed(1))
    results = []
    for fast in (True, False):
        monkeypatch.setattr(matching_pursuit, "applies", lambda tensor, fast=fast: fast)
        model.zero_grad()
        codes = model.encode(x)
        (x - model.decode(codes)).abs().mean().backward()
        results.append((codes.detach(), [parameter.grad.clone() for parameter in model.parameters()]))
    (fast_codes, fast_grads), (codes, grads) = results
    assert int((codes != 0).sum()) == 27
    torch.testing.assert_close(fast_codes, codes, atol=1e-5, rtol=1e-5)
    for fast_grad, grad in zip(fast_grads, grads):
        torch.testing.assert_close(fast_grad, grad, atol=1e-5, rtol=1e-4)


def test_other_activations_and_competitions_keep_the_passes(monkeypatch):
    def refuse(*_):
        raise AssertionError("matching pursuit called")

    monkeypatch.setattr(matching_pursuit, "pursue", refuse)
    x = torch.randn(2, 1, 50)
    for options in ({"activation": "topk-absolutes", "sparsity": [2, 2]},
                    {"activation": "topk-absolutes", "sparsity": [1, 1], "competition": "none"},
                    {"activation": "extrema"}):
        options = {"competition": "across-kernels", **options}
        assert SAN(kernel_sizes=[5, 5], passes=3, **options).encode(x).shape == (2, 2, 50)
