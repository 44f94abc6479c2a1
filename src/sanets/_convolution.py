"""Same-size cross-correlation and its adjoint: the encoder's similarity (Eq. 10) and the decoder (Eqs. 12-13)."""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["same_padding", "correlate_same", "correlate_same_adjoint", "place_kernels"]

NATIVE_ENABLED = os.environ.get("SANETS_NATIVE", "1") != "0"
"""Whether the native 2D correlations may run (:func:`native_applies`); tests and benchmarks switch it."""

FFT_MIN_KERNEL = 16
"""1D kernels of at least this many samples are placed through the FFT: on 2 cores, from m = 16 on, that is
faster than the transposed convolution (a slow path in oneDNN for one channel per group) and agrees with it to
rounding, about 1e-7 of the largest value (``benchmarks/bench_convolution.py``)."""


def _load_native() -> ctypes.CDLL | None:
    """The library built from ``_native.c`` at install, or None where it was not (no C compiler)."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = Path(__file__).with_name("_native" + suffix)
        if path.exists():
            try:
                library = ctypes.CDLL(str(path))
            except OSError as error:  # built for another machine, say: torch's convolutions still work
                warnings.warn(f"{path}: not loaded ({error}); 2D convolutions run in torch alone", stacklevel=2)
                return None
            pointer, integer = ctypes.c_void_p, ctypes.c_int
            library.sanets_correlate.argtypes = [pointer] * 4 + [integer] * 10
            library.sanets_kernel_gradient.argtypes = [pointer] * 4 + [integer] * 8
            return library
    return None


_native = _load_native()


def same_padding(kernel_shape: Sequence[int]) -> list[int]:
    """F.pad amounts (last axis first) that keep the size: (m-1)//2 before, m//2 after."""
    return [p for m in reversed(kernel_shape) for p in ((m - 1) // 2, m // 2)]


def correlate_same(x: Tensor, kernels: Tensor, windows: Tensor | None = None) -> Tensor:
    """Cross-correlate (N, 1, *spatial) with each of C kernels (C, *kernel): (N, C, *spatial).

    ``windows`` (C, 2), optional: of each M x M kernel, the first row (and column) and the size of the square
    holding its weights; the taps outside are zero and their gradient unused. They are skipped where the
    native convolutions run (:func:`native_applies`).
    """
    if native_applies(x, kernels) and x.shape[1] == 1:
        return _NativeCorrelate.apply(x, kernels, _full_windows(kernels) if windows is None else windows)
    padded = F.pad(x, same_padding(kernels.shape[1:]))
    if kernels.ndim == 2:
        return F.conv1d(padded, kernels[:, None])
    if padded.device.type == "cpu":  # oneDNN's slow kernel gradient; cuDNN's is unmeasured, so left alone
        return _Correlate2d.apply(padded, kernels)
    return F.conv2d(padded, kernels[:, None])


def correlate_same_adjoint(codes: Tensor, kernels: Tensor, group_size: int = 1, windows: Tensor | None = None) -> Tensor:
    """Adjoint of :func:`correlate_same` per channel, summed over groups of consecutive channels:
    (N, C, *spatial) -> (N, C // group_size, *spatial).

    Each code value places its channel's kernel, scaled, at its position. ``windows`` as for :func:`correlate_same`.
    """
    if native_applies(codes, kernels) and codes.shape[1] == len(kernels) and len(kernels) % group_size == 0:
        return _NativePlace.apply(codes, kernels, _full_windows(kernels) if windows is None else windows, group_size)
    if kernels.ndim == 2:
        full = F.conv_transpose1d(codes, kernels[:, None], groups=len(kernels))
    else:
        # oneDNN's grouped 2D kernels are several times faster on channels-last input.
        full = F.conv_transpose2d(_ChannelsLast.apply(codes), kernels[:, None], groups=len(kernels))
    window = tuple(slice((m - 1) // 2, (m - 1) // 2 + n) for m, n in zip(kernels.shape[1:], codes.shape[2:]))
    return _CropAndSumGroups.apply(full, window, group_size)


def place_kernels(
    codes: Tensor, kernels: Tensor | Sequence[Tensor], group_size: int = 1, windows: Tensor | None = None
) -> Tensor:
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
    windows : Tensor, shape (C, 2), optional
        As for :func:`correlate_same`, with ``kernels`` one tensor.

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
        return correlate_same_adjoint(codes, kernels, group_size, windows)
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


def native_applies(x: Tensor, kernels: Tensor) -> bool:
    """Whether the native 2D correlations (``sanets/_native.c``) run: built, enabled, float32 on the CPU, square
    kernels (other shapes go to torch, which also names what is wrong with them).

    On one thread they run Table III's training step about 3x faster than oneDNN on two (1D keeps torch's
    convolutions and FFTs). They sum in another order: values and gradients within 2e-6 of the exact ones, sweeps
    within 1e-5 of torch's (``tests/test_convolution.py``). ``SANETS_NATIVE=0`` turns them off.
    """
    return (
        NATIVE_ENABLED and _native is not None and kernels.ndim == 3 and kernels.shape[1] == kernels.shape[2]
        and x.ndim == 4 and x.device.type == "cpu" and x.dtype == kernels.dtype == torch.float32
    )


def _full_windows(kernels: Tensor) -> Tensor:
    """Windows (C, 2) covering whole kernels."""
    return torch.tensor([[0, kernels.shape[-1]]] * len(kernels), dtype=torch.int32)


def _flipped(kernels: Tensor, windows: Tensor) -> tuple[Tensor, Tensor]:
    """Kernels turned by 180 degrees, and their windows moved with them."""
    first, size = windows.unbind(1)
    return kernels.flip(-2, -1).contiguous(), torch.stack([kernels.shape[-1] - first - size, size], 1).contiguous()


def _correlate(
    into: Tensor, source: Tensor, kernels: Tensor, windows: Tensor, pad: int, in_div: int, out_div: int
) -> Tensor:
    """``into`` (N, O, H, W) = per channel c, ``source[:, c // in_div]`` padded by ``pad`` rows and columns
    before correlated with kernel c, summed over groups of ``out_div`` channels (``sanets/_native.c``)."""
    status = _native.sanets_correlate(
        into.data_ptr(), source.data_ptr(), kernels.data_ptr(), windows.data_ptr(), len(source), *source.shape[2:],
        len(kernels), kernels.shape[-1], pad, source.shape[1], in_div, into.shape[1], out_div,
    )
    if status != 0:
        raise MemoryError("sanets' native convolution: out of memory for its padded images")
    return into


def _kernel_gradient(source: Tensor, grad: Tensor, kernels: Tensor, windows: Tensor, in_div: int) -> Tensor:
    """Per kernel c, the sum over the batch of ``source[:, c // in_div]`` (padded as for the forward correlation)
    correlated with ``grad[:, c]``: (C, M, M)."""
    out = torch.empty_like(kernels)
    size = kernels.shape[-1]
    status = _native.sanets_kernel_gradient(
        out.data_ptr(), source.data_ptr(), grad.data_ptr(), windows.data_ptr(), len(grad), *grad.shape[2:],
        len(kernels), size, (size - 1) // 2, source.shape[1], in_div,
    )
    if status != 0:
        raise MemoryError("sanets' native kernel gradient: out of memory for its padded images")
    return out


class _NativeCorrelate(torch.autograd.Function):
    """:func:`correlate_same` of (N, 1, H, W) in ``sanets/_native.c``."""

    @staticmethod
    def forward(ctx, x: Tensor, kernels: Tensor, windows: Tensor) -> Tensor:
        x, kernels, windows = x.contiguous(), kernels.contiguous(), windows.to(torch.int32).contiguous()
        ctx.save_for_backward(x, kernels, windows)
        out = x.new_empty(len(x), len(kernels), *x.shape[2:])
        return _correlate(out, x, kernels, windows, (kernels.shape[-1] - 1) // 2, len(kernels), 1)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        x, kernels, windows = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_kernels = None
        if ctx.needs_input_grad[0]:
            flipped, flipped_windows = _flipped(kernels, windows)
            grad_x = _correlate(torch.empty_like(x), grad, flipped, flipped_windows, kernels.shape[-1] // 2, 1, len(kernels))
        if ctx.needs_input_grad[1]:
            grad_kernels = _kernel_gradient(x, grad, kernels, windows, len(kernels))
        return grad_x, grad_kernels, None


class _NativePlace(torch.autograd.Function):
    """:func:`correlate_same_adjoint` of (N, C, H, W) in ``sanets/_native.c``: each kernel placed at its codes
    is a correlation with the kernel turned by 180 degrees."""

    @staticmethod
    def forward(ctx, codes: Tensor, kernels: Tensor, windows: Tensor, group_size: int) -> Tensor:
        codes, kernels, windows = codes.contiguous(), kernels.contiguous(), windows.to(torch.int32).contiguous()
        ctx.save_for_backward(codes, kernels, windows)
        ctx.group_size = group_size
        flipped, flipped_windows = _flipped(kernels, windows)
        out = codes.new_empty(len(codes), len(kernels) // group_size, *codes.shape[2:])
        return _correlate(out, codes, flipped, flipped_windows, kernels.shape[-1] // 2, 1, group_size)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        codes, kernels, windows = ctx.saved_tensors
        grad = grad.contiguous()
        grad_codes = grad_kernels = None
        if ctx.needs_input_grad[0]:
            grad_codes = _correlate(torch.empty_like(codes), grad, kernels, windows, (kernels.shape[-1] - 1) // 2,
                                    ctx.group_size, 1)
        if ctx.needs_input_grad[1]:
            grad_kernels = _kernel_gradient(grad, codes, kernels, windows, ctx.group_size)
        return grad_codes, grad_kernels, None, None


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
