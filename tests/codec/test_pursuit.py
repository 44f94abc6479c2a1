"""The san codec's matching pursuit: the Gram matrix and synthesis against naive loops, recovery of separated atoms,
the stopping rule, kernel adaptation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sanets.codec import _pursuit as P


def atoms_of(count: int = 3, width: int = 31, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(width) - width // 2
    kernels = [torch.tensor(np.exp(-t**2 / (2 * (2 + 3 * k) ** 2)) * np.cos(t * (0.3 + 0.4 * k)) + 0.01 * rng.standard_normal(width))
               for k in range(count)]
    return P.dictionary(kernels)


def test_the_dictionary_centres_kernels_of_every_size_at_unit_norm():
    atoms = P.dictionary([torch.ones(3), torch.arange(5.0)])
    np.testing.assert_allclose(np.linalg.norm(atoms, axis=1), 1)
    np.testing.assert_allclose(atoms[0], [0, 1, 1, 1, 0] / np.sqrt(3))


def test_the_gram_matrix_is_every_pair_of_atoms_correlated_at_every_shift():
    atoms = atoms_of(3, 9)
    gram = P.gram(atoms)
    for k in range(3):
        for j in range(3):
            for d in range(-8, 9):
                naive = sum(atoms[k, t] * atoms[j, t + d] for t in range(9) if 0 <= t + d < 9)
                assert gram[k, j, d + 8] == pytest.approx(naive, abs=1e-12)


def test_synthesis_adds_each_quantised_atom_at_its_start_and_drops_the_margins():
    atoms = atoms_of(2, 7)
    counts = np.array([2, 1])
    starts, kernels, levels = np.array([0, 10, 500]), np.array([1, 0, 1]), np.array([3, -2, 5])
    length = P.BLOCK + 300
    got = P.synthesise(counts, starts, kernels, levels, atoms, 0.5, length)
    expected = np.zeros(2 * P.BLOCK + 12)
    for block, start, kernel, level in zip([0, 0, 1], starts, kernels, levels):
        first = block * P.BLOCK + start - 6
        for t in range(7):
            if 0 <= first + t and (first + t) // P.BLOCK == block and 0 <= first + t - block * P.BLOCK < P.BLOCK:
                expected[first + t] += 0.5 * level * atoms[kernel, t]
    np.testing.assert_allclose(got, expected[:length])


def test_pursuit_recovers_separated_atoms_whose_amplitudes_are_multiples_of_the_step():
    atoms, step = atoms_of(3, 31), 0.25
    truth = [(100, 0, 12), (300, 2, -7), (555, 1, 20), (1500, 0, 9)]
    x = np.zeros(2000)
    for start, kernel, level in truth:
        x[start : start + 31] += level * step * atoms[kernel]
    counts, starts, kernels, levels = P.pursue(x, atoms, step)
    found = sorted(zip(P.global_starts(counts, starts, 31).tolist(), kernels.tolist(), levels.tolist()))
    assert found == sorted(truth)
    np.testing.assert_allclose(P.synthesise(counts, starts, kernels, levels, atoms, step, len(x)), x, atol=1e-9)


def test_pursuit_stops_when_no_correlation_reaches_the_threshold():
    atoms, step = atoms_of(2, 15), 0.3
    x = np.random.default_rng(4).standard_normal(1024) * 0.4
    spikes = P.pursue(x, atoms, step)
    assert 10 < spikes[0].sum() < P.BLOCK  # stopped by the threshold, not by the cap
    residual = x - P.synthesise(*spikes, atoms, step, len(x))
    # Where an atom lies wholly inside the block, its correlation is the pursuit's own.
    correlations = np.array([np.correlate(residual, atom, mode="valid") for atom in atoms])
    assert np.abs(correlations).max() < P.THRESHOLD * step + 1e-9


def test_adaptation_finds_the_shape_that_recurs():
    rng = np.random.default_rng(5)
    t = np.arange(64) - 20
    shape = np.exp(-t**2 / 18.0) - 0.4 * np.exp(-(t - 8) ** 2 / 30.0)
    shape /= np.linalg.norm(shape)
    x = 0.05 * rng.standard_normal(20000)
    for start in range(50, 19900, 230):
        x[start : start + 64] += rng.uniform(2, 3) * shape
    start_from = P.dictionary([torch.tensor(np.exp(-(np.arange(64) - 32) ** 2 / 200.0))])
    def likeness(kernel: np.ndarray) -> float:  # the shape up to a shift
        return float(np.abs(np.correlate(np.pad(kernel, 64), shape, mode="valid")).max())

    adapted = P.adapt(x, start_from, P.adapt_step(x, 64, 0.5), rounds=3)
    assert likeness(start_from[0]) < 0.8 and likeness(adapted[0]) > 0.98
    np.testing.assert_allclose(np.linalg.norm(adapted, axis=1), 1)


def test_correlations_by_fft_are_each_atom_slid_along_each_block():
    rng = np.random.default_rng(6)
    blocks, atoms = rng.standard_normal((3, 90)), rng.standard_normal((2, 17))
    expected = np.array([[np.correlate(block, atom, mode="valid") for atom in atoms] for block in blocks])
    found = P.correlations(blocks, atoms)
    assert found.dtype == np.float32  # single precision: errors near 1e-7 of the largest
    np.testing.assert_allclose(found, expected, atol=1e-5 * np.abs(expected).max())


def _staged_search(sizes: dict) -> tuple:
    """Drive the san codec's staged choice as :func:`sanets.codec._channels._search` does, on sizes known in advance."""
    from concurrent.futures import Future

    from sanets.codec._channels import _search

    def submit(choice):
        future = Future()
        future.set_result((sizes[choice], choice))
        return future

    return _search(P.PursuitCodec([torch.ones(4)]), [submit])[0][1]


def test_the_staged_choice_finds_the_smallest_file_where_no_wavelet_is_far_below_bior44_without_spikes():
    rng = np.random.default_rng(0)
    for _ in range(100):
        plain = 9_000 + rng.integers(0, 4000)
        sizes = {choice: 10_000 + rng.integers(0, 500) if choice[0] is not None
                 else plain * rng.uniform(1 - P.WAVELET_MARGIN / 2, 1.1) for choice in P.PursuitCodec.choices}
        sizes[(None, P.RESIDUAL_WAVELET)] = plain
        assert _staged_search(sizes) == min(sizes, key=sizes.get)


def test_other_wavelets_are_tried_only_where_no_spikes_come_close_to_spikes():
    spiky = {choice: 1000 if choice[0] is not None else 2000 for choice in P.PursuitCodec.choices}
    spiky[(None, "coif3")] = 999  # not found: spikes are far better than bior4.4 without them
    assert _staged_search(spiky)[0] is not None
    close = spiky | {(None, P.RESIDUAL_WAVELET): 1020, (None, "coif3"): 990}
    assert _staged_search(close) == (None, "coif3")


def test_the_typical_amplitude_is_the_median_event_amplitude():
    rng = np.random.default_rng(4)
    width = 41
    kernel = np.exp(-0.5 * ((np.arange(width) - 20) / 4) ** 2)
    kernel /= np.linalg.norm(kernel)
    starts = np.arange(100, 20_000, 317)
    amplitudes = rng.uniform(2.0, 4.0, len(starts)) * rng.choice([-1, 1], len(starts))
    x = 0.01 * rng.standard_normal(20_200)
    for start, amplitude in zip(starts, amplitudes):
        x[start : start + width] += amplitude * kernel
    found, _ = P.correlate(x, P.with_derivatives(kernel[None]))
    assert P.typical_amplitude(found, 1, width) == pytest.approx(np.median(np.abs(amplitudes)), rel=0.02)
    assert P.typical_amplitude(np.zeros_like(found), 1, width) == 0.0


def test_the_search_of_several_channels_keeps_each_ones_smallest_and_starts_each_on_its_own():
    from concurrent.futures import Future

    from sanets.codec._channels import _search

    order = []

    def submitter(channel: int, sizes: dict):
        def submit(choice):
            order.append(channel)
            future = Future()
            future.set_result((sizes[choice], choice))
            return future
        return submit

    choices = P.PursuitCodec.choices
    sizes = [{choice: 100 + i for i, choice in enumerate(choices)}, {choice: 100 - i for i, choice in enumerate(choices)}]
    found = _search(P.PursuitCodec([torch.ones(4)]), [submitter(c, s) for c, s in enumerate(sizes)])
    assert [choice for _, choice in found] == [min(s, key=s.get) for s in sizes]  # a spike choice, then a wavelet's
    assert found[0][1][0] is not None and found[1][1] == (None, "coif3")
    assert order[:2] == [0, 1]  # interleaved: the workers start on different channels
