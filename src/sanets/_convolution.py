"""Same-size cross-correlation and its adjoint: the encoder's similarity (Eq. 10) and the decoder (Eqs. 12-13)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["same_padding", "correlate_same", "correlate_same_adjoint", "place_kernels"]

FFT_MIN_KERNEL = 16
"""1D kernels of at least this many samples are placed through the FFT: on 2 cores, from m = 16 on, that is
faster than the transposed convolution (a slow path in oneDNN for one channel per group) and agrees with it to
rounding, about 1e-7 of the largest value (``benchmarks/bench_convolution.py``)."""


def same_padding(kernel_shape: Sequence[int]) -> list[int]:
    """F.pad amounts (last axis first) that keep the size: (m-1)//2 before, m//2 after."""
    return [p for m in reversed(kernel_shape) for p in ((m - 1) // 2, m // 2)]


def correlate_same(x: Tensor, kernels: Tensor) -> Tensor:
    """Cross-correlate (N, 1, *spatial) with each of C kernels (C, *kernel): (N, C, *spatial)."""
    padded = F.pad(x, same_padding(kernels.shape[1:]))
    if kernels.ndim == 2:
        return F.conv1d(padded, kernels[:, None])
    if padded.device.type == "cpu":  # oneDNN's slow kernel gradient; cuDNN's is unmeasured, so left alone
        return _Correlate2d.apply(padded, kernels)
    return F.conv2d(padded, kernels[:, None])


def correlate_same_adjoint(codes: Tensor, kernels: Tensor, group_size: int = 1) -> Tensor:
    """Adjoint of :func:`correlate_same` per channel, summed over groups of consecutive channels:
    (N, C, *spatial) -> (N, C // group_size, *spatial).

    Each code value places its channel's kernel, scaled, at its position.
    """
    if kernels.ndim == 2:
        full = F.conv_transpose1d(codes, kernels[:, None], groups=len(kernels))
    else:
        # oneDNN's grouped 2D kernels are several times faster on channels-last input.
        full = F.conv_transpose2d(_ChannelsLast.apply(codes), kernels[:, None], groups=len(kernels))
    window = tuple(slice((m - 1) // 2, (m - 1) // 2 + n) for m, n in zip(kernels.shape[1:], codes.shape[2:]))
    return _CropAndSumGroups.apply(full, window, group_size)


def place_kernels(codes: Tensor, kernels: Tensor | Sequence[Tensor], group_size: int = 1) -> Tensor:
    """Eqs. 12-13: each code channel's kernel placed, scaled, at its codes, summed over groups of channels.

    The adjoint of :func:`correlate_same` (the decoder), for kernels of any sizes.
    Long 1D kernels (:data:`FFT_MIN_KERNEL`) go through one real FFT of the codes,
    the sum over each group taken in the frequency domain; the others through
    transposed convolutions.

    Parameters
    ----------
    codes : Tensor, shape (N, C, *spatial)
    kernels : Tensor of shape (C, *kernel), or C tensors of shapes (m_i,) or (m_i, m_i)
    group_size : int
        Consecutive code channels summed into one output (C must be a multiple of it).

    Returns
    -------
    Tensor, shape (N, C // group_size, *spatial)
    """
    sizes = [kernels.shape[-1]] * len(kernels) if isinstance(kernels, Tensor) else [kernel.shape[-1] for kernel in kernels]
    if codes.ndim == 3 and max(sizes) >= FFT_MIN_KERNEL and codes.dtype in (torch.float32, torch.float64):
        length = codes.shape[-1]
        n = _fft_size(length + max(sizes) - 1)
        # Each kernel rolled back by its "same" offset, (m - 1) // 2: the circular product then needs no cropping
        # but the tail, as n leaves room for the whole linear convolution.
        if isinstance(kernels, Tensor):
            rolled = F.pad(kernels, (0, n - sizes[0])).roll(-((sizes[0] - 1) // 2), dims=-1)
        else:
            rolled = torch.stack([F.pad(kernel, (0, n - m)).roll(-((m - 1) // 2)) for kernel, m in zip(kernels, sizes)])
        products = torch.fft.rfft(codes, n) * torch.fft.rfft(rolled, n)
        return torch.fft.irfft(products.unflatten(1, (-1, group_size)).sum(2), n)[..., :length]
    if isinstance(kernels, Tensor):
        return correlate_same_adjoint(codes, kernels, group_size)
    if len(set(sizes)) == 1:
        return correlate_same_adjoint(codes, torch.stack(list(kernels)), group_size)
    placed = torch.cat([correlate_same_adjoint(codes[:, i : i + 1], kernel[None]) for i, kernel in enumerate(kernels)], 1)
    return _sum_groups(placed, group_size)


def _sum_groups(placed: Tensor, group_size: int) -> Tensor:
    """(N, C, *spatial) -> (N, C // group_size, *spatial): sums of consecutive channels, added slice by slice (a
    sum over the channel axis, of stride 1 in a channels-last tensor, is several times slower)."""
    total = placed[:, 0::group_size]
    for offset in range(1, group_size):
        total = total + placed[:, offset::group_size]
    return total


class _CropAndSumGroups(torch.autograd.Function):
    """The "same" window of a full transposed convolution, summed over groups of channels (:func:`_sum_groups`).

    Its gradient is written straight into the full output's layout (channels-last in 2D), where cropping and
    summing as separate steps made tensors of the default layout that oneDNN then converted: 4-24 % of Table
    III's training step. The same values either way.
    """

    @staticmethod
    def forward(ctx, full: Tensor, window: tuple[slice, ...], group_size: int) -> Tensor:
        ctx.shape, ctx.strides, ctx.window, ctx.group_size = full.shape, full.stride(), window, group_size
        total = _sum_groups(full[(slice(None), slice(None), *window)], group_size)
        # A view of the input would be a view that autograd forbids to modify in place (x_hat.clamp_(...)).
        return total.clone() if group_size == 1 else total

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        full = torch.empty_strided(ctx.shape, ctx.strides, dtype=grad.dtype, device=grad.device).zero_()
        for offset in range(ctx.group_size):
            full[(slice(None), slice(offset, None, ctx.group_size), *ctx.window)] = grad
        return full, None, None


class _Correlate2d(torch.autograd.Function):
    """``F.conv2d(padded, kernels[:, None])`` whose kernel gradient is, per kernel, one convolution of each
    example with its gradient (the batch as groups), summed over the batch.

    With oneDNN's own kernel gradient, the forward and backward pass of Table III's batches (12 kernels padded to
    6 x 6) is 1.1-2.4x slower, and the gradient 4e-6 to 1.8e-5 of the largest value off the exact (float64) one,
    against 4e-7 to 1e-6 here (each example's H x W products summed, then the N sums;
    ``benchmarks/bench_convolution.py``). The forward is the same call, the same values.
    """

    @staticmethod
    def forward(ctx, padded: Tensor, kernels: Tensor) -> Tensor:
        ctx.save_for_backward(padded, kernels)
        return F.conv2d(padded, kernels[:, None])

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        padded, kernels = ctx.saved_tensors
        grad_padded = grad_kernels = None
        if ctx.needs_input_grad[0]:
            grad_padded = torch.nn.grad.conv2d_input(padded.shape, kernels[:, None], grad)
        if ctx.needs_input_grad[1]:
            examples = padded.reshape(1, len(padded), *padded.shape[2:])
            # One call per kernel: oneDNN's rounding depends on a channel's place among several, and equal kernels
            # must get equal gradients (the constant start's two kernels of a size stay equal, as in the paper).
            grad_kernels = torch.stack([
                F.conv2d(examples, grad[:, c : c + 1].reshape(len(grad), 1, *grad.shape[2:]), groups=len(grad)).sum((0, 1))
                for c in range(grad.shape[1])
            ])
        return grad_padded, grad_kernels


class _ChannelsLast(torch.autograd.Function):
    """``contiguous(memory_format=torch.channels_last)`` whose gradient returns to the default layout: the
    activation before it then computes its backward on matching layouts (10x faster for ReLU's)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        return x.contiguous(memory_format=torch.channels_last)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad.contiguous()


def _fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: sizes the FFT handles fastest."""
    size = n
    while True:
        rest = size
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return size
        size += 1
