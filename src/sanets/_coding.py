"""The SAN's coding of one input channel: similarity (Eq. 10), sparse activation (Eq. 11), decoding (Eqs. 12-13).

:class:`sanets.SAN` holds the kernels and options; these functions do the work for
one input channel with the kernel weights they are given, so that a multichannel SAN
runs them per channel ("separate" kernels) or on channels folded into the batch
("shared" kernels).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from sanets import _matching_pursuit as matching_pursuit
from sanets._convolution import correlate_same, place_kernels
from sanets.activations._common import channel_argmax
from sanets.activations._registry import ActivationSpec


def similarity(x: Tensor, weights: Sequence[Tensor]) -> Tensor:
    """Eq. 10: ``x`` (N, 1, *spatial) correlated with each of Q kernels -> (N, Q, *spatial)."""
    if len({kernel.shape for kernel in weights}) == 1:  # one convolution instead of Q: 2x faster in 2D
        return correlate_same(x, torch.stack(list(weights)))
    return torch.cat([correlate_same(x, kernel[None]) for kernel in weights], dim=1)


def decode(codes: Tensor, weights: Sequence[Tensor]) -> Tensor:
    """Eqs. 12-13: codes (N, Q, *spatial) -> the sum of each kernel placed at its spikes, (N, 1, *spatial)."""
    return place_kernels(codes, weights, group_size=len(weights))


def encode(
    x: Tensor, weights: Sequence[Tensor], spec: ActivationSpec, table: Tensor | None, competition: str,
    channel_sizes: Sequence[int], passes: int,
) -> Tensor:
    """Eq. 11 over ``passes`` residual passes (Sec. VI): (N, 1, *spatial) -> codes (N, Q, *spatial).

    Pass t encodes what passes 1..t-1 left, ``x - decode(codes)``; the passes' codes add up. With one spike per pass
    across kernels (top-k absolutes, k = 1), this is matching pursuit, run on the CPU by
    :func:`sanets._matching_pursuit.pursue` (the same codes and gradients, without T passes over the whole signal).
    """
    if passes > 1 and _is_pursuit(spec, table, competition, channel_sizes) and matching_pursuit.applies(x):
        return matching_pursuit.pursue(x, weights, passes)
    codes = _encode_pass(x, weights, spec, table, competition, channel_sizes)
    for _ in range(passes - 1):
        codes = codes + _encode_pass(x - decode(codes, weights), weights, spec, table, competition, channel_sizes)
    return codes


def _is_pursuit(spec: ActivationSpec, table: Tensor | None, competition: str, channel_sizes: Sequence[int]) -> bool:
    """Whether each pass keeps one spike across kernels: top-k absolutes whose largest kernel's k is 1."""
    return (spec.name == "topk-absolutes" and competition == "across-kernels" and table is not None
            and int(table[channel_sizes.index(max(channel_sizes))]) == 1)


def _encode_pass(
    x: Tensor, weights: Sequence[Tensor], spec: ActivationSpec, table: Tensor | None, competition: str,
    channel_sizes: Sequence[int],
) -> Tensor:
    """One pass of Eq. 11, each kernel on its own or competing for each position (Sec. VI, future work 2)."""
    maps = similarity(x, weights)
    if competition == "none":
        return spec.checked(maps, table)
    winner = channel_argmax(maps.abs())
    largest = channel_sizes.index(max(channel_sizes))
    shared = None if table is None else table[largest : largest + 1]
    spikes = spec.checked(maps.gather(1, winner), shared)
    return torch.zeros_like(maps).scatter(1, winner, spikes)
