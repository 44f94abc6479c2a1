"""The SAN file: safetensors holding each kernel's learned numbers, the config as JSON metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import safetensors.torch
import torch
from safetensors import SafetensorError, safe_open

from sanets._files import write_atomically
from sanets.errors import ModelFileError, ModelFileNotFoundError

if TYPE_CHECKING:
    from sanets.model import SAN

_FORMAT = "sanets.SAN"
_FORMAT_VERSION = "3"
# Version 2 added kernel families and scales, version 3 input channels; a version 1 file is a free-kernel SAN.
_READABLE_VERSIONS = ("1", "2", "3")


def save_model(model: SAN, path: str | os.PathLike) -> None:
    """:meth:`SAN.save`."""
    model.check_kernels()
    tensors = {f"kernel.{i}": kernel.detach().cpu().contiguous() for i, kernel in enumerate(model.kernels)}
    metadata = {"format": _FORMAT, "format_version": _FORMAT_VERSION, "config": json.dumps(model.config())}
    payload = safetensors.torch.save(tensors, metadata=metadata)
    write_atomically(path, lambda file: file.write(payload))


def load_model(cls: type[SAN], path: str | os.PathLike, device: str | torch.device) -> SAN:
    """:meth:`SAN.load`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileNotFoundError(f"{path}: model file not found")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as file:
            metadata = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"{path}: not a readable safetensors file (truncated or another format): {error}") from None
    if metadata.get("format") != _FORMAT:
        raise ModelFileError(f"{path}: not a sanets SAN file (metadata 'format' is {metadata.get('format')!r})")
    if metadata.get("format_version") not in _READABLE_VERSIONS:
        raise ModelFileError(
            f"{path}: SAN file format version {metadata.get('format_version')!r}; "
            f"this sanets reads {', '.join(_READABLE_VERSIONS)}"
        )
    try:
        config = json.loads(metadata["config"])
        # Files written before the config named its dtype carry it in their tensors.
        config.setdefault("dtype", str(next(iter(tensors.values())).dtype).removeprefix("torch.") if tensors else None)
        model = cls(**config)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: invalid SAN config in metadata: {error}") from None
    expected = {f"kernel.{i}": tuple(kernel.shape) for i, kernel in enumerate(model.kernels)}
    found = {key: tuple(tensor.shape) for key, tensor in tensors.items()}
    if found != expected:
        raise ModelFileError(f"{path}: kernels {found} do not match the config's {expected}")
    with torch.no_grad():
        for i, kernel in enumerate(model.kernels):
            kernel.copy_(tensors[f"kernel.{i}"])
    try:
        model.check_kernels()
    except ValueError as error:
        raise ModelFileError(f"{path}: {error}") from None
    return model.to(device)
