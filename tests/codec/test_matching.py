"""Matching pursuit, the san codec's spike finder (``sanets.codec._matching``): the Gram matrix and synthesis against
naive loops, recovery of separated atoms, the stopping rule, FFT correlations, the typical amplitude."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sanets.codec import _matching as M


def atoms_of(count: int = 3, width: int = 31, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(width) - width // 2
    kernels = [torch.tensor(np.exp(-t**2 / (2 * (2 + 3 * k) ** 2)) * np.cos(t * (0.3 + 0.4 * k)) + 0.01 * rng.standard_normal(width))
               for k in range(count)]
    return M.dictionary(kernels)


def test_the_dictionary_centres_kernels_of_every_size_at_unit_norm():
    atoms = M.dictionary([torch.ones(3), torch.arange(5.0)])
    np.testing.assert_allclose(np.linalg.norm(atoms, axis=1), 1)
    np.testing.assert_allclose(atoms[0], [0, 1, 1, 1, 0] / np.sqrt(3))


def test_the_gram_matrix_is_every_pair_of_atoms_correlated_at_every_shift():
    atoms = atoms_of(3, 9)
    gram = M.gram(atoms)
    for k in range(3):
        for j in range(3):
            for d in range(-8, 9):
                naive = sum(atoms[k, t] * atoms[j, t + d] for t in range(9) if 0 <= t + d < 9)
                assert gram[k, j, d + 8] == pytest.approx(naive, abs=1e-12)


def test_synthesis_adds_each_quantised_atom_at_its_start_and_drops_the_margins():
    atoms = atoms_of(2, 7)
    counts = np.array([2, 1])
    starts, kernels, levels = np.array([0, 10, 500]), np.array([1, 0, 1]), np.array([3, -2, 5])
    length = M.BLOCK + 300
    got = M.synthesise(counts, starts, kernels, levels, atoms, 0.5, length)
    expected = np.zeros(2 * M.BLOCK + 12)
    for block, start, kernel, level in zip([0, 0, 1], starts, kernels, levels):
        first = block * M.BLOCK + start - 6
        for t in range(7):
            if 0 <= first + t and (first + t) // M.BLOCK == block and 0 <= first + t - block * M.BLOCK < M.BLOCK:
                expected[first + t] += 0.5 * level * atoms[kernel, t]
    np.testing.assert_allclose(got, expected[:length])


def test_pursuit_recovers_separated_atoms_whose_amplitudes_are_multiples_of_the_step():
    atoms, step = atoms_of(3, 31), 0.25
    truth = [(100, 0, 12), (300, 2, -7), (555, 1, 20), (1500, 0, 9)]
    x = np.zeros(2000)
    for start, kernel, level in truth:
        x[start : start + 31] += level * step * atoms[kernel]
    counts, starts, kernels, levels = M.pursue(x, atoms, step)
    found = sorted(zip(M.global_starts(counts, starts, 31).tolist(), kernels.tolist(), levels.tolist()))
    assert found == sorted(truth)
    np.testing.assert_allclose(M.synthesise(counts, starts, kernels, levels, atoms, step, len(x)), x, atol=1e-9)


def test_pursuit_stops_when_no_correlation_reaches_the_threshold():
    atoms, step = atoms_of(2, 15), 0.3
    x = np.random.default_rng(4).standard_normal(1024) * 0.4
    spikes = M.pursue(x, atoms, step)
    assert 10 < spikes[0].sum() < M.BLOCK  # stopped by the threshold, not by the cap
    residual = x - M.synthesise(*spikes, atoms, step, len(x))
    # Where an atom lies wholly inside the block, its correlation is the pursuit's own.
    correlations = np.array([np.correlate(residual, atom, mode="valid") for atom in atoms])
    assert np.abs(correlations).max() < M.THRESHOLD * step + 1e-9


def test_correlations_by_fft_are_each_atom_slid_along_each_block():
    rng = np.random.default_rng(6)
    blocks, atoms = rng.standard_normal((3, 90)), rng.standard_normal((2, 17))
    expected = np.array([[np.correlate(block, atom, mode="valid") for atom in atoms] for block in blocks])
    found = M.correlations(blocks, atoms)
    assert found.dtype == np.float32  # single precision: errors near 1e-7 of the largest
    np.testing.assert_allclose(found, expected, atol=1e-5 * np.abs(expected).max())


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
    found, _ = M.correlate(x, M.with_derivatives(kernel[None]))
    assert M.typical_amplitude(found, 1, width) == pytest.approx(np.median(np.abs(amplitudes)), rel=0.02)
    assert M.typical_amplitude(np.zeros_like(found), 1, width) == 0.0
