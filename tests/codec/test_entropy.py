"""The range coder's models: exact round trips, code lengths near the models' information content, parameter codes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanets.codec._entropy import (
    Reader,
    Writer,
    fitted_scale_code,
    fitted_scale_codes,
    probability_code,
    probability_of,
    scale_code,
    scale_of,
)


def laplace_bits(values: np.ndarray, scale: np.ndarray, one_sided: bool = False) -> float:
    """-log2 of each integer's mass under a Laplace(0, scale) quantised to bins of 1, summed."""
    k = np.abs(values).astype(float)
    with np.errstate(over="ignore", divide="ignore"):
        return _laplace_bits(values, k, scale, one_sided)


def _laplace_bits(values: np.ndarray, k: np.ndarray, scale: np.ndarray, one_sided: bool) -> float:
    cdf = lambda t: np.where(t < 0, 0.5 * np.exp(t / scale), 1 - 0.5 * np.exp(-t / scale))
    mass = np.where(values >= 0, cdf(values + 0.5) - cdf(values - 0.5), cdf(-k + 0.5) - cdf(-k - 0.5))
    if one_sided:
        mass = mass / (1 - cdf(-0.5))
    return float(-np.log2(mass).sum())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), count=st.integers(0, 300))
def test_property_every_model_reads_back_what_was_written(seed, count):
    rng = np.random.default_rng(seed)
    scales = rng.uniform(0.2, 30, count)
    signed = np.round(rng.laplace(0, scales)).astype(np.int64)
    unsigned = np.abs(signed)
    p = rng.uniform(0.001, 0.999, count)
    bits = (rng.uniform(size=count) < p).astype(np.int64)
    uniform = rng.integers(0, 2**20, count)
    categories = rng.integers(0, 5, count)
    shares = rng.dirichlet(np.ones(5))
    writer = Writer()
    writer.laplace(signed, scales)
    writer.geometric(unsigned, scales)
    writer.bernoulli(bits, p)
    writer.uniform(uniform, 20)
    writer.categorical(categories, shares)
    writer.float64(-math.pi * seed)
    writer.scales(scale_code(scales))
    reader = Reader(writer.bytes())
    np.testing.assert_array_equal(reader.laplace(count, scales), signed)
    np.testing.assert_array_equal(reader.geometric(count, scales), unsigned)
    np.testing.assert_array_equal(reader.bernoulli(count, p), bits)
    np.testing.assert_array_equal(reader.uniform(count, 20), uniform)
    np.testing.assert_array_equal(reader.categorical(count, shares), categories)
    assert reader.float64() == -math.pi * seed
    np.testing.assert_array_equal(reader.scales(count), scale_code(scales))


def test_code_lengths_are_the_models_information_content_within_a_few_words():
    rng = np.random.default_rng(1)
    scales = rng.uniform(0.5, 8, 20000)
    values = np.round(rng.laplace(0, scales)).astype(np.int64)
    writer = Writer()
    writer.laplace(values, scales)
    ideal = laplace_bits(values, scales) + 6  # and the 6-bit range
    assert ideal <= 8 * len(writer.bytes()) <= ideal * 1.002 + 64
    writer = Writer()
    magnitudes, scale = np.abs(values[:2000]), 3.0
    writer.geometric(magnitudes, scale)
    ratio = math.exp(-1 / scale)
    ideal = -(np.log2(1 - ratio) + magnitudes * np.log2(ratio)).sum() + 6
    assert ideal * 0.999 <= 8 * len(writer.bytes()) <= ideal * 1.002 + 64
    p = np.full(20000, 0.03)
    flips = (rng.uniform(size=20000) < p).astype(np.int64)
    writer = Writer()
    writer.bernoulli(flips, p)
    entropy = -(flips * np.log2(p) + (1 - flips) * np.log2(1 - p)).sum()
    assert 8 * len(writer.bytes()) <= entropy * 1.002 + 64


def test_the_fitted_scale_is_the_cheapest_of_all_256_codes_by_the_bits_written():
    rng = np.random.default_rng(2)
    for scale in (0.05, 0.7, 3.0, 40.0):
        values = np.abs(np.round(rng.laplace(0, scale, 400))).astype(np.int64)

        def written(code: int, values: np.ndarray = values) -> int:
            writer = Writer()
            writer.geometric(values, scale_of(code))
            return len(writer.bytes())

        best = written(fitted_scale_code(values))
        assert best <= min(written(code) for code in range(0, 256, 3)) + 1


def test_scales_fitted_per_group_are_each_groups_own_fit():
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 5, 300)
    groups[groups == 3] = 0  # an empty group
    values = np.abs(np.round(rng.laplace(0, 1 + 4 * groups))).astype(np.int64)
    expected = [fitted_scale_code(values[groups == g]) if np.any(groups == g) else scale_code(1.0) for g in range(6)]
    assert fitted_scale_codes(values, groups, 6).tolist() == expected


def test_parameter_codes_invert_within_their_resolution():
    p = np.array([1e-4, 0.01, 0.3, 0.5, 0.9, 0.9999])
    odds = np.log2(p / (1 - p))
    np.testing.assert_array_less(np.abs(np.log2(probability_of(probability_code(p)) / (1 - probability_of(probability_code(p)))) - odds), 1 / 16 + 1e-9)
    scales = np.array([0.001, 0.5, 1.0, 77.0])
    np.testing.assert_array_less(np.abs(np.log2(scale_of(scale_code(scales)) / scales)), 1 / 16 + 1e-9)


def test_a_value_beyond_its_width_is_refused():
    with pytest.raises(ValueError, match="does not fit 4 bits"):
        Writer().uniform(np.array([16]), 4)
