"""The flithos metric phi and its two parts (paper Sec. II, Eqs. 2-7).

All functions return one value per example, shape ``(N,)``; the mean over a
dataset or batch is phi-bar of Eq. 7.

- inverse compression ratio (Eq. 4): ``CR^-1 = (W + (dims + 1) * nnz(a)) / size(x)``,
  W the number of kernel weights (Eq. 2), nnz the non-zero activations of the
  example (Eq. 3), dims its spatial dimensionality, size(x) its number of samples;
- normalised reconstruction loss (Eq. 5): ``L~ = MAE(x, x_hat) / MAE(x, 0)``;
- flithos (Eq. 6): ``phi = ||(CR^-1, L~)||_2``.

Our addition, beside the paper's phi: the **bit-aware** count (:func:`index_numbers`,
``bit_aware=True``). The paper charges a spike dims + 1 numbers however many
places it could have been put, so a large dictionary names its atom for free.
The bit-aware count charges the index what its bits cost: a number is worth
``log2(n) / dims`` bits (n samples per channel, so that dims numbers name one of
n positions, as in Eq. 4), and an index into P possible code positions (q code
channels times n, P = q n) costs ``dims * log2(P) / log2(n)`` numbers. With one
kernel (P = n) it is the paper's count exactly; with q kernels each spike
costs ``log2(q n) / log2(n) - 1`` numbers more.

And for a file's bits (not the paper's): :func:`distortion`, the PRD, PRDN and SNR of a decoded recording.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from sanets._validation import check_batch

__all__ = ["distortion", "flithos", "flithos_bits", "index_numbers", "inverse_compression_ratio", "normalized_reconstruction_loss",
           "scores"]


class _HasNumWeights(Protocol):
    num_weights: int


def index_numbers(positions: int, samples: int, dims: int) -> float:
    """Numbers a spike's index costs in the bit-aware count (our addition; the paper charges ``dims``).

    Parameters
    ----------
    positions : int
        P, the code positions one example has (q code channels times n samples for a SAN).
    samples : int
        n, the samples of one channel of an example (L, or H * W).
    dims : int
        The examples' spatial dimensions.

    Returns
    -------
    float
        ``dims * log2(P) / log2(n)``: ``dims`` where P = n; the paper's ``dims`` where n < 2 (no bits to count).

    >>> round(index_numbers(4 * 1000, 1000, 1), 4)  # four kernels on 1000 samples: log2(4000) / log2(1000)
    1.2007
    """
    if samples < 2 or positions < 1:
        return float(dims)
    return dims * math.log2(positions) / math.log2(samples)


def inverse_compression_ratio(
    x: Tensor, codes: Tensor, num_weights: int | Tensor, numbers_per_code: int | None = None, bit_aware: bool = False
) -> Tensor:
    """CR^-1 of Eq. 4, per example.

    Parameters
    ----------
    x : Tensor, shape (N, 1, L) or (N, 1, H, W)
        The input (only its shape is used).
    codes : Tensor, shape (N, q, L) or (N, q, H, W), or (N, ...)
        Sparse activation maps of the model for x; a representation whose
        codes are not maps (transform coefficients, patch codes) gives them in
        any shape with one row per example.
    num_weights : int or Tensor of shape (N,)
        W, the number of kernel weights of the model (Eq. 2); one per example
        where the examples come from different models, or the share of W each
        example pays where several share the kernels (a float tensor).
    numbers_per_code : int, optional
        Numbers a non-zero code costs: dims + 1 by default (its value and its
        position, Eq. 4); 1 where the position is implicit (PCA scores).
    bit_aware : bool
        Charge a code's index :func:`index_numbers` numbers (P the entries of
        one example's codes; a stretching SAN's scale is part of it) instead of
        what ``numbers_per_code`` counts for it; a code of one number (an
        implicit index) stays at 1.

    Returns
    -------
    Tensor, shape (N,)
    """
    check_batch(x, "x", finite=False)
    if not isinstance(codes, Tensor) or codes.ndim < 2 or codes.shape[0] != x.shape[0]:
        shape = tuple(codes.shape) if isinstance(codes, Tensor) else type(codes).__name__
        raise ValueError(f"codes of shape {shape} do not match x of shape {tuple(x.shape)}: one row per example")
    if codes.ndim == x.ndim and codes.shape[2:] != x.shape[2:]:
        raise ValueError(f"codes of shape {tuple(codes.shape)} do not match x of shape {tuple(x.shape)}")
    if isinstance(num_weights, Tensor):
        if num_weights.shape != (x.shape[0],) or (num_weights < 0).any():
            raise ValueError(f"num_weights must be one int >= 0 per example ({x.shape[0]}), got {num_weights!r}")
    elif isinstance(num_weights, bool) or not isinstance(num_weights, int) or num_weights < 0:
        raise ValueError(f"num_weights must be an int >= 0, got {num_weights!r}")
    numbers: float = x.ndim - 1 if numbers_per_code is None else numbers_per_code
    if bit_aware and numbers != 1:  # 1: the index is implicit (PCA scores) and costs nothing
        numbers = 1 + index_numbers(codes[0].numel(), math.prod(x.shape[2:]), x.ndim - 2)
    nonzero = torch.count_nonzero(codes.flatten(1), dim=1)
    return (num_weights + numbers * nonzero).to(torch.float64) / x[0].numel()


def normalized_reconstruction_loss(x: Tensor, x_hat: Tensor) -> Tensor:
    """L~ of Eq. 5, per example: MAE(x, x_hat) / MAE(x, 0).

    Parameters
    ----------
    x, x_hat : Tensor, shape (N, C, L) or (N, C, H, W)

    Returns
    -------
    Tensor, shape (N,)

    Raises
    ------
    ValueError
        If an example of x is all zeros, where L~ is undefined.
    """
    check_batch(x, "x", finite=False)
    check_batch(x_hat, "x_hat", finite=False)
    if x.shape != x_hat.shape:
        raise ValueError(f"x_hat of shape {tuple(x_hat.shape)} does not match x of shape {tuple(x.shape)}")
    error = (x - x_hat).abs().flatten(1).mean(1, dtype=torch.float64)
    scale = x.abs().flatten(1).mean(1, dtype=torch.float64)
    zero = torch.nonzero(scale == 0).flatten()
    if len(zero):
        raise ValueError(
            f"x has all-zero examples (indices {zero[:5].tolist()}), for which "
            "L~ = MAE(x, x_hat) / MAE(x, 0) is undefined"
        )
    return error / scale


def flithos(x: Tensor, x_hat: Tensor, codes: Tensor, model: _HasNumWeights | int | Tensor) -> Tensor:
    """phi of Eq. 6 per example: sqrt(CR^-1 ** 2 + L~ ** 2).

    Parameters
    ----------
    x, x_hat : Tensor, shape (N, 1, L) or (N, 1, H, W)
    codes : Tensor, shape (N, q, L) or (N, q, H, W), or (N, ...)
    model : SAN, baseline, int or Tensor of shape (N,)
        The model (its ``num_weights`` is W, and its ``numbers_per_code``, if
        any, what a code costs) or W itself, possibly per example.

    Returns
    -------
    Tensor of float64, shape (N,); ``.mean()`` is phi-bar of Eq. 7.
    """
    num_weights = model if isinstance(model, int | Tensor) else model.num_weights
    return scores(x, x_hat, codes, num_weights, getattr(model, "numbers_per_code", None))[:, 2]


def flithos_bits(x: Tensor, x_hat: Tensor, codes: Tensor, model: _HasNumWeights | int | Tensor) -> Tensor:
    """The bit-aware phi per example (our addition, see the module docstring): Eq. 6 with each code's index
    charged :func:`index_numbers` numbers.

    Parameters
    ----------
    x, x_hat, codes, model
        As for :func:`flithos`.

    Returns
    -------
    Tensor of float64, shape (N,); equal to :func:`flithos` for one kernel.
    """
    num_weights = model if isinstance(model, int | Tensor) else model.num_weights
    return scores(x, x_hat, codes, num_weights, getattr(model, "numbers_per_code", None), with_bits=True)[:, 3]


def scores(
    x: Tensor, x_hat: Tensor, codes: Tensor, num_weights: int | Tensor, numbers_per_code: int | None = None,
    with_bits: bool = False,
) -> Tensor:
    """CR^-1 (Eq. 4), L~ (Eq. 5) and phi (Eq. 6) per example, each part computed once.

    Parameters
    ----------
    x, x_hat, codes, num_weights, numbers_per_code
        As for :func:`inverse_compression_ratio` and :func:`normalized_reconstruction_loss`.
    with_bits : bool
        Add a fourth column, the bit-aware phi (:func:`flithos_bits`).

    Returns
    -------
    Tensor of float64, shape (N, 3) or (N, 4)
        Columns CR^-1, L~, phi (and the bit-aware phi).
    """
    compression = inverse_compression_ratio(x, codes, num_weights, numbers_per_code)
    loss = normalized_reconstruction_loss(x, x_hat)
    columns = [compression, loss, torch.hypot(compression, loss)]
    if with_bits:
        columns.append(torch.hypot(inverse_compression_ratio(x, codes, num_weights, numbers_per_code, bit_aware=True), loss))
    return torch.stack(columns, dim=1)


def distortion(original: np.ndarray, decoded: np.ndarray) -> tuple[float, float, float]:
    """PRD, PRDN (%) and SNR (dB) of ``decoded`` against ``original``, both ``(C, S)`` or ``(S,)``.

    ``PRD = 100 ||x - x_hat|| / ||x||``; ``PRDN`` divides by ``||x - mean x||`` instead, each channel's mean
    removed (the measure that does not flatter a signal far from zero); ``SNR = -20 log10(PRDN / 100)``. Where
    the denominator is zero, 0 for an exact copy and infinity otherwise.
    """
    original, decoded = np.atleast_2d(original), np.atleast_2d(decoded)
    error = float(np.sum((original - decoded) ** 2))
    energy = float(np.sum(original**2))
    spread = float(np.sum((original - original.mean(-1, keepdims=True)) ** 2))
    prd = 100 * math.sqrt(error / energy) if energy > 0 else (0.0 if error == 0 else math.inf)
    prdn = 100 * math.sqrt(error / spread) if spread > 0 else (0.0 if error == 0 else math.inf)
    return prd, prdn, (-20 * math.log10(prdn / 100) if 0 < prdn < math.inf else math.inf if prdn == 0 else -math.inf)
