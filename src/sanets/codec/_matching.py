"""Convolutional matching pursuit, the san codec's spike finder (Mallat & Zhang 1993), and the primitives around it.

A segment is coded in blocks of :data:`BLOCK` samples with a dictionary of unit-norm atoms (a SAN's kernels and
their derivatives): pursuit repeatedly takes the atom and shift of largest |correlation| with the residual,
quantises the amplitude inside the loop and subtracts the quantised atom, until no correlation reaches
:data:`THRESHOLD` steps. The threshold is the same in every block, so a busy block gets many spikes and a quiet one
few: each spike is kept only while it removes at least as much error as any spike left out elsewhere. Atoms may hang
over a block's edges into zero padding; what they put there counts as error, so pursuit keeps them inside.
Correlations are computed once by FFT and then updated through the atoms' Gram matrix, never recomputed.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.ndimage
import torch

from sanets._extras import require
from sanets.codec._spikes import positions

BLOCK = 1024
"""Samples per block of pursuit."""
THRESHOLD = 0.75
"""A spike is sent while its |amplitude| reaches this many of its quantisation steps."""


def dictionary(kernels: list[torch.Tensor]) -> np.ndarray:
    """A SAN's kernels ``[(m_k,)]`` -> unit-norm atoms ``(K, M)`` float64, each centred in M = max m_k samples."""
    width = max(len(kernel) for kernel in kernels)
    atoms = np.zeros((len(kernels), width))
    for k, kernel in enumerate(kernels):
        values = kernel.detach().cpu().double().numpy()
        start = (width - len(values)) // 2
        atoms[k, start : start + len(values)] = values / max(np.linalg.norm(values), 1e-12)
    return atoms


def gram(atoms: np.ndarray) -> np.ndarray:
    """``G[k, j, d + M - 1] = sum_t atoms[k, t] atoms[j, t + d]`` for shifts d in (-M, M): ``(K, K, 2M - 1)``."""
    width = atoms.shape[1]
    padded = np.pad(atoms, ((0, 0), (width - 1, width - 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, width, axis=1)  # (K, 2M - 1, M)
    return np.einsum("kt,jdt->kjd", atoms, windows)


def block_count(length: int) -> int:
    """The blocks of a segment of ``length`` samples (the last one padded with zeros)."""
    return -(-length // BLOCK)


def _blocks(x: np.ndarray, width: int) -> np.ndarray:
    """A segment ``(S,)`` -> blocks ``(B, BLOCK + 2 (M - 1))``, zero beyond the segment and in each block's margins."""
    count = block_count(len(x))
    blocks = np.zeros((count, BLOCK + 2 * (width - 1)))
    padded = np.zeros(count * BLOCK)
    padded[: len(x)] = x
    blocks[:, width - 1 : width - 1 + BLOCK] = padded.reshape(count, BLOCK)
    return blocks


def correlations(blocks: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """``(B, E)`` blocks -> ``(B, K, E - M + 1)`` float32 correlations with every atom at every start, by FFT (for
    kernels of hundreds of samples, 30x faster than a direct float64 convolution). Single precision halves the
    FFTs' time; only the encoder's choice of spikes reads it (their amplitudes are quantised, and the decoder never
    pursues), with errors about 1e-7 of the largest correlation."""
    extent, width = blocks.shape[1], atoms.shape[1]
    size = _fast_length(extent)  # circular: the wrap-around lands only past the last start kept
    spectra = scipy.fft.rfft(blocks.astype(np.float32), size)[:, None] * np.conj(scipy.fft.rfft(atoms.astype(np.float32), size))[None]
    return scipy.fft.irfft(spectra, size, overwrite_x=True)[..., : extent - width + 1]  # a view: pursuit reads it in place


def _fast_length(least: int) -> int:
    """The smallest 2**a 3**b 5**c of at least ``least``: a length pocketfft transforms fast."""
    best = 1 << (least - 1).bit_length()
    threes = 1
    while threes < best:
        fives = threes
        while fives < best:
            twos = fives * (1 << max(0, (-(-least // fives) - 1).bit_length()))
            best = min(best, twos)
            fives *= 5
        threes *= 3
    return best


def _compiled():
    numba = require("numba", "the SAN codec's matching pursuit")

    @numba.njit(nogil=True, cache=True)
    def pursue(corr, gram, step, threshold, limit):  # pragma: no cover - compiled
        blocks, count, positions = corr.shape
        width = (gram.shape[2] + 1) // 2
        counts = np.zeros(blocks, np.int64)
        starts = np.zeros((blocks, limit), np.int64)
        kernels = np.zeros((blocks, limit), np.int64)
        levels = np.zeros((blocks, limit), np.int64)
        for b in range(blocks):
            c = corr[b]
            best = np.zeros(positions)
            which = np.zeros(positions, np.int64)
            for s in range(positions):
                for k in range(count):
                    if abs(c[k, s]) > best[s]:
                        best[s], which[s] = abs(c[k, s]), k
            n = 0
            while n < limit:
                s = np.argmax(best)
                k = which[s]
                amplitude = c[k, s]
                if abs(amplitude) < threshold:
                    break
                level = np.rint(amplitude / step)
                if level == 0:
                    break
                starts[b, n], kernels[b, n], levels[b, n] = s, k, np.int64(level)
                n += 1
                low, high = max(0, s - width + 1), min(positions, s + width)
                for j in range(count):
                    for t in range(low, high):
                        c[j, t] -= level * step * gram[k, j, s - t + width - 1]
                for t in range(low, high):
                    best[t], which[t] = 0.0, 0
                    for j in range(count):
                        if abs(c[j, t]) > best[t]:
                            best[t], which[t] = abs(c[j, t]), j
            counts[b] = n
        return counts, starts, kernels, levels

    return pursue


_PURSUE = None


def correlate(x: np.ndarray, atoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What pursuit starts from: the correlations of a segment's blocks with the atoms ``(B, K, E - M + 1)``, and the
    atoms' Gram matrix ``(K, K, 2M - 1)``."""
    return correlations(_blocks(x, atoms.shape[1]), atoms), gram(atoms)


def pursue(x: np.ndarray, atoms: np.ndarray, step: float, correlated: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, ...]:
    """Matching pursuit of a segment ``(S,)``: per block its spike count ``(B,)`` and, per spike in block order, its
    start (in the block's padded frame), kernel and level. ``correlated``: :func:`correlate` of the same segment and
    atoms, where several steps pursue them (left as it is)."""
    global _PURSUE
    if _PURSUE is None:
        _PURSUE = _compiled()
    found, grams = correlate(x, atoms) if correlated is None else (correlated[0].copy(), correlated[1])
    counts, starts, kernels, levels = _PURSUE(found, grams, float(step), THRESHOLD * float(step), BLOCK)
    kept = np.arange(starts.shape[1]) < counts[:, None]
    block_of = np.repeat(np.arange(len(counts)), starts.shape[1]).reshape(starts.shape)
    flat = [a[kept] for a in (block_of, starts, kernels, levels)]
    order = np.lexsort((flat[2], flat[1], flat[0]))  # by block, then start, then kernel
    return (counts, *(a[order] for a in flat[1:]))


def synthesise(counts: np.ndarray, starts: np.ndarray, kernels: np.ndarray, levels: np.ndarray, atoms: np.ndarray,
               step: float, length: int) -> np.ndarray:
    """Spikes -> the segment ``(length,)``: each block's quantised atoms summed, its margins dropped."""
    width = atoms.shape[1]
    extent = BLOCK + 2 * (width - 1)
    blocks = np.zeros((len(counts), extent))
    block_of = np.repeat(np.arange(len(counts)), counts)
    index = block_of[:, None] * extent + starts[:, None] + np.arange(width)
    np.add.at(blocks.reshape(-1), index.reshape(-1), ((levels * step)[:, None] * atoms[kernels]).reshape(-1))
    return blocks[:, width - 1 : width - 1 + BLOCK].reshape(-1)[:length]


def global_starts(counts: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Spike starts in a block's padded frame -> in the segment's samples (negative where an atom hangs over)."""
    return positions(counts, starts, BLOCK) - (width - 1)


def with_derivatives(templates: np.ndarray) -> np.ndarray:
    """Templates ``(K, M)`` and their unit-norm derivatives: a spike of both shifts a template by a fraction of a
    sample, as a first-order Taylor step does."""
    slopes = np.gradient(templates, axis=1)
    return np.concatenate([templates, slopes / np.maximum(np.linalg.norm(slopes, axis=1, keepdims=True), 1e-12)])


def typical_amplitude(found: np.ndarray, count: int, width: int) -> float:
    """The amplitude of a typical event (a heartbeat in an ECG) in a segment: the median of the local maxima (one
    per kernel width, of atoms centred in their block) of the templates' largest |correlation|, ``found[:, :count]``
    of :func:`correlate`'s ``(B, K, P)``, among those that reach half the median of the blocks' largest; 0 where
    there is none."""
    largest = np.abs(found[:, :count]).max(axis=1)  # (B, P)
    centred = slice((width - 1) // 2, (width - 1) // 2 + BLOCK)
    peaks = largest[:, centred][largest[:, centred] == scipy.ndimage.maximum_filter1d(largest, width, axis=1)[:, centred]]
    peaks = peaks[peaks >= 0.5 * np.median(largest.max(axis=1))]
    return float(np.median(peaks)) if len(peaks) and peaks.max() > 0 else 0.0
