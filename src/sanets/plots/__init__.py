"""Figures of SANs (paper Figs. 1, 3, 4b and 5), drawn from the tensors or arrays they are given.

Every ``plot_*`` function builds and returns a :class:`matplotlib.figure.Figure`
without touching pyplot, so it neither opens windows nor changes the backend a
user has chosen; write a figure with :func:`save_figure` (or ``fig.savefig``).
Plots never build or run models: pass them what a model computed.

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

from sanets.plots._common import save_figure
from sanets.plots._events import plot_events
from sanets.plots._kernels import plot_kernels
from sanets.plots._signals import (
    plot_activations,
    plot_reconstruction,
    plot_reconstructions,
)
from sanets.plots._sweeps import plot_flithos_vs_kernel_size, plot_tradeoff

__all__ = [
    "plot_activations",
    "plot_events",
    "plot_kernels",
    "plot_reconstruction",
    "plot_reconstructions",
    "plot_tradeoff",
    "plot_flithos_vs_kernel_size",
    "save_figure",
]
