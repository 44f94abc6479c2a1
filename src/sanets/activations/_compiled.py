"""Extrema (Alg. 3) compiled for the CPU: candidates, their greedy order and the greedy pass, map by map.

On a CPU the literal greedy pass beats every vectorised formulation. One
compiled pass over each map finds its candidates (the rule of
:func:`sanets.activations._extrema.extrema_candidates`) and writes each as an
integer key, its magnitude's leading bits then its position, so that numpy's
vectorised sort orders them as the greedy pass visits them. A second compiled
pass restores the exact order where two keys share the leading bits, then keeps
each candidate that no kept one has blocked and blocks its window. The loops are
compiled by numba. Other devices run the parallel rounds of
:mod:`sanets.activations._suppression`, which give the same result.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor

SHORT_KEYS_UP_TO = 1 << 12
"""Maps of at most this many positions sort 32-bit keys (twice as fast as 64-bit ones); their magnitudes keep
at least 19 leading bits, and the rare candidates that share them are ordered exactly afterwards."""


def extrema_kept(x: Tensor, radii: Tensor) -> Tensor:
    """Mask of the positions that :func:`sanets.activations.extrema` keeps.

    Parameters
    ----------
    x : Tensor, float32 or float64, shape (N, C, L) or (N, C, H, W), on the CPU
        Candidates are visited by decreasing |x|, ties: lower flat index first.
    radii : Tensor of int64, shape (C, len(spatial))
        Each channel's minimum distance per axis.

    Returns
    -------
    Tensor of bool, same shape as x
    """
    n, channels = x.shape[:2]
    height, width = (1, x.shape[2]) if x.ndim == 3 else x.shape[2:]
    size = height * width
    maps = np.ascontiguousarray(x.detach().reshape(n, channels, height, width).numpy())
    reach = radii.reshape(channels, -1).numpy()
    if x.ndim == 3:  # a map of one row: no reach across rows
        reach = np.concatenate([np.zeros_like(reach), reach], 1)
    reach = np.ascontiguousarray(reach, dtype=np.int64)
    position_bits = max(1, (size - 1).bit_length())
    key_type = np.uint32 if size <= SHORT_KEYS_UP_TO else np.uint64
    bits = maps.view(np.int32 if maps.dtype == np.float32 else np.int64)
    # Magnitude bits dropped so that a key (its magnitude's leading bits, then its position) keeps its type's top
    # bit clear: below 2**31 or 2**63 (numba computes the keys in int64).
    shift = max(0, 8 * bits.itemsize - 1 - (8 * np.dtype(key_type).itemsize - 1 - position_bits))
    # Compacted one map after another (a map's last write may spill one key into the next map's place), then
    # copied into rows padded with the largest key: fewer bytes written than rows of the full size.
    compact = np.empty(n * channels * size + 1, dtype=key_type)
    counts = np.empty(n * channels, dtype=np.int64)
    _candidate_keys(maps.reshape(-1, height, width), bits.reshape(-1, height, width), shift, position_bits,
                    x.ndim == 4, compact, counts)
    keys = np.empty((n * channels, max(1, int(counts.max(initial=0)))), dtype=key_type)
    _padded_rows(compact, counts, keys)
    keys.sort(axis=1)
    kept = np.zeros((n, channels, size), dtype=np.uint8)
    # The key's own type for the bit operations (numba would make floats of uint64 mixed with int64).
    _greedy(maps, keys, counts, key_type(position_bits), key_type((1 << position_bits) - 1), reach, kept)
    return torch.from_numpy(kept).view(torch.bool).view(x.shape)


@numba.njit(inline="always")
def _turns(value, rises_before, rises_after):  # pragma: no cover - compiled
    """Peak (rise then no rise, value > 0) or valley (no rise then a rise, value <= 0) along one axis."""
    return (rises_before ^ rises_after) & (rises_after ^ (value > 0))


@numba.njit(inline="always")
def _mark_turns(before, value, after, turns, both):  # pragma: no cover - compiled
    """``turns`` (or, with ``both``, ``turns &``) the turns of ``value`` between ``before`` and ``after``, slices
    of one map at an offset: indices that start at 0 let the loop be vectorised (no wraparound of negative ones)."""
    for j in range(len(value)):
        turn = _turns(value[j], value[j] > before[j], after[j] > value[j])
        turns[j] = (turns[j] & turn) if both else turn


@numba.njit(cache=True, nogil=True)
def _candidate_keys(maps, bits, shift, position_bits, two_dims, keys, counts):  # pragma: no cover - compiled; tested through extrema
    """Each map's candidates as keys in position order, one map after another in ``keys``; their count per map.

    A key is the complement of |x|'s bits after dropping the ``shift`` lowest ones (the bits of a float >= 0 grow
    with it), then the flat position: ascending keys visit larger magnitudes first, then lower positions.
    """
    total, height, width = maps.shape
    size = height * width
    top = (1 << (8 * keys.itemsize - 1 - position_bits)) - 1
    magnitude = (1 << (8 * bits.itemsize - 1)) - 1
    turns = np.zeros(size, dtype=np.uint8)
    slot = start = np.uint64(0)  # unsigned: its stores need no wraparound
    for m in range(total):
        values, value_bits = maps[m].reshape(size), bits[m].reshape(size)
        # Along the rows, over the whole map at once; the first and last positions of each row are then redone
        # (the rises are False before the first and after the last position).
        _mark_turns(values[: size - 2], values[1 : size - 1], values[2:], turns[1 : size - 1], False)
        for first in range(0, size, width):
            last = first + width - 1
            if width == 1:
                turns[first] = False
            else:
                turns[first] = _turns(values[first], False, values[first + 1] > values[first])
                turns[last] = _turns(values[last], values[last] > values[last - 1], False)
        if two_dims:  # across the rows; at the first and last rows, the clamped neighbour is the value itself
            if height == 1:
                turns[:] = 0
            else:
                _mark_turns(values[: size - 2 * width], values[width : size - width], values[2 * width :],
                            turns[width : size - width], True)
                _mark_turns(values[:width], values[:width], values[width : 2 * width], turns[:width], True)
                _mark_turns(values[size - 2 * width : size - width], values[size - width :], values[size - width :],
                            turns[size - width :], True)
        for i in range(size):  # without a branch: every position is written, and only candidates move on
            keys[slot] = ((top - ((value_bits[i] & magnitude) >> shift)) << position_bits) | i
            slot += turns[i]
        counts[m] = slot - start
        start = slot


@numba.njit(cache=True, nogil=True)
def _padded_rows(compact, counts, rows):  # pragma: no cover - compiled; tested through extrema
    """Each map's keys (one map after another in ``compact``) in its row of ``rows``, then the largest key."""
    padding = np.iinfo(rows.dtype).max
    start = 0
    for m in range(len(counts)):
        row, count = rows[m], counts[m]
        for j in range(count):
            row[j] = compact[start + j]
        for j in range(count, len(row)):
            row[j] = padding
        start += count


@numba.njit(inline="always")
def _exact_order(order, count, values, position_bits, mask):  # pragma: no cover - compiled
    """Sort again, by insertion, the runs of keys that share their leading bits: larger |x|, then lower position."""
    for i in range(1, count):
        key = order[i]
        if (key >> position_bits) != (order[i - 1] >> position_bits):
            continue
        q = key & mask
        value = abs(values[q])
        j = i
        while j > 0 and (order[j - 1] >> position_bits) == (key >> position_bits):
            p = order[j - 1] & mask
            other = abs(values[p])
            if other > value or (other == value and p < q):
                break
            order[j] = order[j - 1]
            j -= 1
        order[j] = key


@numba.njit(cache=True, nogil=True)
def _greedy(maps, keys, counts, position_bits, mask, reach, kept):  # pragma: no cover - compiled; tested through extrema
    """The greedy pass: in each map, each candidate (in key order) that no kept one has blocked is kept and blocks
    the positions within its channel's reach. Keys that share the leading bits are first put in the exact order.

    Rows of at most 64 positions are blocked a word per row, with each position's window precomputed; for a
    window of at most 3 rows without a branch (the blocked test of a kept or dropped candidate is as likely
    either way there, and a mispredicted branch costs more than 3 masked writes). Wider rows block bytes.
    """
    n, channels, height, width = maps.shape
    size = height * width
    flat = maps.reshape(n, channels, size)
    one_word = width <= 64
    blocked_rows = np.zeros(height, dtype=np.uint64)
    blocked = np.zeros(size, dtype=np.uint8)
    # Each position's row and column, and its window: first row, rows, and its columns as bits or its flat start
    # and row length (for the current channel's reach).
    # Unsigned wherever they index: numba wraps negative indices around, which costs a select per access.
    row_of, column_of = np.empty(size, dtype=np.uint64), np.empty(size, dtype=np.uint64)
    first, rows, length = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    columns = np.empty(size, dtype=np.uint64)
    one, none = np.uint64(1), np.uint64(0)
    for channel in range(channels):
        reach_y, reach_x = reach[channel, 0], reach[channel, 1]
        if channel == 0 or reach_y != reach[channel - 1, 0] or reach_x != reach[channel - 1, 1]:
            for y in range(height):
                top, bottom = max(0, y - reach_y), min(height, y + reach_y + 1)
                for x in range(width):
                    q = y * width + x
                    left, right = max(0, x - reach_x), min(width, x + reach_x + 1)
                    row_of[q], column_of[q], rows[q] = y, x, bottom - top
                    first[q] = top if one_word else top * width + left
                    length[q] = right - left
                    columns[q] = (((one << np.uint64(right - left - 1)) << one) - one) << np.uint64(left)
        branchless = one_word and reach_y <= 1
        for example in range(n):
            m = example * channels + channel
            order, out, count = keys[m], kept[example, channel], counts[m]
            _exact_order(order, count, flat[example, channel], position_bits, mask)
            if one_word:
                blocked_rows[:] = 0
                for i in range(count):
                    q = order[i] & mask
                    free = one - ((blocked_rows[row_of[q]] >> column_of[q]) & one)
                    if free == none and not branchless:
                        continue
                    out[q] = free
                    window = columns[q] & (none - free)  # no bits where the candidate is dropped
                    row = np.uint64(first[q])
                    for _ in range(rows[q]):
                        blocked_rows[row] |= window
                        row += one
                continue
            blocked[:] = 0
            for i in range(count):
                q = order[i] & mask
                if blocked[q]:
                    continue
                out[q] = 1
                start, span = first[q], length[q]
                for _ in range(rows[q]):
                    blocked[start : start + span] = 1
                    start += width
