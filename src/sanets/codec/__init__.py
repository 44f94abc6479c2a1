"""The ``.san`` file: a recording coded in bits, by a SAN or by the classical anchor it is measured against.

CR^-1 (Eq. 2) counts numbers; a ``.san`` file counts bits. Three codecs, picked by name from :data:`CODECS`:

- ``"san"`` (issue 29, the default): matching pursuit with a SAN's kernels, amplitudes quantised in the loop,
  spikes sent only while they reach the threshold, so the rate goes where the signal needs it; range-coded
  streams (:mod:`sanets.codec._pursuit`).
- ``"wavelet"``: the strongest classical anchor (whole-segment transform, per-band dead-zone quantiser,
  context-adaptive arithmetic coding, the wavelet chosen per channel; :mod:`sanets.codec._wavelet`).
- ``"activation"`` (issue 11): the SAN's own sparse activation on standardised windows, a uniform step,
  lzma (:mod:`sanets.codec._activation`).

Layout (integers little-endian)::

    8 bytes   magic b"\\x89SAN\\r\\n\\x1a\\n"
    2 bytes   format version (2; 1 for the activation codec, as issue 11 wrote it)
    4 bytes   header length H
    H bytes   header: UTF-8 JSON
    4 bytes   CRC-32 of the header
    then chunks to the end of the file, each:
    4 bytes   payload length P
    P bytes   payload
    4 bytes   CRC-32 of the payload

Version 2: a chunk is one segment of one channel (channel-major), range-coded by the codec: the segment's mean
(float64), then the codec's streams. The header names the ``codec``, each channel's ``steps`` and ``choices``
(the wavelet), the ``segment`` length, the number of ``chunks``, and the model (config and SHA-256 of its
numbers, or the numbers themselves with ``embed_model``) where the codec uses one. Version 1: see
:mod:`sanets.codec._activation`. Every decoded file is exactly what the encoder measured.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sanets._files import check_outputs
from sanets.codec import _activation
from sanets.codec._channels import decode_channels, encode_channels
from sanets.codec._format import (
    CODERS,
    DEFAULT_STEP,
    VERSION,
    chunk_windows,
    read_file,
    spike_count,
    write_file,
)
from sanets.codec._pursuit import PursuitCodec
from sanets.codec._wavelet import WaveletCodec
from sanets.datasets import Signal, finite_samples, recording_files
from sanets.errors import CodecError, OutOfReachError
from sanets.metrics import distortion
from sanets.model import SAN

__all__ = [
    "CODECS",
    "CODERS",
    "DEFAULT_STEP",
    "ChannelDistortion",
    "CodecReport",
    "decode_file",
    "encode_signal",
    "inspect_file",
    "model_fingerprint",
    "rate_distortion",
]

CODECS = {
    "san": "matching pursuit with the model's kernels, spikes while they pay, range-coded (needs a model)",
    "wavelet": "the classical anchor: whole-segment wavelet transform, dead-zone quantiser, context coding",
    "activation": "the model's own sparse activation on standardised windows, a uniform step, lzma (issue 11)",
}
"""The codecs by name, with what each does."""


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
    codec : str
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
    flithos : float or None
        Mean phi (Eq. 7) over the standardised windows with the quantised codes (the activation codec only).
    quantization : float or None
        The activation codec's step (standardised units); the others' steps are each channel's ``step``.
    file_bytes, samples, channels : int
    windows : int
        The activation codec's windows, or the other codecs' chunks (segments of channels).
    per_channel : tuple of ChannelDistortion
        Each channel's PRD, PRDN and SNR: one channel coded badly hides in the mean of several.
    codec : str
    choices : list or None
        Each channel's choice as the file holds it: its wavelet, or its spike step in typical amplitudes (None: no
        spikes), residual wavelet and rounds of kernel adaptation.
    """

    bits_per_sample: float
    compression_ratio: float
    original_bits: int
    prd: float
    prdn: float
    snr_db: float
    flithos: float | None
    quantization: float | None
    file_bytes: int
    samples: int
    channels: int
    windows: int
    per_channel: tuple[ChannelDistortion, ...] = ()
    codec: str = "activation"
    choices: list | None = None


def model_fingerprint(model: SAN) -> str:
    """SHA-256 of a model's config and learned numbers (float32, little-endian): its identity in a ``.san`` file."""
    digest = hashlib.sha256(json.dumps(model.config(), sort_keys=True).encode())
    for kernel in model.kernels:
        digest.update(kernel.detach().cpu().to(torch.float32).numpy().astype("<f4").tobytes())
    return digest.hexdigest()


def _on_cpu(model: SAN) -> SAN:
    """The model, or a copy of it on the CPU: the caller's model is not moved."""
    return model if model.kernels[0].device.type == "cpu" else copy.deepcopy(model).cpu()


def _check_target(name: str, value: float | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _identity(model: SAN, embed: bool, config: bool = True) -> dict:
    """A model as a file names it: its SHA-256, with its config (always in format 1) and, embedded, its numbers."""
    identity = {"sha256": model_fingerprint(model)}
    if config or embed:
        identity["config"] = model.config()
    if embed:
        identity["kernels"] = [kernel.detach().to(torch.float32).tolist() for kernel in model.kernels]
    return identity


def _segment_codec(name: str, model: SAN | None, wavelet: str = "auto", version: int = VERSION):
    if name == "wavelet":
        return WaveletCodec(wavelet)
    if model.in_channels != 1:
        raise ValueError(f"the san codec takes a one-channel SAN (it codes each channel alone); this one has "
                         f"{model.in_channels} input channels")
    return PursuitCodec(model.kernel_weights(), version)


def encode_signal(
    model: SAN | None,
    signal: Signal,
    path: str | os.PathLike,
    *,
    codec: str = "san",
    prdn: float | None = None,
    prd: float | None = None,
    quantization: float | None = None,
    window: int | None = None,
    coder: str | None = None,
    wavelet: str = "auto",
    embed_model: bool = False,
    fill: str | None = None,
) -> CodecReport:
    """Write ``signal`` coded by ``codec`` to the ``.san`` file ``path``, atomically, then decode it and measure.

    Parameters
    ----------
    model : SAN or None
        A 1D SAN (coded on the CPU; a model elsewhere is copied, not moved); None for ``codec="wavelet"``.
        The san codec takes one-channel SANs; the activation codec also SANs of as many channels as the recording.
    signal : Signal
        ``data`` (channels, samples).
    codec : {"san", "wavelet", "activation"}
        See :data:`CODECS`.
    prdn : float, optional
        Target PRDN (%) of every channel: the coarsest step that meets it (per channel, or for the activation
        codec one step for all). Refused, naming the floor reached, where the codec cannot reach it.
    prd : float, optional
        Target PRD (%) over the whole recording, instead.
    quantization : float, optional
        Instead of a target, the step in standardised units (default :data:`DEFAULT_STEP`).
    window : int, optional
        The activation codec's samples per window (default: 1000, or the whole signal if shorter).
    coder : {"lzma", "zlib"}, optional
        The activation codec's compressor (default lzma).
    wavelet : str
        The wavelet codec's wavelet: ``"auto"`` (the smallest file of :data:`sanets.codec._wavelet.WAVELETS`, per
        channel) or a PyWavelets name.
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
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    if sum(value is not None for value in (prdn, prd, quantization)) > 1:
        raise ValueError("give one of a PRDN target, a PRD target or a quantization step")
    for name, value in (("prdn", prdn), ("prd", prd), ("quantization", quantization)):
        _check_target(name, value)
    if codec != "activation" and (window is not None or coder is not None):
        raise ValueError("window and coder are the activation codec's (codec='activation'); the others code whole "
                         "segments with a range coder")
    if codec != "wavelet":
        if model is None:
            raise ValueError(f"the {codec} codec needs a model (a SAN, a model file or a pretrained name)")
        if model.dims != 1:
            raise ValueError(f"a .san file codes 1D signals; this SAN has dims={model.dims}")
        model = _on_cpu(model)
    data = finite_samples(signal, fill)
    meta = {"sampling_rate": signal.sampling_rate, "channel_names": list(signal.channel_names), "units": list(signal.units),
            "samples": data.shape[1], "channels": data.shape[0], "original_bits": signal.resolution_bits}
    if codec == "activation":
        coder = coder or "lzma"
        header, payloads, phi, step = _activation.encode(model, data, prdn, prd, quantization, window, coder)
        header |= {"model": _identity(model, embed_model), "coder": coder}
        write_file(path, meta | header, payloads, coder)
    else:
        if quantization is None and prd is None and prdn is None:
            quantization = DEFAULT_STEP
        segment_codec = _segment_codec(codec, model, wavelet)
        if codec == "san":  # what spikes must save before the file carries them (a file without is the wavelet's)
            segment_codec.header_bytes = len(json.dumps({"model": _identity(model, embed_model, False)} | segment_codec.header()))
        try:
            header, payloads = encode_channels(segment_codec, data, prdn_target=prdn, prd_target=prd, quantization=quantization)
        except OutOfReachError as error:
            raise OutOfReachError(f"{'PRDN' if prdn is not None else 'PRD'} {prdn or prd}% is {error} for the {codec} codec",
                                  error.floor) from None
        if codec == "san" and all(choice[0] is None for choice in header["choices"]):
            # where no channel sends spikes, the chunks are the wavelet codec's: so is the file, which needs no model
            header = {key: value for key, value in header.items() if key not in segment_codec.header()}
            codec, header = "wavelet", header | WaveletCodec().header() | {"choices": [choice[1] for choice in header["choices"]]}
        header |= {"codec": codec, "model": None if model is None or codec == "wavelet" else _identity(model, embed_model, False),
                   "coder": "range"}
        phi, step = None, None
        write_file(path, meta | header, payloads)
    restored, written = decode_file(path, model)
    file_bytes = path.stat().st_size
    samples, channels = data.shape[1], data.shape[0]
    original_bits = signal.resolution_bits or 16
    per_channel = tuple(ChannelDistortion(name, *distortion(data[[c]], restored[[c]])) for c, name in enumerate(signal.channel_names))
    return CodecReport(8 * file_bytes / (samples * channels), samples * channels * original_bits / (8 * file_bytes),
                       original_bits, *distortion(data, restored), phi, step, file_bytes, samples, channels,
                       header.get("windows", header.get("chunks")), per_channel, codec, written.get("choices"))


def decode_file(path: str | os.PathLike, model: SAN | None = None) -> tuple[np.ndarray, dict]:
    """Read a ``.san`` file: the decoded recording ``(channels, samples)`` float64 and its header.

    Parameters
    ----------
    model : SAN, optional
        The model the file names (checked by its SHA-256); not needed for a file with an embedded model, nor for
        one of the wavelet codec.

    Raises
    ------
    CodecError
        The file is missing, truncated, corrupt (a checksum fails), of another format or version, or names another
        model than ``model``.
    """
    path = Path(path)
    header, payloads = read_file(path)
    codec = header.get("codec", "activation")
    if codec not in CODECS:
        raise CodecError(f"{path}: coded by {codec!r}, which this sanets does not know ({', '.join(CODECS)})")
    if codec in ("wavelet", "san"):
        segment_codec = (WaveletCodec() if codec == "wavelet"
                         else _segment_codec("san", _file_model(path, header["model"], model), version=header["version"]))
        differing = {key: header.get(key) for key, value in segment_codec.header().items() if header.get(key) != value}
        if differing:
            raise CodecError(f"{path}: coded with {differing}; this sanets decodes {segment_codec.header()}")
        return decode_channels(segment_codec, header, payloads, path), header
    model = _file_model(path, header["model"], model)
    if model.in_channels not in (1, header["channels"]):
        raise CodecError(f"{path}: the model codes {model.in_channels} channels together; the file has {header['channels']}")
    levels, mean, std = _activation.read_levels(path, header, payloads, model)
    data = _activation.reconstruct(model, levels, header["quantization"], mean, std, (header["channels"], header["samples"]))
    return data, header


def _file_model(path: Path, identity: dict, model: SAN | None) -> SAN:
    """The model a file names: ``model`` if its fingerprint matches, else the embedded one."""
    if model is None:
        if "kernels" not in identity:
            raise CodecError(f"{path}: the file names a model (sha256 {identity['sha256'][:12]}…) but none was given")
        try:
            model = SAN.from_config(identity["config"], identity["kernels"])
        except (KeyError, TypeError, ValueError) as error:
            raise CodecError(f"{path}: the embedded model is invalid: {error}") from None
    if model_fingerprint(model) != identity["sha256"]:
        raise CodecError(f"{path}: coded with model sha256 {identity['sha256'][:12]}…, "
                         f"not the model given ({model_fingerprint(model)[:12]}…)")
    return _on_cpu(model)


def inspect_file(path: str | os.PathLike) -> dict[str, Any]:
    """A ``.san`` file described: its header (without embedded numbers), size, bits per sample and, for the activation
    codec, its spike count."""
    path = Path(path)
    header, payloads = read_file(path)
    described = dict(header)
    if header.get("model"):
        model = {key: value for key, value in header["model"].items() if key != "kernels"}
        described["model"] = {**model, "embedded": "kernels" in header["model"]}
    if header["version"] == 1:
        described["spikes"] = sum(spike_count(payload, count) for payload, count in zip(payloads, chunk_windows(header["windows"])))
    size = path.stat().st_size
    return {**described, "codec": header.get("codec", "activation"), "file_bytes": size, "chunks": len(payloads),
            "bits_per_sample": 8 * size / (header["samples"] * header["channels"])}


def rate_distortion(model: SAN | None, signal: Signal, targets: Sequence[float], *, wavelet: str = "auto",
                    fill: str | None = None) -> list[dict]:
    """Bits per sample of the san codec (with ``model``) and of the wavelet codec at each target PRDN (%), each file
    written, decoded and measured against ``signal`` (``sanets rd``).

    Returns
    -------
    list of dict
        Per target: ``target_prdn``, ``san_bits_per_sample``, ``san_prdn`` (None without a model, or where the
        target is out of the codec's reach, with ``san_floor`` the lowest PRDN it reached), ``san_choices`` (each
        channel's spike step in typical amplitudes, None where it sent no spikes, its residual's wavelet and its rounds
        of adaptation), ``wavelet_bits_per_sample``, ``wavelet_prdn`` and
        ``wavelet`` (the wavelet of each channel).
    """
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for target in targets:
            _check_target("a PRDN target", target)
            row: dict[str, Any] = {"target_prdn": float(target)}
            for name in ("san", "wavelet") if model is not None else ("wavelet",):
                try:
                    report = encode_signal(model, signal, Path(folder) / f"{name}.san", codec=name, prdn=target, wavelet=wavelet, fill=fill)
                except OutOfReachError as error:
                    row |= {f"{name}_bits_per_sample": None, f"{name}_prdn": None, f"{name}_floor": error.floor}
                    continue
                choices = report.choices if name == "wavelet" else [  # a san file without spikes is a wavelet file
                    choice if isinstance(choice, list) else [None, choice] for choice in report.choices]
                row |= {f"{name}_bits_per_sample": report.bits_per_sample, f"{name}_prdn": max(c.prdn for c in report.per_channel),
                        "wavelet" if name == "wavelet" else "san_choices": choices}
            rows.append(row)
    return rows
