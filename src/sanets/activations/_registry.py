"""The registry of activations: one frozen spec per activation, and its ``nn.Module`` form."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from sanets.activations._common import SpatialSize, per_axis
from sanets.activations._extrema import extrema, extrema_checked
from sanets.activations._pointwise import identity, identity_checked, relu, relu_checked
from sanets.activations._pool import extrema_pool_indices, pool_checked
from sanets.activations._topk import topk_absolutes, topk_checked


@dataclass(frozen=True)
class ActivationSpec:
    """Everything the model and the experiments need to know about one activation.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"extrema"``.
    function : callable
        The public function ``(x, [parameter]) -> Tensor``; it checks its arguments.
    checked : callable
        The same on a checked ``x`` and a per-channel table from :meth:`table`
        (``None`` without a parameter); what a model calls on every forward pass.
    parameter : str or None
        Name of the sparsity parameter (``k``, ``pool_size``, ``min_distance``).
    per_axis : bool
        Whether the parameter has one value per spatial axis.
    minimum : int
        Smallest valid parameter.
    default : callable or None
        ``(m, spatial_shape, border_tolerance) -> parameter``: the paper's value
        for a kernel of size m on inputs of that spatial shape (Sec. III-A).
    """

    name: str
    function: Callable[..., Tensor]
    checked: Callable[[Tensor, Tensor | None], Tensor]
    parameter: str | None = None
    per_axis: bool = False
    minimum: int = 1
    default: Callable[[int, Sequence[int], int], int] | None = None

    def check(self, value: SpatialSize, spatial_dims: int) -> tuple[int, ...]:
        """``value`` as one int per axis it covers; TypeError/ValueError naming the parameter otherwise."""
        if self.parameter is None:
            raise ValueError(f"{self.name} takes no parameter, got {value!r}")
        return per_axis(value, self.parameter, spatial_dims if self.per_axis else 1, self.minimum)

    def table(self, values: Sequence[SpatialSize], spatial_dims: int) -> Tensor | None:
        """One channel's parameter per entry of ``values``, as :attr:`checked` takes them.

        Returns int64 ``(C, spatial_dims)`` for per-axis parameters, ``(C,)`` for
        ``k``, None without a parameter.
        """
        if self.parameter is None:
            return None
        axes = spatial_dims if self.per_axis else 1
        rows = [self.check(value, spatial_dims) for value in values]
        table = torch.tensor(rows, dtype=torch.long).view(len(rows), axes)
        return table if self.per_axis else table[:, 0]

    def defaults(self, kernel_sizes: Sequence[int], spatial_shape: Sequence[int], border_tolerance: int) -> list:
        """The paper's parameter for each kernel size (None for activations without one)."""
        if self.default is None:
            return [None] * len(kernel_sizes)
        return [self.default(m, spatial_shape, border_tolerance) for m in kernel_sizes]


# Named functions, not lambdas, so that specs (and the SANs holding them) pickle.
def _paper_k(m: int, shape: Sequence[int], border_tolerance: int) -> int:
    return math.prod(n // m for n in shape)


def _paper_pool_size(m: int, shape: Sequence[int], border_tolerance: int) -> int:
    return m


def _paper_min_distance(m: int, shape: Sequence[int], border_tolerance: int) -> int:
    return max(m - border_tolerance, 0)


ACTIVATIONS: dict[str, ActivationSpec] = {
    spec.name: spec
    for spec in (
        ActivationSpec("identity", identity, identity_checked),
        ActivationSpec("relu", relu, relu_checked),
        ActivationSpec(
            "topk-absolutes", topk_absolutes, topk_checked, parameter="k",
            default=_paper_k,
        ),
        ActivationSpec(
            "extrema-pool-indices", extrema_pool_indices, pool_checked, parameter="pool_size", per_axis=True,
            default=_paper_pool_size,
        ),
        ActivationSpec(
            "extrema", extrema, extrema_checked, parameter="min_distance", per_axis=True, minimum=0,
            default=_paper_min_distance,
        ),
    )
}
"""The registry: activation name -> spec, in the paper's order. Defaults (Sec. III-A): top-k
``k = n // m`` (``(H // m) * (W // m)`` in 2D), Extrema-Pool window ``m``, Extrema distance
``m - border_tolerance`` (at least 0)."""


def spec_of(name: str) -> ActivationSpec:
    """The spec registered under ``name``, or a ValueError listing the names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


class Activation(nn.Module):
    """An activation of :data:`ACTIVATIONS` as a module: ``(N, C, *spatial) -> (N, C, *spatial)``.

    Parameters
    ----------
    name : str
    value : int, (int, int) or Tensor, optional
        The sparsity parameter, for activations that take one.
    """

    def __init__(self, name: str, value: SpatialSize | Tensor | None = None) -> None:
        super().__init__()
        self.spec = spec_of(name)
        if (value is None) != (self.spec.parameter is None):
            needs = "no parameter" if self.spec.parameter is None else self.spec.parameter
            raise TypeError(f"{name} takes {needs}, got {value!r}")
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        return self.spec.function(x) if self.spec.parameter is None else self.spec.function(x, self.value)

    def extra_repr(self) -> str:
        parameter = "" if self.spec.parameter is None else f", {self.spec.parameter}={self.value!r}"
        return f"{self.spec.name!r}{parameter}"


def get(name: str, value: SpatialSize | Tensor | None = None) -> Activation:
    """The activation registered under ``name`` as a module.

    >>> get("extrema", 5)
    Activation('extrema', min_distance=5)
    """
    return Activation(name, value)
