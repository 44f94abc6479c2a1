"""Top-k absolutes (paper Alg. 1)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from sanets.activations._common import check_input, keep, per_channel


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
    Tensor, same shape as x, with exactly k positions kept per map.
    """
    check_input(x)
    ks = per_channel(k, "k", x.shape[1], 1, minimum=1)[:, 0]
    largest = int(ks.max()) if len(ks) else 1
    size = math.prod(x.shape[2:])
    if largest > size:
        raise ValueError(f"k={largest} exceeds the {size} values of each map of x (shape {tuple(x.shape)})")
    return topk_checked(x, ks)


def topk_checked(x: Tensor, ks: Tensor) -> Tensor:
    """:func:`topk_absolutes` on a checked ``x`` with a checked int64 table ``ks`` of shape (C,)."""
    flat = x.flatten(2)
    largest = int(ks.max()) if len(ks) else 1
    # The channels' k largest are the first k of the sorted top max(k); sorting is needed only where k differs.
    indices = flat.abs().topk(largest, dim=-1, sorted=bool(len(ks) and ks.min() < largest)).indices
    kept = torch.arange(largest, device=x.device) < ks.to(x.device)[:, None]
    mask = torch.zeros_like(flat, dtype=torch.bool).scatter_(-1, indices, kept.expand_as(indices))
    return keep(x, mask.view_as(x))
