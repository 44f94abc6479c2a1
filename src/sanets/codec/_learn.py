"""Kernels made for the san codec, learned on many recordings at once (``sanets fit --for codec``, issue 29).

The kernels a file pays for are adapted to it (:func:`sanets.codec._pursuit.adapt`); what a model brings is
where adaptation starts. Learned here on every given recording:

1. Candidates: the stretches of ``width`` samples around each recording's most energetic events (local maxima
   of the detrended signal's magnitude, at least half a kernel apart), each detrended and scaled to unit norm.
2. Spherical k-means on them (a stretch joins the kernel it correlates with most, either sign): a first
   dictionary of shapes that recur.
3. Rounds of the codec's own adaptation, pooled over all recordings: matching pursuit with the kernels, then each
   kernel the amplitude-weighted mean of the residual it explains.

Nothing here knows what an ECG is: events are where the signal's energy peaks, and shapes are what recurs.
"""

from __future__ import annotations

import numpy as np

from sanets.codec._pursuit import adapt_step, pooled_adaptation

__all__ = ["learn_kernels"]


def _events(x: np.ndarray, width: int, limit: int) -> np.ndarray:
    """Up to ``limit`` sample indices where the detrended |x| peaks, at least width / 2 apart, largest first."""
    trend = np.convolve(x, np.ones(max(width // 8, 1)) / max(width // 8, 1), mode="same")
    energy = np.abs(x - trend)
    gap = max(width // 2, 1)
    order = np.argsort(energy)[::-1]
    taken = np.zeros(len(x), bool)
    chosen = []
    for index in order:
        if len(chosen) >= limit or energy[index] <= 0:
            break
        if not taken[max(0, index - gap) : index + gap].any():
            chosen.append(index)
        taken[index] = True
    return np.array(chosen, dtype=np.int64)


def _stretches(signals: list[np.ndarray], width: int, per_signal: int) -> np.ndarray:
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


def _spherical_kmeans(stretches: np.ndarray, count: int, rng: np.random.Generator, iterations: int = 20) -> np.ndarray:
    centres = stretches[rng.choice(len(stretches), size=count, replace=len(stretches) < count)]
    for _ in range(iterations):
        similarity = stretches @ centres.T
        assigned = np.argmax(np.abs(similarity), axis=1)
        signs = np.sign(similarity[np.arange(len(stretches)), assigned])
        for k in range(count):
            members = assigned == k
            if members.any():
                summed = (signs[members, None] * stretches[members]).sum(0)
                centres[k] = summed / max(np.linalg.norm(summed), 1e-12)
    return centres


def learn_kernels(signals: list[np.ndarray], count: int, width: int, *, rounds: int = 3, share: float = 0.5,
                  seed: int = 0) -> np.ndarray:
    """Kernels ``(count, width)``, unit norm, for the san codec, learned on ``signals`` (each one channel, any length).

    Parameters
    ----------
    signals : list of ndarray, each (S,)
    count, width : int
        Kernels and samples per kernel.
    rounds : int
        Rounds of pooled adaptation after k-means.
    share : float
        The spike threshold of the adaptation's pursuit, as the codec's shares (:data:`sanets.codec._pursuit.SPIKE_SHARES`).
    """
    signals = [np.asarray(x, dtype=np.float64) - np.mean(x) for x in signals]
    stretches = _stretches(signals, width, per_signal=max(64, 4096 // max(len(signals), 1)))
    if len(stretches) < count:
        raise ValueError(f"{len(stretches)} event(s) of {width} samples in the recordings; {count} kernels need at least as "
                         "many: give longer recordings, or fewer or shorter kernels")
    kernels = _spherical_kmeans(stretches, count, np.random.default_rng(seed))
    steps = [adapt_step(x, width, share) for x in signals]
    for _ in range(rounds):
        kernels = pooled_adaptation(signals, kernels, steps)
    return kernels

