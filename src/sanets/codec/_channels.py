"""Format-2 and 3 files: each channel coded on its own, in segments, at the step its target asks for (issue 29).

A segment codec (:class:`~sanets.codec._pursuit.PursuitCodec`, :class:`~sanets.codec._wavelet.WaveletCodec`)
quantises and restores a mean-free segment, and writes and reads what it quantised with a range coder. This
module cuts channels into segments (their means sent as float64 first), finds each channel's step and, where
the codec offers choices (the wavelet; the san codec's thresholds and rounds), keeps the smallest file (see
:data:`PROBES` for long channels). Choices are tried in parallel threads.

Rate control
------------
``prdn``: per channel, the coarsest step whose PRDN (the error over the channel's spread about its mean, %) is
at most the target. ``prd``: one step relative to each channel's standard deviation for all channels, the
coarsest whose PRD over the whole recording is at most the target. ``quantization``: that relative step. The
search (:func:`coarsest_step`) steps down from a coarse step until the target is met, then interpolates on
log step against log error to 1 % of the step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from sanets._threads import available_cores
from sanets.codec._entropy import Reader, Writer
from sanets.errors import CodecError, OutOfReachError
from sanets.metrics import distortion

SEGMENT = 2**18
"""Samples of a channel coded together (12 minutes at 360 Hz); a longer channel is coded in segments of about this."""


class PreparedSegment(Protocol):
    """A segment made ready to be quantised at many steps (its transform, its spikes)."""

    def squared_error(self, step: float) -> float: ...

    def code(self, step: float) -> tuple[np.ndarray, Any]: ...


class SegmentCodec(Protocol):
    name: str
    choices: tuple
    finest: float
    probes: bool

    def header(self) -> dict: ...

    def prepare(self, x: np.ndarray, choice: Any) -> PreparedSegment: ...

    def write_segment(self, writer: Writer, coded: Any, choice: Any) -> None: ...

    def read_segment(self, reader: Reader, length: int, step: float, choice: Any) -> np.ndarray: ...


PROBES = 3
"""Where a codec ``probes``, a channel of more segments than this chooses among the codec's choices on this many
of its segments, spread evenly (a day-long Holter lead has over a hundred), and codes the rest with that choice
only; a shorter one tries every choice on all of it. The wavelet anchor never probes."""


def _probes(length: int) -> list[slice]:
    parts = segments(length)
    return [parts[i] for i in np.linspace(0, len(parts) - 1, PROBES).round().astype(int)]


def segments(length: int) -> list[slice]:
    """The segments of a channel of ``length`` samples; a short last one joins the one before it."""
    count = max(1, round(length / SEGMENT))
    edges = np.linspace(0, length, count + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def prdn(x: np.ndarray, decoded: np.ndarray) -> float:
    return distortion(x, decoded)[1]


def coarsest_step(error_at: Callable[[float], float], target: float, start: float, finest: float) -> float:
    """The coarsest step (to 1 %) whose ``error_at(step)`` is at most ``target``: down from ``start`` by factors of 4
    until it is met, then interpolation of log error against log step (each try kept inside the middle 80 % of
    the bracket). Raises :class:`~sanets.errors.OutOfReachError` with the floor reached if ``finest`` does not meet it."""
    high, error_high = start, error_at(start)
    if error_high <= target:
        return start
    low = high / 4
    while True:
        error_low = error_at(low)
        if error_low <= target:
            break
        if low <= finest:
            raise OutOfReachError(f"out of reach: the finest step reaches {error_low:.3g} %", error_low)
        high, error_high, low = low, error_low, max(low / 4, finest)
    for _ in range(40):
        if high / low < 1.01:
            break
        fraction = 0.5
        if error_low > 0 and math.isfinite(error_high) and error_high > error_low:
            fraction = math.log(target / error_low) / math.log(error_high / error_low)
        middle = low * (high / low) ** min(max(fraction, 0.1), 0.9)
        error = error_at(middle)
        if error <= target:
            low, error_low = middle, error
        else:
            high, error_high = middle, error
    return low


class _Channel:
    """One channel's segments prepared for a choice, with memory of the last two steps restored (so that the file
    is usually written from what met the target, not coded again; two, as a day-long channel's restorations take
    hundreds of MB each)."""

    def __init__(self, codec: SegmentCodec, x: np.ndarray, choice: Any) -> None:
        self.codec, self.x, self.choice = codec, x, choice
        self.parts = segments(len(x))
        self.means = [float(x[part].mean()) for part in self.parts]
        self.prepared = [codec.prepare(x[part] - mean, choice) for part, mean in zip(self.parts, self.means)]
        self.spread = float(np.sum((x - x.mean()) ** 2))
        self._tried: dict[float, tuple[np.ndarray, list]] = {}

    def estimated_prdn(self, step: float) -> float:
        error = sum(prepared.squared_error(step) for prepared in self.prepared)
        return 100 * math.sqrt(error / self.spread) if self.spread > 0 else (0.0 if error == 0 else math.inf)

    def restored(self, step: float) -> np.ndarray:
        if step not in self._tried:
            results = [prepared.code(step) for prepared in self.prepared]
            decoded = np.concatenate([values + mean for (values, _), mean in zip(results, self.means)])
            self._tried = dict(list(self._tried.items())[-1:])
            self._tried[step] = (decoded, [coded for _, coded in results])
        return self._tried[step][0]

    def step_for_prdn(self, target: float, finest: float) -> float:
        """The coarsest step whose restored PRDN is at most ``target``: searched on the estimate, the goal tightened
        by what the restored segment shows until it is met (once or twice), else searched on restorations."""
        start, goal = max(math.sqrt(self.spread / len(self.x)), finest), target
        for _ in range(4):
            try:
                step = coarsest_step(self.estimated_prdn, goal, start, finest)
            except OutOfReachError:
                break
            error = prdn(self.x, self.restored(step))
            if error <= target:
                return step
            goal *= 0.999 * target / error
        return coarsest_step(lambda step: prdn(self.x, self.restored(step)), target, start, finest)

    def payloads(self, step: float) -> list[bytes]:
        self.restored(step)
        out = []
        for mean, coded in zip(self.means, self._tried[step][1]):
            writer = Writer()
            writer.float64(mean)
            self.codec.write_segment(writer, coded, self.choice)
            out.append(writer.bytes())
        return out


def encode_channels(codec: SegmentCodec, data: np.ndarray, *, prdn_target: float | None = None,
                    prd_target: float | None = None, quantization: float | None = None) -> tuple[dict, list[bytes]]:
    """Code ``data`` ``(C, S)`` channel by channel; return the header's fields (steps, choices, chunks) and the
    payloads (channel-major, segments in time order)."""
    spreads = [float(x.std()) or 1.0 for x in data]
    best: list[tuple[int, float, Any, list[bytes]]] = []
    if prd_target is not None:
        channels = [_Channel(codec, x, codec.choices[0]) for x in data]

        def total_prd(relative: float) -> float:
            return distortion(data, np.stack([ch.restored(relative * spread) for ch, spread in zip(channels, spreads)]))[0]

        relative = coarsest_step(total_prd, prd_target, 1.0, codec.finest)
        for channel, spread in zip(channels, spreads):
            payloads = channel.payloads(relative * spread)
            best.append((sum(map(len, payloads)), relative * spread, channel.choice, payloads))
    else:
        def coded(x: np.ndarray, spread: float, choice: Any) -> tuple[int, float, Any, list[bytes]]:
            channel = _Channel(codec, x, choice)
            step = channel.step_for_prdn(prdn_target, codec.finest * spread) if prdn_target is not None else quantization * spread
            payloads = channel.payloads(step)
            return sum(map(len, payloads)), step, choice, payloads

        def probed(x: np.ndarray, spread: float, choice: Any) -> float:
            try:
                return sum(coded(x[part], spread, choice)[0] for part in _probes(len(x)))
            except OutOfReachError:
                return math.inf

        # Choices are independent and their work (numba, FFTs, wavelet transforms) mostly runs without the GIL.
        with ThreadPoolExecutor(min(available_cores(), len(data) * len(codec.choices))) as pool:
            choices = [codec.choices] * len(data)
            probes = [[pool.submit(probed, x, spread, choice) for choice in codec.choices]
                      if codec.probes and len(segments(len(x))) > PROBES else None for x, spread in zip(data, spreads)]
            for c, sizes in enumerate(probes):
                if sizes is not None:
                    choices[c] = [min(zip((future.result() for future in sizes), codec.choices), key=lambda pair: pair[0])[1]]
            tried = [[pool.submit(coded, x, spread, choice) for choice in chosen] for x, spread, chosen in zip(data, spreads, choices)]
            best = [min((future.result() for future in channel), key=lambda entry: entry[0]) for channel in tried]
    fields = {"steps": [step for _, step, _, _ in best], "choices": [choice for _, _, choice, _ in best],
              "segment": SEGMENT, "chunks": sum(len(payloads) for *_, payloads in best), **codec.header()}
    return fields, [payload for *_, payloads in best for payload in payloads]


def decode_channels(codec: SegmentCodec, header: dict, payloads: list[bytes], path: Any) -> np.ndarray:
    """The mirror of :func:`encode_channels`: ``(C, S)`` float64 (chunks decoded in parallel threads)."""
    samples, data = header["samples"], np.zeros((header["channels"], header["samples"]))
    chunks = [(c, part, step, choice) for c, (step, choice) in enumerate(zip(header["steps"], header["choices"]))
              for part in segments(samples)]
    if len(chunks) != len(payloads):
        raise CodecError(f"{path}: {len(payloads)} chunks for {len(chunks)} segments")

    def decode(index: int) -> None:
        c, part, step, choice = chunks[index]
        try:
            reader = Reader(payloads[index])
            mean = reader.float64()
            data[c, part] = codec.read_segment(reader, part.stop - part.start, step, choice) + mean
        except (ValueError, IndexError, OverflowError) as error:
            raise CodecError(f"{path}: chunk {index} is malformed: {error}") from None

    with ThreadPoolExecutor(min(available_cores(), len(chunks))) as pool:
        list(pool.map(decode, range(len(chunks))))
    return data
