"""Extrema's greedy rounds on dense maps (Alg. 3): the method of :func:`sanets.activations._suppression.suppress`
for maps with many candidates.

Each round compares every undecided candidate with the windowed maxima of the
undecided ones around it, so its cost grows with log d, not with the number of
candidates; between rounds the buffer shrinks to what is still undecided.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def dense_suppression(magnitude: Tensor, candidates: Tensor, radius: tuple[int, ...]) -> Tensor:
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
    """One round of :func:`dense_suppression`, in place on the flat buffers.

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
