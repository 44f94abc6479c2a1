"""The bytes of a ``.san`` file: framing, checksums, coders, and the spike streams of a chunk of windows."""

from __future__ import annotations

import io
import json
import lzma
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sanets._files import write_atomically
from sanets.errors import CodecError

MAGIC = b"\x89SAN\r\n\x1a\n"
VERSION = 3
"""Version 3: as version 2, but a san-codec segment that sends no spikes carries no spike step either, so that such a
channel's chunks are byte for byte the wavelet codec's (and a san file none of whose channels sends spikes is
written as the wavelet codec's file). Version 2 (issue 29): a ``codec`` named in the header, each chunk one segment
of one channel, range-coded by the codec itself. Version 1 (issue 11): the activation codec's chunks of windows,
compressed by the header's coder."""
READABLE = (1, 2, 3)
_REQUIRED = {1: {"model", "samples", "channels", "window", "windows", "quantization"},
             2: {"codec", "samples", "channels", "chunks", "steps"}}
_REQUIRED[3] = _REQUIRED[2]
WINDOWS_PER_CHUNK = 256
DEFAULT_STEP = 1 / 64
"""Quantisation step, in standardised units (a channel's or window's standard deviation), when no target is given."""
LARGEST_LEVEL = 2**31 - 1
"""The largest quantised spike magnitude a file holds: finer steps are refused, not wrapped around."""
CODERS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "lzma": (lambda data: lzma.compress(data, preset=9 | lzma.PRESET_EXTREME), lzma.decompress),
    "zlib": (lambda data: zlib.compress(data, 9), zlib.decompress),
}
"""Entropy coders by name: (compress, decompress). Both are in Python's standard library; lzma is the
default, measured 5-7 % smaller than zlib and than zstandard at level 22 on the shared PhysioNet records."""


def pack(stream: np.ndarray) -> bytes:
    """An unsigned stream in its fewest bytes, byte planes apart (they compress better): width, count, planes."""
    stream = np.asarray(stream, dtype=np.uint64)
    width = next(w for w in (1, 2, 4, 8) if stream.size == 0 or int(stream.max()) < 256**w)
    planes = stream.astype(f"<u{width}").view(np.uint8).reshape(-1, width).T
    return struct.pack("<BI", width, stream.size) + planes.tobytes()


def unpack(buffer: io.BytesIO) -> np.ndarray:
    width, count = struct.unpack("<BI", buffer.read(5))
    planes = np.frombuffer(buffer.read(width * count), dtype=np.uint8)
    if planes.size != width * count:
        raise ValueError("stream cut short")
    return np.ascontiguousarray(planes.reshape(width, count).T).view(f"<u{width}")[:, 0].astype(np.int64)


def zigzag(values: np.ndarray) -> np.ndarray:
    return np.where(values >= 0, 2 * values, -2 * values - 1).astype(np.uint64)


def unzigzag(values: np.ndarray) -> np.ndarray:
    return np.where(values % 2 == 0, values // 2, -(values + 1) // 2)


def chunk_payload(levels: torch.Tensor, mean: np.ndarray, std: np.ndarray) -> bytes:
    """The streams of some windows' spikes: levels (n, K, L) int64, mean and std (n,)."""
    window, channel, position = (t.numpy() for t in levels.nonzero(as_tuple=True))
    order = np.lexsort((channel, position, window))  # by window, then position, then code channel
    window, channel, position = window[order], channel[order], position[order]
    values = levels.numpy()[window, channel, position]
    first = np.r_[True, window[1:] != window[:-1]]
    delta = np.where(first, position, position - np.r_[0, position[:-1]])
    counts = np.bincount(window, minlength=len(levels))
    return b"".join([mean.astype("<f4").tobytes(), std.astype("<f4").tobytes(), pack(counts), pack(channel),
                     pack(delta), pack(zigzag(values))])


def chunk_payloads(levels: torch.Tensor, mean: np.ndarray, std: np.ndarray) -> list[bytes]:
    """:func:`chunk_payload` of each chunk of :data:`WINDOWS_PER_CHUNK` windows, in order."""
    return [chunk_payload(levels[i : i + WINDOWS_PER_CHUNK], mean[i : i + WINDOWS_PER_CHUNK], std[i : i + WINDOWS_PER_CHUNK])
            for i in range(0, len(levels), WINDOWS_PER_CHUNK)]


def chunk_windows(windows: int) -> list[int]:
    """The number of windows in each chunk of a file of ``windows`` windows."""
    return [min(WINDOWS_PER_CHUNK, windows - start) for start in range(0, windows, WINDOWS_PER_CHUNK)]


def spike_count(payload: bytes, windows: int) -> int:
    """The spikes of a chunk of ``windows`` windows, from its counts stream (after the means and stds)."""
    return int(unpack(io.BytesIO(payload[8 * windows :])).sum())


def read_payload(payload: bytes, windows: int, channels: int, window: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    buffer = io.BytesIO(payload)
    mean = np.frombuffer(buffer.read(4 * windows), dtype="<f4").astype(np.float32)
    std = np.frombuffer(buffer.read(4 * windows), dtype="<f4").astype(np.float32)
    counts, channel, delta, values = (unpack(buffer) for _ in range(4))
    if len(mean) != windows or len(std) != windows or len(counts) != windows or buffer.read(1):
        raise ValueError("window data does not match the header")
    window_of = np.repeat(np.arange(windows), counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    position = np.cumsum(delta) - np.repeat(np.r_[0, np.cumsum(delta)][starts], counts)
    if len(window_of) != len(channel) or (channel >= channels).any() or (position >= window).any():
        raise ValueError("spikes outside their window")
    levels = torch.zeros(windows, channels, window, dtype=torch.int64)
    levels[window_of, channel, position] = torch.from_numpy(unzigzag(values))
    return levels, mean, std


def write_file(path: Path, header: dict, payloads: list[bytes], coder: str | None = None) -> None:
    """Write a file of the current version, or of version 1 where a ``coder`` compresses the payloads."""
    compress = (lambda data: data) if coder is None else CODERS[coder][0]
    text = json.dumps(header, sort_keys=True).encode()
    parts = [MAGIC, struct.pack("<HI", VERSION if coder is None else 1, len(text)), text, struct.pack("<I", zlib.crc32(text))]
    for payload in payloads:
        packed = compress(payload)
        parts += [struct.pack("<I", len(packed)), packed, struct.pack("<I", zlib.crc32(packed))]
    write_atomically(path, lambda file: file.write(b"".join(parts)))


def read_file(path: Path) -> tuple[dict, list[bytes]]:
    """A ``.san`` file's header and decompressed payloads, every checksum verified."""
    if not path.is_file():
        raise CodecError(f"{path}: .san file not found")
    blob = path.read_bytes()
    if blob[: len(MAGIC)] != MAGIC:
        raise CodecError(f"{path}: not a .san file (wrong magic bytes)")
    if len(blob) < len(MAGIC) + 6:
        raise CodecError(f"{path}: truncated in its header")
    version, length = struct.unpack_from("<HI", blob, len(MAGIC))
    if version not in READABLE:
        raise CodecError(f"{path}: .san format version {version}; this sanets reads versions {', '.join(map(str, READABLE))}")
    start = len(MAGIC) + 6
    text = blob[start : start + length]
    if len(text) != length or len(blob) < start + length + 4:
        raise CodecError(f"{path}: truncated in its header")
    if struct.unpack_from("<I", blob, start + length)[0] != zlib.crc32(text):
        raise CodecError(f"{path}: header checksum mismatch (the file is corrupt)")
    try:
        header = json.loads(text)
        decompress = CODERS[header["coder"]][1] if version == 1 else (lambda data: data)
    except (ValueError, KeyError, TypeError) as error:
        raise CodecError(f"{path}: unreadable header: {error!r}") from None
    header["version"] = version
    missing = sorted(_REQUIRED[version] - set(header))
    if missing:
        raise CodecError(f"{path}: header lacks {', '.join(missing)}")
    payloads, offset, index = [], start + length + 4, 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise CodecError(f"{path}: truncated in chunk {index}")
        (size,) = struct.unpack_from("<I", blob, offset)
        packed = blob[offset + 4 : offset + 4 + size]
        if len(packed) != size or offset + 8 + size > len(blob):
            raise CodecError(f"{path}: truncated in chunk {index}")
        if struct.unpack_from("<I", blob, offset + 4 + size)[0] != zlib.crc32(packed):
            raise CodecError(f"{path}: chunk {index} checksum mismatch (the file is corrupt)")
        try:
            payloads.append(decompress(packed))
        except Exception as error:  # each coder raises its own kind
            raise CodecError(f"{path}: chunk {index} does not decompress: {error}") from None
        offset, index = offset + 8 + size, index + 1
    expected = len(chunk_windows(header["windows"])) if version == 1 else header["chunks"]
    if len(payloads) != expected:
        raise CodecError(f"{path}: truncated: {len(payloads)} of {expected} chunks")
    return header, payloads


