"""Extrema's greedy pass (Alg. 3) compiled for the CPU: the paper's loop itself, map by map, in machine code.

On a CPU the literal greedy pass beats every vectorised formulation: each map's
candidates are sorted once by numpy's vectorised sort, and each kept one blocks
its window in a bitmap, so a candidate is decided by one lookup. The loops are
compiled by numba. Other devices run the parallel rounds of
:mod:`sanets.activations._suppression`, which give the same result.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor


def greedy_kept(x: Tensor, candidates: Tensor, radii: Tensor) -> Tensor:
    """Mask of the candidates that the greedy pass of :func:`sanets.activations.extrema` keeps.

    Parameters
    ----------
    x : Tensor, shape (N, C, *spatial), on the CPU
        Its magnitudes order the candidates (larger first, ties: lower flat index).
    candidates : Tensor of bool, same shape
    radii : Tensor of int64, shape (C, len(spatial))
        Each channel's suppression distance per axis.

    Returns
    -------
    Tensor of bool, same shape as x
    """
    maps = x.shape[0] * x.shape[1]
    height, width = (1, *x.shape[2:]) if x.ndim == 3 else x.shape[2:]
    magnitude = x.detach().reshape(maps, height * width).abs().numpy()
    candidates = candidates.reshape(maps, height * width).contiguous().numpy()
    counts = candidates.sum(1)
    values, positions = _candidate_table(magnitude, candidates, int(counts.max(initial=0)))
    if values.dtype == np.float32:
        # One sort of 64-bit keys, decreasing magnitude (the bits of a float >= 0 grow with it) then position:
        # the greedy order itself. Padding slots (magnitude -1) get the largest key, so they sort last.
        keys = (np.int64(0x7FFFFFFF) - (values.view(np.int32) & 0x7FFFFFFF)) << 32 | positions
        keys[values < 0] = np.iinfo(np.int64).max
        visits = np.sort(keys, axis=1) & 0xFFFFFFFF
    else:  # a stable sort keeps equal magnitudes in position order
        visits = np.take_along_axis(positions, np.argsort(-values, axis=1, kind="stable"), 1)
    per_map = radii.repeat(x.shape[0], 1)
    if x.ndim == 3:  # a map of one row: no reach across rows
        per_map = torch.cat([torch.zeros_like(per_map), per_map], 1)
    kept = np.zeros((maps, height * width), dtype=np.bool_)
    _greedy(visits, counts, per_map.contiguous().numpy(), width, height, kept)
    return torch.from_numpy(kept).view(x.shape)


@numba.njit(cache=True, nogil=True)
def _candidate_table(magnitude, candidates, width):  # pragma: no cover - compiled; tested through extrema
    """Each map's candidates in position order: magnitudes (padding -1) and flat positions."""
    maps, size = magnitude.shape
    values = np.full((maps, width + 1), -1.0, dtype=magnitude.dtype)
    positions = np.zeros((maps, width + 1), dtype=np.int64)
    for m in range(maps):
        slot = 0
        for q in range(size):  # without a branch: every position is written, and only candidates move on
            values[m, slot] = magnitude[m, q]
            positions[m, slot] = q
            slot += candidates[m, q]
        values[m, slot] = -1.0
    return values[:, :width], positions[:, :width]


@numba.njit(cache=True, nogil=True)
def _greedy(visits, counts, radii, width, height, kept):  # pragma: no cover - compiled; tested through extrema
    """For each map, its candidates' positions in the greedy order: each one out of reach of the kept ones is
    kept and blocks every position within its reach."""
    blocked = np.zeros(kept.shape[1], dtype=np.bool_)
    for m in range(len(counts)):
        blocked[:] = False
        reach_y, reach_x = radii[m, 0], radii[m, 1]
        for i in range(counts[m]):
            q = visits[m, i]
            if blocked[q]:
                continue
            kept[m, q] = True
            y, x = q // width, q % width
            left, right = max(0, x - reach_x), min(width, x + reach_x + 1)
            for row in range(max(0, y - reach_y), min(height, y + reach_y + 1)):
                for p in range(row * width + left, row * width + right):
                    blocked[p] = True
