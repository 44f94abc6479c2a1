"""Same-size cross-correlation and its adjoint: the encoder's similarity (Eq. 10) and the decoder (Eqs. 12-13)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["same_padding", "correlate_same", "correlate_same_adjoint"]


def same_padding(kernel_shape: Sequence[int]) -> list[int]:
    """F.pad amounts (last axis first) that keep the size: (m-1)//2 before, m//2 after."""
    return [p for m in reversed(kernel_shape) for p in ((m - 1) // 2, m // 2)]


def correlate_same(x: Tensor, kernels: Tensor) -> Tensor:
    """Cross-correlate (N, 1, *spatial) with each of C kernels (C, *kernel): (N, C, *spatial)."""
    conv = F.conv1d if kernels.ndim == 2 else F.conv2d
    return conv(F.pad(x, same_padding(kernels.shape[1:])), kernels[:, None])


def correlate_same_adjoint(codes: Tensor, kernels: Tensor) -> Tensor:
    """Adjoint of :func:`correlate_same` per channel: (N, C, *spatial) -> (N, C, *spatial).

    Each code value places its channel's kernel, scaled, at its position.
    """
    if kernels.ndim == 2:
        full = F.conv_transpose1d(codes, kernels[:, None], groups=len(kernels))
    else:
        # oneDNN's grouped 2D kernels are several times faster on channels-last input.
        codes = codes.contiguous(memory_format=torch.channels_last)
        full = F.conv_transpose2d(codes, kernels[:, None], groups=len(kernels))
    for dim, m in enumerate(kernels.shape[1:], start=2):
        full = full.narrow(dim, (m - 1) // 2, codes.shape[dim])
    return full
