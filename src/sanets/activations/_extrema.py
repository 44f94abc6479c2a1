"""Extrema (paper Alg. 3): the candidates, and the greedy pass by distance delegated to the suppression engine."""

from __future__ import annotations

import torch
from torch import Tensor

from sanets.activations import _suppression
from sanets.activations._common import SpatialSize, check_input, keep, numba_can_run, per_channel

COMPILED_ON_CPU = True
"""On the CPU, Extrema runs compiled by numba (:mod:`sanets.activations._compiled`) instead of the rounds: several
times faster, and exactly the same result."""


def extrema(x: Tensor, min_distance: SpatialSize | Tensor) -> Tensor:
    """Extrema (Alg. 3): keep the dominant local peaks and valleys of each map.

    Candidates are zero crossings of the first derivative. Along an axis, with
    the differences padded by 0 at both ends, position i is a peak if
    ``x[i] - x[i-1] > 0``, ``x[i+1] - x[i] <= 0`` and ``x[i] > 0``, and a valley
    if ``x[i] - x[i-1] <= 0``, ``x[i+1] - x[i] > 0`` and ``x[i] <= 0``; in 2D a
    candidate must be a peak (or a valley) along both axes. Candidates are
    visited by decreasing ``|x|`` (ties: lower flat index first) and each is kept
    unless an already kept one lies within the minimum extrema distance
    (``|i - j| <= d`` per axis).

    The greedy pass is computed exactly with no Python loop over examples or
    candidates: compiled on the CPU (:mod:`sanets.activations._compiled`), in
    parallel rounds over all maps at once elsewhere
    (:mod:`sanets.activations._suppression`).

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
    spatial_dims = check_input(x)
    return extrema_checked(x, per_channel(min_distance, "min_distance", x.shape[1], spatial_dims, minimum=0))


def extrema_checked(x: Tensor, distances: Tensor) -> Tensor:
    """:func:`extrema` on a checked ``x`` with a checked int64 table ``distances`` (C, dims)."""
    if not x.numel():
        return x.clone()
    # Two positions of a map are at most size - 1 apart, so larger distances act alike.
    radii = distances.minimum(torch.tensor(x.shape[2:]) - 1)
    # The selection is piecewise constant: no gradient flows through it, only through the kept values.
    if not radii.any():  # every candidate is kept
        return keep(x, extrema_candidates(x.detach()))
    if COMPILED_ON_CPU and numba_can_run(x):
        from sanets.activations._compiled import extrema_kept  # numba loads on first use, not with sanets

        return keep(x, extrema_kept(x, radii))
    return _suppression.suppress(x, extrema_candidates(x.detach()), radii)


def extrema_candidates(x: Tensor) -> Tensor:
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
