"""What every activation shares: its input check, its sparsity parameter as a per-channel table, the kept mask."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import Tensor

from sanets._validation import check_batch

SpatialSize = int | Sequence[int]


def check_input(x: Tensor) -> int:
    """Validate ``x`` of shape ``(N, C, L)`` or ``(N, C, H, W)``; return its spatial dimensions (1 or 2)."""
    return check_batch(x, "x")


def per_axis(value: SpatialSize, name: str, spatial_dims: int, minimum: int) -> tuple[int, ...]:
    """An int or a per-axis sequence as one int per spatial axis, checked."""
    values = tuple(value) if isinstance(value, Sequence) else (value,) * spatial_dims
    if len(values) != spatial_dims:
        raise ValueError(f"{name} must be an int or {spatial_dims} ints (one per spatial axis), got {value!r}")
    try:
        if any(isinstance(v, bool) for v in values):
            raise TypeError
        values = tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}") from None
    if min(values) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return values


def per_channel(value: SpatialSize | Tensor, name: str, channels: int, axes: int, minimum: int) -> Tensor:
    """One row of ``axes`` ints per channel, checked: int64 ``(channels, axes)`` on the CPU.

    ``value`` is an int, one int per axis, or an integer tensor of shape
    ``(channels,)`` or ``(channels, axes)`` giving each channel its own value.
    """
    if not isinstance(value, Tensor):
        return torch.tensor(per_axis(value, name, axes, minimum)).expand(channels, axes)
    if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool or value.ndim not in (1, 2) \
            or value.shape[0] != channels or value.shape[1:] not in ((), (axes,)):
        raise ValueError(
            f"{name} as a tensor must hold ints of shape ({channels},) or ({channels}, {axes}), one row per channel "
            f"of x; got dtype {value.dtype} and shape {tuple(value.shape)}"
        )
    table = value.detach().to("cpu", torch.long).view(channels, -1).expand(channels, axes)
    if channels and int(table.min()) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {int(table.min())}")
    return table


def uniform(table: Tensor) -> tuple[int, ...] | None:
    """The row shared by every channel of a ``(channels, axes)`` table, or None where they differ."""
    if len(table) and bool((table == table[:1]).all()):
        return tuple(table[0].tolist())
    return None


def numba_can_run(x: Tensor) -> bool:
    """Whether the masks compiled by numba (Extrema's, top-k's) take ``x``: float32 or float64 maps on the CPU."""
    return x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)


def keep(x: Tensor, mask: Tensor) -> Tensor:
    """x where mask is set, 0 elsewhere; the gradient reaches the kept values only."""
    # Promoted from uint8 within the product: twice as fast as converting first, several times faster than bool.
    return x * mask.view(torch.uint8)


def channel_argmax(x: Tensor) -> Tensor:
    """``x.argmax(1, keepdim=True)`` (the first channel among equals) for ``(N, C, *spatial)``.

    A loop over the few channels: torch's argmax over a short strided dimension
    was measured ~10x slower on CPU (42 ms against about 4 ms for (256, 5, 1000)).
    """
    best, index = x[:, :1], torch.zeros_like(x[:, :1], dtype=torch.long)
    for channel in range(1, x.shape[1]):
        better = x[:, channel : channel + 1] > best
        best = torch.where(better, x[:, channel : channel + 1], best)
        index = torch.where(better, channel, index)
    return index
