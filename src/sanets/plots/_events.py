"""A SAN's spikes as events on a strip of signal (issue 32): spikes by kernel above, reference labels below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sanets.plots._common import Figure, _finite_array

_KERNEL_COLORS = "tab10"


def plot_events(signal: Any, events: Any, kernels: Sequence[Any], sampling_rate: float, *,
                reference: tuple[Any, Sequence[str]] | None = None, start: float = 0.0,
                seconds: float | None = None, title: str = "") -> Figure:
    """A strip of one channel with its spikes coloured by kernel above it, reference symbols below, kernels beside.

    Parameters
    ----------
    signal : array or Tensor, shape (L,)
        The channel the spikes were found on.
    events : DataFrame or structured array
        :func:`sanets.events` of that channel (fields ``sample``, ``kernel``, ``amplitude``).
    kernels : sequence of arrays, each shape (m,)
        The model's kernels (``model.kernel_weights()``), coloured as their spikes.
    sampling_rate : float
        Hz, for the time axis.
    reference : (array of int, sequence of str), optional
        Annotated samples and their symbols (e.g. MIT-BIH ``.atr`` beats), written under the strip.
    start, seconds : float
        The span shown, in seconds (default: from ``start`` to the end).

    Returns
    -------
    Figure
        Three axes on the left (spikes, signal, reference) sharing time, and one per kernel on the right.
    """
    x = _finite_array("signal", signal).reshape(-1)
    first = max(round(start * sampling_rate), 0)
    last = len(x) if seconds is None else min(len(x), first + round(seconds * sampling_rate))
    if last <= first:
        raise ValueError(f"the span {start:g} s + {seconds} s holds no sample of a signal of {len(x)} samples")
    kernels = [_finite_array(f"kernel {i}", k).reshape(-1) for i, k in enumerate(kernels)]
    samples, which, amplitude = (np.asarray(events[name]) for name in ("sample", "kernel", "amplitude"))
    shown = (samples >= first) & (samples < last)
    import matplotlib

    colors = matplotlib.colormaps[_KERNEL_COLORS]
    fig = Figure(figsize=(10.0, 4.2))
    grid = fig.add_gridspec(3, 2 + len(kernels) // 5, width_ratios=[6.0] + [1.0] * (1 + len(kernels) // 5),
                            height_ratios=[1.2, 2.0, 0.5], hspace=0.08, wspace=0.25)
    spikes_ax = fig.add_subplot(grid[0, 0])
    signal_ax = fig.add_subplot(grid[1, 0], sharex=spikes_ax)
    labels_ax = fig.add_subplot(grid[2, 0], sharex=spikes_ax)
    t = np.arange(first, last) / sampling_rate
    signal_ax.plot(t, x[first:last], color="black", linewidth=0.8)
    for k in np.unique(which[shown]) if shown.any() else []:
        on = shown & (which == k)
        spikes_ax.vlines(samples[on] / sampling_rate, 0, amplitude[on], color=colors(int(k) % 10), linewidth=1.2)
        spikes_ax.plot(samples[on] / sampling_rate, amplitude[on], "o", markersize=2.5, color=colors(int(k) % 10))
    spikes_ax.axhline(0, color="grey", linewidth=0.5)
    spikes_ax.set_ylabel("spikes")
    signal_ax.set_ylabel("signal")
    if reference is not None:
        at, symbols = np.asarray(reference[0]), list(reference[1])
        for sample, symbol in zip(at, symbols):
            if first <= sample < last:
                labels_ax.text(sample / sampling_rate, 0.5, symbol, ha="center", va="center", fontsize=9)
                signal_ax.axvline(sample / sampling_rate, color="grey", linewidth=0.4, linestyle=":")
    labels_ax.set_yticks([])
    labels_ax.set_ylabel("ref.", rotation=0, ha="right", va="center")
    labels_ax.set_xlabel("time (s)")
    for ax in (spikes_ax, signal_ax):
        ax.tick_params(labelbottom=False)
    spikes_ax.set_xlim(first / sampling_rate, last / sampling_rate)
    columns = grid.ncols - 1
    kernel_grid = grid[:, 1:].subgridspec(max(-(-len(kernels) // columns), 1), columns, hspace=0.5)
    for i, kernel in enumerate(kernels):
        ax = fig.add_subplot(kernel_grid[i // columns, i % columns])
        ax.plot(np.arange(len(kernel)) / sampling_rate * 1000, kernel, color=colors(i % 10))
        ax.set_title(f"kernel {i}", fontsize=8, color=colors(i % 10))
        ax.tick_params(labelsize=6, labelbottom=i >= len(kernels) - columns)
        ax.set_yticks([])
        if i >= len(kernels) - columns:
            ax.set_xlabel("ms", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.9 if title else 0.96, bottom=0.12)
    return fig
