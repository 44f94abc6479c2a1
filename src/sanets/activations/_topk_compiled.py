"""Top-k absolutes (Alg. 1) compiled for the CPU: each map's threshold by a radix selection, and its mask.

A float's bits, with the sign cleared, order as its magnitude does. One pass over
a map counts its magnitudes by their leading bits (the exponent and the first
mantissa bits); the count from the top finds the bin that holds the k-th largest;
only that bin's magnitudes are sorted. A last pass keeps what lies above the
threshold and, of the magnitudes equal to it, the first ones in position order.
Each map is a few passes over its values with no branch that depends on them
(a selection by comparisons, ``torch.kthvalue``'s quickselect, branches on every
one), where the tensor operations also took five more passes for the tie rule:
6.6 against 1.3 ms per Table III batch (``benchmarks/bench_activations.py``). The loops are
compiled by numba; other devices run :func:`sanets.activations._topk.topk_checked`'s
tensor operations, which give the same result.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor

_LAYOUT = {torch.float32: (np.uint32, 20), torch.float64: (np.uint64, 49)}
"""dtype -> (its bits as unsigned ints, the bits dropped to bin a magnitude): 2^11 bins of a float32 magnitude (8
per power of 2) and 2^14 of a float64's (8 per power of 2 as well)."""


def topk_kept(x: Tensor, ks: Tensor) -> Tensor:
    """Mask of the positions :func:`sanets.activations.topk_absolutes` keeps.

    Parameters
    ----------
    x : Tensor, float32 or float64, shape (N, C, L) or (N, C, H, W), on the CPU
    ks : Tensor of int64, shape (C,)
        Each channel's k, 1 <= k; k >= the map size keeps the whole map.

    Returns
    -------
    Tensor of bool, same shape as x
    """
    unsigned, shift = _LAYOUT[x.dtype]
    maps = np.ascontiguousarray(x.detach().reshape(x.shape[0] * x.shape[1], x.shape[2:].numel()).numpy()).view(unsigned)
    kept = np.empty(maps.shape, dtype=np.uint8)
    bins = 1 << (8 * maps.itemsize - 1 - shift)
    _kept(maps, np.ascontiguousarray(ks.numpy(), dtype=np.int64), unsigned(shift), bins, kept)
    return torch.from_numpy(kept).view(torch.bool).view(x.shape)


@numba.njit(cache=True, nogil=True)
def _kept(maps, ks, shift, bins, kept):  # pragma: no cover - compiled; tested through topk_absolutes
    """Each row of ``maps`` (a map's float bits) keeps its ``ks[row % len(ks)]`` largest magnitudes in ``kept``."""
    rows, size = maps.shape
    magnitude = maps.dtype.type(np.iinfo(maps.dtype).max >> 1)
    counts = np.zeros(bins, dtype=np.int64)
    candidates = np.empty(size, dtype=maps.dtype)
    for r in range(rows):
        k, row, out = ks[r % len(ks)], maps[r], kept[r]
        if k >= size:
            out[:] = 1
            continue
        top = 0
        for i in range(size):
            b = np.int64((row[i] & magnitude) >> shift)  # int64: numba makes floats of uint64 mixed with int64
            counts[b] += 1
            top = max(top, b)
        above, b = 0, top  # magnitudes in the bins above b
        while above + counts[b] < k:
            above += counts[b]
            b -= 1
        count = 0
        for i in range(size):  # without a branch: every magnitude is written, and only b's move on
            value = row[i] & magnitude
            candidates[count] = value
            bin_ = np.int64(value >> shift)
            count += bin_ == b
            counts[bin_] = 0  # the counts are left all 0 for the next row
        chosen = candidates[:count]
        at = count - (k - above)
        if chosen.min() == chosen.max():  # one magnitude fills the bin (MNIST's exact zeros): nothing to sort
            threshold, first, last = chosen[0], 0, count - 1
        else:
            chosen.sort()
            threshold = chosen[at]
            first, last = at, at  # the run of magnitudes equal to the threshold
            while first > 0 and chosen[first - 1] == threshold:
                first -= 1
            while last + 1 < count and chosen[last + 1] == threshold:
                last += 1
        ties = last - at + 1  # how many of the equal ones are kept: those at and above k's place
        if ties == last - first + 1:
            for i in range(size):
                out[i] = (row[i] & magnitude) >= threshold
        else:
            for i in range(size):
                value = row[i] & magnitude
                tied = value == threshold
                out[i] = (value > threshold) | (tied & (ties > 0))
                ties -= tied
