"""The five activation functions of SANs (paper Sec. III-A, Algs. 1-3).

Every function takes ``x`` of shape ``(N, C, L)`` (1D) or ``(N, C, H, W)`` (2D),
treats each example and each channel on its own, and returns a tensor of x's
shape that is zero everywhere except at the kept positions, which hold x's
signed values. Gradients flow to the kept values (the selection itself is
piecewise constant, so it carries no gradient).

The functions are picked by name from :data:`ACTIVATIONS`; :func:`get` builds
the matching ``nn.Module``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "identity",
    "relu",
    "topk_absolutes",
    "extrema_pool_indices",
    "extrema",
    "Identity",
    "ReLU",
    "TopKAbsolutes",
    "ExtremaPoolIndices",
    "Extrema",
    "ACTIVATIONS",
    "get",
]

SpatialSize = int | Sequence[int]


def _check_input(x: Tensor) -> int:
    """Validate ``x`` and return its number of spatial dimensions (1 or 2)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"x must have shape (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)} ({x.ndim} dimensions)"
        )
    if x.numel():
        low, high = torch.aminmax(x.detach())  # one pass; NaN propagates to both
        if not (torch.isfinite(low) & torch.isfinite(high)):
            raise ValueError("x contains NaN or inf values")
    return x.ndim - 2


def _per_axis(value: SpatialSize, name: str, spatial_dims: int, minimum: int) -> tuple[int, ...]:
    """Turn an int or a per-axis sequence into one int per spatial axis, checked."""
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


def _per_channel(value: SpatialSize | Tensor, name: str, channels: int, axes: int, minimum: int) -> Tensor:
    """One row of ``axes`` ints per channel, checked: int64 ``(channels, axes)`` on the CPU.

    ``value`` is an int, one int per axis, or an integer tensor of shape
    ``(channels,)`` or ``(channels, axes)`` giving each channel its own value.
    """
    if not isinstance(value, Tensor):
        return torch.tensor(_per_axis(value, name, axes, minimum)).expand(channels, axes)
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


def _uniform(table: Tensor) -> tuple[int, ...] | None:
    """The row shared by every channel of a ``(channels, axes)`` table, or None where they differ."""
    if len(table) and bool((table == table[:1]).all()):
        return tuple(table[0].tolist())
    return None


def _keep(x: Tensor, mask: Tensor) -> Tensor:
    """x where mask is set, 0 elsewhere; the gradient reaches the kept values only."""
    return x * mask.view(torch.uint8).to(x.dtype)  # converting from uint8 is several times faster than from bool


def identity(x: Tensor) -> Tensor:
    """Identity activation (Sec. III-A1): every similarity value is kept.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)

    Returns
    -------
    Tensor, same shape as x
    """
    _check_input(x)
    return x


def relu(x: Tensor) -> Tensor:
    """ReLU activation (Sec. III-A2): the positive similarity values are kept.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)

    Returns
    -------
    Tensor, same shape as x
    """
    _check_input(x)
    return torch.relu(x)


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
    _check_input(x)
    flat = x.flatten(2)
    ks = _per_channel(k, "k", x.shape[1], 1, minimum=1)[:, 0]
    largest = int(ks.max()) if len(ks) else 1
    if largest > flat.shape[-1]:
        raise ValueError(f"k={largest} exceeds the {flat.shape[-1]} values of each map of x (shape {tuple(x.shape)})")
    # The channels' k largest are the first k of the sorted top max(k); sorting is needed only where k differs.
    indices = flat.abs().topk(largest, dim=-1, sorted=bool(len(ks) and ks.min() < largest)).indices
    keep = torch.arange(largest, device=x.device) < ks.to(x.device)[:, None]
    mask = torch.zeros_like(flat, dtype=torch.bool).scatter_(-1, indices, keep.expand_as(indices))
    return _keep(x, mask.view_as(x))


def extrema_pool_indices(x: Tensor, pool_size: SpatialSize | Tensor) -> Tensor:
    """Extrema-Pool indices (Alg. 2): keep the largest magnitude of each pooling window.

    Max-pooling of |x| over a grid of non-overlapping windows (stride = window),
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
    spatial_dims = _check_input(x)
    windows = _per_channel(pool_size, "pool_size", x.shape[1], spatial_dims, minimum=1)
    if len(windows) and (windows.amax(0) > torch.tensor(x.shape[2:])).any():
        raise ValueError(f"pool_size={pool_size!r} is larger than the spatial size {tuple(x.shape[2:])} of x")
    window = _uniform(windows)
    if window is None:
        return _keep(x, _pool_per_channel(x.detach().abs(), windows.to(x.device)))
    max_pool = F.max_pool1d if spatial_dims == 1 else F.max_pool2d
    _, indices = max_pool(x.abs(), window, stride=window, return_indices=True)
    flat = x.flatten(2)
    mask = torch.zeros_like(flat, dtype=torch.bool).scatter_(-1, indices.flatten(2), True)
    return _keep(x, mask.view_as(x))


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


def extrema(x: Tensor, min_distance: SpatialSize | Tensor) -> Tensor:
    """Extrema (Alg. 3): keep the dominant local peaks and valleys of each map.

    Candidates are zero crossings of the first derivative. Along an axis, with
    the differences padded by 0 at both ends, position i is a peak if
    ``x[i] - x[i-1] > 0``, ``x[i+1] - x[i] <= 0`` and ``x[i] > 0``, and a valley
    if ``x[i] - x[i-1] <= 0``, ``x[i+1] - x[i] > 0`` and ``x[i] <= 0``; in 2D a
    candidate must be a peak (or a valley) along both axes. Candidates are
    visited by decreasing |x| (ties: lower flat index first) and each is kept
    unless an already kept one lies within the minimum extrema distance
    (``|i - j| <= d`` per axis).

    The greedy pass is computed exactly, in parallel rounds over all maps at
    once: an undecided candidate that comes first in the greedy order among the
    undecided ones within its window has no kept candidate before it nearby, so
    it is kept; then the undecided candidates near it are dropped. Maps with few
    candidates compare them pairwise (:func:`_pairwise_suppression`), the others
    run the rounds on a padded copy of the maps (:func:`_dense_suppression`).
    Channels with different distances are processed in groups of equal
    distance, or, when there are many distances, all compared pairwise in
    chunks of bounded memory.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)
    min_distance : int, (int, int), or Tensor of int, shape (C,) or (C, 2)
        Minimum extrema distance d >= 0 per spatial axis, for all channels or
        one per channel; the paper uses m - border_tolerance. 0 keeps every
        candidate.

    Returns
    -------
    Tensor, same shape as x
    """
    spatial_dims = _check_input(x)
    distances = _per_channel(min_distance, "min_distance", x.shape[1], spatial_dims, minimum=0)
    if not x.numel():
        return x.clone()
    values = x.detach()  # the selection is piecewise constant: no gradient flows through it
    candidates = _extrema_candidates(values)
    shape = x.shape[2:]
    # Two positions of a map are at most size - 1 apart, so larger distances act alike.
    radii = distances.minimum(torch.tensor(shape) - 1)
    radius = _uniform(radii)
    if radius is not None and not any(radius):
        return _keep(x, candidates)
    size = math.prod(shape)
    flat = candidates.view(-1, size)
    if radius is None:
        distinct = radii.unique(dim=0)
        if len(distinct) > _DISTANCE_GROUPS:
            return _pairwise_in_chunks(x, *_spots(flat), radii.to(x.device).repeat(x.shape[0], 1))
        # Few distinct distances: each group of channels takes the faster of the two methods.
        out = torch.zeros_like(x)
        for row in distinct:
            channels = (radii == row).all(1).nonzero().view(-1).to(x.device)
            out = out.index_copy(1, channels, extrema(x.index_select(1, channels), tuple(row.tolist())))
        return out
    # A sample of the maps tells whether they have few enough candidates to compare them pairwise.
    sample = flat[:: max(1, len(flat) // 32)].view(torch.uint8).sum(1, dtype=torch.int32)
    if int(sample.max()) ** 2 <= _PAIRWISE_LIMIT * size:
        spots, counts = _spots(flat)
        if int(counts.max()) ** 2 <= _PAIRWISE_LIMIT * size:
            return _pairwise_suppression(x, spots, counts, radius)
    kept = _dense_suppression(values.reshape(-1, *shape).abs(), candidates.view(-1, *shape), radius)
    return _keep(x, kept.view(x.shape))


def _spots(candidates: Tensor) -> tuple[Tensor, Tensor]:
    """Flat indices of the candidates of ``(M, size)`` maps, ascending, and their count per map."""
    spots = candidates.view(-1).nonzero().view(-1)
    return spots, torch.bincount(spots // candidates.shape[1], minlength=len(candidates))


def _pairwise_in_chunks(x: Tensor, spots: Tensor, counts: Tensor, radius: Tensor) -> Tensor:
    """:func:`_pairwise_suppression` on consecutive chunks of maps whose pair tables fit :data:`_PAIR_BUDGET`.

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
    largest = int(counts.max()) if maps else 0
    chunk = max(1, _PAIR_BUDGET // max(1, largest) ** 2)
    if chunk >= maps:
        return _pairwise_suppression(x, spots, counts, radius)
    by_map = x.reshape(maps, 1, *shape)
    ends = counts.cumsum(0).tolist()
    parts = []
    for start in range(0, maps, chunk):
        stop = min(start + chunk, maps)
        first, last = ends[start - 1] if start else 0, ends[stop - 1]
        parts.append(
            _pairwise_suppression(by_map[start:stop], spots[first:last] - start * size, counts[start:stop], radius[start:stop])
        )
    return torch.cat(parts).view(x.shape)


_DISTANCE_GROUPS = 8
"""Channels with up to this many distinct distances are processed group by group; with more,
all maps are compared pairwise at once (one call instead of many small ones)."""

_PAIR_BUDGET = 1 << 24
"""Most entries of the (maps, c, c) pair tables built at once by :func:`_pairwise_in_chunks`."""


_PAIRWISE_LIMIT = 1
"""Maps are compared pairwise when each has at most c candidates with c**2 <= this * map size.

Then the (M, c, c) pair tables take about as much memory as x, and the rounds
on them are cheaper than on the dense maps."""


def _extrema_candidates(x: Tensor) -> Tensor:
    """Peaks (x > 0) and valleys (x <= 0) along every spatial axis; bool, x's shape.

    Along an axis with rises ``r`` (difference > 0, padded with False at both
    ends) a position is a candidate iff ``r_before != r_after`` and
    ``r_after != (x > 0)``: (True, False, x > 0) is a peak, (False, True, x <= 0)
    a valley. The differences along an axis are taken between the whole
    flattened tensor and itself shifted by the axis stride (contiguous, hence
    fast); those that cross from one line to the next are reset to False.
    """
    flat = x.reshape(-1)
    size = flat.numel()
    positive = flat > 0
    candidates = None
    stride = 1
    for length in reversed(x.shape[2:]):
        # rises[q]: flat[q] > flat[q - stride]; the rise before q is rises[q], the one after is rises[q + stride].
        rises = torch.empty(size + stride, dtype=torch.bool, device=x.device)
        torch.gt(flat[stride:], flat[: size - stride], out=rises[stride:size])
        rises.view(-1, stride)[::length] = False  # the first position of every line, and the end
        before, after = rises[:size], rises[stride:]
        axis = (before ^ after) & (after ^ positive)
        candidates = axis if candidates is None else candidates.logical_and_(axis)
        stride *= length
    return candidates.view(x.shape)


def _pairwise_suppression(x: Tensor, spots: Tensor, counts: Tensor, radius: tuple[int, ...] | Tensor) -> Tensor:
    """:func:`extrema` for maps with few candidates: the rounds on all pairs of each map's candidates.

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
    size, maps, c = math.prod(shape), len(counts), int(counts.max())
    row = spots // size
    slot = torch.arange(len(spots), device=x.device) - (counts.cumsum(0) - counts).index_select(0, row)
    # (maps, c) tables in slot order = position order; padding slots get priority -1 (never undecided).
    priority = x.new_full((maps, c), -1.0)
    priority[row, slot] = x.detach().reshape(-1).index_select(0, spots).abs()
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
    flat = spot.masked_select(kept)
    out = torch.zeros(x.shape, dtype=x.dtype, device=x.device).view(-1)
    out.index_put_((flat,), x.reshape(-1).index_select(0, flat))
    return out.view(x.shape)


def _dense_suppression(magnitude: Tensor, candidates: Tensor, radius: tuple[int, ...]) -> Tensor:
    """Mask of the candidates that the greedy pass of :func:`extrema` keeps, by rounds on dense maps.

    The maps are copied into one flat buffer of priorities (|x| at undecided
    candidates, -1 elsewhere): each map is padded by r_k positions after each
    line along axis k, and the buffer has margins before and after. A shift by
    up to r_k times the axis stride then stays within the map's own line or
    reaches padding, so the window maxima of all maps are maxima of shifted
    slices of one 1D tensor (:func:`_window_max`). Between rounds the buffer
    shrinks to what is still undecided (:func:`_rounds_on_runs`,
    :func:`_rounds_on_maps`).

    Parameters
    ----------
    magnitude : Tensor, shape (M, *spatial)
        |x|, which orders the candidates.
    candidates : Tensor of bool, same shape
    radius : tuple of int
        Suppression distance per spatial axis, 0 <= r < size, not all 0.

    Returns
    -------
    Tensor of bool, same shape
    """
    maps, shape = magnitude.shape[0], magnitude.shape[1:]
    padded = [n + r for n, r in zip(shape, radius)]
    strides = [math.prod(padded[k + 1 :]) for k in range(len(shape))]
    map_size = math.prod(padded)
    margin = sum(r * s for r, s in zip(radius, strides))
    priority = magnitude.new_empty(2 * margin + maps * map_size)
    priority[:margin] = priority[len(priority) - margin :] = -1.0
    body = priority[margin : margin + maps * map_size].view(maps, *padded)
    for k, n in enumerate(shape):
        body[(slice(None),) * (k + 1) + (slice(n, None),)] = -1.0
    inner = (slice(None),) + tuple(slice(0, n) for n in shape)
    selected = candidates.view(torch.uint8).to(magnitude.dtype)  # from uint8: several times faster than from bool
    torch.addcmul(selected - 1, magnitude, selected, out=body[inner])  # |x| at candidates, -1 elsewhere
    kept = torch.zeros(len(priority), dtype=torch.bool, device=magnitude.device)
    if len(shape) == 1:
        _rounds_on_runs(priority, kept, radius[0])
    else:
        _rounds_on_maps(priority, kept, margin, map_size, [(r, s) for r, s in zip(radius, strides) if r][::-1])
    return kept[margin : margin + maps * map_size].view(maps, *padded)[inner]


def _rounds_on_maps(priority: Tensor, kept: Tensor, margin: int, map_size: int, axes: list[tuple[int, int]]) -> None:
    """Rounds of :func:`_dense_round` until all is decided; maps without undecided candidates leave the buffer.

    ``priority`` holds the padded maps after ``margin`` positions (and as many
    after them); ``kept`` (same layout) receives the kept candidates. ``axes``
    lists (radius, stride) of the suppressing axes, last axis first.
    """
    maps = (len(priority) - 2 * margin) // map_size
    kept_all = kept[margin : margin + maps * map_size].view(maps, map_size)
    done, rows = kept_all, None  # rows: the maps still in the buffer, when not all
    new = torch.zeros_like(kept)
    while True:
        _dense_round(priority, new, margin, maps * map_size, axes)
        done |= new[margin : margin + maps * map_size].view(maps, map_size)
        values = priority[margin : margin + maps * map_size].view(maps, map_size)
        active = values.amax(1) >= 0
        remaining = int(active.sum())
        if not remaining:
            break
        if remaining < 0.75 * maps:  # copying costs about a round; worth it once a quarter of the maps is done
            if rows is not None:
                kept_all[rows] = done
            index = active.nonzero().view(-1)
            rows = index if rows is None else rows[index]
            maps = remaining
            priority = priority.new_full((2 * margin + maps * map_size,), -1.0)
            priority[margin : margin + maps * map_size].view(maps, map_size).copy_(values[index])
            new = torch.zeros(len(priority), dtype=torch.bool, device=priority.device)
            done = kept_all[rows]
    if rows is not None:
        kept_all[rows] = done


def _rounds_on_runs(priority: Tensor, kept: Tensor, radius: int) -> None:
    """1D rounds of :func:`_dense_round`; after each, the buffer shrinks to the runs still undecided.

    Undecided candidates more than ``radius`` apart never interact, so each run
    of undecided ones closer than that (the gaps left between the windows of
    the kept ones) is an independent problem. The runs are copied end to end,
    each followed by ``radius`` positions of padding: after the first round
    this leaves a third of the buffer or less, after the second a few percent.
    ``priority`` has ``radius`` positions of margin at both ends; ``kept``
    (same layout) receives the kept candidates.
    """
    device = priority.device
    origin = None  # origin[q]: position in the first buffer of position q of the current one
    new = torch.zeros_like(kept)
    while True:
        _dense_round(priority, new, radius, len(priority) - 2 * radius, [(radius, 1)])
        if origin is None:
            kept |= new
        else:
            kept[origin.index_select(0, new.nonzero().view(-1))] = True
        undecided = (priority >= 0).nonzero().view(-1)
        if not len(undecided):
            return
        split = (undecided[1:] - undecided[:-1] > radius).nonzero().view(-1)
        first = torch.cat([undecided[:1], undecided.index_select(0, split + 1)])
        last = torch.cat([undecided.index_select(0, split), undecided[-1:]])
        length = last - first + 1 + radius  # each run followed by padding
        start = radius + length.cumsum(0) - length  # where each run goes in the new buffer
        shift = first - start
        # Old position of every new one: q + shift of its run (the leading margin keeps shift 0).
        step = torch.zeros(radius + int(length.sum()), dtype=torch.long, device=device)
        step[start] = torch.cat([shift[:1], shift[1:] - shift[:-1]])
        local = torch.arange(len(step), device=device) + step.cumsum(0)
        priority = priority.index_select(0, local)  # padding maps to positions that are decided or empty
        origin = local if origin is None else origin.index_select(0, local)
        new = torch.zeros(len(priority), dtype=torch.bool, device=device)


def _dense_round(priority: Tensor, new: Tensor, start: int, length: int, axes: list[tuple[int, int]]) -> None:
    """One round of :func:`_dense_suppression`, in place on the flat buffers.

    Keeps (sets in ``new``) every undecided position of ``priority[start :
    start + length]`` that comes before all undecided ones in its window:
    strictly larger than those at a lower flat index (the rows above, and the
    part of its own row on its left) and at least as large as those after it.
    Then marks the winners and all positions within their windows decided
    (priority -1). ``new`` must be False outside the range.
    """
    stop = start + length
    earlier = later = None
    full, origin = priority, 0  # full[q - origin]: maximum over the whole window along the axes done so far
    for i, (r, stride) in enumerate(axes):
        half = _window_max(full, r, stride)  # half[q - origin]: maximum over full at q, q + stride, ..., r of them
        lo, hi = start - origin, stop - origin
        before, after = half[lo - r * stride : hi - r * stride], half[lo + stride : hi + stride]
        earlier = before if earlier is None else torch.maximum(earlier, before)
        later = after if later is None else torch.maximum(later, after)
        if i + 1 < len(axes):  # the next axis reads full windows up to r' of its strides beyond the range
            reach = axes[i + 1][0] * axes[i + 1][1]
            lo, hi = lo - reach, hi + reach
            left, right = half[lo - r * stride : hi - r * stride], half[lo + stride : hi + stride]
            full = torch.maximum(torch.maximum(left, full[lo:hi]), right)
            origin = start - reach
    values = priority[start:stop]
    winners = torch.gt(values, earlier, out=new[start:stop])
    winners &= values >= later
    suppressed, origin = new, 0
    for i, (r, stride) in enumerate(axes):
        window = _window_max(suppressed, 2 * r + 1, stride)  # window[q - r stride] covers q's window
        reach = axes[i + 1][0] * axes[i + 1][1] if i + 1 < len(axes) else 0
        suppressed = window[start - reach - r * stride - origin : stop + reach - r * stride - origin]
        origin = start - reach
    values.masked_fill_(suppressed, -1.0)


def _window_max(values: Tensor, count: int, step: int) -> Tensor:
    """``out[q] = max(values[q + j * step] for 0 <= j < count)`` for a 1D tensor (OR for bool).

    Running maxima over 1, 2, 4, ... steps, each the maximum of two shifted
    slices of the previous one, and a last maximum of two overlapping ones: the
    cost grows with log(count). ``out`` is ``(count - 1) * step`` shorter.
    """
    combine = torch.bitwise_or if values.dtype == torch.bool else torch.maximum
    span = 1
    while 2 * span <= count:
        shift = span * step
        values = combine(values[:-shift], values[shift:])
        span *= 2
    if span < count:
        shift = (count - span) * step
        values = combine(values[: len(values) - shift], values[shift:])
    return values


class _Activation(nn.Module):
    """An activation as a module; ``parameter`` names its sparsity argument, if any."""

    parameter: str | None = None
    per_axis = False
    minimum = 1
    function: Callable[..., Tensor]

    def __init__(self, value: SpatialSize | None = None) -> None:
        super().__init__()
        if (value is None) != (self.parameter is None):
            raise TypeError(
                f"{type(self).__name__} takes {'no parameter' if self.parameter is None else self.parameter}, got {value!r}"
            )
        self.value = value

    @classmethod
    def check_parameter(cls, value: SpatialSize, spatial_dims: int) -> None:
        """Raise TypeError/ValueError unless ``value`` suits inputs with ``spatial_dims`` axes."""
        if cls.parameter is None:
            raise ValueError(f"{cls.__name__} takes no parameter, got {value!r}")
        _per_axis(value, cls.parameter, spatial_dims if cls.per_axis else 1, cls.minimum)

    @classmethod
    def table(cls, values: Sequence[SpatialSize], spatial_dims: int) -> Tensor | None:
        """One channel's parameter per entry of ``values`` (an int, or a pair in 2D) as the per-channel
        tensor the function takes: ``(C,)`` for ``k``, ``(C, spatial_dims)`` otherwise; None without a parameter."""
        if cls.parameter is None:
            return None
        axes = spatial_dims if cls.per_axis else 1
        rows = [_per_axis(value, cls.parameter, axes, cls.minimum) for value in values]
        return torch.tensor(rows, dtype=torch.long).view(len(rows), axes)[:, slice(None) if cls.per_axis else 0]

    @classmethod
    def apply(cls, x: Tensor, value: SpatialSize | Tensor | None = None) -> Tensor:
        """The function on ``x`` with sparsity parameter ``value`` (ignored by activations without one).

        ``(N, C, *spatial) -> (N, C, *spatial)``; ``value`` as the function takes
        it, e.g. a per-channel :meth:`table`.
        """
        return cls.function(x) if cls.parameter is None else cls.function(x, value)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, *spatial) -> (N, C, *spatial)``."""
        return self.apply(x, self.value)

    def extra_repr(self) -> str:
        return "" if self.parameter is None else f"{self.parameter}={self.value!r}"


class Identity(_Activation):
    """Module form of :func:`identity`."""

    function = staticmethod(identity)


class ReLU(_Activation):
    """Module form of :func:`relu`."""

    function = staticmethod(relu)


class TopKAbsolutes(_Activation):
    """Module form of :func:`topk_absolutes`; ``TopKAbsolutes(k)``."""

    parameter = "k"
    function = staticmethod(topk_absolutes)


class ExtremaPoolIndices(_Activation):
    """Module form of :func:`extrema_pool_indices`; ``ExtremaPoolIndices(pool_size)``."""

    parameter = "pool_size"
    per_axis = True
    function = staticmethod(extrema_pool_indices)


class Extrema(_Activation):
    """Module form of :func:`extrema`; ``Extrema(min_distance)``."""

    parameter = "min_distance"
    per_axis = True
    minimum = 0
    function = staticmethod(extrema)


ACTIVATIONS: dict[str, type[_Activation]] = {
    "identity": Identity,
    "relu": ReLU,
    "topk-absolutes": TopKAbsolutes,
    "extrema-pool-indices": ExtremaPoolIndices,
    "extrema": Extrema,
}
"""The registry: activation name -> module class, in the paper's order."""


def get(name: str, value: SpatialSize | None = None) -> _Activation:
    """Build the activation module registered under ``name``.

    >>> get("extrema", 5)
    Extrema(min_distance=5)
    """
    try:
        cls = ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
    return cls(value)
