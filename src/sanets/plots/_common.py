"""What the figures share: checks of the arrays they are given, colours, image and stem helpers, saving."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sanets._extras import require
from sanets._files import write_atomically
from sanets.activations import ACTIVATIONS

Figure = require("matplotlib.figure", "sanets.plots (figures)").Figure
MaxNLocator = require("matplotlib.ticker", "sanets.plots (figures)").MaxNLocator

_PANEL_WIDTH = 7.0
_SIGNAL_PANEL_HEIGHT = 1.5
_IMAGE_PANEL_SIZE = 1.6
# Diverging map centred on zero: the zeros of a sparse code stay white.
_SIGNED_COLORMAP = "RdBu_r"


def _stacked_layout(fig: Figure, labels: list[str] = (), left: float = 0.85, top: float = 0.75, gap: float = 0.4) -> None:
    """Margins in inches for a column of axes, computed instead of measured (constrained layout
    doubles the time to draw these figures): room for horizontal y-labels of ``labels``, tick
    labels, a suptitle and axes titles, and ``gap`` between axes."""
    width, height = fig.get_size_inches()
    left += 0.075 * max((len(label) for label in labels), default=0)  # about 10-point DejaVu Sans
    axes = len(fig.axes)
    axes_height = (height - top - 0.55 - gap * (axes - 1)) / axes
    fig.subplots_adjust(left=left / width, right=1 - 0.2 / width, top=1 - top / height, bottom=0.55 / height,
                        hspace=gap / max(axes_height, 0.1))


def _labelled_rows(fig: Figure, labels: Sequence[str], columns: int) -> list[np.ndarray]:
    """A row of ``columns`` axes per label, each row under its label as a title of its own: row labels as y-labels
    overlap where they are longer than a row is high."""
    rows = np.atleast_1d(fig.subfigures(len(labels), 1))
    grid = []
    for row, label in zip(rows, labels):
        row.suptitle(label, x=0.01, horizontalalignment="left", fontsize="medium")
        grid.append(row.subplots(1, columns, squeeze=False)[0])
    return grid


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
