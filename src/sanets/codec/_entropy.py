"""Arithmetic (range) coding of integer streams with parametric, context-dependent models (``constriction``).

A codec writes each chunk as one range-coded message: its side information (a
model's parameters, quantised) and its streams, in an order the decoder can
follow. Every model is chosen per symbol from what the decoder already knows
(earlier streams, the context classes they define) and from parameters sent
before the symbols, so both sides run vectorised: no symbol's model depends on a
symbol of the same call. Measured against lzma on the same streams in
``benchmarks/bench_codec.py``.

Models
------
- :meth:`Writer.uniform`: integers in ``[0, 2**bits)``.
- :meth:`Writer.laplace`: signed integers, a quantised Laplace of a given scale
  per symbol (its range sent first, as a bit length).
- :meth:`Writer.geometric`: non-negative integers, a geometric distribution (a categorical of its masses per
  distinct scale: constriction's one-sided Laplace lumps the cut-off tail into zero).
- :meth:`Writer.bernoulli`: bits, a probability per symbol.
- :meth:`Writer.scales` / :meth:`Writer.probabilities`: parameters as 8-bit codes
  (a Laplace scale in eighths of an octave; a probability in eighths of a bit of
  log-odds), the form side information is sent in.
"""

from __future__ import annotations

import numpy as np

from sanets._extras import require

__all__ = ["Reader", "Writer", "fitted_scale_code", "fitted_scale_codes", "probability_code", "probability_of", "scale_code", "scale_of"]

_SCALE_LOW = -12.0
"""log2 of the smallest Laplace scale a code names; codes step by 1/8 octave over 256 values (up to 2**20)."""


def _constriction():
    return require("constriction", "the .san codecs' entropy coder")


def scale_code(scale: np.ndarray | float) -> np.ndarray:
    """Laplace scales -> their 8-bit codes (nearest eighth of an octave, clipped to 2**-12 .. 2**19.9)."""
    return np.clip(np.round((np.log2(np.maximum(scale, 1e-300)) - _SCALE_LOW) * 8), 0, 255).astype(np.int32)


def scale_of(code: np.ndarray | int) -> np.ndarray:
    return 2.0 ** (np.asarray(code, dtype=np.float64) / 8 + _SCALE_LOW)


def probability_code(p: np.ndarray | float) -> np.ndarray:
    """Probabilities -> their 8-bit codes: log2-odds in eighths, clipped to +-15.9 (p from 1.6e-5 to 1 - 1.6e-5)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return (np.clip(np.round(8 * np.log2(p / (1 - p))), -127, 127) + 128).astype(np.int32)


def probability_of(code: np.ndarray | int) -> np.ndarray:
    return 1 / (1 + 2.0 ** (-(np.asarray(code, dtype=np.float64) - 128) / 8))


def _ratio(scale: np.ndarray | float) -> np.ndarray:
    """The geometric ratio of a scale: P(k) is proportional to ratio**k, exp(-1 / scale)."""
    return np.exp(-1 / np.maximum(np.asarray(scale, dtype=np.float64), 1e-6))


def fitted_scale_code(values: np.ndarray) -> int:
    """The 8-bit scale code whose geometric model (:meth:`Writer.geometric`) codes ``values`` (integers >= 0) in the
    fewest bits."""
    values = np.asarray(values, dtype=np.int64)
    return int(fitted_scale_codes(values, np.zeros(values.size, dtype=np.int64), 1)[0])


def fitted_scale_codes(values: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """:func:`fitted_scale_code` of each group ``values[groups == g]``, g in ``[0, count)``: ``(count,)`` int32 (an empty
    group's is scale 1's)."""
    sizes = np.bincount(groups, minlength=count)
    sums = np.bincount(groups, weights=np.asarray(values, dtype=np.int64), minlength=count)
    ratio = _ratio(scale_of(np.arange(256)))
    cost = -sizes[:, None] * np.log2(1 - ratio) - sums[:, None] * np.log2(np.maximum(ratio, 1e-300))
    return np.where(sizes > 0, np.argmin(cost, axis=1), scale_code(1.0)).astype(np.int32)


def _bit_length(values: np.ndarray) -> int:
    return int(np.max(np.abs(values), initial=0)).bit_length()


class Writer:
    """One range-coded message, written stream by stream."""

    def __init__(self) -> None:
        self._c = _constriction()
        self._encoder = self._c.stream.queue.RangeEncoder()

    def uniform(self, values: np.ndarray | int, bits: int) -> None:
        values = np.atleast_1d(np.asarray(values, dtype=np.int64))
        if values.size and (values.min() < 0 or values.max() >= 2**bits):
            raise ValueError(f"a value does not fit {bits} bits")
        for shift in range(0, bits, 16):  # constriction's uniform model takes fewer than 2**24 values
            width = min(16, bits - shift)
            if width > 0 and values.size:
                self._encoder.encode(((values >> shift) & (2**width - 1)).astype(np.int32), self._c.stream.model.Uniform(2**width))

    def laplace(self, values: np.ndarray, scale: np.ndarray | float, mean: np.ndarray | float = 0.0) -> None:
        values = np.asarray(values, dtype=np.int64)
        bits = _bit_length(values)
        self.uniform(bits, 6)
        if values.size and bits:
            family = self._c.stream.model.QuantizedLaplace(-(2**bits) + 1, 2**bits - 1)
            self._encoder.encode(values.astype(np.int32), family, *_parameters(values.size, mean, scale))

    def geometric(self, values: np.ndarray, scale: np.ndarray | float) -> None:
        """Integers >= 0, P(k) proportional to exp(-k / scale) (up to the largest, sent first as a bit length); the
        symbols of each scale coded together, in increasing order of scale."""
        values = np.asarray(values, dtype=np.int64)
        bits = _bit_length(values)
        self.uniform(bits, 6)
        if values.size and bits:
            for group, probabilities in _geometric_groups(values.size, scale, bits):
                self.categorical(values[group], probabilities)

    def bernoulli(self, bits: np.ndarray, p: np.ndarray | float) -> None:
        bits = np.asarray(bits, dtype=np.int32)
        if bits.size:
            self._encoder.encode(bits, self._c.stream.model.Bernoulli(perfect=False), np.broadcast_to(np.asarray(p, np.float64), bits.shape).copy())

    def categorical(self, values: np.ndarray, probabilities: np.ndarray) -> None:
        """Integers in ``[0, len(probabilities))``, one distribution for all."""
        values = np.asarray(values, dtype=np.int32)
        if values.size and len(probabilities) > 1:
            self._encoder.encode(values, self._c.stream.model.Categorical(np.asarray(probabilities, np.float64), perfect=False))

    def float64(self, value: float) -> None:
        bits = int(np.float64(value).view(np.uint64))
        self.uniform(np.array([bits >> 32, bits & 0xFFFFFFFF]), 32)

    def scales(self, codes: np.ndarray) -> None:
        self.uniform(codes, 8)

    probabilities = scales

    def bytes(self) -> bytes:
        return self._encoder.get_compressed().astype("<u4").tobytes()


class Reader:
    """The mirror of :class:`Writer`: the same calls in the same order give back the same values."""

    def __init__(self, payload: bytes) -> None:
        self._c = _constriction()
        if len(payload) % 4:
            raise ValueError("a range-coded payload is whole 32-bit words")
        self._decoder = self._c.stream.queue.RangeDecoder(np.frombuffer(payload, dtype="<u4").astype(np.uint32))

    def uniform(self, count: int, bits: int) -> np.ndarray:
        values = np.zeros(count, dtype=np.int64)
        for shift in range(0, bits, 16):
            width = min(16, bits - shift)
            if width > 0 and count:
                values |= self._decoder.decode(self._c.stream.model.Uniform(2**width), count).astype(np.int64) << shift
        return values

    def laplace(self, count: int, scale: np.ndarray | float, mean: np.ndarray | float = 0.0) -> np.ndarray:
        bits = int(self.uniform(1, 6)[0])
        if not count or not bits:
            return np.zeros(count, dtype=np.int64)
        family = self._c.stream.model.QuantizedLaplace(-(2**bits) + 1, 2**bits - 1)
        return self._decoder.decode(family, *_parameters(count, mean, scale)).astype(np.int64)

    def geometric(self, count: int, scale: np.ndarray | float) -> np.ndarray:
        bits = int(self.uniform(1, 6)[0])
        values = np.zeros(count, dtype=np.int64)
        if count and bits:
            for group, probabilities in _geometric_groups(count, scale, bits):
                values[group] = self.categorical(int(group.sum()), probabilities)
        return values

    def bernoulli(self, count: int, p: np.ndarray | float) -> np.ndarray:
        if not count:
            return np.zeros(0, dtype=np.int64)
        probabilities = np.broadcast_to(np.asarray(p, np.float64), (count,)).copy()
        return self._decoder.decode(self._c.stream.model.Bernoulli(perfect=False), probabilities).astype(np.int64)

    def categorical(self, count: int, probabilities: np.ndarray) -> np.ndarray:
        if not count or len(probabilities) < 2:
            return np.zeros(count, dtype=np.int64)
        return self._decoder.decode(self._c.stream.model.Categorical(np.asarray(probabilities, np.float64), perfect=False),
                                    count).astype(np.int64)

    def float64(self) -> float:
        high, low = (int(v) for v in self.uniform(2, 32))
        return float(np.uint64((high << 32) | low).view(np.float64))

    def scales(self, count: int) -> np.ndarray:
        return self.uniform(count, 8)

    probabilities = scales


def _geometric_groups(count: int, scale: np.ndarray | float, bits: int):
    """For each distinct scale (increasing): which symbols have it, and the geometric probabilities of 0 .. 2**bits - 1."""
    scales = np.broadcast_to(np.asarray(scale, dtype=np.float64), (count,))
    support = np.arange(2**bits, dtype=np.float64)
    for value in np.unique(scales):
        ratio = float(_ratio(value))
        probabilities = np.exp(support * np.log(max(ratio, 1e-300)))
        yield scales == value, probabilities / probabilities.sum()


def _parameters(count: int, mean: np.ndarray | float, scale: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return (np.broadcast_to(np.asarray(mean, np.float64), (count,)).copy(),
            np.broadcast_to(np.maximum(np.asarray(scale, np.float64), 1e-6), (count,)).copy())
