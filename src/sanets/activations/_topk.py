"""Top-k absolutes (paper Alg. 1)."""

from __future__ import annotations

import math

from torch import Tensor

from sanets.activations._common import check_input, keep, numba_can_run, per_channel


def topk_absolutes(x: Tensor, k: int | Tensor) -> Tensor:
    """Top-k absolutes (Alg. 1): keep the k values of largest magnitude per map.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)
    k : int or Tensor of int, shape (C,)
        How many values each ``(example, channel)`` map keeps, 1 <= k <= L (or
        H*W), for all channels or one per channel. The paper sets k = n // m
        (1D) and (H // m) * (W // m) (2D).

    Returns
    -------
    Tensor, same shape as x, with exactly k positions kept per map; among
    equal magnitudes the lower flat index is kept first (a rule of ours: the
    paper has none, and ``torch.topk``'s choice differs between devices).
    """
    check_input(x)
    ks = per_channel(k, "k", x.shape[1], 1, minimum=1)[:, 0]
    largest = int(ks.max()) if len(ks) else 1
    size = math.prod(x.shape[2:])
    if largest > size:
        raise ValueError(f"k={largest} exceeds the {size} values of each map of x (shape {tuple(x.shape)})")
    return topk_checked(x, ks)


COMPILED_ON_CPU = True
"""On the CPU, the mask is computed by numba (:mod:`sanets.activations._topk_compiled`): 5-6x faster than the
tensor operations on Table III's maps and on 1D maps of 1000 samples (``benchmarks/bench_activations.py``), and exactly
the same result."""

K_GROUPS = 8
"""Channels with up to this many distinct k, the largest of them over an eighth of the map, find their
thresholds group by group (a selection in each, linear in the map size); otherwise one partial sort up to the
largest k gives them all (1.7x faster on Table III's maps, 1.2x on Table I's)."""


def topk_checked(x: Tensor, ks: Tensor) -> Tensor:
    """:func:`topk_absolutes` on a checked ``x`` with a checked int64 table ``ks`` of shape (C,).

    Each map's k-th largest magnitude t is its threshold: every magnitude above
    t is kept, and of those equal to t the first ones, in position order, until
    k are kept. Channels with k = the map size keep everything.
    """
    if COMPILED_ON_CPU and numba_can_run(x):
        from sanets.activations._topk_compiled import topk_kept  # numba loads on first use, not with sanets

        return keep(x, topk_kept(x, ks))
    magnitude = x.detach().flatten(2).abs()
    size = magnitude.shape[-1]
    partial = ks < size
    distinct = ks[partial].unique().tolist()
    threshold = magnitude.new_full((*magnitude.shape[:2], 1), -1.0)
    if distinct and len(distinct) <= K_GROUPS and 8 * distinct[-1] > size:
        for k in distinct:
            channels = (ks == k).nonzero().view(-1).to(x.device)
            threshold[:, channels] = magnitude.index_select(1, channels).kthvalue(size - k + 1, dim=-1, keepdim=True).values
    elif distinct:
        channels = partial.nonzero().view(-1).to(x.device)
        largest = magnitude.index_select(1, channels).topk(distinct[-1], dim=-1, sorted=True).values
        threshold[:, channels] = largest.gather(-1, (ks[partial] - 1).to(x.device).expand(len(x), -1)[..., None])
    ks = ks.to(x.device)[:, None]
    above = magnitude > threshold
    tied = magnitude == threshold
    mask = above | (tied & (tied.cumsum(-1) <= ks - above.sum(-1, keepdim=True)))
    return keep(x, mask.view_as(x))
