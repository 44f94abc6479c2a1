"""The encoder's correlation (Eq. 10) and the decoder's kernel placement (Eqs. 12-13): FFT, transposed and native
convolutions against naive loops and float64."""

import shutil
import sys

import numpy as np
import pytest
import pywt
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import sanets._convolution as convolution
from sanets._convolution import correlate_same, place_kernels
from sanets.sweep import fit_sweep


def naive_placement(codes: np.ndarray, kernels: list[np.ndarray], group_size: int) -> np.ndarray:
    """Each code value adds its channel's kernel, scaled, with sample (m - 1) // 2 of the kernel on its position."""
    n, c, length = codes.shape
    out = np.zeros((n, c // group_size, length))
    for example, channel, position in zip(*np.nonzero(codes)):
        kernel = kernels[channel]
        for j, weight in enumerate(kernel):
            t = position - (len(kernel) - 1) // 2 + j
            if 0 <= t < length:
                out[example, channel // group_size, t] += codes[example, channel, position] * weight
    return out


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("sizes, group_size", [([16, 17, 40, 249], 2), ([3, 8, 15, 2], 4), ([20, 20, 20, 20], 1)])
def test_kernels_are_placed_as_a_naive_loop_places_them(sizes, group_size, dtype, tolerance):
    generator = torch.Generator().manual_seed(0)
    codes = torch.randn(3, 4, 300, generator=generator, dtype=dtype) * (torch.rand(3, 4, 300, generator=generator) < 0.05)
    kernels = [torch.randn(m, generator=generator, dtype=dtype) for m in sizes]
    placed = place_kernels(codes, kernels, group_size)
    expected = naive_placement(codes.numpy(), [k.numpy() for k in kernels], group_size)
    assert placed.shape == expected.shape
    assert np.abs(placed.numpy() - expected).max() <= tolerance * np.abs(expected).max()


def test_fft_and_transposed_convolution_agree_on_values_and_gradients(monkeypatch):
    codes = torch.randn(2, 6, 500, dtype=torch.float64).requires_grad_()
    kernels = torch.randn(6, 33, dtype=torch.float64).requires_grad_()
    outputs = []
    for threshold in (16, 10**9):  # FFT, then transposed convolutions
        monkeypatch.setattr(convolution, "FFT_MIN_KERNEL", threshold)
        placed = place_kernels(codes, kernels, 3)
        gradients = torch.autograd.grad((placed * torch.linspace(-1, 1, 500, dtype=torch.float64)).sum(), (codes, kernels))
        outputs.append((placed, *gradients))
    for fft, direct in zip(*outputs):
        torch.testing.assert_close(fft, direct, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("spatial, kernel_size", [((12,), 4), ((12,), 5), ((7, 6), 4), ((7, 6), 3)])
def test_transposed_placement_has_the_gradients_of_finite_differences(spatial, kernel_size):
    # The crop and the group sum have their own backward (written into the full output's layout).
    generator = torch.Generator().manual_seed(0)
    codes = torch.randn(2, 4, *spatial, dtype=torch.float64, generator=generator).requires_grad_()
    kernels = torch.randn(4, *(kernel_size,) * len(spatial), dtype=torch.float64, generator=generator).requires_grad_()
    assert torch.autograd.gradcheck(lambda c, k: place_kernels(c, k, 2), (codes, kernels))


@pytest.mark.parametrize("group_size", [1, 2])
def test_placed_kernels_can_be_modified_in_place(group_size):
    codes = torch.randn(2, 2, 9, 9)
    kernels = torch.randn(2, 3, 3, requires_grad=True)
    placed = place_kernels(codes, kernels, group_size)
    expected = 2 * placed.detach()
    placed.mul_(2).sum().backward()
    assert torch.equal(placed.detach(), expected) and kernels.grad is not None


@pytest.mark.parametrize("activation", ["identity", "relu", "topk-absolutes", "extrema-pool-indices", "extrema"])
def test_a_sweep_decoding_through_the_fft_ends_within_1e5_of_one_without(activation, monkeypatch):
    signal = torch.tensor(pywt.data.ecg(), dtype=torch.float32).view(8, 1, 128)
    windows = (signal - signal.mean(-1, keepdim=True)) / signal.std(-1, keepdim=True)
    results = []
    for threshold in (16, 10**9):
        monkeypatch.setattr(convolution, "FFT_MIN_KERNEL", threshold)
        results.append(fit_sweep([1, 9, 20, 41], activation, windows[:6], windows[6:], epochs=5, batch_size=2, seed=0))
    for fft, direct in zip(*results):
        assert [e.flithos for e in fft.history] == pytest.approx([e.flithos for e in direct.history], rel=1e-5)
        torch.testing.assert_close(fft.model.kernels[0], direct.model.kernels[0], rtol=1e-5, atol=1e-6)


def test_2d_similarity_has_the_gradients_of_finite_differences():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 1, 7, 6, dtype=torch.float64, generator=generator).requires_grad_()
    kernels = torch.randn(4, 4, 4, dtype=torch.float64, generator=generator).requires_grad_()
    assert torch.autograd.gradcheck(correlate_same, (x, kernels))


@pytest.mark.parametrize("channels, pair", [(2, (0, 1)), (12, (10, 11)), (12, (3, 9))])
def test_equal_2d_kernels_get_equal_gradients_wherever_they_sit(channels, pair):
    # The constant start's two kernels of a size must stay equal through training, as in the paper's Tables II-III.
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, 28, 28, generator=generator)
    kernels = torch.randn(channels, 6, 6, generator=generator)
    kernels[pair[1]] = kernels[pair[0]]
    kernels.requires_grad_()
    upstream = torch.randn(64, channels, 28, 28, generator=generator)
    upstream[:, pair[1]] = upstream[:, pair[0]]
    (gradient,) = torch.autograd.grad(correlate_same(x, kernels), kernels, upstream)
    assert torch.equal(gradient[pair[0]], gradient[pair[1]])


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("batch, kernel_size", [(256, 6), (64, 3)])
def test_2d_kernel_gradient_in_float32_is_within_2e6_of_the_exact_sum(batch, kernel_size, native, monkeypatch):
    # d/dw[c, i, j] of sum(s * g) is the sum over examples and positions of g[n, c, p] x_padded[n, p + (i, j)]: a
    # loop over (i, j) in float64. Ours is 5e-7 off here; oneDNN's own gradient is 5e-6 to 1.3e-5 off.
    monkeypatch.setattr(convolution, "NATIVE_ENABLED", native)
    digits = torch.tensor(load_digits().images[:batch], dtype=torch.float32)[:, None] / 16
    x = F.interpolate(digits, size=(28, 28), mode="bilinear")
    generator = torch.Generator().manual_seed(0)
    kernels = (0.1 * torch.randn(12, kernel_size, kernel_size, generator=generator)).requires_grad_()
    upstream = torch.randn(batch, 12, 28, 28, generator=generator)
    (gradient,) = torch.autograd.grad(correlate_same(x, kernels), kernels, upstream)
    padded = F.pad(x, convolution.same_padding(kernels.shape[1:])).double()
    expected = torch.empty(12, kernel_size, kernel_size, dtype=torch.float64)
    for i in range(kernel_size):
        for j in range(kernel_size):
            expected[:, i, j] = (upstream.double() * padded[:, :, i : i + 28, j : j + 28]).sum((0, 2, 3))
    assert (gradient.double() - expected).abs().max() <= 2e-6 * expected.abs().max()


@pytest.mark.parametrize("activation", ["identity", "relu", "topk-absolutes", "extrema-pool-indices", "extrema"])
def test_a_2d_sweep_ends_within_1e5_of_one_with_onednns_kernel_gradient(activation, monkeypatch):
    monkeypatch.setattr(convolution, "NATIVE_ENABLED", False)  # the torch path, where _Correlate2d runs
    digits = torch.tensor(load_digits().images[:60], dtype=torch.float32)[:, None] / 16
    results = [fit_sweep([1, 2, 3, 4], activation, digits[:48], digits[48:], num_kernels=2, dims=2, epochs=5, batch_size=8, seed=0)]
    monkeypatch.setattr(convolution._Correlate2d, "apply", lambda padded, kernels: F.conv2d(padded, kernels[:, None]))
    results.append(fit_sweep([1, 2, 3, 4], activation, digits[:48], digits[48:], num_kernels=2, dims=2, epochs=5, batch_size=8, seed=0))
    for ours, onednn in zip(*results):
        assert [e.flithos for e in ours.history] == pytest.approx([e.flithos for e in onednn.history], rel=1e-5)
        for kernel, reference in zip(ours.model.kernels, onednn.model.kernels):
            torch.testing.assert_close(kernel, reference, rtol=1e-5, atol=1e-6)


needs_native = pytest.mark.skipif(convolution._native is None, reason="sanets/_native.c was not built (no C compiler)")


def through_torch_in_float64(x, kernels, group_size, upstream_codes, upstream_placed):
    """Similarity, placement and the three gradients as torch computes them in float64: the exact reference."""
    x, kernels = x.double().requires_grad_(), kernels.double().requires_grad_()
    similarity = correlate_same(x, kernels)
    placed = place_kernels(similarity, kernels, group_size)
    loss = (similarity * upstream_codes.double()).sum() + (placed * upstream_placed.double()).sum()
    return (similarity, placed, *torch.autograd.grad(loss, (x, kernels)))


@needs_native
@pytest.mark.parametrize("batch, height, width, channels, size, group_size", [
    (64, 28, 28, 12, 6, 2),  # Table III's batches
    (3, 5, 7, 4, 3, 2),  # images narrower than the registers' 32 columns
    (5, 40, 37, 6, 5, 3),  # wider: two column chunks, an odd height
    (2, 9, 70, 2, 1, 1),
    (4, 3, 3, 3, 8, 3),  # kernels larger than the images
])
def test_native_correlations_and_gradients_are_within_2e6_of_the_exact_ones(batch, height, width, channels, size,
                                                                           group_size):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, height, width, generator=generator)
    kernels = 0.3 * torch.randn(channels, size, size, generator=generator)
    upstream_codes = torch.randn(batch, channels, height, width, generator=generator)
    upstream_placed = torch.randn(batch, channels // group_size, height, width, generator=generator)
    assert convolution.native_applies(x, kernels)
    ours = through_torch_in_float64(x, kernels, group_size, upstream_codes, upstream_placed)
    x, kernels = x.clone().requires_grad_(), kernels.clone().requires_grad_()
    similarity = correlate_same(x, kernels)
    placed = place_kernels(similarity, kernels, group_size)
    loss = (similarity * upstream_codes).sum() + (placed * upstream_placed).sum()
    for got, exact in zip((similarity, placed, *torch.autograd.grad(loss, (x, kernels))), ours):
        assert got.dtype == torch.float32 and got.shape == exact.shape
        assert (got.double() - exact).abs().max() <= 2e-6 * exact.abs().max()


@needs_native
def test_native_windows_skip_only_zero_taps_and_leave_their_gradient_zero():
    # A sweep's kernels of sizes 1..6 zero-padded to 6 x 6 and centred, as fit_sweep packs them.
    generator = torch.Generator().manual_seed(0)
    sizes = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    windows = torch.tensor([[(6 - 1) // 2 - (m - 1) // 2, m] for m in sizes], dtype=torch.int32)
    mask = torch.zeros(12, 6, 6)
    for channel, (first, m) in enumerate(windows.tolist()):
        mask[channel, first : first + m, first : first + m] = 1
    kernels = (torch.randn(12, 6, 6, generator=generator) * mask).requires_grad_()
    x = torch.rand(8, 1, 11, 13, generator=generator)
    outputs = []
    for given in (windows, None):
        similarity = correlate_same(x, kernels, given)
        placed = place_kernels(similarity, kernels, 2, given)
        outputs.append((similarity, placed, *torch.autograd.grad(placed.square().sum(), kernels)))
    (windowed, windowed_placed, windowed_gradient), (full, full_placed, full_gradient) = outputs
    torch.testing.assert_close(windowed, full, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(windowed_placed, full_placed, rtol=1e-6, atol=1e-6)
    assert torch.equal(windowed_gradient * (1 - mask), torch.zeros_like(mask))
    torch.testing.assert_close(windowed_gradient, full_gradient * mask, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype, kernel_shape, device_type, enabled, expected", [
    (torch.float32, (4, 3, 3), "cpu", True, True),
    (torch.float64, (4, 3, 3), "cpu", True, False),  # float64 stays exact in torch
    (torch.float32, (4, 3), "cpu", True, False),  # 1D: torch's convolutions and FFTs
    (torch.float32, (4, 3, 3), "cpu", False, False),  # SANETS_NATIVE=0
])
def test_native_correlations_run_only_on_float32_2d_cpu_tensors_when_enabled(
    dtype, kernel_shape, device_type, enabled, expected, monkeypatch
):
    monkeypatch.setattr(convolution, "NATIVE_ENABLED", enabled)
    x = torch.zeros(1, 1, *(5,) * (len(kernel_shape) - 1), dtype=dtype)
    built = convolution._native is not None
    assert convolution.native_applies(x, torch.zeros(kernel_shape, dtype=dtype)) == (expected and built)


@needs_native
@pytest.mark.parametrize("activation", ["identity", "relu", "topk-absolutes", "extrema-pool-indices", "extrema"])
def test_a_2d_sweep_ends_within_1e5_of_one_through_torchs_convolutions(activation, monkeypatch):
    digits = torch.tensor(load_digits().images[:60], dtype=torch.float32)[:, None] / 16
    results = [fit_sweep([1, 2, 3, 4], activation, digits[:48], digits[48:], num_kernels=2, dims=2, epochs=5, batch_size=8, seed=0)]
    monkeypatch.setattr(convolution, "NATIVE_ENABLED", False)
    results.append(fit_sweep([1, 2, 3, 4], activation, digits[:48], digits[48:], num_kernels=2, dims=2, epochs=5, batch_size=8, seed=0))
    for native, torch_only in zip(*results):
        assert [e.flithos for e in native.history] == pytest.approx([e.flithos for e in torch_only.history], rel=1e-5)
        for kernel, reference in zip(native.model.kernels, torch_only.model.kernels):
            torch.testing.assert_close(kernel, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="no gcc to build it with")
def test_the_native_library_is_built_where_gcc_is():
    # Its build is optional (pyproject.toml), so a failed one would only make the tests above skip.
    assert convolution._native is not None, "sanets/_native.c was not built: reinstall with `pip install -e .`"


@pytest.mark.parametrize("call, message", [
    (lambda: correlate_same(torch.zeros(2, 3, 5, 5), torch.zeros(4, 3, 3)), "channels"),  # x must have one channel
    (lambda: place_kernels(torch.zeros(2, 3, 5, 5), torch.zeros(4, 3, 3), 2), "channels"),  # a code channel per kernel
])
def test_mismatched_channels_are_refused_not_read_past(call, message):
    # The native code trusts its shapes: these go to torch, which names the mismatch.
    with pytest.raises(RuntimeError, match=message):
        call()
