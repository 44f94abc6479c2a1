"""Matching pursuit as a SAN's encoder, computed in two parts: which spikes (compiled), and their amplitudes (autograd).

Top-k absolutes with k = 1, kernels competing across kernels and T residual passes (the ``pursuit-*`` variants) is
matching pursuit (Mallat & Zhang 1993) with the SAN's kernels: pass t keeps the one kernel k_t and position p_t of
largest |similarity| (Eq. 10) with what passes 1..t-1 left. Run as :func:`sanets._coding.encode` writes it, every
pass correlates the whole residual with every kernel and places every code found so far, and autograd keeps all T
passes: O(T Q L m) work per example, 4.9 s to encode and decode six 1000-sample windows with ``pursuit-gabor``
and back-propagate.

Here the passes are split. The choices (k_t, p_t) are piecewise constant in the kernels, so they are made without
gradients by a compiled loop that updates the similarities through the kernels' cross-correlations (only the
positions a placed kernel touches change; edges, where a placed kernel is cut off, are corrected exactly). Given
the choices, pass t's amplitude is the similarity of what is left,
``a_t = <x, g_t> - sum_{s<t} a_s <g_s, g_t>`` with g_t kernel k_t placed at p_t and cut to the signal, a unit lower
triangular system solved in torch: the same codes as the passes written out, and the same gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["applies", "pursue"]


def applies(x: Tensor) -> bool:
    """Whether :func:`pursue` runs ``x``: 1D examples on the CPU (2D images and other devices take the passes)."""
    return x.dim() == 3 and x.device.type == "cpu"


def pursue(x: Tensor, weights: Sequence[Tensor], passes: int) -> Tensor:
    """T passes of matching pursuit, each keeping the largest |similarity| across kernels and positions.

    The codes of :func:`sanets._coding.encode` with top-k absolutes (k = 1), kernels competing across kernels and
    ``passes`` passes; a spike found twice adds up. A pass that finds every similarity 0 ends the example's pursuit.

    Parameters
    ----------
    x : Tensor, shape (N, 1, L), on the CPU
    weights : sequence of Q Tensors, shapes (m_q,)
    passes : int
        T.

    Returns
    -------
    codes : Tensor, shape (N, Q, L)
        At most T nonzero codes per example, differentiable in ``x`` and ``weights``.
    """
    sizes = np.array([len(kernel) for kernel in weights], dtype=np.int64)
    width, length = int(sizes.max()), x.shape[-1]
    bank = torch.stack([F.pad(kernel, (0, width - len(kernel))) for kernel in weights])  # (Q, M), each from its start
    centres = torch.from_numpy((sizes - 1) // 2)
    with torch.no_grad():
        double = bank.detach().double()
        kernels, positions, counts = _choose(
            _similarities(x.detach().double()[:, 0], double, centres), double.numpy(), sizes, _cross_correlations(double),
            passes,
        )
    kernels, positions = torch.from_numpy(kernels), torch.from_numpy(positions)
    used = torch.arange(passes) < torch.from_numpy(counts)[:, None]  # (N, T)
    # Each chosen kernel placed on a canvas with M zeros either side, then cut to the signal.
    starts = (positions - centres[kernels] + width)[..., None] + torch.arange(width)
    canvas = x.new_zeros(*kernels.shape, length + 2 * width).scatter(2, starts, bank[kernels] * used[..., None])
    atoms = canvas[..., width : width + length]  # (N, T, L)
    overlaps = torch.tril(atoms @ atoms.transpose(1, 2), diagonal=-1)
    amplitudes = torch.linalg.solve_triangular(overlaps, atoms @ x.transpose(1, 2), upper=False, unitriangular=True)
    examples = torch.arange(len(x))[:, None].expand_as(kernels)
    codes = x.new_zeros(len(x), len(weights), length)
    return codes.index_put((examples[used], kernels[used], positions[used]), amplitudes[..., 0][used], accumulate=True)


def _similarities(x: Tensor, bank: Tensor, centres: Tensor) -> np.ndarray:
    """Eq. 10 ("same" size, zero beyond the signal) of ``x`` (N, L) with each kernel of ``bank`` (Q, M), by FFT:
    ``(N, Q, L)`` float64."""
    length, width = x.shape[-1], bank.shape[-1]
    size = 1 << (length + width - 1).bit_length()
    full = torch.fft.irfft(torch.fft.rfft(x, size)[:, None] * torch.fft.rfft(bank, size).conj(), size)
    # full[..., s] = sum_i x[i + s] bank[i] (circular); position p reads s = p - centre, negative s wrapped around.
    index = (torch.arange(length) - centres[:, None]) % size
    return full.gather(-1, index.expand(len(x), -1, -1)).numpy()


def _cross_correlations(bank: Tensor) -> np.ndarray:
    """``C[k, j, d + M - 1] = sum_i bank[k, i] bank[j, i - d]`` for d in (-M, M): ``(Q, Q, 2M - 1)`` float64."""
    width = bank.shape[-1]
    size = 1 << (2 * width - 1).bit_length()
    spectra = torch.fft.rfft(bank, size)
    full = torch.fft.irfft(spectra[:, None] * spectra[None].conj(), size)
    return full[..., torch.arange(-(width - 1), width) % size].numpy()


@numba.njit(cache=True, nogil=True)
def _choose(maps, bank, sizes, cross, passes):  # pragma: no cover - compiled; tested through pursue
    """Each example's passes: ``(N, T)`` kernels and positions, and ``(N,)`` how many passes found a spike.

    ``maps`` (N, Q, L) are the similarities of x; after each spike they are those of what is left."""
    count, kinds, length = maps.shape
    width = bank.shape[1]
    centres = (sizes - 1) // 2
    kernels = np.zeros((count, passes), np.int64)
    positions = np.zeros((count, passes), np.int64)
    found = np.zeros(count, np.int64)
    best = np.zeros(length)
    which = np.zeros(length, np.int64)
    for n in range(count):
        c = maps[n].copy()
        _refresh(c, best, which, 0, length)
        for t in range(passes):
            p = np.argmax(best)  # the first position among equals, as top-k keeps it
            if best[p] == 0.0:
                break
            k = which[p]
            amplitude = c[k, p]
            kernels[n, t], positions[n, t], found[n] = k, p, t + 1
            low = p - centres[k]  # the placed kernel spans [low, high), cut to [0, L)
            high = low + sizes[k]
            for j in range(kinds):
                for v in range(max(0, low + centres[j] - sizes[j] + 1), min(length, high + centres[j])):
                    start = v - centres[j]  # kernel j at v spans [start, start + m_j)
                    overlap = cross[k, j, start - low + width - 1]
                    for s in range(max(low, start), 0):  # what the cut-off left edge would add
                        overlap -= bank[k, s - low] * bank[j, s - start]
                    for s in range(length, min(high, start + sizes[j])):  # and the right edge
                        overlap -= bank[k, s - low] * bank[j, s - start]
                    c[j, v] -= amplitude * overlap
            _refresh(c, best, which, max(0, low - width), min(length, high + width))
    return kernels, positions, found


@numba.njit(cache=True, nogil=True)
def _refresh(c, best, which, first, last):  # pragma: no cover - compiled
    """Per position in [first, last), the largest |similarity| and its kernel (the first among equals)."""
    for v in range(first, last):
        best[v], which[v] = abs(c[0, v]), 0
        for j in range(1, c.shape[0]):
            if abs(c[j, v]) > best[v]:
                best[v], which[v] = abs(c[j, v]), j
