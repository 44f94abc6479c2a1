"""The five sparse activations of SANs (paper Sec. III-A, Algs. 1-3).

Every function takes ``x`` of shape ``(N, C, L)`` (1D) or ``(N, C, H, W)`` (2D),
treats each example and each channel on its own, and returns a tensor of x's
shape that is zero everywhere except at the kept positions, which hold x's
signed values. Gradients flow to the kept values (the selection itself is
piecewise constant, so it carries no gradient). A sparsity parameter is an int,
a per-axis pair, or an int tensor with one value per channel (``(C,)`` or
``(C, 2)``), so kernels of several sizes are sparsified in one call.

:data:`ACTIVATIONS` maps each name to its :class:`ActivationSpec`: the function,
its parameter and the paper's default for a kernel size; :func:`get` builds the
``nn.Module`` form.
"""

from sanets.activations._extrema import extrema
from sanets.activations._pointwise import identity, relu
from sanets.activations._pool import extrema_pool_indices
from sanets.activations._registry import (
    ACTIVATIONS,
    Activation,
    ActivationSpec,
    get,
    spec_of,
)
from sanets.activations._topk import topk_absolutes

__all__ = [
    "identity",
    "relu",
    "topk_absolutes",
    "extrema_pool_indices",
    "extrema",
    "ACTIVATIONS",
    "ActivationSpec",
    "Activation",
    "get",
    "spec_of",
]
