"""Beats from a SAN's spikes (sanets.detect_beats) and their scores against reference annotations."""

from __future__ import annotations

import numpy as np
import pytest

import sanets
from sanets._beat_scores import (
    aami_classes,
    class_scores,
    majority_mapping,
    score_beats,
)
from sanets._beats import (
    beat_model,
    blind_to_slow_waves,
    fit_beat_model,
    pick_beats,
    remove_baseline,
)
from sanets.errors import DataError

pytest.importorskip("wfdb")
pytest.importorskip("scipy")


def naive_matches(reference: np.ndarray, detected: np.ndarray, window: int) -> list[tuple[int, int]]:
    """Pairs (reference index, detected index) within ``window``, for detections each near one reference beat at most."""
    return [(i, j) for j, d in enumerate(detected) for i, r in enumerate(reference) if abs(r - d) <= window]


def test_scores_of_a_small_case_computed_by_hand():
    scores = score_beats(np.array([100, 300, 500, 700]), np.array([105, 290, 560, 900]), 100.0)
    assert (scores.tp, scores.fp, scores.fn) == (2, 2, 2)
    assert scores.sensitivity == scores.ppv == scores.f1 == 0.5
    assert scores.median_error == pytest.approx(0.075)  # |105 - 100| and |290 - 300| samples at 100 Hz


@pytest.mark.parametrize("seed", range(5))
def test_scores_match_an_independent_matching_of_well_separated_beats(seed):
    rng = np.random.default_rng(seed)
    reference = np.cumsum(rng.integers(200, 400, 60))
    kept = reference[rng.random(60) > 0.1]
    # Each detection is 0-40 samples off its beat, or 70-90 (beyond the 54 of 150 ms), or far from every beat.
    offsets = rng.choice([-1, 1], len(kept)) * np.where(rng.random(len(kept)) < 0.8, rng.integers(0, 41, len(kept)),
                                                        rng.integers(70, 91, len(kept)))
    extra = reference[:-1] + 100
    detected = np.sort(np.concatenate([kept + offsets, extra[rng.random(len(extra)) < 0.1]]))
    pairs = naive_matches(reference, detected, 54)
    scores = score_beats(reference, detected, 360.0)
    assert scores.tp == len(pairs)
    assert (scores.fp, scores.fn) == (len(detected) - len(pairs), len(reference) - len(pairs))
    assert scores.f1 == pytest.approx(2 * len(pairs) / (len(detected) + len(reference)))
    assert scores.median_error == pytest.approx(np.median([abs(detected[j] - reference[i]) for i, j in pairs]) / 360)


def test_no_detection_scores_zero_sensitivity():
    scores = score_beats(np.array([10, 20]), np.array([], dtype=int), 100.0)
    assert (scores.tp, scores.fn, scores.sensitivity, scores.f1) == (0, 2, 0.0, 0.0) and np.isnan(scores.ppv)


def test_clusters_are_named_on_the_first_half_and_scored_on_the_second():
    clusters = np.array([0, 0, 1, 1, 2, 0, 1, 1, 2, 3])
    classes = np.array(["N", "N", "V", "N", "V", "N", "V", "N", "V", "V"])
    assert majority_mapping(clusters[:5], classes[:5]) == {0: "N", 1: "N", 2: "V"}  # 1: one each, N first
    # second half: clusters 0 1 1 2 3 -> N N N V N(default); truth N V N V V: V found once of three, no false V
    assert class_scores(clusters, classes, 5) == pytest.approx((1 / 3, 1.0, 0.5))


def test_aami_classes_of_mitbih_symbols():
    assert list(aami_classes(np.array(["N", "L", "A", "V", "E", "F", "/", "Q", "?"]))) == ["N", "N", "S", "V", "V", "F", "Q", "Q", ""]


def test_refractory_period_and_t_waves_by_the_rule():
    rate = 100.0
    beats = np.arange(100, 3000, 80)
    samples = np.sort(np.concatenate([beats, beats + 10, beats + 30]))  # a beat, a bump inside 0.2 s, a T wave at 0.3 s
    strengths = np.where(np.isin(samples, beats), 1.0, np.where(np.isin(samples, beats + 10), 0.9, 0.45))
    picked = samples[pick_beats(samples, strengths, rate)]
    np.testing.assert_array_equal(picked, beats)


def test_p_waves_smaller_than_half_the_beat_level_before_a_larger_spike_are_not_beats():
    rate = 100.0
    beats = np.arange(100, 4600, 150)
    noise = np.concatenate([beats + 40, beats + 65, beats + 90])  # 0.1 each: the noise level stays near 0.1
    # Before every fourth beat, 0.25 s ahead, a P wave of 0.4: above the threshold (about 0.33) but under half the
    # beat level (1), and its beat (0.7) not twice it; then two real beats 0.3 s apart, the second larger: both kept.
    small = beats[::4]
    pair = np.array([4700, 4730])
    samples = np.concatenate([beats, noise, small - 25, pair])
    strengths = np.concatenate([np.where(np.isin(beats, small), 0.7, 1.0), np.full(len(noise), 0.1),
                                np.full(len(small), 0.4), [0.9, 1.1]])
    order = np.argsort(samples)
    picked = samples[order][pick_beats(samples[order], strengths[order], rate)]
    np.testing.assert_array_equal(picked, np.concatenate([beats, pair]))


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_a_kernel_blind_to_slow_waves_ignores_every_polynomial_of_its_degree(degree):
    rng = np.random.default_rng(degree)
    kernels = rng.standard_normal((3, 36))
    blind = blind_to_slow_waves(kernels, degree)
    t = np.linspace(-1.0, 1.0, 36)
    for power in range(degree + 1):
        np.testing.assert_allclose(blind @ (3.0 + 2.0 * t) ** power, 0.0, atol=1e-9)
    np.testing.assert_allclose(blind_to_slow_waves(blind, degree), blind, atol=1e-12)  # a projection
    # What it removes is the least-squares polynomial fit, computed here independently.
    fits = np.stack([np.polyval(np.polyfit(t, row, degree), t) for row in kernels])
    np.testing.assert_allclose(blind, kernels - fits, atol=1e-9)


def test_a_missing_rate_and_a_multichannel_model_are_refused():
    with pytest.raises(DataError, match="sampling rate"):
        sanets.detect_beats(beat_model(np.ones((1, 1)), 100.0), np.zeros(1000))
    with pytest.raises(DataError, match="codes 2 input channels"):
        sanets.detect_beats(sanets.SAN([5], in_channels=2), np.zeros((2, 1000)), sampling_rate=250.0)


def synthetic_ecg(rate: float, seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sharp biphasic QRS complexes under tall broad T waves 0.25 s later, baseline wander and noise; and the beats."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    beats = np.cumsum(rng.uniform(0.7, 1.1, int(seconds)))
    beats = beats[beats < seconds - 1]
    x = 0.3 * np.sin(2 * np.pi * 0.2 * t) + 0.02 * rng.standard_normal(len(t))
    for b in beats:
        x += -np.gradient(np.exp(-0.5 * ((t - b) / 0.012) ** 2)) * 0.012 * rate * 1.5
        x += 1.2 * np.exp(-0.5 * ((t - b - 0.25) / 0.05) ** 2)
    return x, np.round(beats * rate).astype(int)


def test_learned_kernels_find_the_qrs_where_a_delta_kernel_takes_t_waves_too():
    x, reference = synthetic_ecg(250.0, 120.0)
    learned = sanets.detect_beats(fit_beat_model([x], 250.0), x, sampling_rate=250.0, as_frame=False)
    delta = sanets.detect_beats(beat_model(np.ones((1, 1)), 250.0), x, sampling_rate=250.0, as_frame=False)
    assert score_beats(reference, learned["sample"], 250.0).f1 == 1.0
    assert score_beats(reference, delta["sample"], 250.0).ppv < 0.8


def test_remove_baseline_keeps_the_band_and_removes_wander():
    rate = 360.0
    t = np.arange(int(20 * rate)) / rate
    kept, wander = np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 0.05 * t)
    filtered = remove_baseline(kept + wander, rate)
    middle = slice(len(t) // 4, 3 * len(t) // 4)
    assert np.max(np.abs(filtered[middle] - kept[middle])) < 0.05
    with pytest.raises(DataError, match="cannot hold"):
        remove_baseline(kept, 50.0)


@pytest.mark.parametrize("m", [7, 8])
def test_a_beat_is_dated_where_its_pattern_peaks(m):
    from sanets._beats import fiducial_offsets

    kernel = np.sin(np.linspace(0, 2.5, m)) * np.linspace(1, 0.2, m)  # largest at a known index
    model = beat_model(kernel[None], 100.0)
    x = np.zeros(200)
    start = 90
    x[start : start + m] = kernel
    spikes = sanets.events(model, x, as_frame=False)
    spike = spikes["sample"][np.argmax(np.abs(spikes["amplitude"]))]
    assert spike + fiducial_offsets(model)[0] == start + int(np.argmax(np.abs(kernel)))


@pytest.mark.parametrize("seed", range(3))
def test_beats_are_dated_at_the_largest_deflection_near_their_spike(seed):
    from sanets._beats import qrs_peaks

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(500)
    samples = np.sort(rng.choice(500, 40, replace=False))
    expected = []
    for s in samples:  # naive: scan the clipped span, first largest |x|
        lo, hi = max(s - 6, 0), min(s + 6, 499)
        expected.append(lo + int(np.argmax(np.abs(x[lo : hi + 1]))))
    np.testing.assert_array_equal(qrs_peaks(x, samples, 6), expected)


def test_detected_beats_lie_on_the_qrs_peaks_of_a_synthetic_ecg():
    x, reference = synthetic_ecg(250.0, 60.0, seed=3)
    found = sanets.detect_beats(fit_beat_model([x], 250.0), x, sampling_rate=250.0, as_frame=False)["sample"]
    filtered = remove_baseline(x, 250.0)
    # The biphasic QRS's largest deflection is one of its two lobes, 0.012 s (3 samples) from the beat's centre.
    assert len(found) == len(reference) and np.all(np.abs(found - reference) <= 4)
    assert all(abs(filtered[b]) == np.max(np.abs(filtered[b - 12 : b + 13])) for b in found)
