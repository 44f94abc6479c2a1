"""Figures of one example: its similarity and activation maps (Fig. 1), its codes and reconstruction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sanets.plots._common import (
    _IMAGE_PANEL_SIZE,
    _PANEL_WIDTH,
    _SIGNAL_PANEL_HEIGHT,
    Figure,
    _color,
    _count_nonzero,
    _example,
    _grey_image,
    _labelled_rows,
    _maps,
    _non_empty,
    _signed_image,
    _stacked_layout,
    _stems,
)


def plot_activations(signal: Any, results: Mapping[str, tuple[Any, Any]]) -> Figure:
    """One signal's similarity and sparse activation maps per activation (paper Fig. 1).

    Parameters
    ----------
    signal : Tensor or array, shape (1, L)
        The input signal.
    results : mapping of str to (similarity, codes)
        Per label (usually an activation name): the similarity maps, shape
        ``(q, L)`` (Eq. 10), and the sparse activation maps, shape ``(q, L)``
        (Eq. 11), of a SAN on ``signal``. Fig. 1 uses one kernel (q = 1).

    Returns
    -------
    Figure
        ``1 + len(results)`` stacked axes sharing the sample axis: the signal,
        then per label the similarity as a line and the kept activations as stems.

    Raises
    ------
    ValueError
        If ``results`` is empty or a map does not match the signal's length.
    """
    signal = _example("signal", signal)
    if signal.ndim != 2:
        raise ValueError(f"signal must have shape (1, L), got shape {signal.shape}")
    maps = _non_empty("results", results)
    checked = {}
    for label, pair in maps.items():
        similarity, codes = (_maps(f"results[{label!r}][{i}]", value, signal) for i, value in enumerate(pair))
        if similarity.shape != codes.shape:
            raise ValueError(
                f"results[{label!r}]: similarity of shape {similarity.shape} and codes of shape "
                f"{codes.shape} differ"
            )
        checked[label] = (similarity, codes)

    fig = Figure(figsize=(_PANEL_WIDTH, _SIGNAL_PANEL_HEIGHT * (1 + len(checked)) + 0.6))
    axes = fig.subplots(1 + len(checked), 1, sharex=True, squeeze=False)[:, 0]
    axes[0].plot(signal[0], color="black", linewidth=1)
    axes[0].set_ylabel("signal")
    axes[0].set_title("below, line: similarity (Eq. 10); stems: sparse activations (Eq. 11)", loc="right", fontsize="small")
    for index, (ax, (label, (similarity, codes))) in enumerate(zip(axes[1:], checked.items())):
        color = _color(label, index)
        for kernel in range(len(similarity)):
            ax.plot(similarity[kernel], color=color, alpha=0.45, linewidth=1)
            _stems(ax, codes[kernel], color)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_ylabel(label, rotation=0, horizontalalignment="right", verticalalignment="center")
        ax.set_title(f"{_count_nonzero(codes)} of {codes.size} activations kept", loc="right", fontsize="small")
    axes[-1].set_xlabel("sample")
    fig.suptitle("Similarity and sparse activation maps")
    _stacked_layout(fig, list(checked), left=0.6, top=0.9)
    return fig


def plot_reconstruction(x: Any, codes: Any, x_hat: Any, title: str | None = None) -> Figure:
    """One example: input, sparse codes and reconstruction.

    Parameters
    ----------
    x : Tensor or array, shape (1, L) or (1, H, W)
        The input example.
    codes : Tensor or array, shape (q, L) or (q, H, W)
        Its sparse activation maps (Eq. 11).
    x_hat : Tensor or array, shape like ``x``
        Its reconstruction (Eq. 13).
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        1D: two stacked axes, the input with the reconstruction overlaid, then
        the codes as stems at their positions. 2D: one row of ``2 + q`` images,
        input, each code map, reconstruction.

    Raises
    ------
    ValueError
        If the shapes do not match each other.
    """
    return _reconstruction_figure({"": (x, codes, x_hat)}, title)


def plot_reconstructions(examples: Mapping[str, tuple[Any, Any, Any]], title: str | None = None) -> Figure:
    """Several labelled examples, each laid out as in :func:`plot_reconstruction`.

    Parameters
    ----------
    examples : mapping of str to (x, codes, x_hat)
        Per label (for instance ``"extrema (m=16)"``): the input ``(1, L)`` or
        ``(1, H, W)``, its codes ``(q, L)`` or ``(q, H, W)`` and its
        reconstruction, shaped like the input. All 1D or all 2D.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        1D: two stacked axes per example. 2D: one row of ``2 + q`` images per
        example (rows with fewer kernels leave their last cells empty).

    Raises
    ------
    ValueError
        If ``examples`` is empty, mixes 1D and 2D, or holds mismatched shapes.
    """
    return _reconstruction_figure(_non_empty("examples", examples), title)


def _reconstruction_figure(examples: Mapping[str, tuple[Any, Any, Any]], title: str | None) -> Figure:
    checked = {label: _reconstruction_example(label, *triple) for label, triple in examples.items()}
    dims = {x.ndim - 1 for x, _, _ in checked.values()}
    if len(dims) != 1:
        raise ValueError("examples mixes 1D and 2D examples; plot them separately")
    fig = _draw_reconstructions_1d(checked) if dims == {1} else _draw_reconstructions_2d(checked)
    if title:
        fig.suptitle(title)
    return fig


def _reconstruction_example(label: str, x: Any, codes: Any, x_hat: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    where = f" of example {label!r}" if label else ""
    x = _example(f"x{where}", x)
    x_hat = _example(f"x_hat{where}", x_hat)
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat{where} of shape {x_hat.shape} does not match x of shape {x.shape}")
    codes = _maps(f"codes{where}", codes, x)
    return x, codes, x_hat


def _draw_reconstructions_1d(examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    fig = Figure(figsize=(_PANEL_WIDTH, 2.6 * len(examples) + 0.6))
    axes = fig.subplots(2 * len(examples), 1, sharex=True, height_ratios=[2, 1] * len(examples))
    axes = np.atleast_1d(axes)
    for index, (label, (x, codes, x_hat)) in enumerate(examples.items()):
        signal_ax, codes_ax = axes[2 * index], axes[2 * index + 1]
        color = _color(label, index)
        signal_ax.plot(x[0], color="black", linewidth=1, label="input")
        signal_ax.plot(x_hat[0], color=color, linewidth=1.2, linestyle="--", label="reconstruction")
        signal_ax.legend(fontsize="x-small", loc="upper right")
        signal_ax.set_title(label, loc="left", fontsize="medium")
        for kernel in range(len(codes)):
            _stems(codes_ax, codes[kernel], color)
        codes_ax.axhline(0, color="grey", linewidth=0.5)
        codes_ax.set_ylabel("codes")
        codes_ax.set_title(f"{_count_nonzero(codes)} non-zero", loc="right", fontsize="small")
    axes[-1].set_xlabel("sample")
    _stacked_layout(fig, gap=0.35)
    return fig


def _draw_reconstructions_2d(examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    columns = 2 + max(len(codes) for _, codes, _ in examples.values())
    fig = Figure(figsize=(_IMAGE_PANEL_SIZE * columns, (_IMAGE_PANEL_SIZE + 0.5) * len(examples) + 0.4), layout="constrained")
    grid = _labelled_rows(fig, list(examples), columns)
    # One grey scale for every input and reconstruction: the same input looks the same in every row, and a
    # reconstruction beyond the inputs' range saturates instead of changing the contrast of its row.
    value_range = (min(x.min() for x, _, _ in examples.values()), max(x.max() for x, _, _ in examples.values()))
    for row, (label, (x, codes, x_hat)) in zip(grid, examples.items()):
        _grey_image(row[0], x[0], value_range, "input")
        for number, code_map in enumerate(codes):
            _signed_image(row[1 + number], code_map)
            row[1 + number].set_title(f"codes {number + 1}: {_count_nonzero(code_map)} non-zero", fontsize="x-small")
        _grey_image(row[1 + len(codes)], x_hat[0], value_range, "reconstruction")
        for ax in row[2 + len(codes) :]:
            ax.remove()
    return fig
