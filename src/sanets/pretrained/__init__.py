"""Small SANs shipped with sanets, by name: ``sanets.pretrained("ecg")``, and ``--model ecg`` in every command.

=====  ====================================================================================================
name   what
=====  ====================================================================================================
ecg    8 kernels of 0.75 s for the san codec, learned (``sanets fit --for codec``) on channel 0 of the twelve
       MIT-BIH Arrhythmia records of the shared data at 360 Hz; ``python -m sanets.pretrained.make_ecg``
       makes it again
=====  ====================================================================================================

A model is a ``.safetensors`` file (:meth:`sanets.SAN.save`) and a JSON file of what it was trained on and at
which sampling rate. Asked for at another rate, its kernels are resampled (linear interpolation, unit norm), from
a quarter to four times the rate it was trained at; beyond that the kernels would be a handful of samples or
stretched past what they learned, and the request is refused.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from sanets.errors import ModelFileError
from sanets.model import SAN

__all__ = ["PRETRAINED", "pretrained", "resolve_model"]

PRETRAINED = ("ecg",)
"""The names of the shipped models."""

_RESAMPLING = (0.25, 4.0)


def _files(name: str) -> tuple[Path, dict]:
    folder = resources.files(__name__)
    with resources.as_file(folder / f"{name}.json") as meta:
        about = json.loads(Path(meta).read_text())
    with resources.as_file(folder / f"{name}.safetensors") as weights:
        return Path(weights), about


def pretrained(name: str, sampling_rate: float | None = None) -> SAN:
    """The shipped model ``name``, its kernels resampled to ``sampling_rate`` (Hz) where that differs.

    Raises
    ------
    ValueError
        An unknown name (the message lists them), or a rate beyond a quarter to four times the model's.
    """
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained model {name!r}; sanets ships {', '.join(map(repr, PRETRAINED))}")
    weights, about = _files(name)
    model = SAN.load(weights)
    trained_at = float(about["sampling_rate"])
    if sampling_rate is None or sampling_rate == trained_at:
        return model
    ratio = float(sampling_rate) / trained_at
    if not _RESAMPLING[0] <= ratio <= _RESAMPLING[1]:
        raise ValueError(f"the pretrained model {name!r} was trained at {trained_at:g} Hz; it serves {trained_at * _RESAMPLING[0]:g} "
                         f"to {trained_at * _RESAMPLING[1]:g} Hz, not {sampling_rate:g} Hz")
    return resampled(model, ratio)


def resampled(model: SAN, ratio: float) -> SAN:
    """A SAN of free 1D kernels with each kernel resampled by ``ratio`` (linear interpolation, unit norm)."""
    kernels = [kernel.detach().double().numpy() for kernel in model.kernel_weights()]
    length = max(2, round(len(kernels[0]) * ratio))
    grid = np.linspace(0, len(kernels[0]) - 1, length)
    values = [np.interp(grid, np.arange(len(kernel)), kernel) for kernel in kernels]
    result = SAN([length] * len(values), model.activation, seed=0)
    with torch.no_grad():
        for parameter, value in zip(result.kernels, values):
            parameter.copy_(torch.from_numpy(value / max(np.linalg.norm(value), 1e-12)))
    return result


def resolve_model(given: str | os.PathLike, sampling_rate: float | None = None) -> SAN:
    """``--model``: a model file, or else a pretrained name (resampled to ``sampling_rate``).

    Raises
    ------
    ModelFileError
        Neither a file nor a pretrained name.
    """
    path = Path(given)
    if path.is_file() or str(given) not in PRETRAINED:
        if not path.is_file():
            raise ModelFileError(f"{str(given)!r}: no such model file, nor a pretrained model "
                                 f"(sanets ships {', '.join(map(repr, PRETRAINED))})")
        return SAN.load(path)
    return pretrained(str(given), sampling_rate)
