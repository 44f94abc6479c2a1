"""Kernels for the san codec from the user's recordings (``sanets fit --for codec``, issue 29).

Every chosen channel of every recording is split in time: its first four fifths train, its last fifth validates.
For each candidate number of kernels and kernel length, kernels are learned on the training parts of all
recordings together (:func:`sanets.codec._learn.learn_kernels`) and the validation parts are coded with them by
the san codec at the target PRDN; the candidate of fewest validation bits wins, and its kernels are learned
again on whole channels. The model is a SAN of free kernels (``activation="extrema"``, so the paper's path can
use it too), written with a JSON report of every candidate's validation bits and a kernels figure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from sanets._files import check_outputs, strict_json, write_atomically
from sanets.codec._channels import encode_channels
from sanets.codec._learn import learn_kernels
from sanets.codec._pursuit import PursuitCodec
from sanets.datasets import (
    finite_samples,
    load_signal,
    recording_files,
    select_channels,
)
from sanets.errors import DataError
from sanets.experiments.recordings import fit_outputs
from sanets.model import SAN

__all__ = ["COUNTS", "LENGTHS_SECONDS", "CodecFit", "fit_codec"]

COUNTS = (4, 8, 16)
"""Numbers of kernels tried."""
LENGTHS_SECONDS = (0.5, 0.75, 1.0)
"""Kernel lengths tried, in seconds (where the recordings state a sampling rate)."""
LENGTHS_SAMPLES = (128, 256)
"""Kernel lengths tried, in samples, where they do not."""
VALIDATION_SHARE = 0.2


@dataclass(frozen=True)
class CodecFit:
    """What :func:`fit_codec` chose: the model, its kernels' count and length, and every candidate's validation bits
    per sample at the target PRDN."""

    model: SAN
    kernels: int
    length: int
    candidates: dict[str, float]
    sampling_rate: float | None


def _model(kernels: np.ndarray) -> SAN:
    count, width = kernels.shape
    model = SAN([width] * count, "extrema", seed=0)
    with torch.no_grad():
        for parameter, values in zip(model.kernels, kernels):
            parameter.copy_(torch.from_numpy(values))
    return model


def validation_bits(kernels: np.ndarray, channels: list[np.ndarray], prdn: float) -> float:
    """Bits per sample of the san codec on ``channels`` at ``prdn`` with these kernels (no file written)."""
    codec = PursuitCodec([torch.from_numpy(k) for k in kernels])
    total = sum(8 * sum(map(len, encode_channels(codec, x[None], prdn_target=prdn)[1])) for x in channels)
    return total / sum(len(x) for x in channels)


def fit_codec(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    channels: Sequence[int | str] | None = None,
    prdn: float = 5.0,
    counts: Sequence[int] = COUNTS,
    lengths: Sequence[int] | None = None,
    fill: str | None = None,
    seed: int = 0,
    echo: Callable[[str], object] = print,
) -> CodecFit:
    """Learn the san codec's kernels on recordings, choose their count and length on validation bits, write the model.

    Parameters
    ----------
    paths : sequence of path
        Recordings (WFDB, EDF, CSV, NPY); every chosen channel of each is used.
    out : path
        The model (``SAN.save``); beside it ``<out minus suffix>.json`` and ``<out stem>-kernels.png``.
    channels : sequence of int or str, optional
        Channels by index or name (default all).
    prdn : float
        The PRDN (%) at which validation bits are counted.
    counts, lengths : sequences of int, optional
        Candidates (lengths in samples; default :data:`LENGTHS_SECONDS` at the recordings' rate, or
        :data:`LENGTHS_SAMPLES`).

    Returns
    -------
    CodecFit
    """
    files, _ = fit_outputs(out)
    check_outputs(files, [("recording", file) for path in paths for file in recording_files(path)])
    signals = [select_channels(load_signal(path), channels) for path in paths]
    rates = {signal.sampling_rate for signal in signals}
    rate = next(iter(rates)) if len(rates) == 1 else None
    if lengths is None:
        lengths = [round(seconds * rate) for seconds in LENGTHS_SECONDS] if rate else list(LENGTHS_SAMPLES)
    whole = [row for signal in signals for row in finite_samples(signal, fill) if np.ptp(row) > 0]
    if not whole:
        raise DataError("every channel is constant: there is nothing to learn kernels from")
    cut = [round(len(x) * (1 - VALIDATION_SHARE)) for x in whole]
    if min(cut) < 2 * max(lengths):
        raise DataError(f"a channel of {min(len(x) for x in whole)} samples is too short to learn kernels of "
                        f"{max(lengths)} samples and validate them; give longer recordings or shorter kernels")
    train, validation = [x[:c] for x, c in zip(whole, cut)], [x[c:] for x, c in zip(whole, cut)]
    echo(f"{len(whole)} channel(s): kernels learned on the first {100 - 100 * VALIDATION_SHARE:.0f} % of each, "
         f"bits counted on the rest at PRDN {prdn:g} %")
    candidates: dict[str, float] = {}
    for count in counts:
        for length in lengths:
            bits = validation_bits(learn_kernels(train, count, length, seed=seed), validation, prdn)
            candidates[f"{count}x{length}"] = bits
            echo(f"  {count} kernels of {length} samples: {bits:.4f} bits/sample on validation")
    chosen = min(candidates, key=candidates.get)
    count, length = (int(v) for v in chosen.split("x"))
    model = _model(learn_kernels(whole, count, length, seed=seed))
    model.save(files["model"])
    report = {"inputs": [str(p) for p in paths], "for": "codec", "sampling_rate": rate, "target_prdn": prdn,
              "kernels": count, "length": length, "candidates_bits_per_sample": candidates, "seed": seed,
              "model": model.config()}
    write_atomically(files["report"], lambda file: file.write(strict_json(report, indent=2).encode()))
    try:
        from sanets import plots

        plots.save_figure(plots.plot_kernels({f"{count} kernels": [w.detach() for w in model.kernel_weights()]}),
                          files["kernels figure"])
    except ImportError as error:
        echo(f"no kernels figure: {error}")
    echo(f"{count} kernels of {length} samples ({candidates[chosen]:.4f} bits/sample on validation); model written to "
         f"{files['model']}")
    return CodecFit(model, count, length, candidates, rate)

