"""The ``.san`` file: a recording coded by a SAN, its spikes quantised and entropy-coded (issue 11).

CR^-1 (Eq. 2) counts numbers; a ``.san`` file counts bits. Each channel of the
recording is cut into windows, each window standardised (mean 0, sample std 1,
as the paper's PhysioNet protocol) and encoded by a 1D SAN: a one-channel SAN
codes each window on its own, a SAN of C input channels codes the C windows of
the same time together (with its shared or separate kernels); a spike's value is
quantised with a uniform step, and the spikes are written as streams
(positions delta-coded within their window) and entropy-coded.

Layout (integers little-endian)::

    8 bytes   magic b"\\x89SAN\\r\\n\\x1a\\n"
    2 bytes   format version (1)
    4 bytes   header length H
    H bytes   header: UTF-8 JSON (see below)
    4 bytes   CRC-32 of the header
    then chunks to the end of the file, each of up to 256 windows:
    4 bytes   payload length P
    P bytes   payload, compressed by the header's coder
    4 bytes   CRC-32 of the payload

The header holds the model's identity (its config and the SHA-256 of its
learned numbers, :func:`model_fingerprint`, or with ``embed_model`` the numbers
themselves), the sampling rate, channel names and units, the number of samples
per channel, the window, the quantisation step, the coder and the number of
windows. A payload holds, for its windows (channel-major, in time order), each
window's mean and standard deviation (float32), its spike count, and per spike
its code channel, its position's distance from the previous spike of the window
and its quantised value (zig-zag), each stream stored in the fewest bytes that
hold it, byte planes apart.

Decoding gives the model's reconstruction of the quantised codes, de-standardised:
exactly what :func:`encode_signal` measured its PRD against.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sanets._files import check_outputs
from sanets.codec._format import (
    CODERS,
    LARGEST_LEVEL,
    chunk_payloads,
    chunk_windows,
    read_file,
    read_payload,
    spike_count,
    write_file,
)
from sanets.datasets import Signal, finite_samples, recording_files, standardize_windows
from sanets.errors import CodecError
from sanets.metrics import flithos
from sanets.model import SAN

__all__ = ["encode_signal", "decode_file", "inspect_file", "model_fingerprint", "CodecReport", "ChannelDistortion", "CODERS",
           "DEFAULT_STEP"]

DEFAULT_STEP = 1 / 64
"""Quantisation step of a spike's value (standardised units) when neither a step nor a PRD is asked for."""


@dataclass(frozen=True)
class ChannelDistortion:
    """One channel's distortion in a :class:`CodecReport`: its name, PRD, PRDN (%) and SNR (dB)."""

    name: str
    prd: float
    prdn: float
    snr_db: float


@dataclass(frozen=True)
class CodecReport:
    """What :func:`encode_signal` wrote, measured against the decoded file.

    Attributes
    ----------
    bits_per_sample : float
        8 x file size / (samples x channels).
    compression_ratio : float
        Original bits (samples x channels x ``original_bits``) / file bits.
    original_bits : int
        Bits per sample of the recording as stored (16 where the format does not say).
    prd, prdn : float
        Percentage root-mean-square difference, plain and mean-removed (%), over every channel coded.
    snr_db : float
        ``-20 log10(prdn / 100)``; infinite for a reconstruction without error.
    flithos : float
        Mean phi (Eq. 7) over the windows, standardised, with the quantised codes.
    quantization : float
        The step used.
    file_bytes, samples, channels, windows : int
    per_channel : tuple of ChannelDistortion
        Each channel's PRD, PRDN and SNR: one channel coded badly hides in the mean of several.
    """

    bits_per_sample: float
    compression_ratio: float
    original_bits: int
    prd: float
    prdn: float
    snr_db: float
    flithos: float
    quantization: float
    file_bytes: int
    samples: int
    channels: int
    windows: int
    per_channel: tuple[ChannelDistortion, ...] = ()


def model_fingerprint(model: SAN) -> str:
    """SHA-256 of a model's config and learned numbers (float32, little-endian): its identity in a ``.san`` file."""
    digest = hashlib.sha256(json.dumps(model.config(), sort_keys=True).encode())
    for kernel in model.kernels:
        digest.update(kernel.detach().cpu().to(torch.float32).numpy().astype("<f4").tobytes())
    return digest.hexdigest()


def _on_cpu(model: SAN) -> SAN:
    """The model, or a copy of it on the CPU: the caller's model is not moved."""
    return model if model.kernels[0].device.type == "cpu" else copy.deepcopy(model).cpu()


def _windows(data: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C, S) -> standardised windows (C * n, L) float32 and each window's mean and std (float32), tail padded;
    a constant window codes as zeros around its mean."""
    count = math.ceil(data.shape[1] / window)
    padded = np.pad(data, ((0, 0), (0, count * window - data.shape[1])), mode="edge").reshape(-1, window)
    _, mean, std, _ = standardize_windows(padded)
    mean, std = mean.astype(np.float32), std.astype(np.float32)  # as stored, so decoding inverts exactly this
    return ((padded - mean[:, None]) / std[:, None]).astype(np.float32), mean, std


def _to_model(model: SAN, windows: torch.Tensor, channels: int) -> torch.Tensor:
    """Channel-major windows (C * n, k, L) as the model's examples: as they are for a one-channel model (it codes
    each window), (n, C * k, L) for a C-channel one."""
    if model.in_channels == 1:
        return windows
    count, k, length = windows.shape
    return windows.view(channels, count // channels, k, length).transpose(0, 1).reshape(count // channels, channels * k, length)


def _from_model(model: SAN, examples: torch.Tensor, channels: int) -> torch.Tensor:
    """The inverse of :func:`_to_model`."""
    if model.in_channels == 1:
        return examples
    count, k, length = examples.shape
    return examples.view(count, channels, k // channels, length).transpose(0, 1).reshape(channels * count, k // channels, length)


@torch.no_grad()
def _encode_windows(model: SAN, x: np.ndarray, channels: int, batch: int = 256) -> torch.Tensor:
    """Standardised windows (C * n, L) -> their codes (C * n, Q, L), Q code channels per input channel."""
    examples = _to_model(model, torch.from_numpy(x)[:, None], channels)
    if not len(examples):
        return examples.new_zeros(0, model.num_channels // model.in_channels, x.shape[1])
    return _from_model(model, torch.cat([model.encode(part) for part in examples.split(batch)]), channels)


@torch.no_grad()
def _decode_windows(model: SAN, codes: torch.Tensor, channels: int, batch: int = 256) -> np.ndarray:
    """Codes (C * n, Q, L) -> the decoded windows (C * n, L) float64."""
    examples = _to_model(model, codes, channels)
    return _from_model(model, torch.cat([model.decode(part) for part in examples.split(batch)]), channels)[:, 0].double().numpy()


def _quantized(codes: torch.Tensor, step: float) -> torch.Tensor:
    return torch.round(codes.double() / step).to(torch.int64)


def _destandardised(windows: np.ndarray, mean: np.ndarray, std: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Windows (C * n, L) back to the recording (C, S): scaled, shifted, the tail's padding cut."""
    return (windows * std[:, None] + mean[:, None]).reshape(shape[0], -1)[:, : shape[1]]


def _reconstruct(model: SAN, levels: torch.Tensor, step: float, mean: np.ndarray, std: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return _destandardised(_decode_windows(model, (levels.double() * step).to(model.dtype), shape[0]), mean, std, shape)


def coarsest_step(decode: Callable[[float], np.ndarray], original: np.ndarray, prd: float, high: float,
                  low: float = 1e-6) -> float:
    """The coarsest quantisation step in (``low``, ``high``) whose ``decode(step)`` has PRD at most ``prd`` (%):
    40 bisections on log(step), as PRD grows with the step."""
    for _ in range(40):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if _distortion(original, decode(middle))[0] <= prd else (low, middle)
    return low


def _distortion(original: np.ndarray, decoded: np.ndarray) -> tuple[float, float, float]:
    """PRD, PRDN (%) and SNR (dB) of ``decoded`` against ``original``, both (C, S); PRDN removes each channel's mean."""
    error = float(np.sum((original - decoded) ** 2))
    energy = float(np.sum(original**2))
    spread = float(np.sum((original - original.mean(-1, keepdims=True)) ** 2))
    prd = 100 * math.sqrt(error / energy) if energy > 0 else (0.0 if error == 0 else math.inf)
    prdn = 100 * math.sqrt(error / spread) if spread > 0 else (0.0 if error == 0 else math.inf)
    return prd, prdn, (-20 * math.log10(prdn / 100) if 0 < prdn < math.inf else math.inf if prdn == 0 else -math.inf)


def encode_signal(
    model: SAN,
    signal: Signal,
    path: str | os.PathLike,
    *,
    quantization: float | None = None,
    prd: float | None = None,
    window: int | None = None,
    coder: str = "lzma",
    embed_model: bool = False,
    fill: str | None = None,
) -> CodecReport:
    """Write ``signal`` coded by ``model`` to the ``.san`` file ``path``, atomically.

    Parameters
    ----------
    model : SAN
        A 1D SAN with one input channel (it codes every channel) or as many as the
        recording (coded on the CPU; a model elsewhere is copied, not moved).
    signal : Signal
        ``data`` (channels, samples).
    quantization : float, optional
        Step of a spike's value in standardised units (default :data:`DEFAULT_STEP`).
    prd : float, optional
        Instead of a step: the largest step whose decoded PRD (%) is at most this
        (bisection over the step); refused when the model alone cannot reach it.
    window : int, optional
        Samples per window (default: 1000, the paper's, or the whole signal if shorter).
    coder : {"lzma", "zlib"}
        Entropy coder of the payloads.
    embed_model : bool
        Store the model's config and learned numbers in the header, so decoding needs no model file.
    fill : {None, "linear"}
        Non-finite samples are refused, naming the first; ``"linear"`` interpolates them.

    Returns
    -------
    CodecReport
        Sizes and distortion, measured on the decoded file.
    """
    path = Path(path)
    check_outputs({"coded file": path}, [("recording", file) for file in recording_files(signal.source)] if signal.source else ())
    if model.dims != 1:
        raise ValueError(f"a .san file codes 1D signals; this SAN has dims={model.dims}")
    if coder not in CODERS:
        raise ValueError(f"coder must be one of {', '.join(CODERS)}, got {coder!r}")
    if quantization is not None and prd is not None:
        raise ValueError("give a quantization step or a PRD target, not both")
    for name, value in (("quantization", quantization), ("prd", prd)):
        if value is not None and not (isinstance(value, (int, float)) and 0 < value < math.inf):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    data = finite_samples(signal, fill)
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
    model = _on_cpu(model)
    x, mean, std = _windows(data, window)
    codes = _encode_windows(model, x, channels)

    step = DEFAULT_STEP if quantization is None else float(quantization)
    largest = float(codes.abs().max()) if codes.numel() else 0.0
    finest = largest / LARGEST_LEVEL
    if prd is not None:
        floor = _distortion(data, _destandardised(_decode_windows(model, codes, channels), mean, std, data.shape))[0]
        if floor > prd:
            raise ValueError(f"PRD {prd}% is out of reach: the model's unquantised reconstruction has PRD {floor:.3g}%")
        step = coarsest_step(lambda step: _reconstruct(model, _quantized(codes, step), step, mean, std, data.shape),
                             data, prd, largest * 2 or 1.0, max(finest, 1e-6))
    elif step < finest:
        raise ValueError(f"quantization step {step:g} is too fine: the largest spike ({largest:.3g}) would be level "
                         f"{largest / step:.3g}, beyond the file's range of {LARGEST_LEVEL}; the finest step for this "
                         f"recording is {finest:.3g}")
    levels = _quantized(codes, step)
    identity = {"config": model.config(), "sha256": model_fingerprint(model)}
    if embed_model:
        identity["kernels"] = [kernel.detach().to(torch.float32).tolist() for kernel in model.kernels]
    header = {
        "model": identity, "sampling_rate": signal.sampling_rate, "channel_names": list(signal.channel_names),
        "units": list(signal.units), "samples": samples, "channels": channels, "window": window,
        "windows": len(levels), "quantization": step, "coder": coder, "original_bits": signal.resolution_bits,
    }
    write_file(path, header, chunk_payloads(levels, mean, std), coder)
    restored, _ = decode_file(path, model)
    file_bytes = path.stat().st_size
    original_bits = signal.resolution_bits or 16
    prd_value, prdn, snr = _distortion(data, restored)
    per_channel = tuple(ChannelDistortion(name, *_distortion(data[[c]], restored[[c]]))
                        for c, name in enumerate(signal.channel_names))
    x_hat = torch.from_numpy(_decode_windows(model, (levels.double() * step).to(model.dtype), channels))[:, None]
    x_in, x_hat, spikes = (_to_model(model, t, channels) for t in (torch.from_numpy(x)[:, None].double(), x_hat, (levels != 0).double()))
    varying = torch.nonzero(x_in.abs().amax((1, 2)) > 0)[:, 0]  # phi is undefined where MAE(x, 0) = 0
    phi = float(flithos(x_in[varying], x_hat[varying], spikes[varying], model).mean()) if len(varying) else 0.0
    return CodecReport(8 * file_bytes / (samples * channels), samples * channels * original_bits / (8 * file_bytes),
                       original_bits, prd_value, prdn, snr, phi, step, file_bytes, samples, channels, len(levels), per_channel)


def decode_file(path: str | os.PathLike, model: SAN | None = None) -> tuple[np.ndarray, dict]:
    """Read a ``.san`` file: the decoded recording ``(channels, samples)`` float64 and its header.

    Parameters
    ----------
    model : SAN, optional
        The model the file names (checked by its SHA-256); not needed for a file with an embedded model.

    Raises
    ------
    CodecError
        The file is missing, truncated, corrupt (a checksum fails), of another
        format or version, or names another model than ``model``.
    """
    path = Path(path)
    header, payloads = read_file(path)
    identity = header["model"]
    if model is None:
        if "kernels" not in identity:
            raise CodecError(f"{path}: the file names a model (sha256 {identity['sha256'][:12]}…) but none was given")
        try:
            model = SAN.from_config(identity["config"], identity["kernels"])
        except (KeyError, TypeError, ValueError) as error:
            raise CodecError(f"{path}: the embedded model is invalid: {error}") from None
    if model.in_channels not in (1, header["channels"]):
        raise CodecError(f"{path}: the model codes {model.in_channels} channels together; the file has {header['channels']}")
    if model_fingerprint(model) != identity["sha256"]:
        raise CodecError(f"{path}: coded with model sha256 {identity['sha256'][:12]}…, "
                         f"not the model given ({model_fingerprint(model)[:12]}…)")
    model = _on_cpu(model)
    parts = []
    for index, (payload, count) in enumerate(zip(payloads, chunk_windows(header["windows"]))):
        try:
            parts.append(read_payload(payload, count, model.num_channels // model.in_channels, header["window"]))
        except (ValueError, struct.error) as error:
            raise CodecError(f"{path}: chunk {index} is malformed: {error}") from None
    levels = torch.cat([levels for levels, _, _ in parts])
    mean, std = (np.concatenate([part[i] for part in parts]) for i in (1, 2))
    data = _reconstruct(model, levels, header["quantization"], mean, std, (header["channels"], header["samples"]))
    return data, header


def inspect_file(path: str | os.PathLike) -> dict[str, Any]:
    """A ``.san`` file described: its header (without embedded numbers), size, bits per sample and spike count."""
    path = Path(path)
    header, payloads = read_file(path)
    spikes = sum(spike_count(payload, count) for payload, count in zip(payloads, chunk_windows(header["windows"])))
    model = {key: value for key, value in header["model"].items() if key != "kernels"}
    size = path.stat().st_size
    return {**header, "model": {**model, "embedded": "kernels" in header["model"]}, "file_bytes": size, "chunks": len(payloads),
            "spikes": spikes, "bits_per_sample": 8 * size / (header["samples"] * header["channels"])}
