"""The greedy pass of Extrema (Alg. 3), exact: the engine behind :func:`extrema`.

An undecided candidate that comes first in the greedy order (larger |x|, ties:
lower flat index) among the undecided ones within its window has no kept
candidate before it nearby, so it is kept; then the undecided candidates near
it are dropped. (On the CPU, :mod:`sanets.activations._compiled` runs the greedy
pass itself instead.) Maps with few candidates compare them directly: in 1D as
range-minimum queries over each candidate's run of neighbours
(:func:`_interval_suppression`), in 2D with pair tables
(:func:`_pairwise_suppression`). The others run the rounds on a padded copy of
the maps (:func:`sanets.activations._dense_rounds.dense_suppression`). Channels with different distances are
processed in groups of equal distance or, when there are many distances, all
compared pairwise in chunks of bounded memory.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from sanets.activations._common import keep, uniform
from sanets.activations._dense_rounds import dense_suppression

DISTANCE_GROUPS = 8
"""Channels with up to this many distinct distances are processed group by group; with more,
all maps are compared pairwise at once (one call instead of many small ones)."""

PAIR_BUDGET = 1 << 24
"""Most entries of the (maps, c, c) pair tables built at once by :func:`_pairwise_in_chunks`."""

PAIRWISE_LIMIT = 1
"""Maps are compared pairwise when each has at most c candidates with c**2 <= this * map size.

Then the (M, c, c) pair tables take about as much memory as x, and the rounds
on them are cheaper than on the dense maps."""


def suppress(x: Tensor, candidates: Tensor, radii: Tensor) -> Tensor:
    """x at the candidates that the greedy pass keeps, 0 elsewhere.

    Parameters
    ----------
    x : Tensor, shape (N, C, *spatial)
    candidates : Tensor of bool, same shape
        Peaks and valleys of x (:func:`sanets.activations._extrema.extrema_candidates`).
    radii : Tensor of int64, shape (C, len(spatial))
        Each channel's minimum distance per axis, at most the axis size - 1.

    Returns
    -------
    Tensor, same shape as x
    """
    shape = x.shape[2:]
    radius = uniform(radii)
    if radius is not None and not any(radius):
        return keep(x, candidates)
    size = math.prod(shape)
    flat = candidates.view(-1, size)
    if radius is None:
        distinct = radii.unique(dim=0)
        if len(distinct) > DISTANCE_GROUPS:
            return _pairwise_in_chunks(x, *_spots(flat), radii.to(x.device).repeat(x.shape[0], 1))
        # Few distinct distances: each group of channels takes the faster of the two methods.
        out = torch.zeros_like(x)
        for row in distinct:
            channels = (radii == row).all(1).nonzero().view(-1)
            group = suppress(x.index_select(1, channels.to(x.device)), candidates.index_select(1, channels.to(x.device)),
                             radii.index_select(0, channels))
            out = out.index_copy(1, channels.to(x.device), group)
        return out
    # A sample of the maps tells whether they have few enough candidates to compare them pairwise.
    sample = flat[:: max(1, len(flat) // 32)].view(torch.uint8).sum(1, dtype=torch.int32)
    if int(sample.max()) ** 2 <= PAIRWISE_LIMIT * size:
        spots, counts = _spots(flat)
        if int(counts.max()) ** 2 <= PAIRWISE_LIMIT * size:
            return _pairwise_suppression(x, spots, counts, radius)
    kept = dense_suppression(x.detach().reshape(-1, *shape).abs(), candidates.view(-1, *shape), radius)
    return keep(x, kept.view(x.shape))


def _spots(candidates: Tensor) -> tuple[Tensor, Tensor]:
    """Flat indices of the candidates of ``(M, size)`` maps, ascending, and their count per map."""
    spots = candidates.view(-1).nonzero().view(-1)
    return spots, torch.bincount(spots // candidates.shape[1], minlength=len(candidates))


def _pairwise_in_chunks(x: Tensor, spots: Tensor, counts: Tensor, radius: Tensor) -> Tensor:
    """:func:`_pairwise_suppression` on chunks of maps with similar candidate counts, each chunk's pair tables
    within :data:`PAIR_BUDGET`.

    A chunk's tables are as wide as its largest count, so maps are taken in order
    of their counts and a chunk ends where the count grows past 1.5 times its
    first: a sweep of kernel sizes mixes maps of 200 candidates (m = 1) with maps
    of 20, and one table for all would be a hundred times larger.

    Parameters
    ----------
    x : Tensor, shape (N, C, *spatial)
    spots : Tensor of int64, shape (K,)
        Flat indices (into x) of the candidates of all M = N * C maps, ascending.
    counts : Tensor of int64, shape (M,)
    radius : Tensor of int64, shape (M, len(spatial))
        Each map's suppression distance per axis.

    Returns
    -------
    Tensor, same shape as x: x at the kept candidates, 0 elsewhere.
    """
    shape = x.shape[2:]
    size, maps = math.prod(shape), len(counts)
    by_map = x.reshape(maps, 1, *shape)
    candidates = torch.zeros(maps * size, dtype=torch.bool, device=x.device)
    candidates[spots] = True
    candidates = candidates.view(maps, size)
    order = torch.argsort(counts, stable=True)
    ordered = counts.index_select(0, order).tolist()
    out = torch.zeros_like(by_map)
    start = next((i for i, count in enumerate(ordered) if count), maps)  # maps without candidates stay 0
    while start < maps:
        stop, first = start, ordered[start]
        while stop < maps and ordered[stop] <= 1.5 * first and (stop - start + 1) * ordered[stop] ** 2 <= PAIR_BUDGET:
            stop += 1
        stop = max(stop, start + 1)
        chunk = order[start:stop].sort().values
        chunk_spots, chunk_counts = _spots(candidates.index_select(0, chunk))
        kept = _pairwise_suppression(by_map.index_select(0, chunk), chunk_spots, chunk_counts, radius.index_select(0, chunk))
        out = out.index_copy(0, chunk, kept)
        start = stop
    return out.view(x.shape)


def _pairwise_suppression(x: Tensor, spots: Tensor, counts: Tensor, radius: tuple[int, ...] | Tensor) -> Tensor:
    """:func:`suppress` for maps with few candidates: the rounds on all pairs of each map's candidates.

    Parameters
    ----------
    x : Tensor, shape (N, C, *spatial)
    spots : Tensor of int64, shape (K,)
        Flat indices (into x) of the candidates of all M = N * C maps, ascending.
    counts : Tensor of int64, shape (M,)
        Candidates per map; c = their maximum.
    radius : tuple of int, or Tensor of int64, shape (M, len(spatial))
        Suppression distance per spatial axis, for all maps or per map.

    Returns
    -------
    Tensor, same shape as x: x at the kept candidates, 0 elsewhere.
    """
    shape = x.shape[2:]
    if not len(spots):
        return x * 0
    if len(shape) == 1:
        return _interval_suppression(x, spots, counts, radius)
    size, maps, c = math.prod(shape), len(counts), int(counts.max())
    priority, row, slot = _candidate_table(x, spots, counts)
    spot = torch.zeros(maps, c, dtype=torch.long, device=x.device)
    spot[row, slot] = spots
    # Coordinates from a small table (int16 differences are the cheapest to compare).
    grid = torch.stack(torch.unravel_index(torch.arange(size, device=x.device), shape), -1).to(torch.int16)
    coordinates = grid.index_select(0, (spot % size).view(-1)).view(maps, c, len(shape))
    near = None  # near[m, j, i]: candidates j and i of map m lie within the distance on every axis
    for k in range(len(shape)):
        r = radius[k] if isinstance(radius, tuple) else radius[:, k, None, None]
        close = (coordinates[:, :, None, k] - coordinates[:, None, :, k]).abs() <= r
        near = close if near is None else near & close
    # first[m, j, i]: j comes before i in the greedy order (larger |x|, ties: lower position = lower slot).
    pj, pi = priority[:, :, None], priority[:, None, :]
    order = torch.arange(c, device=x.device)
    lower = order[:, None] < order[None, :]  # lower[j, i]: slot j before slot i
    first = (near & ((pj > pi) | ((pj >= pi) & lower))).float()
    near = near.float()
    undecided = priority >= 0
    kept = torch.zeros_like(undecided)
    while undecided.any():
        # Batched vector-matrix products count, for each i, the undecided j before it (the kept j near it):
        # exact small integers, and much faster than a boolean reduction.
        new = undecided & (torch.bmm(undecided.float()[:, None], first)[:, 0] == 0)
        kept |= new
        undecided &= torch.bmm(new.float()[:, None], near)[:, 0] == 0
    return _kept_values(x, spot.masked_select(kept))


def _interval_suppression(x: Tensor, spots: Tensor, counts: Tensor, radius: tuple[int, ...] | Tensor) -> Tensor:
    """:func:`_pairwise_suppression` in 1D, where a candidate's window holds a run of consecutive candidates.

    Candidates sorted by position have the ones within distance r of slot i in
    slots ``lo_i..hi_i`` (``searchsorted``). A round keeps the undecided
    candidates whose greedy rank (larger |x| first, ties to the lower position)
    is the minimum over the undecided ones of their window, a range-minimum
    query answered from a sparse table; then it drops the undecided ones with a
    kept one in their window, a difference of prefix counts. Each round costs
    O(c log c) per map instead of the O(c**2) of the pair tables.

    Parameters and returns as :func:`_pairwise_suppression`.
    """
    size, maps, c = x.shape[-1], len(counts), int(counts.max())
    device = x.device
    priority, row, slot = _candidate_table(x, spots, counts)
    r = radius[0] if isinstance(radius, tuple) else radius[:, 0, None]
    # Padding slots sit past every window, in increasing order, and never take part (priority -1).
    position = (3 * size + torch.arange(c, device=device)).repeat(maps, 1)
    position[row, slot] = spots % size
    rank = torch.empty(maps, c, dtype=torch.long, device=device)
    order = torch.sort(priority, dim=1, descending=True, stable=True).indices  # stable: ties keep the lower slot first
    rank.scatter_(1, order, torch.arange(c, device=device).expand(maps, c))
    lo = torch.searchsorted(position, position - r)
    hi = torch.searchsorted(position, position + r, right=True) - 1
    # A run lo..hi is covered by the two table entries of level k = floor(log2(length)) starting at lo and at
    # hi - 2**k + 1; their flat indices in the stacked tables (levels, maps, c).
    level = torch.floor(torch.log2((hi - lo + 1).double())).long()
    offset = level * (maps * c) + torch.arange(maps, device=device)[:, None] * c
    first, last = offset + lo, offset + hi - (1 << level) + 1
    undecided = priority >= 0
    kept = torch.zeros_like(undecided)
    while undecided.any():
        # Sparse table of range minima of the undecided ranks: table[k, m, j] = min over slots j .. j + 2**k - 1.
        key = torch.where(undecided, rank, c)
        tables = [key]
        while 2 ** len(tables) <= c:
            span = 2 ** (len(tables) - 1)
            previous = tables[-1]
            tables.append(torch.cat([torch.minimum(previous[:, :-span], previous[:, span:]), previous[:, -span:]], 1))
        flat = torch.stack(tables).view(-1)
        smallest = torch.minimum(flat.take(first), flat.take(last))
        new = undecided & (smallest == rank)
        kept |= new
        prefix = torch.nn.functional.pad(new.long().cumsum(1), (1, 0))
        undecided &= (prefix.gather(1, hi + 1) - prefix.gather(1, lo)) == 0
    return _kept_values(x, spots.index_select(0, kept[row, slot].nonzero().view(-1)))


def _candidate_table(x: Tensor, spots: Tensor, counts: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The (maps, c) table of |x| at each map's candidates in position order (padding slots -1: never
    undecided), and each candidate's row and slot in it."""
    row = spots // math.prod(x.shape[2:])
    slot = torch.arange(len(spots), device=x.device) - (counts.cumsum(0) - counts).index_select(0, row)
    priority = x.new_full((len(counts), int(counts.max())), -1.0)
    priority[row, slot] = x.detach().reshape(-1).index_select(0, spots).abs()
    return priority, row, slot


def _kept_values(x: Tensor, flat: Tensor) -> Tensor:
    """x at the flat indices ``flat`` (differentiably), 0 elsewhere."""
    out = torch.zeros(x.shape, dtype=x.dtype, device=x.device).view(-1)
    out.index_put_((flat,), x.reshape(-1).index_select(0, flat))
    return out.view(x.shape)
