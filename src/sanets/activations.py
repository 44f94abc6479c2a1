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
    if not torch.isfinite(x).all():
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


def _keep(x: Tensor, mask: Tensor) -> Tensor:
    """x where mask is set, 0 elsewhere; the gradient reaches the kept values only."""
    return x * mask.to(x.dtype)


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


def topk_absolutes(x: Tensor, k: int) -> Tensor:
    """Top-k absolutes (Alg. 1): keep the k values of largest magnitude per map.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)
    k : int
        How many values each ``(example, channel)`` map keeps, 1 <= k <= L (or H*W).
        The paper sets k = n // m (1D) and (H // m) * (W // m) (2D).

    Returns
    -------
    Tensor, same shape as x, with exactly k positions kept per map.
    """
    _check_input(x)
    (k,) = _per_axis(k, "k", 1, minimum=1)
    flat = x.flatten(2)
    if k > flat.shape[-1]:
        raise ValueError(f"k={k} exceeds the {flat.shape[-1]} values of each map of x (shape {tuple(x.shape)})")
    indices = flat.abs().topk(k, dim=-1, sorted=False).indices
    mask = torch.zeros_like(flat, dtype=torch.bool).scatter_(-1, indices, True)
    return _keep(x, mask.view_as(x))


def extrema_pool_indices(x: Tensor, pool_size: SpatialSize) -> Tensor:
    """Extrema-Pool indices (Alg. 2): keep the largest magnitude of each pooling window.

    Max-pooling of |x| over a grid of non-overlapping windows (stride = window),
    then max-unpooling of the signed values. As in the paper (and PyTorch's
    pooling), a trailing partial window (``L % pool_size`` samples) is not pooled;
    Table II's CR^-1 values confirm this floor rule.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)
    pool_size : int or (int, int)
        Window size per spatial axis; the paper uses the kernel size m.

    Returns
    -------
    Tensor, same shape as x, with exactly one position kept per full window.
    """
    spatial_dims = _check_input(x)
    window = _per_axis(pool_size, "pool_size", spatial_dims, minimum=1)
    if any(w > n for w, n in zip(window, x.shape[2:])):
        raise ValueError(f"pool_size={pool_size!r} is larger than the spatial size {tuple(x.shape[2:])} of x")
    max_pool = F.max_pool1d if spatial_dims == 1 else F.max_pool2d
    _, indices = max_pool(x.abs(), window, stride=window, return_indices=True)
    flat = x.flatten(2)
    mask = torch.zeros_like(flat, dtype=torch.bool).scatter_(-1, indices.flatten(2), True)
    return _keep(x, mask.view_as(x))


def extrema(x: Tensor, min_distance: SpatialSize) -> Tensor:
    """Extrema (Alg. 3): keep the dominant local peaks and valleys of each map.

    Candidates are zero crossings of the first derivative. Along an axis, with
    the differences padded by 0 at both ends, position i is a peak if
    ``x[i] - x[i-1] > 0``, ``x[i+1] - x[i] <= 0`` and ``x[i] > 0``, and a valley
    if ``x[i] - x[i-1] <= 0``, ``x[i+1] - x[i] > 0`` and ``x[i] <= 0``; in 2D a
    candidate must be a peak (or a valley) along both axes. Candidates are
    visited by decreasing |x| (ties: lower flat index first) and each is kept
    unless an already kept one lies within the minimum extrema distance
    (``|i - j| <= d`` per axis).

    The greedy pass is computed in parallel rounds: an undecided candidate whose
    priority is the largest among the undecided ones within its window has no
    kept candidate of higher priority near it, so the greedy pass keeps it; the
    undecided candidates near a newly kept one are dropped. The result equals the
    sequential greedy pass exactly, with no Python loop over examples or
    candidates.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)
    min_distance : int or (int, int)
        Minimum extrema distance d >= 0 per spatial axis; the paper uses
        m - border_tolerance. 0 keeps every candidate.

    Returns
    -------
    Tensor, same shape as x
    """
    spatial_dims = _check_input(x)
    radius = _per_axis(min_distance, "min_distance", spatial_dims, minimum=0)
    candidates = _extrema_candidates(x)
    return _keep(x, _greedy_suppression(x.abs(), candidates, radius))


def _extrema_candidates(x: Tensor) -> Tensor:
    """Peaks (x > 0) and valleys (x <= 0) along every spatial axis; bool, x's shape."""
    peaks = x > 0
    valleys = ~peaks
    for dim in range(2, x.ndim):
        rises = torch.diff(x, dim=dim) > 0
        flat = torch.zeros_like(rises.narrow(dim, 0, 1))  # the zero-padded differences at both ends
        rise_before = torch.cat([flat, rises], dim)  # x[i] - x[i-1] > 0
        rise_after = torch.cat([rises, flat], dim)  # x[i+1] - x[i] > 0
        peaks &= rise_before & ~rise_after
        valleys &= ~rise_before & rise_after
    return peaks | valleys


def _greedy_suppression(magnitude: Tensor, candidates: Tensor, radius: tuple[int, ...]) -> Tensor:
    """Mask of the candidates that the greedy pass of :func:`extrema` keeps.

    The greedy order is (|x| descending, flat index ascending). In each round a
    candidate is kept when its magnitude equals the largest undecided magnitude
    in its window and strictly exceeds every undecided magnitude at a lower flat
    index in that window: then no undecided candidate near it comes first, so no
    kept candidate can suppress it. The order's top candidate always qualifies,
    so every round makes progress.

    Parameters
    ----------
    magnitude : Tensor, shape (N, C, *spatial)
        |x|, which orders the candidates.
    candidates : Tensor of bool, same shape
    radius : tuple of int
        Suppression distance per spatial axis.

    Returns
    -------
    Tensor of bool, same shape
    """
    if not any(radius):
        return candidates
    # One map per row; rows leave the working set once decided, since the last
    # rounds concern few maps.
    maps = (-1, 1, *candidates.shape[2:])
    undecided, magnitude = candidates.reshape(maps).clone(), magnitude.reshape(maps)
    kept = torch.zeros_like(undecided)
    result = torch.zeros_like(undecided)
    rows = torch.arange(len(undecided), device=undecided.device)
    # Decided positions sink below every magnitude (>= 0); arithmetic is several
    # times faster than torch.where here.
    sink = -torch.finfo(magnitude.dtype).max
    while len(rows):
        value = magnitude.add(~undecided, alpha=sink)
        window, earlier = _window_and_earlier_max(value, radius)
        new = undecided & (value == window) & (value > earlier)
        kept |= new
        undecided &= _box_max(new.view(torch.uint8), radius) == 0
        active = undecided.view(torch.uint8).flatten(1).amax(1).bool()
        if not active.all():
            result[rows[~active]] = kept[~active]
            rows, undecided, magnitude, kept = rows[active], undecided[active], magnitude[active], kept[active]
    return result.view(candidates.shape)


def _window_and_earlier_max(values: Tensor, radius: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Max over the box ``|offset| <= radius`` and over its part at lower flat index.

    The part of the box before a position in flat (row-major) order is, for some
    axis j, offset 0 on the axes before j, an offset in [-r_j, -1] on axis j,
    and any offset on the axes after j; built from the last axis to the first.
    """
    earlier = None
    for dim, r in reversed(list(enumerate(radius, start=2))):
        if r:
            values, before = _range_maxima(values, [(-r, r), (-r, -1)], dim)
            earlier = before if earlier is None else torch.maximum(earlier, before)
    assert earlier is not None, "called with a zero radius"
    return values, earlier


def _box_max(values: Tensor, radius: tuple[int, ...]) -> Tensor:
    """Max over the box ``|offset| <= radius`` around every position (separable)."""
    for dim, r in enumerate(radius, start=2):
        if r:
            (values,) = _range_maxima(values, [(-r, r)], dim)
    return values


def _range_maxima(values: Tensor, ranges: list[tuple[int, int]], dim: int) -> list[Tensor]:
    """For each (lo, hi): ``out[i] = max(values[i + lo : i + hi + 1])`` along ``dim``.

    Positions outside the tensor are ignored. Running maxima over spans 1, 2,
    4, ... (one shared doubling chain) answer every range with two overlapping
    spans, so the cost grows with log(range), where ``max_pool`` grows with
    the range itself.
    """
    length = values.shape[dim]
    before = max(0, -min(lo for lo, _ in ranges))
    after = max(0, max(hi for _, hi in ranges))
    fill = -math.inf if values.is_floating_point() else 0

    def padding(size: int) -> Tensor:
        shape = list(values.shape)
        shape[dim] = size
        return values.new_full(shape, fill)

    spans = {1: torch.cat([padding(before), values, padding(after)], dim)}
    longest = max(hi - lo + 1 for lo, hi in ranges)
    span = 1
    while 2 * span <= longest:
        table = spans[span]
        size = table.shape[dim] - span
        spans[2 * span] = torch.maximum(table.narrow(dim, 0, size), table.narrow(dim, span, size))
        span *= 2
    results = []
    for lo, hi in ranges:
        size = hi - lo + 1
        span = 1 << (size.bit_length() - 1)
        table, start = spans[span], lo + before
        results.append(torch.maximum(table.narrow(dim, start, length), table.narrow(dim, start + size - span, length)))
    return results


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

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, *spatial) -> (N, C, *spatial)``."""
        if self.parameter is None:
            return type(self).function(x)
        return type(self).function(x, self.value)

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
