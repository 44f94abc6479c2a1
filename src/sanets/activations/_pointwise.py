"""The activations that keep values by their own sign, without a sparsity parameter (Sec. III-A1, III-A2)."""

from __future__ import annotations

import torch
from torch import Tensor

from sanets.activations._common import check_input


def identity(x: Tensor) -> Tensor:
    """Identity activation (Sec. III-A1): every similarity value is kept.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)

    Returns
    -------
    Tensor, same shape as x
    """
    check_input(x)
    return x


def relu(x: Tensor) -> Tensor:
    """ReLU activation (Sec. III-A2): the positive similarity values are kept.

    Parameters
    ----------
    x : Tensor, shape (N, C, L) or (N, C, H, W)

    Returns
    -------
    Tensor, same shape as x
    """
    check_input(x)
    return torch.relu(x)


def identity_checked(x: Tensor, table: None = None) -> Tensor:
    """:func:`identity` on a checked ``x``."""
    return x


def relu_checked(x: Tensor, table: None = None) -> Tensor:
    """:func:`relu` on a checked ``x``."""
    return torch.relu(x)
