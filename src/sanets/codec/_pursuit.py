"""The SAN codec: a SAN's kernels adapted to each segment, matching pursuit where it pays, the residual wavelet-coded.

Per segment of a channel (:class:`PursuitCodec`): the kernels start from spherical k-means of the segment's
events seeded with the SAN's kernels, are adapted to it (:func:`adapt`, approximate K-SVD with this pursuit),
and travel in the file, wavelet-coded at :data:`KERNEL_STEP`. Matching pursuit (:mod:`sanets.codec._matching`)
then codes the segment with the kernels and their derivatives at a spike step in typical amplitudes. What the
spikes leave is coded by the wavelet codec's quantiser and coder, its contexts sharpened by where the spikes put
sharp edges (:func:`sanets.codec._wavelet.side_magnitudes`). The spikes themselves are range-coded as
:mod:`sanets.codec._spikes` describes.

The constants were chosen on channel 1 of six MIT-BIH records (a lead the README's table does not score), 10
minutes each, by the mean san/wavelet ratio at PRDN 5 %: :data:`KERNEL_STEP` 1/128 (1/32: 1.040, 1/64: 1.010,
1/128: 0.994, 1/256: 0.989); :data:`~sanets.codec._matching.THRESHOLD` 0.75 (up to 8: within 0.5 %). The rounds of
adaptation of :data:`SPIKE_CHOICES` on the first 10 minutes of channel 0 of MIT-BIH 100, 101, 105, 119, 208 and
215, each coded with the model of ``fit --for codec`` on the other six records: no round of adaptation was best on
three (100, 101, 105: 4-8 % fewer bits than three rounds), three rounds on the others (119, 208: 5-8 % fewer than
none), one round in between everywhere. So both are tried.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np
import torch

from sanets.codec import _wavelet
from sanets.codec._entropy import Reader, Writer
from sanets.codec._learn import EVENTS, spherical_kmeans, stretches_around_events
from sanets.codec._matching import (
    BLOCK,
    THRESHOLD,
    block_count,
    correlate,
    dictionary,
    global_starts,
    pursue,
    synthesise,
    typical_amplitude,
    with_derivatives,
)
from sanets.codec._spikes import read_spikes, read_spikes_v2, write_spikes

ADAPT_SHARE = 0.35
"""Kernels are adapted once per segment, at the step of a threshold at this share of a kernel-long stretch's norm
(:func:`adapt_step`), whatever step they then code at: measured when the codec's steps were such shares (0.35, 0.5,
0.7), on the six records of the rounds in :data:`SPIKE_CHOICES`, as few or fewer bits than adapting at each share
(MIT-BIH 119 and 215 0.5 % and 0.4 % fewer), in a quarter less time. Also the spike step of a segment without
events (a typical amplitude of 0)."""
KERNEL_STEP = 1 / 128
"""The quantisation step of an adapted kernel (unit norm) as the file carries it, wavelet-coded."""
SPIKE_CHOICES = ((1.0, 0), (1.0, 3), (1 / 3, 3))
"""(spike step, rounds of kernel adaptation) tried per channel. The step is in units of the segment's
:func:`typical_amplitude`: at 1 a typical event is sent as level 1, its amplitude exact; at 1/3, events of other
heights too (ectopic beats beside normal ones) are sent within a sixth of a typical amplitude. The rounds are those
of :func:`adapt` (none keeps the spherical k-means centres of the segment's own events). Measured on channel 0 of
ten MIT-BIH records (10 minutes each, each coded with the model of the other fold, PRDN 5 %, bits against the
wavelet codec's): a step of 1 is best on 100, 101, 103, 105, 112, 215, 222 and 230, and 0.9, 1.1 or 1.2 cost up to
14 %, 8 % and 27 % more bits there; 1/3 is best on 119 (0.61 against 0.95 at 1) and 208, with adapted kernels
(1/3 without adaptation was never chosen on the twelve whole records at any of seven targets). Against the
thresholds tried before (0.35, 0.5 and 0.7 of a kernel-long stretch's norm, std x sqrt(M)): 2-12 % fewer bits on
101, 103, 112, 119 and 230, within 1 % on 100, 105, 215 and 222, 7 % more on 208 (where a step of 1/2 would match
them). Without spikes (a choice of None, no kernels): where spikes do not pay for their bits, the file says so (its
choice) and costs what the residual coder alone costs."""
WAVELET_MARGIN = 0.03
"""How close (a share of the size) no spikes with bior4.4 must come to the best spikes for the other wavelets to be
tried without spikes: on both leads of the twelve MIT-BIH records (whole and per segment, PRDN 5 %), no wavelet's file
was more than 2.7 % smaller than bior4.4's."""
_KEPT = 24
RESIDUAL_WAVELET = "bior4.4"
"""The residual's wavelet where there are spikes (and the adapted kernels')."""


def adapt_step(x: np.ndarray, width: int, share: float) -> float:
    """The spike step of a threshold at ``share`` of a kernel-long stretch's norm (std x sqrt(width))."""
    return share * float(np.std(x)) * math.sqrt(width) / THRESHOLD or 1.0


def pooled_adaptation(signals: list[np.ndarray], templates: np.ndarray, steps: list[float]) -> np.ndarray:
    """One round of kernel adaptation (approximate K-SVD, Rubinstein et al. 2008) pooled over ``signals``: pursue
    each with the kernels and their derivatives at its spike step, then make each kernel the unit-norm,
    amplitude-weighted mean of the residual it explains at its spikes. A kernel no spike uses is replaced by the
    stretch of largest residual energy (as K-SVD replaces unused atoms), so that kernels that fit nothing, such
    as an untrained SAN's, start from what the signal holds."""
    width = templates.shape[1]
    atoms = with_derivatives(templates)
    sums = np.zeros_like(templates)
    residuals = []
    for x, step in zip(signals, steps):
        counts, starts, kernels, levels = pursue(x, atoms, step)
        residual = x - synthesise(counts, starts, kernels, levels, atoms, step, len(x))
        where = global_starts(counts, starts, width)[:, None] + np.arange(width)
        amplitude = levels * step
        pieces = np.where((where >= 0) & (where < len(x)), residual[np.clip(where, 0, len(x) - 1)], 0.0)
        pieces += amplitude[:, None] * atoms[kernels]
        own = kernels < len(templates)
        np.add.at(sums, kernels[own], amplitude[own, None] * pieces[own])
        residuals.append(residual)
    norms = np.linalg.norm(sums, axis=1)
    adapted = sums / np.maximum(norms, 1e-12)[:, None]
    for k in np.flatnonzero(norms == 0):
        adapted[k] = _most_energetic_stretch(residuals, width, fallback=templates[k])
    return adapted


def _most_energetic_stretch(residuals: list[np.ndarray], width: int, fallback: np.ndarray) -> np.ndarray:
    """The unit-norm stretch of ``width`` samples of largest energy among ``residuals``, then zeroed there so that
    the next call takes another; ``fallback`` where every residual is zero or shorter than a kernel."""
    best, where = 0.0, None
    for index, residual in enumerate(residuals):
        if len(residual) >= width:
            energy = np.convolve(residual**2, np.ones(width), mode="valid")
            start = int(np.argmax(energy))
            if energy[start] > best:
                best, where = float(energy[start]), (index, start)
    if where is None:
        return fallback
    index, start = where
    stretch = residuals[index][start : start + width].copy()
    residuals[index][start : start + width] = 0.0
    return stretch / np.linalg.norm(stretch)


def adapt(x: np.ndarray, templates: np.ndarray, step: float, rounds: int) -> np.ndarray:
    """``templates`` adapted to one segment: ``rounds`` of :func:`pooled_adaptation`."""
    for _ in range(rounds):
        templates = pooled_adaptation([x], templates, [step])
    return templates


def _kernel_levels(template: np.ndarray) -> list[np.ndarray]:
    return _wavelet.reconstruct_segment(template, KERNEL_STEP, RESIDUAL_WAVELET)[1]


def _restored_kernel(levels: list[np.ndarray], width: int) -> np.ndarray:
    """A kernel as the file carries it: its wavelet levels restored and scaled to unit norm (both sides compute it)."""
    kernel = _wavelet.restore(levels, KERNEL_STEP, RESIDUAL_WAVELET, width)
    return kernel / max(np.linalg.norm(kernel), 1e-12)


class _Prepared:
    """A segment's spikes found, and its residual transformed: what a rate search quantises at many steps."""

    def __init__(self, kernel_levels: list, spike_step: float, spikes: tuple, sparse: np.ndarray | float,
                 residual: _wavelet.Transformed) -> None:
        self.kernel_levels, self.spike_step, self.spikes, self.sparse, self.residual = kernel_levels, spike_step, spikes, sparse, residual

    def squared_error(self, step: float) -> float:
        return self.residual.squared_error(step)

    @functools.cached_property
    def _sparse_bands(self) -> _wavelet.Transformed:
        """The sparse part transformed once: the residual's side magnitudes at any step (:func:`_wavelet.side_magnitudes`)."""
        return _wavelet.Transformed(self.sparse, self.residual.wavelet)

    def code(self, step: float) -> tuple[np.ndarray, tuple]:
        restored, levels = self.residual.code(step)
        side = self._sparse_bands.magnitudes_in_steps(step) if self.kernel_levels else None
        return self.sparse + restored, (self.kernel_levels, self.spike_step, self.spikes, levels, side)


class PursuitCodec:
    """``codec="san"``, the segment-level interface :mod:`sanets.codec._channels` drives.

    ``version`` is the file format's: version 2 files carry a spike step in every segment.

    Per segment: the SAN's kernels adapted to it, sent wavelet-coded at :data:`KERNEL_STEP`: spherical k-means of
    the stretches around its events, starting from the SAN's kernels, then :func:`adapt`;
    matching pursuit with them and their derivatives at a spike step in typical amplitudes, spikes while they
    reach the threshold (a choice per channel among :data:`SPIKE_CHOICES` and no spikes at all, the smallest file
    kept); the residual coded by the wavelet codec's quantiser and coder at the channel's step, which
    sets the quality (see :attr:`choices`).
    """

    name = "san"
    choices = tuple((scale, RESIDUAL_WAVELET, rounds) for scale, rounds in SPIKE_CHOICES) + tuple(
        (None, wavelet) for wavelet in _wavelet.WAVELETS)
    """(spike scale, residual wavelet, rounds of adaptation): with spikes the residual is bior4.4's; without, it
    is any wavelet the wavelet codec would try, so that where spikes do not pay the file is the wavelet codec's. The
    decoder reads the first two (the rounds are the encoder's: the kernels travel in the file)."""
    finest = 1e-6
    probes = True

    def __init__(self, kernels: list[torch.Tensor], version: int = 3) -> None:
        self.initial, self.version = dictionary(kernels), version
        self.header_bytes = 0
        self._cache: dict[tuple, Future] = {}
        self._lock = threading.Lock()

    def fixed_bytes(self, choice: Sequence) -> int:
        """With spikes, the bytes of :attr:`header_bytes` (the model's name and the codec's constants, which a file
        without spikes, the wavelet codec's, does not carry): a channel's spikes must save more than these."""
        return 0 if choice[0] is None else self.header_bytes

    def next_choices(self, sizes: dict[tuple, float]) -> list[tuple]:
        """Two stages: each of :data:`SPIKE_CHOICES` beside no spikes with bior4.4; then the other wavelets without
        spikes, only where no spikes came within :data:`WAVELET_MARGIN` of the best spikes (so that where spikes do
        not pay, the file is the wavelet codec's)."""
        if not sizes:
            return [(None, RESIDUAL_WAVELET)] + [choice for choice in self.choices if choice[0] is not None]
        spikes = min(size for choice, size in sizes.items() if choice[0] is not None)
        if sizes[(None, RESIDUAL_WAVELET)] <= spikes * (1 + WAVELET_MARGIN):
            return [(None, wavelet) for wavelet in _wavelet.WAVELETS]
        return []

    def header(self) -> dict:
        return {"block": BLOCK, "kernel_step": KERNEL_STEP, "residual_wavelet": RESIDUAL_WAVELET, "bias": _wavelet.BIAS}

    def _once(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per key however many threads ask (the others wait for it); :data:`_KEPT` kept."""
        with self._lock:
            future = self._cache.get(key)
            owner = future is None
            if owner:
                future = Future()
                self._cache = dict(list(self._cache.items())[1 - _KEPT :]) | {key: future}
        if owner:
            try:
                future.set_result(compute())
            except BaseException as error:
                future.set_exception(error)
                raise
        return future.result()

    def _kernels(self, x: np.ndarray, rounds: int) -> tuple[list, np.ndarray, tuple, float]:
        """The segment's kernels as the file carries them (their wavelet levels), the atoms they make, what pursuit
        starts from (:func:`correlate`) and the :func:`typical_amplitude` of their events: spherical k-means of the segment's events
        from the SAN's kernels, then ``rounds`` of :func:`adapt` at the spike step of :data:`ADAPT_SHARE`."""
        key = hashlib.sha1(x.tobytes()).hexdigest()
        width = self.initial.shape[1]
        start = self._once((key, 0), lambda: spherical_kmeans(stretches_around_events([x], width, EVENTS), len(self.initial),
                                                               start=self.initial))
        adapted = self._once((key, rounds), lambda: adapt(x, start, adapt_step(x, width, ADAPT_SHARE), rounds)) if rounds else start

        def coded() -> tuple[list, np.ndarray, tuple, float]:
            levels = [_kernel_levels(template) for template in adapted]
            atoms = with_derivatives(np.array([_restored_kernel(level, width) for level in levels]))
            correlated = correlate(x, atoms)
            return levels, atoms, correlated, typical_amplitude(correlated[0], len(levels), width)

        return self._once((key, rounds, "coded"), coded)

    def prepare(self, x: np.ndarray, choice: Sequence) -> _Prepared:
        scale, wavelet, *rounds = choice
        if scale is None:
            empty = np.zeros(0, dtype=np.int64)
            return _Prepared([], math.inf, (np.zeros(block_count(len(x)), dtype=np.int64), empty, empty, empty), 0.0,
                             _wavelet.Transformed(x, wavelet))
        levels, atoms, correlated, typical = self._kernels(x, *rounds)
        spike_step = scale * typical or adapt_step(x, self.initial.shape[1], ADAPT_SHARE)
        spikes = pursue(x, atoms, spike_step, correlated)
        sparse = synthesise(*spikes, atoms, spike_step, len(x))
        return _Prepared(levels, spike_step, spikes, sparse, _wavelet.Transformed(x - sparse, wavelet))

    def write_segment(self, writer: Writer, coded: tuple, choice: Sequence) -> None:
        kernel_levels, spike_step, spikes, levels, side = coded
        if choice[0] is not None:
            writer.float64(spike_step)
            for level in kernel_levels:
                _wavelet.write_segment(writer, level)
            write_spikes(writer, *spikes, 2 * len(kernel_levels), BLOCK)
        _wavelet.write_segment(writer, levels, side)

    def read_segment(self, reader: Reader, length: int, step: float, choice: Sequence) -> np.ndarray:
        wavelet = choice[1]
        count, width = self.initial.shape
        spike_step = reader.float64() if choice[0] is not None or self.version == 2 else math.inf
        sparse = np.zeros(length)
        if math.isfinite(spike_step):
            lengths = _wavelet.band_lengths(width, RESIDUAL_WAVELET)
            atoms = with_derivatives(np.array([_restored_kernel(_wavelet.read_segment(reader, lengths), width) for _ in range(count)]))
            spikes = (read_spikes(reader, block_count(length), len(atoms), BLOCK) if self.version >= 3
                      else read_spikes_v2(reader, block_count(length), len(atoms)))
            if len(spikes[1]) and (spikes[1].max() > BLOCK + width - 2 or spikes[2].max() >= len(atoms)):
                raise ValueError("a spike outside its block or of a kernel the segment lacks")
            sparse = synthesise(*spikes, atoms, spike_step, length)
        side = _wavelet.side_magnitudes(sparse, step, wavelet) if math.isfinite(spike_step) and self.version >= 3 else None
        levels = _wavelet.read_segment(reader, _wavelet.band_lengths(length, wavelet), side)
        return sparse + _wavelet.restore(levels, step, wavelet, length)
