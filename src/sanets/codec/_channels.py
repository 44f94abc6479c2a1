"""Format-2 and 3 files: each channel coded on its own, in segments, at the step its target asks for (issue 29).

A segment codec (:class:`~sanets.codec._pursuit.PursuitCodec`, :class:`~sanets.codec._wavelet.WaveletCodec`)
quantises and restores a mean-free segment, and writes and reads what it quantised with a range coder. This
module cuts channels into segments (their means sent as float64 first), finds each channel's step and, where
the codec offers choices (the wavelet; the san codec's spike steps and rounds), keeps the smallest file (see
:data:`PROBES` for long channels; the codec's :meth:`~SegmentCodec.next_choices` may ask for them in stages).
Channels are coded in forked processes where the platform forks (:func:`_processes`), a channel's choices in
parallel threads.

Rate control
------------
``prdn``: per channel, the coarsest step whose PRDN (the error over the channel's spread about its mean, %) is
at most the target. ``prd``: one step relative to each channel's standard deviation for all channels, the
coarsest whose PRD over the whole recording is at most the target. ``quantization``: that relative step. The
search (:func:`coarsest_step`) steps down from a coarse step until the target is met, then interpolates on
log step against log error to 1 % of the step, on an estimate of the error; the restored error then corrects the
estimate until it lands within :data:`LANDING` of the target.
"""

from __future__ import annotations

import functools
import itertools
import math
import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
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

    def fixed_bytes(self, choice: Any) -> int:
        """Bytes a file pays once where a channel takes ``choice`` (counted in every such channel's size)."""

    def next_choices(self, sizes: dict[Any, float]) -> list:
        """The choices to try next, given the file sizes of those tried (``{}`` at first; inf where a choice cannot
        reach the target); none when the search is over."""

    def prepare(self, x: np.ndarray, choice: Any) -> PreparedSegment: ...

    def write_segment(self, writer: Writer, coded: Any, choice: Any) -> None: ...

    def read_segment(self, reader: Reader, length: int, step: float, choice: Any) -> np.ndarray: ...


LANDING = 0.997
"""A channel's search stops once its restored PRDN is at most the target and at least this share of it."""

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


def coarsest_step(error_at: Callable[[float], float], target: float, start: float, finest: float,
                  factor: float = 4.0, precision: float = 1.01, ceiling: float | None = None) -> float:
    """The coarsest step (to a factor ``precision``, at most ``ceiling``, by default ``start``) whose
    ``error_at(step)`` is at most ``target``: from ``start`` down by ``factor`` until it is met (or, where ``start``
    meets it, up until it is not), then interpolation of log error against log step (each try kept inside the
    middle 80 % of the bracket), each try followed by one a factor ``precision`` across it. Raises
    :class:`~sanets.errors.OutOfReachError` with the floor reached if ``finest`` does not meet it."""
    ceiling = start if ceiling is None else ceiling
    low = high = start
    error_low = error_high = error_at(start)
    if error_low <= target:
        while error_high <= target:
            if high >= ceiling:
                return high
            low, error_low = high, error_high
            high = min(high * factor, ceiling)
            error_high = error_at(high)
    while error_low > target:
        if low <= finest:
            raise OutOfReachError(f"out of reach: the finest step reaches {error_low:.3g} %", error_low)
        high, error_high = low, error_low
        low = max(low / factor, finest)
        error_low = error_at(low)

    def narrow(step: float) -> bool:
        nonlocal low, error_low, high, error_high
        error = error_at(step)
        if error <= target:
            low, error_low = step, error
        else:
            high, error_high = step, error
        return error <= target

    while high / low > precision * (1 + 1e-9):
        fraction = 0.5
        if error_low > 0 and math.isfinite(error_high) and error_high > error_low:
            fraction = math.log(target / error_low) / math.log(error_high / error_low)
        met = narrow(low * (high / low) ** min(max(fraction, 0.1), 0.9))
        across = low * precision if met else high / precision  # which usually closes the bracket
        if low < across < high:
            narrow(across)
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
        self._estimates: dict[float, float] = {}

    def estimated_prdn(self, step: float) -> float:
        if step not in self._estimates:
            error = sum(prepared.squared_error(step) for prepared in self.prepared)
            self._estimates[step] = 100 * math.sqrt(error / self.spread) if self.spread > 0 else (0.0 if error == 0 else math.inf)
        return self._estimates[step]

    def restored(self, step: float) -> np.ndarray:
        if step not in self._tried:
            results = [prepared.code(step) for prepared in self.prepared]
            decoded = np.concatenate([values + mean for (values, _), mean in zip(results, self.means)])
            self._tried = dict(list(self._tried.items())[-1:])
            self._tried[step] = (decoded, [coded for _, coded in results])
        return self._tried[step][0]

    def step_for_prdn(self, target: float, finest: float) -> float:
        """The coarsest step whose restored PRDN is at most ``target``: searched on the estimate, then again near the
        step restored with the goal scaled by the estimate's miss there, until the restored PRDN is within
        :data:`LANDING` below the target (at most four restorations; the coarsest that met it is kept), else
        searched on restorations."""
        coarsest = start = max(math.sqrt(self.spread / len(self.x)), finest)
        goal, near, met = target, {}, None
        for _ in range(4):
            try:
                step = coarsest_step(self.estimated_prdn, goal, start, finest, ceiling=coarsest, **near)
            except OutOfReachError:
                break
            error = prdn(self.x, self.restored(step))
            if error <= target:
                met = max(met or step, step)
                if error >= LANDING * target:
                    break
            goal = 0.9995 * target * self.estimated_prdn(step) / max(error, 1e-300)
            start, near = step, {"factor": 1.05, "precision": 1.003}
        if met is not None:
            return met
        return coarsest_step(lambda step: prdn(self.x, self.restored(step)), target, coarsest, finest)

    def payloads(self, step: float) -> list[bytes]:
        self.restored(step)
        out = []
        for mean, coded in zip(self.means, self._tried[step][1]):
            writer = Writer()
            writer.float64(mean)
            self.codec.write_segment(writer, coded, self.choice)
            out.append(writer.bytes())
        return out


def _search(codec: SegmentCodec, submits: list[Callable[[Any], Future]]) -> list[tuple]:
    """Per channel, the smallest of the choices the codec asks for, stage by stage (:meth:`SegmentCodec.next_choices`):
    each stage's choices of every channel submitted together, interleaved across channels so that the workers start
    on different channels (whose work shares nothing); ``submits[c](choice)`` gives a future of ``(size, ...)``."""
    tried: list[dict[Any, tuple]] = [{} for _ in submits]
    while True:
        todo = [[choice for choice in codec.next_choices({c: r[0] for c, r in done.items()}) if choice not in done]
                for done in tried]
        if not any(todo):
            return [min(done.values(), key=lambda result: result[0]) for done in tried]
        futures = [(c, choice, submits[c](choice)) for row in itertools.zip_longest(*todo)
                   for c, choice in enumerate(row) if choice is not None]
        for c, choice, future in futures:
            tried[c][choice] = future.result()


def _best_per_channel(codec: SegmentCodec, data: np.ndarray, spreads: list[float], prdn_target: float | None,
                      quantization: float | None, threads: int) -> list[tuple[int, float, Any, list[bytes]]]:
    """Each channel's smallest file among the codec's choices, ``(size, step, choice, payloads)``, at ``prdn_target``
    or at ``quantization`` times its spread, coded in ``threads`` threads (numba, FFTs and wavelet transforms mostly
    run without the GIL)."""
    def coded(x: np.ndarray, spread: float, choice: Any) -> tuple[int, float, Any, list[bytes]]:
        channel = _Channel(codec, x, choice)
        step = channel.step_for_prdn(prdn_target, codec.finest * spread) if prdn_target is not None else quantization * spread
        payloads = channel.payloads(step)
        return sum(map(len, payloads)) + codec.fixed_bytes(choice), step, choice, payloads

    def probed(x: np.ndarray, spread: float, choice: Any) -> tuple[float, None, Any, None]:
        try:
            fixed = codec.fixed_bytes(choice)
            return sum(coded(x[part], spread, choice)[0] - fixed for part in _probes(len(x))) + fixed, None, choice, None
        except OutOfReachError:
            return math.inf, None, choice, None

    with ThreadPoolExecutor(threads) as pool:
        probing = [codec.probes and len(segments(len(x))) > PROBES for x in data]
        found = _search(codec, [functools.partial(pool.submit, probed if probes else coded, x, spread)
                                for x, spread, probes in zip(data, spreads, probing)])
        chosen = [pool.submit(coded, x, spread, result[2]) if probes else None
                  for x, spread, probes, result in zip(data, spreads, probing, found)]
        return [result if future is None else future.result() for result, future in zip(found, chosen)]


def _processes(channels: int) -> int:
    """Processes that code ``channels`` channels, one channel each at a time: one per core where the platform forks
    (a forked process inherits the compiled pursuit and the codec; much of a channel's coding holds the GIL, so
    threads alone gain little), else one."""
    if channels < 2 or sys.platform != "linux":
        return 1
    return min(channels, available_cores())


_JOB: tuple = ()
_COMPILED: set[type] = set()


def _compile_here(codec: SegmentCodec) -> None:
    """Code a short made-up channel once per codec type in this process, so that the numba functions its coding
    compiles are compiled here, where forked processes inherit them, not loaded from numba's cache in each."""
    if type(codec) not in _COMPILED:
        wave = np.sin(np.arange(4 * 1024) / 7) ** 15 + 0.01 * np.cos(np.arange(4 * 1024) * 1.3)
        try:
            _best_per_channel(codec, wave[None], [float(wave.std())], 5.0, None, 1)
        except OutOfReachError:  # a warm-up only: the recording's own coding says what is out of reach
            pass
        _COMPILED.add(type(codec))


def _forked_map(work: Callable[[tuple, int], Any], job: tuple, count: int, processes: int, chunksize: int = 1) -> list:
    """``[work(job, i) for i in range(count)]`` in ``processes`` forked processes, which inherit ``work`` and ``job``
    (neither is pickled)."""
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"), initializer=_receive,
                             initargs=((work, job),)) as pool:
        return list(pool.map(_inherited, range(count), chunksize=chunksize))


def _receive(inherited: tuple) -> None:
    global _JOB
    _JOB = inherited


def _inherited(index: int) -> Any:
    work, job = _JOB
    return work(job, index)


def _best_of_channel(job: tuple, index: int) -> tuple[int, float, Any, list[bytes]]:
    codec, data, spreads, prdn_target, quantization, threads = job
    return _best_per_channel(codec, data[index : index + 1], spreads[index : index + 1], prdn_target, quantization, threads)[0]


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
        processes = _processes(len(data))
        job = (codec, data, spreads, prdn_target, quantization, max(1, available_cores() // processes))
        if processes == 1:
            best = _best_per_channel(*job)
        else:
            _compile_here(codec)
            best = _forked_map(_best_of_channel, job, len(data), processes)
    fields = {"steps": [step for _, step, _, _ in best], "choices": [choice for _, _, choice, _ in best],
              "segment": SEGMENT, "chunks": sum(len(payloads) for *_, payloads in best), **codec.header()}
    return fields, [payload for *_, payloads in best for payload in payloads]


def decode_channels(codec: SegmentCodec, header: dict, payloads: list[bytes], path: Any) -> np.ndarray:
    """The mirror of :func:`encode_channels`: ``(C, S)`` float64. Chunks are decoded in forked processes where the
    platform forks and there are more chunks than cores (a Holter's hours), else in threads."""
    samples, data = header["samples"], np.zeros((header["channels"], header["samples"]))
    chunks = [(c, part, step, choice) for c, (step, choice) in enumerate(zip(header["steps"], header["choices"]))
              for part in segments(samples)]
    if len(chunks) != len(payloads):
        raise CodecError(f"{path}: {len(payloads)} chunks for {len(chunks)} segments")
    job = (codec, chunks, payloads, path)
    processes = _processes(len(chunks)) if len(chunks) > available_cores() else 1
    if processes == 1:
        with ThreadPoolExecutor(min(available_cores(), len(chunks))) as pool:
            decoded = list(pool.map(functools.partial(_decoded_chunk, job), range(len(chunks))))
    else:
        decoded = _forked_map(_decoded_chunk, job, len(chunks), processes, chunksize=-(-len(chunks) // processes))
    for (c, part, _, _), values in zip(chunks, decoded):
        data[c, part] = values
    return data


def _decoded_chunk(job: tuple, index: int) -> np.ndarray:
    """Chunk ``index`` of ``job`` (codec, chunks, payloads, path) decoded."""
    codec, chunks, payloads, path = job
    _, part, step, choice = chunks[index]
    try:
        reader = Reader(payloads[index])
        mean = reader.float64()
        return codec.read_segment(reader, part.stop - part.start, step, choice) + mean
    except (ValueError, IndexError, OverflowError) as error:
        raise CodecError(f"{path}: chunk {index} is malformed: {error}") from None
