"""The codec of issue 11 (``codec="activation"``, format version 1): the SAN's own sparse activation, a uniform step.

Each channel is cut into windows, each window standardised (mean 0, sample std 1, as the paper's PhysioNet
protocol) and encoded by the model as it is (its activation chooses the spikes); each spike's value is
quantised with a uniform step, and the spikes are written as streams (positions delta-coded within their
window), each in its fewest bytes, byte planes apart, and compressed by lzma or zlib. A one-channel SAN codes
each window on its own, a SAN of C input channels the C windows of the same time together. This is the
paper's SAN as a file; :mod:`sanets.codec._pursuit` is the codec built for bits.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import torch

from sanets.codec._format import (
    CODERS,
    DEFAULT_STEP,
    LARGEST_LEVEL,
    chunk_payloads,
    chunk_windows,
    read_payload,
)
from sanets.datasets import standardize_windows
from sanets.errors import CodecError, OutOfReachError
from sanets.metrics import distortion, flithos
from sanets.model import SAN


def windows(data: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C, S) -> standardised windows (C * n, L) float32 and each window's mean and std (float32), tail padded;
    a constant window codes as zeros around its mean."""
    count = math.ceil(data.shape[1] / window)
    padded = np.pad(data, ((0, 0), (0, count * window - data.shape[1])), mode="edge").reshape(-1, window)
    _, mean, std, _ = standardize_windows(padded)
    mean, std = mean.astype(np.float32), std.astype(np.float32)  # as stored, so decoding inverts exactly this
    return ((padded - mean[:, None]) / std[:, None]).astype(np.float32), mean, std


def to_model(model: SAN, windows: torch.Tensor, channels: int) -> torch.Tensor:
    """Channel-major windows (C * n, k, L) as the model's examples: as they are for a one-channel model (it codes
    each window), (n, C * k, L) for a C-channel one."""
    if model.in_channels == 1:
        return windows
    count, k, length = windows.shape
    return windows.view(channels, count // channels, k, length).transpose(0, 1).reshape(count // channels, channels * k, length)


def from_model(model: SAN, examples: torch.Tensor, channels: int) -> torch.Tensor:
    """The inverse of :func:`_to_model`."""
    if model.in_channels == 1:
        return examples
    count, k, length = examples.shape
    return examples.view(count, channels, k // channels, length).transpose(0, 1).reshape(channels * count, k // channels, length)


@torch.no_grad()
def encode_windows(model: SAN, x: np.ndarray, channels: int, batch: int = 256) -> torch.Tensor:
    """Standardised windows (C * n, L) -> their codes (C * n, Q, L), Q code channels per input channel."""
    examples = to_model(model, torch.from_numpy(x)[:, None], channels)
    if not len(examples):
        return examples.new_zeros(0, model.num_channels // model.in_channels, x.shape[1])
    return from_model(model, torch.cat([model.encode(part) for part in examples.split(batch)]), channels)


@torch.no_grad()
def decode_windows(model: SAN, codes: torch.Tensor, channels: int, batch: int = 256) -> np.ndarray:
    """Codes (C * n, Q, L) -> the decoded windows (C * n, L) float64."""
    examples = to_model(model, codes, channels)
    return from_model(model, torch.cat([model.decode(part) for part in examples.split(batch)]), channels)[:, 0].double().numpy()


def quantized(codes: torch.Tensor, step: float) -> torch.Tensor:
    return torch.round(codes.double() / step).to(torch.int64)


def destandardised(windows: np.ndarray, mean: np.ndarray, std: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Windows (C * n, L) back to the recording (C, S): scaled, shifted, the tail's padding cut."""
    return (windows * std[:, None] + mean[:, None]).reshape(shape[0], -1)[:, : shape[1]]


def reconstruct(model: SAN, levels: torch.Tensor, step: float, mean: np.ndarray, std: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return destandardised(decode_windows(model, (levels.double() * step).to(model.dtype), shape[0]), mean, std, shape)


def read_levels(path: Path, header: dict, payloads: list[bytes], model: SAN) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """A version-1 file's quantised codes and each window's mean and std."""
    parts = []
    for index, (payload, count) in enumerate(zip(payloads, chunk_windows(header["windows"]))):
        try:
            parts.append(read_payload(payload, count, model.num_channels // model.in_channels, header["window"]))
        except (ValueError, struct.error) as error:
            raise CodecError(f"{path}: chunk {index} is malformed: {error}") from None
    levels = torch.cat([levels for levels, _, _ in parts])
    return levels, *(np.concatenate([part[i] for part in parts]) for i in (1, 2))


def window_flithos(model: SAN, x: np.ndarray, levels: torch.Tensor, step: float, channels: int) -> float:
    """Mean phi (Eq. 7) over the standardised windows with the quantised codes; windows that are all zero (phi is
    undefined where MAE(x, 0) = 0) left out."""
    x_hat = torch.from_numpy(decode_windows(model, (levels.double() * step).to(model.dtype), channels))[:, None]
    x_in, x_hat, spikes = (to_model(model, t, channels) for t in (torch.from_numpy(x)[:, None].double(), x_hat, (levels != 0).double()))
    varying = torch.nonzero(x_in.abs().amax((1, 2)) > 0)[:, 0]
    return float(flithos(x_in[varying], x_hat[varying], spikes[varying], model).mean()) if len(varying) else 0.0


def encode(model: SAN, data: np.ndarray, prdn: float | None, prd: float | None, quantization: float | None,
                       window: int | None, coder: str) -> tuple[dict, list[bytes], float, float]:
    """The activation codec (format 1) of ``data`` ``(C, S)``: its header fields, payloads, phi and step."""
    if coder not in CODERS:
        raise ValueError(f"coder must be one of {', '.join(CODERS)}, got {coder!r}")
    channels, samples = data.shape
    window = min(samples, 1000) if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if window > samples:
        raise ValueError(f"window {window} is longer than the recording ({samples} samples per channel): its padding would "
                         f"swamp the standardisation; give a window of at most {samples}")
    if max(model.channel_sizes) > window:
        raise ValueError(f"the model's kernel size {max(model.channel_sizes)} does not fit windows of {window} samples")
    if model.in_channels not in (1, channels):
        raise ValueError(f"the model codes {model.in_channels} channels together; the recording has {channels}")
    x, mean, std = windows(data, window)
    codes = encode_windows(model, x, channels)
    step = DEFAULT_STEP if quantization is None else float(quantization)
    largest = float(codes.abs().max()) if codes.numel() else 0.0
    finest = largest / LARGEST_LEVEL
    target, measure = (prdn, _worst_prdn) if prdn is not None else (prd, lambda a, b: distortion(a, b)[0])
    if target is not None:
        floor = measure(data, destandardised(decode_windows(model, codes, channels), mean, std, data.shape))
        if floor > target:
            raise OutOfReachError(f"{'PRDN' if prdn is not None else 'PRD'} {target}% is out of reach: the model's unquantised "
                                  f"reconstruction has {'PRDN' if prdn is not None else 'PRD'} {floor:.3g}%", floor)
        decode = lambda step: reconstruct(model, quantized(codes, step), step, mean, std, data.shape)
        step = coarsest_step(lambda step: measure(data, decode(step)), target, largest * 2 or 1.0, max(finest, 1e-6))
    elif step < finest:
        raise ValueError(f"quantization step {step:g} is too fine: the largest spike ({largest:.3g}) would be level "
                         f"{largest / step:.3g}, beyond the file's range of {LARGEST_LEVEL}; the finest step for this "
                         f"recording is {finest:.3g}")
    levels = quantized(codes, step)
    phi = window_flithos(model, x, levels, step, channels)
    return {"window": window, "windows": len(levels), "quantization": step}, chunk_payloads(levels, mean, std), phi, step


def coarsest_step(error_at, target: float, high: float, low: float = 1e-6) -> float:
    """The coarsest quantisation step in (``low``, ``high``) whose ``error_at(step)`` is at most ``target``:
    40 bisections on log(step), as the error grows with the step."""
    for _ in range(40):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if error_at(middle) <= target else (low, middle)
    return low


def _worst_prdn(original: np.ndarray, decoded: np.ndarray) -> float:
    return max(distortion(original[c], decoded[c])[1] for c in range(len(original)))
