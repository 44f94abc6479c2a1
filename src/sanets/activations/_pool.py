"""Extrema-Pool indices (paper Alg. 2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from sanets.activations._common import (
    SpatialSize,
    check_input,
    keep,
    numba_can_run,
    per_channel,
    uniform,
)


def extrema_pool_indices(x: Tensor, pool_size: SpatialSize | Tensor) -> Tensor:
    """Extrema-Pool indices (Alg. 2): keep the largest magnitude of each pooling window.

    Max-pooling of ``|x|`` over a grid of non-overlapping windows (stride = window),
    then max-unpooling of the signed values; among equal magnitudes the first
    position (row-major) wins. As in the paper (and PyTorch's pooling), a
    trailing partial window (``L % pool_size`` samples) is not pooled; Table II's
    CR^-1 values confirm this floor rule.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)
    pool_size : int, (int, int), or Tensor of int, shape (C,) or (C, 2)
        Window size per spatial axis, for all channels or one per channel; the
        paper uses the kernel size m.

    Returns
    -------
    Tensor, same shape as x, with exactly one position kept per full window.
    """
    spatial_dims = check_input(x)
    windows = per_channel(pool_size, "pool_size", x.shape[1], spatial_dims, minimum=1)
    if len(windows) and (windows.amax(0) > torch.tensor(x.shape[2:])).any():
        raise ValueError(f"pool_size={pool_size!r} is larger than the spatial size {tuple(x.shape[2:])} of x")
    return pool_checked(x, windows)


COMPILED_ON_CPU = True
"""On the CPU, the mask is computed by numba (:mod:`sanets.activations._pool_compiled`): 3.2x faster than the
tensor operations on Table III's batches and 6.4x on 1D maps of 1000 samples (``benchmarks/bench_activations.py``),
and exactly the same mask."""

WINDOW_GROUPS = 8
"""Channels with up to this many distinct windows are max-pooled group by group (4x faster on Table III's
maps); with more, one pass of scatter reductions handles all windows at once (one call instead of many)."""


def pool_checked(x: Tensor, windows: Tensor) -> Tensor:
    """:func:`extrema_pool_indices` on a checked ``x`` with a checked int64 table ``windows`` (C, dims)."""
    if COMPILED_ON_CPU and numba_can_run(x):
        from sanets.activations._pool_compiled import pool_kept  # numba loads on first use, not with sanets

        return keep(x, pool_kept(x, windows))
    magnitude = x.detach().abs()
    window = uniform(windows)
    if window is not None:
        return keep(x, _pooled_mask(magnitude, window))
    distinct = windows.unique(dim=0)
    if len(distinct) > WINDOW_GROUPS:
        return keep(x, _pool_per_channel(magnitude, windows.to(x.device)))
    mask = torch.empty(x.shape, dtype=torch.bool, device=x.device)
    for row in distinct:
        channels = (windows == row).all(1).nonzero().view(-1).to(x.device)
        mask[:, channels] = _pooled_mask(magnitude.index_select(1, channels), tuple(row.tolist()))
    return keep(x, mask)


def _pooled_mask(magnitude: Tensor, window: tuple[int, ...]) -> Tensor:
    """Mask of the first largest magnitude of each full window (max pooling's own tie rule), for one window."""
    max_pool = F.max_pool1d if magnitude.ndim == 3 else F.max_pool2d
    _, indices = max_pool(magnitude, window, stride=window, return_indices=True)
    flat = torch.zeros(magnitude.shape, dtype=torch.bool, device=magnitude.device).flatten(2)
    return flat.scatter_(-1, indices.flatten(2), True).view(magnitude.shape)


def _pool_per_channel(magnitude: Tensor, windows: Tensor) -> Tensor:
    """Mask of :func:`extrema_pool_indices` where each channel has its own window.

    Every position gets the number of its window in its channel's grid (0 for
    the trailing partial windows, which are not pooled); per window, the
    largest magnitude and then the first position holding it are found by two
    scatter reductions.

    Parameters
    ----------
    magnitude : Tensor, shape (N, C, *spatial)
    windows : Tensor of int64, shape (C, len(spatial))

    Returns
    -------
    Tensor of bool, same shape as magnitude
    """
    channels, shape = magnitude.shape[1], magnitude.shape[2:]
    device = magnitude.device
    window_number = torch.ones(channels, *shape, dtype=torch.long, device=device)  # 1-based; 0: not pooled
    for axis, length in enumerate(shape):
        size = windows[:, axis].view(channels, *([1] * len(shape)))
        position = torch.arange(length, device=device).view(*([1] * (axis + 1)), length, *([1] * (len(shape) - axis - 1)))
        count = length // size
        index = position // size
        window_number = torch.where((index < count) & (window_number > 0), (window_number - 1) * count + index + 1, 0)
    slots = window_number.flatten(1).expand(magnitude.shape[0], -1, -1)
    flat = magnitude.flatten(2)
    largest = flat.new_full((*flat.shape[:2], int(window_number.max()) + 1), -1.0)
    largest = largest.scatter_reduce(-1, slots, flat, "amax")
    position = torch.arange(flat.shape[-1], device=device).expand_as(flat)
    beyond = flat.shape[-1]
    first = torch.where(flat == largest.gather(-1, slots), position, beyond)
    first = torch.full_like(largest, beyond, dtype=torch.long).scatter_reduce(-1, slots, first, "amin")
    return ((first.gather(-1, slots) == position) & (slots > 0)).view_as(magnitude)
