"""Figures of SANs on data (paper Figs. 1, 3, 4b and 5).

Every ``plot_*`` function builds and returns a :class:`matplotlib.figure.Figure`
without touching pyplot, so it neither opens windows nor changes the backend a
user has chosen; write a figure with :func:`save_figure` (or ``fig.savefig``).

Per-example arrays follow the model's layout without the batch axis: an input
is ``(1, L)`` or ``(1, H, W)``, codes and similarity maps are ``(q, L)`` or
``(q, H, W)``. Tensors (on any device) and NumPy arrays are both accepted.

>>> import torch, sanets
>>> from sanets.plots import plot_reconstruction
>>> model = sanets.SAN([9], activation="extrema", seed=0)
>>> x = torch.randn(1, 1, 128)
>>> codes = model.encode(x)
>>> fig = plot_reconstruction(x[0], codes[0], model.decode(codes)[0])
>>> len(fig.axes)
2
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sanets._files import write_atomically
from sanets.activations import ACTIVATIONS
from sanets.model import SAN

__all__ = [
    "activation_maps",
    "reconstruction_examples",
    "plot_activations",
    "plot_kernels",
    "plot_reconstruction",
    "plot_reconstructions",
    "plot_tradeoff",
    "plot_flithos_vs_kernel_size",
    "save_figure",
]

_PANEL_WIDTH = 7.0
_SIGNAL_PANEL_HEIGHT = 1.5
_IMAGE_PANEL_SIZE = 1.6
# Diverging map centred on zero: the zeros of a sparse code stay white.
_SIGNED_COLORMAP = "RdBu_r"


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` atomically; the format follows the suffix (default PNG).

    The figure is rendered into a temporary file in the same folder and renamed
    over ``path``, so readers never see a half-written image.

    Parameters
    ----------
    fig : Figure
    path : str or path-like
        Target file; its folder is created if missing.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    image_format = path.suffix.lstrip(".").lower() or "png"
    return write_atomically(path, lambda file: fig.savefig(file, format=image_format, dpi=100))


@torch.no_grad()
def activation_maps(kernel_source: SAN, x: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Similarity and sparse maps of one example under every activation with the same kernels (Fig. 1).

    Parameters
    ----------
    kernel_source : SAN
        Whose kernels and border tolerance are used.
    x : Tensor, shape (1, 1, L) or (1, 1, H, W)

    Returns
    -------
    dict of str to (Tensor, Tensor)
        Per activation name: similarity ``(q, *spatial)`` and codes ``(q, *spatial)``
        with the activation's default sparsity for these kernel sizes; the input
        of :func:`plot_activations`.
    """
    maps = {}
    for name in ACTIVATIONS:
        probe = SAN(
            kernel_source.kernel_sizes, name, dims=kernel_source.dims, border_tolerance=kernel_source.border_tolerance
        )
        probe.load_state_dict(kernel_source.state_dict())
        maps[name] = (probe.similarity(x)[0], probe.encode(x)[0])
    return maps


@torch.no_grad()
def reconstruction_examples(
    models: Mapping[str, SAN], x: torch.Tensor
) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per labelled model, ``(x, codes, x_hat)`` of one example, the input of :func:`plot_reconstructions`.

    Parameters
    ----------
    models : mapping of str to SAN
    x : Tensor, shape (1, 1, L) or (1, 1, H, W)

    Returns
    -------
    dict of str to (Tensor, Tensor, Tensor)
        Shapes ``(1, *spatial)``, ``(q, *spatial)``, ``(1, *spatial)``.
    """
    examples = {}
    for label, model in models.items():
        codes = model.encode(x)
        examples[label] = (x[0], codes[0], model.decode(codes)[0])
    return examples


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

    fig = Figure(figsize=(_PANEL_WIDTH, _SIGNAL_PANEL_HEIGHT * (1 + len(checked))), layout="constrained")
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
    return fig


def plot_kernels(models_by_activation: Mapping[str, SAN]) -> Figure:
    """The learned kernels of each model (paper Fig. 5).

    Parameters
    ----------
    models_by_activation : mapping of str to SAN
        Per label (usually an activation name), a model; all 1D or all 2D.

    Returns
    -------
    Figure
        1D: one axes per model, each kernel a line over its m taps.
        2D: one row per model with one image per kernel (``m x m``, diverging
        colours centred on zero); as many axes as kernels in all.

    Raises
    ------
    ValueError
        If the mapping is empty or mixes 1D and 2D models.
    TypeError
        If a value is not a SAN.
    """
    models = _non_empty("models_by_activation", models_by_activation)
    for label, model in models.items():
        if not isinstance(model, SAN):
            raise TypeError(f"models_by_activation[{label!r}] must be a sanets.SAN, got {type(model).__name__}")
    dims = {model.dims for model in models.values()}
    if len(dims) != 1:
        raise ValueError("models_by_activation mixes 1D and 2D models; plot them separately")
    kernels = {label: [kernel.detach().cpu().numpy() for kernel in model.kernels] for label, model in models.items()}
    if dims == {1}:
        return _plot_kernels_1d(kernels)
    return _plot_kernels_2d(kernels)


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


def plot_tradeoff(points: Mapping[str, Any]) -> Figure:
    """Inverse compression ratio against normalised reconstruction loss (paper Fig. 3).

    Parameters
    ----------
    points : mapping of str to array, shape (P, 2)
        Per label (usually an activation name), P points ``(CR^-1, L~)``.

    Returns
    -------
    Figure
        One axes: a scatter per label over dashed circles of constant phi
        (Eq. 6), since phi is the distance from the origin.

    Raises
    ------
    ValueError
        If ``points`` is empty or an entry is not of shape (P, 2).
    """
    checked = {}
    for label, value in _non_empty("points", points).items():
        array = _finite_array(f"points[{label!r}]", value)
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError(f"points[{label!r}] must have shape (P, 2) of (CR^-1, L~), got shape {array.shape}")
        checked[label] = array

    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for index, (label, array) in enumerate(checked.items()):
        ax.scatter(array[:, 0], array[:, 1], s=18, color=_color(label, index), label=label)
    reach = max(float(np.hypot(array[:, 0], array[:, 1]).max(initial=0.0)) for array in checked.values())
    angles = np.linspace(0, np.pi / 2, 100)
    for radius in _round_levels(reach):
        ax.plot(radius * np.cos(angles), radius * np.sin(angles), color="grey", linestyle="--", linewidth=0.5)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("inverse compression ratio $CR^{-1}$")
    ax.set_ylabel(r"normalised reconstruction loss $\tilde{L}$")
    ax.set_title(r"dashed: constant $\varphi$", loc="right", fontsize="small")
    ax.legend(fontsize="small")
    return fig


def plot_flithos_vs_kernel_size(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> Figure:
    """phi against kernel size m per label (paper Fig. 4b).

    Parameters
    ----------
    curves : mapping of str to (m_values, phi_values)
        Per label, kernel sizes, shape (P,), and their phi, shape (P,).

    Returns
    -------
    Figure
        One axes with a line per label; each curve's minimum is circled.

    Raises
    ------
    ValueError
        If ``curves`` is empty or an entry's two sequences differ in length.
    """
    checked = {}
    for label, pair in _non_empty("curves", curves).items():
        sizes, values = (_finite_array(f"curves[{label!r}][{i}]", value) for i, value in enumerate(pair))
        if sizes.ndim != 1 or sizes.shape != values.shape or sizes.size == 0:
            raise ValueError(
                f"curves[{label!r}] must be two non-empty sequences of one length, "
                f"got shapes {sizes.shape} and {values.shape}"
            )
        checked[label] = (sizes, values)

    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.subplots()
    for index, (label, (sizes, values)) in enumerate(checked.items()):
        color = _color(label, index)
        ax.plot(sizes, values, marker=".", color=color, label=label)
        best = int(np.argmin(values))
        ax.scatter(sizes[best], values[best], s=80, facecolors="none", edgecolors=color)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("kernel size m")
    ax.set_ylabel(r"$\varphi$")
    ax.set_title("circle: lowest $\\varphi$", loc="right", fontsize="small")
    ax.legend(fontsize="small")
    return fig


def _plot_kernels_1d(kernels: dict[str, list[np.ndarray]]) -> Figure:
    fig = Figure(figsize=(_PANEL_WIDTH, _SIGNAL_PANEL_HEIGHT * len(kernels)), layout="constrained")
    axes = fig.subplots(len(kernels), 1, squeeze=False)[:, 0]
    for index, (ax, (label, weights)) in enumerate(zip(axes, kernels.items())):
        for number, kernel in enumerate(weights):
            ax.plot(kernel, marker=".", color=_color(label, index), alpha=1.0 / (1 + number), label=f"kernel {number + 1}")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_ylabel(label, rotation=0, horizontalalignment="right", verticalalignment="center")
        sizes = ", ".join(str(kernel.size) for kernel in weights)
        ax.set_title(f"m = {sizes}", loc="right", fontsize="small")
    axes[-1].set_xlabel("tap")
    fig.suptitle("Learned kernels")
    return fig


def _plot_kernels_2d(kernels: dict[str, list[np.ndarray]]) -> Figure:
    columns = max(len(weights) for weights in kernels.values())
    fig = Figure(
        figsize=(_IMAGE_PANEL_SIZE * columns + 1.5, _IMAGE_PANEL_SIZE * len(kernels)), layout="constrained"
    )
    grid = fig.subplots(len(kernels), columns, squeeze=False)
    for row, (label, weights) in zip(grid, kernels.items()):
        for number, ax in enumerate(row):
            if number >= len(weights):
                ax.remove()
                continue
            _signed_image(ax, weights[number])
            ax.set_title(f"kernel {number + 1} ({weights[number].shape[0]}x{weights[number].shape[1]})", fontsize="small")
        row[0].set_ylabel(label)
    fig.suptitle("Learned kernels")
    return fig


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
    fig = Figure(figsize=(_PANEL_WIDTH, 2.6 * len(examples)), layout="constrained")
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
    return fig


def _draw_reconstructions_2d(examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    columns = 2 + max(len(codes) for _, codes, _ in examples.values())
    fig = Figure(
        figsize=(_IMAGE_PANEL_SIZE * columns, (_IMAGE_PANEL_SIZE + 0.2) * len(examples)), layout="constrained"
    )
    grid = fig.subplots(len(examples), columns, squeeze=False)
    for row, (label, (x, codes, x_hat)) in zip(grid, examples.items()):
        value_range = (min(x.min(), x_hat.min()), max(x.max(), x_hat.max()))
        _grey_image(row[0], x[0], value_range, "input")
        for number, code_map in enumerate(codes):
            _signed_image(row[1 + number], code_map)
            row[1 + number].set_title(f"codes {number + 1}: {_count_nonzero(code_map)} non-zero", fontsize="x-small")
        _grey_image(row[1 + len(codes)], x_hat[0], value_range, "reconstruction")
        for ax in row[2 + len(codes) :]:
            ax.remove()
        row[0].set_ylabel(label, fontsize="small")
    return fig


def _stems(ax: Any, code: np.ndarray, color: Any) -> None:
    """Draw the non-zero entries of one code map, shape (L,), as stems at their positions."""
    positions = np.flatnonzero(code)
    if positions.size:
        ax.vlines(positions, 0, code[positions], color=color, linewidth=1)
        ax.plot(positions, code[positions], linestyle="none", marker="o", markersize=2.5, color=color)


def _signed_image(ax: Any, image: np.ndarray) -> None:
    limit = float(np.abs(image).max()) or 1.0
    ax.imshow(image, cmap=_SIGNED_COLORMAP, vmin=-limit, vmax=limit)
    ax.set_xticks([])
    ax.set_yticks([])


def _grey_image(ax: Any, image: np.ndarray, value_range: tuple[float, float], title: str) -> None:
    ax.imshow(image, cmap="gray_r", vmin=value_range[0], vmax=value_range[1])
    ax.set_title(title, fontsize="x-small")
    ax.set_xticks([])
    ax.set_yticks([])


def _color(label: str, index: int) -> Any:
    """The same colour for an activation in every figure; other labels by position."""
    names = list(ACTIVATIONS)
    base = label.split(" ")[0]
    position = names.index(base) if base in names else index
    return f"C{position % 10}"


def _count_nonzero(array: np.ndarray) -> int:
    return int(np.count_nonzero(array))


def _round_levels(reach: float) -> list[float]:
    """A few round phi values below ``reach`` for iso-phi guides."""
    if not reach > 0:
        return []
    step = 10 ** math.floor(math.log10(reach / 2))
    count = int(reach // step)
    if count > 8:
        step *= 5 if count > 20 else 2
    return [step * i for i in range(1, int(reach // step) + 1)]


def _non_empty(name: str, mapping: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a mapping of label to data, got {type(mapping).__name__}")
    if not mapping:
        raise ValueError(f"{name} is empty; give at least one entry")
    return dict(mapping)


def _finite_array(name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric (a Tensor or an array), got {type(value).__name__}") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return array


def _example(name: str, value: Any) -> np.ndarray:
    """One example, shape (1, L) or (1, H, W), as a float array."""
    array = _finite_array(name, value)
    if array.ndim not in (2, 3) or array.shape[0] != 1 or 0 in array.shape:
        raise ValueError(
            f"{name} must be one example of shape (1, L) or (1, H, W) (index a batch with x[i]), "
            f"got shape {array.shape}"
        )
    return array


def _maps(name: str, value: Any, example: np.ndarray) -> np.ndarray:
    """Per-kernel maps of ``example``: shape (q, *spatial) with the example's spatial shape."""
    array = _finite_array(name, value)
    spatial = example.shape[1:]
    layout = "(q, L)" if len(spatial) == 1 else "(q, H, W)"
    if array.ndim != example.ndim or array.shape[1:] != spatial or array.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape {layout} matching the input's spatial shape {spatial}, got shape {array.shape}"
        )
    return array
