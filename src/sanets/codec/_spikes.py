"""The spike streams of a san-codec segment: how many spikes each block holds, where they start, of which kernel, how
large and of which sign (range-coded, :mod:`sanets.codec._entropy`).

A segment's spikes are in block order, then by start, then by kernel; a spike's *position* is its block's first
sample plus its start in the block's padded frame. Format 3 (:func:`write_spikes`):

1. each block's spike count (a geometric model, its scale sent);
2. each spike's *interval* (its position less the previous spike's, the first one's from 0), predicted from the
   interval ``lag`` spikes back (the first ``lag`` from the median interval, sent), the lag among 0 to
   :data:`LAGS` - 1 chosen per segment by the smaller estimated cost (0: every interval from the median); what the
   prediction misses is coded with a Laplace model of fitted scale. A regular rhythm of one spike per beat
   (lag 1), or of alternating beats or two kernels per beat (lag 2), costs a few bits a spike where intervals
   coded alone cost 9-10 (MIT-BIH 100 and 119, 10 minutes);
3. each spike's kernel: with a lag, first a flag per spike that it is the kernel of the spike ``lag`` back (a
   probability sent), then the others; a categorical of sent shares;
4. each spike's magnitude less one (a geometric model per kernel) and its sign (a probability per kernel: a
   kernel's spikes mostly share a sign).

Format 2 (:func:`read_spikes_v2`, read only): counts, gaps within each block (geometric, one scale for a block's
first spike and one for the others), kernels, magnitudes as above, signs at probability 1/2.
"""

from __future__ import annotations

import math

import numpy as np

from sanets.codec._entropy import (
    Reader,
    Writer,
    fitted_scale_code,
    fitted_scale_codes,
    probability_code,
    probability_of,
    scale_code,
    scale_of,
)

LAGS = 5
"""Interval predictions tried per segment: from the median (lag 0) or from the interval 1 to 4 spikes back."""
_MEDIAN_BITS = 24


def positions(counts: np.ndarray, starts: np.ndarray, block: int) -> np.ndarray:
    """Spike starts in their blocks' padded frames ``(n,)`` -> positions in the segment's, shifted by the margin."""
    return np.repeat(np.arange(len(counts)), counts) * block + starts


def write_spikes(writer: Writer, counts: np.ndarray, starts: np.ndarray, kernels: np.ndarray, levels: np.ndarray,
                 kernel_count: int, block: int) -> None:
    """A segment's spikes (per block counts ``(B,)``; per spike start, kernel and signed level ``(n,)``)."""
    _write_geometric(writer, counts)
    intervals = np.diff(positions(counts, starts, block), prepend=0)
    median = int(np.clip(np.median(intervals), 0, 2**_MEDIAN_BITS - 1)) if len(intervals) else 0
    lag = min(range(LAGS), key=lambda lag: _laplace_cost(intervals - _predicted(intervals, lag, median)))
    writer.uniform(np.array([lag, median]), _MEDIAN_BITS)
    missed = intervals - _predicted(intervals, lag, median)
    code = scale_code(max(float(np.abs(missed).mean()), 0.1) if len(missed) else 1.0)
    writer.scales(code)
    writer.laplace(missed, scale_of(code))
    explicit = np.ones(len(kernels), bool)
    if lag:
        explicit[lag:] = kernels[lag:] != kernels[:-lag]
        repeat = probability_code((np.sum(~explicit) + 0.5) / (len(kernels) + 1))
        writer.probabilities(repeat)
        writer.bernoulli(~explicit, probability_of(repeat))
    shares = probability_code((np.bincount(kernels[explicit], minlength=kernel_count) + 0.5) / (explicit.sum() + 1))
    writer.probabilities(shares)
    writer.categorical(kernels[explicit], _normalised(shares))
    magnitudes = np.abs(levels) - 1
    scales = fitted_scale_codes(magnitudes, kernels, kernel_count)
    writer.scales(scales)
    writer.geometric(magnitudes, scale_of(scales)[kernels])
    negative = probability_code((np.bincount(kernels, weights=levels < 0, minlength=kernel_count) + 0.5)
                                / (np.bincount(kernels, minlength=kernel_count) + 1))
    writer.probabilities(negative)
    writer.bernoulli(levels < 0, probability_of(negative)[kernels])


def read_spikes(reader: Reader, blocks: int, kernel_count: int, block: int) -> tuple[np.ndarray, ...]:
    """The mirror of :func:`write_spikes` for a segment of ``blocks`` blocks: counts, starts, kernels, levels."""
    counts = reader.geometric(blocks, scale_of(reader.scales(1)))
    total = int(counts.sum())
    lag, median = (int(v) for v in reader.uniform(2, _MEDIAN_BITS))
    if lag >= LAGS:
        raise ValueError(f"an interval lag of {lag}")
    missed = reader.laplace(total, scale_of(reader.scales(1)))
    intervals = np.zeros(total, dtype=np.int64)
    for first in range(min(max(lag, 1), total)):
        chain = slice(first, None, lag or 1)
        intervals[chain] = median + (np.cumsum(missed[chain]) if lag else missed[chain])
    starts = np.cumsum(intervals) - np.repeat(np.arange(blocks), counts) * block
    explicit = np.ones(total, bool)
    if lag:
        explicit[reader.bernoulli(total, probability_of(reader.probabilities(1))) == 1] = False
    coded = iter(reader.categorical(int(explicit.sum()), _normalised(reader.probabilities(kernel_count))))
    kernels = np.zeros(total, dtype=np.int64)
    for i in range(total):
        kernels[i] = next(coded) if explicit[i] or i < lag else kernels[i - lag]
    magnitudes = reader.geometric(total, scale_of(reader.scales(kernel_count))[kernels]) + 1
    signs = reader.bernoulli(total, probability_of(reader.probabilities(kernel_count))[kernels])
    return counts, starts, kernels, np.where(signs == 1, -magnitudes, magnitudes)


def read_spikes_v2(reader: Reader, blocks: int, kernel_count: int) -> tuple[np.ndarray, ...]:
    """Format 2's spike streams (see the module's docstring)."""
    counts = reader.geometric(blocks, scale_of(reader.scales(1)))
    total = int(counts.sum())
    is_first = np.zeros(total, bool)
    is_first[np.r_[0, np.cumsum(counts)[:-1]][counts > 0]] = True
    gaps = reader.geometric(total, scale_of(reader.scales(2))[(~is_first).astype(int)])
    running = np.cumsum(gaps)
    starts = running - np.repeat(np.r_[0, running][np.r_[0, np.cumsum(counts)[:-1]]], counts)
    kernels = reader.categorical(total, _normalised(reader.probabilities(kernel_count)))
    magnitudes = reader.geometric(total, scale_of(reader.scales(kernel_count))[kernels]) + 1
    signs = reader.bernoulli(total, 0.5)
    return counts, starts, kernels, np.where(signs == 1, -magnitudes, magnitudes)


def _write_geometric(writer: Writer, values: np.ndarray) -> None:
    code = fitted_scale_code(values)
    writer.scales(code)
    writer.geometric(values, scale_of(code))


def _predicted(intervals: np.ndarray, lag: int, median: int) -> np.ndarray:
    """Each interval's prediction: the one ``lag`` back, the median for the first ``lag`` (and for all at lag 0)."""
    predicted = np.full(len(intervals), median, dtype=np.int64)
    if lag:
        predicted[lag:] = intervals[:-lag]
    return predicted


def _laplace_cost(missed: np.ndarray) -> float:
    """Bits of a Laplace model at its fitted scale, about (continuous approximation)."""
    if not len(missed):
        return 0.0
    return len(missed) * math.log2(2 * math.e * max(float(np.abs(missed).mean()), 0.1))


def _normalised(codes: np.ndarray) -> np.ndarray:
    p = probability_of(codes)
    return p / p.sum()
