"""Kernels made for the san codec, learned on many recordings at once (``sanets fit --for codec``, issue 29).

The kernels a file pays for are adapted to it (:func:`sanets.codec._pursuit.adapt`); what a model brings is
where adaptation starts. Learned here on every given recording:

1. Candidates: the stretches of ``width`` samples around each recording's most energetic events (local maxima
   of the detrended signal's magnitude, the largest within half a kernel, spread evenly over each recording),
   each detrended and scaled to unit norm.
2. Spherical k-means on them (a stretch joins the kernel it correlates with most, either sign): a first
   dictionary of shapes that recur.

Rounds of the codec's own adaptation pooled over the recordings (:func:`sanets.codec._pursuit.pooled_adaptation`)
were measured after k-means and dropped: they blur the shapes of different recordings into one (MIT-BIH 119
coded with kernels from six other records, PRDN 5 %: 0.474 bits/sample after three rounds against 0.408 without).
Each file's kernels are adapted to it when it is coded.

Nothing here knows what an ECG is: events are where the signal's energy peaks, and shapes are what recurs.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

__all__ = ["EVENTS", "learn_kernels", "spherical_kmeans", "stretches_around_events"]

EVENTS = 20000
"""Events taken from all recordings together (each recording at least 256)."""


def _events(x: np.ndarray, width: int, limit: int) -> np.ndarray:
    """Sample indices where the detrended |x| peaks (the largest within half a kernel each side) at a third or more
    of its 99th percentile: at most ``limit``, spread evenly over the recording."""
    size = max(width // 8, 1)
    energy = np.abs(x - np.convolve(x, np.ones(size) / size, mode="same"))
    gap = max(width // 2, 1)
    largest = scipy.ndimage.maximum_filter1d(energy, 2 * gap + 1, mode="constant", cval=-np.inf)
    events = np.flatnonzero((energy == largest) & (energy >= np.quantile(energy, 0.99) / 3) & (energy > 0))
    return events[np.linspace(0, len(events) - 1, limit).round().astype(int)] if len(events) > limit else events


def stretches_around_events(signals: list[np.ndarray], width: int, per_signal: int) -> np.ndarray:
    """Unit-norm, detrended stretches ``(N, width)`` around each signal's events, the event at 2/5 of the stretch."""
    before, stretches = width * 2 // 5, []
    for x in signals:
        for event in _events(x, width, per_signal):
            if before <= event <= len(x) - width + before:
                piece = x[event - before : event - before + width]
                piece = piece - np.linspace(piece[0], piece[-1], width)
                norm = np.linalg.norm(piece)
                if norm > 0:
                    stretches.append(piece / norm)
    return np.array(stretches).reshape(-1, width)


def spherical_kmeans(stretches: np.ndarray, count: int, rng: np.random.Generator | None = None,
                     start: np.ndarray | None = None, iterations: int = 25) -> np.ndarray:
    """Unit-norm centres ``(count, width)`` of unit-norm ``stretches``, a stretch joining the centre it correlates with
    most (either sign). The centres start at ``start`` (``(count, width)``), or as k-means++ seeds them (each next
    one drawn in proportion to how badly the chosen ones fit) from ``rng``; a centre no stretch joins takes the
    stretch the others fit worst (an untrained SAN's kernels would otherwise stay noise)."""
    if start is not None:
        centres = np.array(start, dtype=np.float64)
    else:
        centres = [stretches[rng.integers(len(stretches))]]
        for _ in range(count - 1):
            misfit = np.clip(1 - np.max(np.abs(stretches @ np.array(centres).T), axis=1), 0, None)
            centres.append(stretches[rng.choice(len(stretches), p=misfit / misfit.sum()) if misfit.sum() > 0 else rng.integers(len(stretches))])
        centres = np.array(centres)
    if not len(stretches):
        return centres
    previous = None
    for _ in range(iterations):
        similarity = stretches @ centres.T
        assigned = np.argmax(np.abs(similarity), axis=1)
        signs = np.sign(similarity[np.arange(len(stretches)), assigned])
        if previous is not None and np.array_equal(signs * (assigned + 1), previous):
            break  # the same members with the same signs: every later round gives the same centres
        previous = signs * (assigned + 1)
        fit = np.abs(similarity[np.arange(len(stretches)), assigned])
        for k in range(count):
            members = assigned == k
            if members.any():
                summed = (signs[members, None] * stretches[members]).sum(0)
                centres[k] = summed / max(np.linalg.norm(summed), 1e-12)
            else:  # a centre nothing joins takes the stretch the others fit worst
                worst = int(np.argmin(fit))
                centres[k], fit[worst] = stretches[worst], np.inf
    return centres


def learn_kernels(signals: list[np.ndarray], count: int, width: int, *, seed: int = 0) -> np.ndarray:
    """Kernels ``(count, width)``, unit norm, for the san codec, learned on ``signals`` (each one channel, any length).

    Raises
    ------
    ValueError
        Fewer events than kernels.
    """
    signals = [np.asarray(x, dtype=np.float64) - np.mean(x) for x in signals]
    stretches = stretches_around_events(signals, width, per_signal=max(256, EVENTS // max(len(signals), 1)))
    if len(stretches) < count:
        raise ValueError(f"{len(stretches)} event(s) of {width} samples in the recordings; {count} kernels need at least as "
                         "many: give longer recordings, or fewer or shorter kernels")
    return spherical_kmeans(stretches, count, np.random.default_rng(seed))
