"""Extrema-Pool indices (Alg. 2) compiled for the CPU: one pass over each map, window by window.

The tensor operations (:func:`sanets.activations._pool.pool_checked` elsewhere) pool each group of channels that
share a window with ``max_pool2d``, scatter its indices into a mask and copy the group back. Here each full window
of each map is scanned once in row-major order and its first largest magnitude marked, the rule of torch's max
pooling, so the masks are the same: 0.9 against 3.0 ms per Table III batch (``benchmarks/bench_activations.py``).
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor


def pool_kept(x: Tensor, windows: Tensor) -> Tensor:
    """Mask of the positions :func:`sanets.activations.extrema_pool_indices` keeps.

    Parameters
    ----------
    x : Tensor, float32 or float64, shape (N, C, L) or (N, C, H, W), on the CPU
    windows : Tensor of int64, shape (C, 1) or (C, 2)
        Each channel's window, at most the map's size along each axis.

    Returns
    -------
    Tensor of bool, same shape as x
    """
    maps = x.detach().reshape(x.shape[0] * x.shape[1], *([1] if x.ndim == 3 else []), *x.shape[2:]).numpy()
    sizes = windows.numpy() if windows.shape[1] == 2 else np.concatenate([np.ones_like(windows.numpy()), windows.numpy()], 1)
    kept = np.zeros(maps.shape, dtype=np.uint8)
    _kept(np.ascontiguousarray(maps), np.ascontiguousarray(sizes, dtype=np.int64), kept)
    return torch.from_numpy(kept).view(torch.bool).view(x.shape)


@numba.njit(cache=True, nogil=True)
def _kept(maps, windows, kept):  # pragma: no cover - compiled; tested through extrema_pool_indices
    """Map r of ``maps`` (rows, H, W) marks in ``kept`` the first largest magnitude of each full window of size
    ``windows[r % len(windows)]``; trailing partial windows are not pooled."""
    rows, height, width = maps.shape
    for r in range(rows):
        window_rows, window_columns = windows[r % len(windows), 0], windows[r % len(windows), 1]
        if window_rows == 1 and window_columns == 1:
            kept[r] = 1
            continue
        for top in range(0, height - window_rows + 1, window_rows):
            for left in range(0, width - window_columns + 1, window_columns):
                best, best_i, best_j = -1.0, top, left
                for i in range(top, top + window_rows):
                    for j in range(left, left + window_columns):
                        # Selections, not branches: which magnitude is larger is unpredictable.
                        magnitude = abs(maps[r, i, j])
                        larger = magnitude > best
                        best = magnitude if larger else best
                        best_i = i if larger else best_i
                        best_j = j if larger else best_j
                kept[r, best_i, best_j] = 1
