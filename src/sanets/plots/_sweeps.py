"""Figures of a sweep: CR^-1 against L~ (Fig. 3) and phi against the kernel size (Fig. 4b)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from sanets.plots._common import (
    Figure,
    _color,
    _finite_array,
    _non_empty,
    _round_levels,
)


def plot_tradeoff(
    points: Mapping[str, Any],
    curves: Mapping[str, Any] | None = None,
    limit: float | None = None,
    marked: Mapping[str, Any] | None = None,
) -> Figure:
    """Inverse compression ratio against normalised reconstruction loss (paper Fig. 3).

    Parameters
    ----------
    points : mapping of str to array, shape (P, 2)
        Per label (usually an activation name), P points ``(CR^-1, L~)``, drawn as dots.
    curves : mapping of str to array, shape (P, 2), optional
        Per label (e.g. a baseline), ``(CR^-1, L~)`` along a sparsity, drawn as a line.
    limit : float, optional
        Draw only up to this CR^-1 and L~ (curves of transforms reach CR^-1 = dims + 1).
    marked : mapping of str to array, shape (P, 2), optional
        Per label (e.g. a SAN variant), points drawn as large markers, a shape each, over the rest.

    Returns
    -------
    Figure
        One axes: a scatter per label of ``points`` and a line per label of
        ``curves``, over dashed circles of constant phi (Eq. 6), since phi is the
        distance from the origin.

    Raises
    ------
    ValueError
        If ``points`` is empty or an entry is not of shape (P, 2).
    """
    checked = {}
    for name, mapping in (("points", points), ("curves", curves or {}), ("marked", marked or {})):
        for label, value in (_non_empty(name, mapping) if name == "points" else dict(mapping)).items():
            array = _finite_array(f"{name}[{label!r}]", value)
            if array.ndim != 2 or array.shape[1] != 2:
                raise ValueError(f"{name}[{label!r}] must have shape (P, 2) of (CR^-1, L~), got shape {array.shape}")
            checked[name, label] = array

    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    lines = 0
    for index, ((kind, label), array) in enumerate(checked.items()):
        if kind == "points":
            ax.scatter(array[:, 0], array[:, 1], s=18, color=_color(label, index), label=label)
        elif kind == "marked":
            shape = "*PXD^vsph<>"[lines % 11]
            ax.scatter(array[:, 0], array[:, 1], s=90, marker=shape, color=f"C{lines % 10}", edgecolors="black",
                       linewidths=0.6, zorder=3, label=label)
            lines += 1
        else:  # colours after the five activations', and a dash pattern each
            order = np.argsort(array[:, 0], kind="stable")
            ax.plot(array[order, 0], array[order, 1], color=f"C{5 + lines % 5}", linestyle=("-", "--", "-.", ":")[lines % 4],
                    linewidth=1.5, label=label)
            lines += 1
    reach = max(float(np.hypot(array[:, 0], array[:, 1]).max(initial=0.0)) for array in checked.values())
    reach = reach if limit is None else min(reach, limit * np.sqrt(2))
    angles = np.linspace(0, np.pi / 2, 100)
    for radius in _round_levels(reach):
        ax.plot(radius * np.cos(angles), radius * np.sin(angles), color="grey", linestyle="--", linewidth=0.5)
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_xlabel("inverse compression ratio $CR^{-1}$")
    ax.set_ylabel(r"normalised reconstruction loss $\tilde{L}$")
    ax.set_title(r"dashed: constant $\varphi$", loc="right", fontsize="small")
    ax.legend(fontsize="small" if len(checked) <= 12 else "x-small", ncols=1 if len(checked) <= 12 else 2)
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
