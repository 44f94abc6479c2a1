"""Checks of arguments at the public boundary; private functions take what these have checked."""

from __future__ import annotations

import operator
from collections.abc import Collection, Sequence
from typing import Any

import torch
from torch import Tensor


def check_batch(
    x: Any,
    name: str = "x",
    *,
    dims: int | None = None,
    channels: int | None = None,
    finite: bool = True,
    nonempty: bool = False,
    what: str = "",
) -> int:
    """Check a batch of examples ``(N, C, L)`` or ``(N, C, H, W)``; return its spatial dimensions.

    Parameters
    ----------
    x : object
        What the caller passed.
    name : str
        The argument's name, used in messages.
    dims : {1, 2}, optional
        Required spatial dimensions; either when None.
    channels : int, optional
        Required number of channels C.
    finite : bool
        Refuse NaN and inf values (one pass over the data).
    nonempty : bool
        Refuse batches without examples.
    what : str
        Who needs this layout, e.g. ``" for a 1D SAN"``.

    Raises
    ------
    TypeError
        Not a tensor, or not floating point.
    ValueError
        Wrong number of dimensions or channels, no examples, NaN or inf.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    c = "C" if channels is None else str(channels)
    layouts = {1: f"(N, {c}, L)", 2: f"(N, {c}, H, W)"}
    layout = layouts[dims] if dims is not None else " or ".join(layouts.values())
    if x.ndim not in ((dims + 2,) if dims is not None else (3, 4)):
        raise ValueError(f"{name} must have shape {layout}{what}, got shape {tuple(x.shape)} ({x.ndim} dimensions)")
    if channels is not None and x.shape[1] != channels:
        hint = "; move channels into the batch (or give a SAN in_channels=C)" if channels == 1 else ""
        count = "one channel" if channels == 1 else f"{channels} channels"
        raise ValueError(f"{name} must have {count} {layout}{what}, got {x.shape[1]} (shape {tuple(x.shape)}){hint}")
    if nonempty and x.shape[0] == 0:
        raise ValueError(f"{name} holds no examples (shape {tuple(x.shape)}); give at least one")
    if finite and x.numel():
        low, high = torch.aminmax(x.detach())  # one pass; NaN propagates to both
        if not bool(torch.isfinite(low) & torch.isfinite(high)):
            raise ValueError(f"{name} contains NaN or inf values")
    return x.ndim - 2


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """``value`` as an int (bools refused), at least ``minimum``."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_ints(values: Any, name: str) -> tuple[int, ...]:
    """``values`` as a non-empty tuple of ints >= 1, or an error naming ``name``."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of ints >= 1, got {values!r}")
    values = tuple(check_int(v, f"each of {name}", 1) for v in values)
    if not values:
        raise ValueError(f"{name} must hold at least one int >= 1, got an empty sequence")
    return values


def check_choice(value: Any, name: str, choices: Collection[str]) -> str:
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return value


def check_dtype(dtype: torch.dtype | str | None) -> torch.dtype:
    """A floating torch dtype from a dtype, its name, or None (torch's default)."""
    if dtype is None:
        return torch.get_default_dtype()
    resolved = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch dtype (e.g. torch.float64 or 'float64'), got {dtype!r}")
    return resolved


def check_scales(scales: Sequence[float]) -> list[float]:
    """Positive, finite, distinct scales as floats; TypeError/ValueError naming the problem otherwise."""
    if isinstance(scales, (int, float, str)) or not isinstance(scales, Sequence) or len(scales) == 0:
        raise TypeError(f"scales must be a non-empty sequence of positive numbers, got {scales!r}")
    if any(isinstance(s, bool) or not isinstance(s, (int, float)) or not s > 0 or s == float("inf") for s in scales):
        raise ValueError(f"scales must hold positive finite numbers, got {list(scales)!r}")
    if len(set(scales)) != len(scales):
        raise ValueError(f"scales must be distinct, got {list(scales)!r}")
    return [float(s) for s in scales]


def check_kernel_sizes(kernel_sizes: Sequence[int]) -> list[int]:
    """A non-empty list of positive int kernel sizes m; TypeError/ValueError naming the problem otherwise."""
    if isinstance(kernel_sizes, (int, str)) or not isinstance(kernel_sizes, Sequence) or len(kernel_sizes) == 0:
        raise TypeError(f"kernel_sizes must be a non-empty sequence of ints, got {kernel_sizes!r}")
    if any(isinstance(m, bool) or not isinstance(m, int) or m < 1 for m in kernel_sizes):
        raise ValueError(f"kernel_sizes must hold positive ints, got {list(kernel_sizes)!r}")
    return [int(m) for m in kernel_sizes]
