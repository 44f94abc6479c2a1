"""Kernel families: how a SAN's learned numbers become kernel weights (Sec. V, issue 10).

The paper learns every weight of every kernel ("free"), so W of Eq. 2 grows
with m and each kernel is paid for weight by weight. Sec. V suggests kernels
whose "properties are chosen in correspondence with the metric": a family
generates an m-sample (or m x m) kernel from a few learned numbers, and W
counts those numbers. A family also stretches its kernels (the grid sampler of
Sec. V): the same numbers give the kernel resampled at another size.

Families (:data:`KERNEL_FAMILIES`):

``"free"``
    m weights in 1D, m x m in 2D: the paper's kernels. Stretched by linear
    (bilinear) interpolation.
``"gaussian-derivatives"``
    A Gaussian of learned width and its derivatives up to order 2, each
    normalised to unit energy, mixed by learned amplitudes: 3 amplitudes and a
    log-width in 1D (4 numbers), 6 and a log-width in 2D (7 numbers). Smooth
    waves: beats, bursts, blobs. Stretching scales the width with the support.
``"piecewise-constant"``
    A box and a step (Haar's father and mother wavelets) across the kernel's
    support, mixed by learned amplitudes: 2 numbers in 1D; box, two steps and
    their product in 2D, 4 numbers. Plateaus and jumps.
``"gabor"``
    A Gabor atom of unit energy, ``exp(-t^2 / (2 sigma^2)) cos(2 pi f t / size
    + phase)`` at offsets t from the kernel's centre, with a learned log-width
    (sigma as a share of the support), log-frequency (f in cycles per support)
    and phase: 3 numbers in 1D, the product of two such atoms (one per axis)
    in 2D, 6 numbers. Oscillations: bursts, tones, vowels. As the width grows
    past the support the envelope flattens and the kernel is a cosine of
    frequency f and the given phase, so a kernel as long as a window holds
    the DCT's atoms (``f = k / 2``, ``phase = pi k / 2``) and every frequency
    between them (issue 30); f near 0 gives a Gaussian bump. Unit energy makes
    a spike's value the projection of the input on the kernel, and a phase of
    pi flips its sign, so no amplitude is learned. Stretching keeps cycles
    and widths per support. The ``"normal"`` initialisation draws the
    phase uniformly and spreads the kernels' log-frequencies evenly (a golden
    ratio sequence over the kernels' places) between a quarter of a cycle and
    2 cycles per support (at most m / 4), from a bump to a two-cycle wavelet;
    kernels of doubling sizes then cover successive octaves, as a wavelet
    bank. The width starts where +-3 sigma spans the support.
``"mixed"``
    Several families in one SAN, competing across kernels (issue 30): the
    kernels take ``"gabor"``, ``"gaussian-derivatives"`` and
    ``"piecewise-constant"`` in turn by their place in the SAN (kernel 0 a
    Gabor atom, 1 Gaussian derivatives, 2 a box and a step, 3 a Gabor atom,
    ...), each with its family's numbers, initialisation and stretching; W
    counts each kernel's own numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["KERNEL_FAMILIES", "KernelFamily"]


@dataclass(frozen=True)
class KernelFamily:
    """How a kernel's learned numbers make its weights.

    Attributes
    ----------
    name : str
    num_parameters : callable (m, dims, place) -> int
        Learned numbers of the SAN's kernel number ``place``, of size m.
    initial : callable (m, dims, init, generator, place) -> Tensor
        The initial learned numbers, float32, shape ``(num_parameters(m, dims, place),)``
        (``(m,) * dims`` for ``"free"``), for ``init`` "normal" or "constant", of
        the SAN's kernel number ``place`` (a family may spread its kernels by it).
    weights : callable (parameters, m, size, dims) -> Tensor
        The kernel of a size-m kernel's ``parameters``, resampled to ``size``
        samples per axis: shape ``(size,) * dims``, differentiable.
    """

    name: str
    num_parameters: Callable[[int, int, int], int]
    initial: Callable[[int, int, str, torch.Generator | None, int], Tensor]
    weights: Callable[[Tensor, int, int, int], Tensor]


def _draw(shape: tuple[int, ...], init: str, generator: torch.Generator | None) -> Tensor:
    """N(0, 0.1) (the paper's text, Eq. 9) or 0.1 everywhere (the authors' code)."""
    if init == "constant":
        return torch.full(shape, 0.1)
    return torch.normal(0.0, 0.1, shape, generator=generator)


def _free_parameters(m: int, dims: int, place: int = 0) -> int:
    return m**dims


def _free_initial(m: int, dims: int, init: str, generator: torch.Generator | None, place: int = 0) -> Tensor:
    return _draw((m,) * dims, init, generator)


def _free_weights(parameters: Tensor, m: int, size: int, dims: int) -> Tensor:
    if size == m:
        return parameters
    mode = "linear" if dims == 1 else "bilinear"
    return F.interpolate(parameters[None, None], size=(size,) * dims, mode=mode, align_corners=True)[0, 0]


def _grid(size: int, dims: int, like: Tensor) -> list[Tensor]:
    """Sample offsets from the kernel's centre, one (size,)*dims tensor per axis."""
    t = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    return list(torch.meshgrid(*(t,) * dims, indexing="ij")) if dims == 2 else [t]


def _unit(basis: list[Tensor]) -> Tensor:
    """The basis functions stacked and scaled to unit energy (a zero function stays zero)."""
    stacked = torch.stack(basis)
    norms = stacked.flatten(1).norm(dim=1).clamp_min(1e-12)
    return stacked / norms.view(-1, *(1,) * (stacked.ndim - 1))


def _gaussian_parameters(m: int, dims: int, place: int = 0) -> int:
    return 4 if dims == 1 else 7


def _gaussian_initial(m: int, dims: int, init: str, generator: torch.Generator | None, place: int = 0) -> Tensor:
    # The width starts where the Gaussian's +-3 sigma spans the kernel.
    amplitudes = _draw((_gaussian_parameters(m, dims) - 1,), init, generator)
    return torch.cat([amplitudes, torch.tensor([math.log(max(m, 1) / 6)])])


def _gaussian_weights(parameters: Tensor, m: int, size: int, dims: int) -> Tensor:
    sigma = parameters[-1].exp() * (size / m)
    axes = [u / sigma for u in _grid(size, dims, parameters)]
    g = torch.exp(-0.5 * sum(u**2 for u in axes))
    if dims == 1:
        (u,) = axes
        basis = [g, -u * g, (u**2 - 1) * g]
    else:
        y, x = axes
        basis = [g, -x * g, -y * g, (x**2 - 1) * g, x * y * g, (y**2 - 1) * g]
    return torch.tensordot(parameters[:-1], _unit(basis), dims=1)


def _piecewise_parameters(m: int, dims: int, place: int = 0) -> int:
    return 2 if dims == 1 else 4


def _piecewise_initial(m: int, dims: int, init: str, generator: torch.Generator | None, place: int = 0) -> Tensor:
    return _draw((_piecewise_parameters(m, dims),), init, generator)


def _piecewise_weights(parameters: Tensor, m: int, size: int, dims: int) -> Tensor:
    steps = [torch.sign(u) for u in _grid(size, dims, parameters)]
    box = torch.ones_like(steps[0])
    basis = [box, *steps] if dims == 1 else [box, steps[1], steps[0], steps[0] * steps[1]]
    return torch.tensordot(parameters, _unit(basis), dims=1)


_GABOR_CYCLES = (0.25, 2.0)
"""The initial frequencies' range, cycles per support. Up to m / 4 cycles, most kernels started far from anything
in the signal and learned little in Table I's 15-90 steps (pursuit validation phi 0.41 on emgdb at T = 60, against
0.28-0.30 from this range)."""


_SPREAD = {1: (0.6180339887,), 2: (0.7548776662, 0.5698402910)}
"""Steps of the low-discrepancy sequences (golden ratio; R2 in 2D) that spread the kernels' initial frequencies."""


def _gabor_parameters(m: int, dims: int, place: int = 0) -> int:
    return 3 * dims


def _gabor_initial(m: int, dims: int, init: str, generator: torch.Generator | None, place: int = 0) -> Tensor:
    if init == "constant":  # one cycle per support, in phase: identical kernels, as constant free kernels are
        return torch.tensor([math.log(1 / 6), 0.0, 0.0] * dims)
    lowest, highest = math.log(_GABOR_CYCLES[0]), math.log(min(_GABOR_CYCLES[1], max(m / 4, _GABOR_CYCLES[0])))
    numbers = []
    for step in _SPREAD[dims]:
        share = (0.5 + place * step) % 1  # places 0, 1, 2, ... fill the range evenly, whatever their count
        numbers += [math.log(1 / 6), lowest + share * (highest - lowest), 2 * math.pi * float(torch.rand(1, generator=generator))]
    return torch.tensor(numbers)


def _gabor_weights(parameters: Tensor, m: int, size: int, dims: int) -> Tensor:
    t = _grid(size, 1, parameters)[0] / size  # offsets in supports: the same atom at every stretched size
    atoms = []
    for log_width, log_frequency, phase in parameters.view(dims, 3):
        atom = torch.exp(-0.5 * (t / log_width.exp()) ** 2) * torch.cos(2 * math.pi * log_frequency.exp() * t + phase)
        atoms.append(_unit([atom])[0])
    return atoms[0] if dims == 1 else atoms[0][:, None] * atoms[1][None, :]


_MIXED = ("gabor", "gaussian-derivatives", "piecewise-constant")
"""The families of ``"mixed"``: the kernels' places take them in turn."""


def _mixed_member(place: int) -> KernelFamily:
    return KERNEL_FAMILIES[_MIXED[place % len(_MIXED)]]


def _mixed_parameters(m: int, dims: int, place: int = 0) -> int:
    return _mixed_member(place).num_parameters(m, dims, place // len(_MIXED))


def _mixed_initial(m: int, dims: int, init: str, generator: torch.Generator | None, place: int = 0) -> Tensor:
    return _mixed_member(place).initial(m, dims, init, generator, place // len(_MIXED))


def _mixed_weights(parameters: Tensor, m: int, size: int, dims: int) -> Tensor:
    # The members' counts differ (3, 4, 2 numbers in 1D; 6, 7, 4 in 2D), so a kernel's count names its family.
    (member,) = (family for family in map(KERNEL_FAMILIES.get, _MIXED) if family.num_parameters(m, dims, 0) == parameters.numel())
    return member.weights(parameters, m, size, dims)


KERNEL_FAMILIES: dict[str, KernelFamily] = {
    family.name: family
    for family in (
        KernelFamily("free", _free_parameters, _free_initial, _free_weights),
        KernelFamily("gaussian-derivatives", _gaussian_parameters, _gaussian_initial, _gaussian_weights),
        KernelFamily("piecewise-constant", _piecewise_parameters, _piecewise_initial, _piecewise_weights),
        KernelFamily("gabor", _gabor_parameters, _gabor_initial, _gabor_weights),
        KernelFamily("mixed", _mixed_parameters, _mixed_initial, _mixed_weights),
    )
}
"""The kernel families by name; see the module docstring."""


def family_of(name: str) -> KernelFamily:
    """The family called ``name``; ValueError listing the families otherwise."""
    if name not in KERNEL_FAMILIES:
        raise ValueError(f"kernel_family must be one of {', '.join(KERNEL_FAMILIES)}, got {name!r}")
    return KERNEL_FAMILIES[name]
