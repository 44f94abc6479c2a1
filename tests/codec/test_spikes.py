"""The spike streams: exact round trips (format 3, and format 2 as it was written), interval prediction by hand."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sanets.codec import _matching as M
from sanets.codec import _spikes as S
from sanets.codec._entropy import Reader, Writer


def _spikes(seed: int, length: int, step: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    atoms = rng.standard_normal((3, 21))
    return M.pursue(rng.standard_normal(length) * 3, atoms / np.linalg.norm(atoms, axis=1, keepdims=True), step)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), length=st.integers(1, 2500), step=st.floats(0.05, 2.0))
def test_property_spikes_read_back_exactly(seed, length, step):
    spikes = _spikes(seed, length, step)
    writer = Writer()
    S.write_spikes(writer, *spikes, 6, M.BLOCK)
    back = S.read_spikes(Reader(writer.bytes()), len(spikes[0]), 6, M.BLOCK)
    assert all(np.array_equal(a, b) for a, b in zip(spikes, back))


def test_a_regular_rhythm_is_predicted_from_the_previous_interval_and_costs_a_few_bits_a_spike(write_format_2_spikes):
    rng = np.random.default_rng(1)
    beats = np.cumsum(300 + np.cumsum(rng.integers(-2, 3, 400)))  # one spike per beat, the rate drifting
    block_of = beats // M.BLOCK
    counts = np.bincount(block_of, minlength=block_of.max() + 1)
    starts, kernels, levels = beats - block_of * M.BLOCK, np.zeros(400, np.int64), np.full(400, 5)
    intervals = np.diff(beats, prepend=0)
    median = int(np.median(intervals))
    assert min(range(S.LAGS), key=lambda lag: S._laplace_cost(intervals - S._predicted(intervals, lag, median))) == 1
    writer, before = Writer(), Writer()
    S.write_spikes(writer, counts, starts, kernels, levels, 2, M.BLOCK)
    write_format_2_spikes(before, counts, starts, kernels, levels, 2)
    assert 8 * (len(before.bytes()) - len(writer.bytes())) / 400 > 3  # a gap coded alone costs about log2(300) bits
    back = S.read_spikes(Reader(writer.bytes()), len(counts), 2, M.BLOCK)
    assert all(np.array_equal(a, b) for a, b in zip((counts, starts, kernels, levels), back))


def test_predictions_by_hand():
    intervals = np.array([10, 20, 12, 22])
    np.testing.assert_array_equal(S._predicted(intervals, 0, 15), [15, 15, 15, 15])
    np.testing.assert_array_equal(S._predicted(intervals, 1, 15), [15, 10, 20, 12])
    np.testing.assert_array_equal(S._predicted(intervals, 2, 15), [15, 15, 10, 20])
    np.testing.assert_array_equal(S.positions(np.array([2, 0, 1]), np.array([5, 9, 3]), 100), [5, 9, 203])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), length=st.integers(1, 2500))
def test_property_format_2_streams_still_read_back(seed, length, write_format_2_spikes):
    spikes = _spikes(seed, length, 0.3)
    writer = Writer()
    write_format_2_spikes(writer, *spikes, 6)
    back = S.read_spikes_v2(Reader(writer.bytes()), len(spikes[0]), 6)
    assert all(np.array_equal(a, b) for a, b in zip(spikes, back))
