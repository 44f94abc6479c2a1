"""The learned kernels (Fig. 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sanets.plots._common import (
    _IMAGE_PANEL_SIZE,
    _PANEL_WIDTH,
    _SIGNAL_PANEL_HEIGHT,
    Figure,
    MaxNLocator,
    _color,
    _finite_array,
    _labelled_rows,
    _non_empty,
    _signed_image,
    _stacked_layout,
)


def plot_kernels(kernels: Mapping[str, Sequence[Any]]) -> Figure:
    """The learned kernels of each model (paper Fig. 5).

    Parameters
    ----------
    kernels : mapping of str to sequence of arrays
        Per label (usually an activation name), a model's kernels as tensors or
        arrays, each ``(m,)`` (1D) or ``(m, m)`` (2D); all 1D or all 2D.

    Returns
    -------
    Figure
        1D: one axes per model, each kernel a line over its m taps.
        2D: one row per model with one image per kernel (``m x m``, diverging
        colours centred on zero); as many axes as kernels in all.

    Raises
    ------
    ValueError
        If the mapping is empty, a model has no kernels, or 1D and 2D kernels mix.
    """
    checked = {}
    for label, weights in _non_empty("kernels", kernels).items():
        arrays = [_finite_array(f"kernels[{label!r}][{i}]", kernel) for i, kernel in enumerate(weights)]
        if not arrays or any(array.ndim not in (1, 2) or array.size == 0 for array in arrays):
            raise ValueError(f"kernels[{label!r}] must hold at least one kernel of shape (m,) or (m, m)")
        checked[label] = arrays
    dims = {array.ndim for arrays in checked.values() for array in arrays}
    if len(dims) != 1:
        raise ValueError("kernels mixes 1D and 2D kernels; plot them separately")
    return _plot_kernels_1d(checked) if dims == {1} else _plot_kernels_2d(checked)


def _plot_kernels_1d(kernels: dict[str, list[np.ndarray]]) -> Figure:
    fig = Figure(figsize=(_PANEL_WIDTH, (_SIGNAL_PANEL_HEIGHT + 0.2) * len(kernels) + 0.6))
    axes = fig.subplots(len(kernels), 1, squeeze=False)[:, 0]
    for index, (ax, (label, weights)) in enumerate(zip(axes, kernels.items())):
        for number, kernel in enumerate(weights):
            ax.plot(kernel, marker=".", color=_color(label, index), alpha=1.0 / (1 + number), label=f"kernel {number + 1}")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_title(label, loc="left", fontsize="medium")
        sizes = ", ".join(str(kernel.size) for kernel in weights)
        ax.set_title(f"m = {sizes}", loc="right", fontsize="small")
        ax.set_xlim(-0.5, max(kernel.size for kernel in weights) - 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # taps are whole numbers, even for m = 1
    axes[-1].set_xlabel("tap")
    fig.suptitle("Learned kernels")
    _stacked_layout(fig, top=0.65, gap=0.6)
    return fig


def _plot_kernels_2d(kernels: dict[str, list[np.ndarray]]) -> Figure:
    columns = max(len(weights) for weights in kernels.values())
    fig = Figure(figsize=(_IMAGE_PANEL_SIZE * columns + 0.5, (_IMAGE_PANEL_SIZE + 0.3) * len(kernels) + 0.4), layout="constrained")
    grid = _labelled_rows(fig, list(kernels), columns)
    for row, (label, weights) in zip(grid, kernels.items()):
        for number, ax in enumerate(row):
            if number >= len(weights):
                ax.remove()
                continue
            _signed_image(ax, weights[number])
            ax.set_title(f"kernel {number + 1} ({weights[number].shape[0]}x{weights[number].shape[1]})", fontsize="small")
    fig.suptitle("Learned kernels")
    return fig
