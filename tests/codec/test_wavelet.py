"""The wavelet codec: its quantiser by hand, band norms, exact round trips of its context coding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanets.codec import _wavelet as W
from sanets.codec._entropy import Reader, Writer

pywt = pytest.importorskip("pywt")


def test_the_dead_zone_quantiser_and_its_restoration_by_hand():
    bands = [np.array([0.0, 0.6, -0.6, 0.65, 1.62, -2.7])]
    levels = W.quantize(bands, 1.0, (1.0,))
    # floor(|c| + 0.37): 0.6 -> 0, 0.65 -> 1 (0.65 + 0.37 = 1.02), 1.62 -> 1, 2.7 -> 3
    np.testing.assert_array_equal(levels[0], [0, 0, 0, 1, 1, -3])
    np.testing.assert_allclose(W.dequantize(levels, 1.0, (1.0,))[0], [0, 0, 0, 1.05, 1.05, -3.05])
    np.testing.assert_array_equal(W.quantize([np.array([1.3])], 1.0, (2.0,))[0], [2])  # a band of norm 2: step 1/2, 2.6 + 0.37


def test_an_orthogonal_wavelets_bands_all_have_unit_norm_and_a_biorthogonals_do_not():
    np.testing.assert_allclose(W.band_norms("db4", 5, 1024), 1.0, rtol=1e-9)
    assert max(abs(norm - 1) for norm in W.band_norms("bior4.4", 5, 1024)) > 0.01


@settings(max_examples=30, deadline=None)
@given(length=st.integers(1, 3000), seed=st.integers(0, 2**16), wavelet=st.sampled_from(W.WAVELETS),
       step=st.floats(0.01, 3.0))
def test_property_a_segment_reads_back_its_levels_and_restores_to_what_the_encoder_measured(length, seed, wavelet, step):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(length)) + np.sin(np.arange(length) / 5) * 4
    restored, levels = W.reconstruct_segment(x, step, wavelet)
    writer = Writer()
    W.write_segment(writer, levels)
    back = W.read_segment(Reader(writer.bytes()), W.band_lengths(length, wavelet))
    assert [len(b) for b in back] == [len(b) for b in levels]
    assert all(np.array_equal(a, b) for a, b in zip(levels, back))
    norms = W.band_norms(wavelet, len(back) - 1, length)
    np.testing.assert_array_equal(W.inverse(W.dequantize(back, step, norms), wavelet, length), restored)


def test_the_error_of_each_band_is_within_its_quantisers_bins():
    x = np.random.default_rng(3).standard_normal(4096)
    bands = W.transform(x, "db4")
    norms = W.band_norms("db4", len(bands) - 1, 4096)
    for band, restored in zip(bands, W.dequantize(W.quantize(bands, 0.2, norms), 0.2, norms)):
        assert np.max(np.abs(band - restored)) <= 0.63 * 0.2 + 1e-12  # the zero bin reaches 1 - 0.37 steps


def test_an_unknown_wavelet_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="wavelet must be 'auto' or a discrete wavelet.*bior4.4"):
        W.WaveletCodec("morlet")


@pytest.mark.parametrize("wavelet", W.WAVELETS)
@pytest.mark.parametrize("length", [4096, 5000])
def test_the_error_estimated_in_the_bands_is_the_restored_error_exact_where_orthogonal(wavelet, length):
    x = np.cumsum(np.random.default_rng(5).standard_normal(length))
    transformed = W.Transformed(x, wavelet)
    # Parseval holds for an orthogonal wavelet on a power-of-two length; biorthogonal wavelets have small cross
    # terms, and periodization pads odd-length levels
    exact = length == 4096 and max(abs(n - 1) for n in transformed.norms) < 1e-9
    for step in (0.05, 0.3, 2.0):
        restored, _ = transformed.code(step)
        actual = float(np.sum((x - restored) ** 2))
        assert transformed.squared_error(step) == pytest.approx(actual, rel=1e-9 if exact else 0.05)


@settings(max_examples=20, deadline=None)
@given(length=st.integers(16, 3000), seed=st.integers(0, 2**16))
def test_property_side_magnitudes_steer_contexts_and_the_levels_read_back(length, seed):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(length))
    _, levels = W.reconstruct_segment(x, 0.5, "bior4.4")
    side = W.side_magnitudes(x + rng.standard_normal(length), 0.5, "bior4.4")
    writer = Writer()
    W.write_segment(writer, levels, side)
    back = W.read_segment(Reader(writer.bytes()), W.band_lengths(length, "bior4.4"), side)
    assert all(np.array_equal(a, b) for a, b in zip(levels, back))


def test_side_magnitudes_where_the_coefficients_are_large_save_bits():
    rng = np.random.default_rng(0)
    x = np.zeros(8192)
    for start in range(100, 8000, 400):  # sharp events on silence: what a QRS misfit looks like
        x[start : start + 12] = rng.standard_normal(12) * 4
    _, levels = W.reconstruct_segment(x, 0.1, "bior4.4")
    plain, hinted = Writer(), Writer()
    W.write_segment(plain, levels)
    W.write_segment(hinted, levels, W.side_magnitudes(x, 0.1, "bior4.4"))
    assert len(hinted.bytes()) < 0.95 * len(plain.bytes())
