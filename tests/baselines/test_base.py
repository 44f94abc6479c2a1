"""The selection machinery every baseline shares: grids, refinement, screening, and a guard against diverged solvers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sanets.baselines import Baseline
from sanets.baselines._base import between_neighbours, integer_grid


class Scaled(Baseline):
    """x_hat = sparsity * x, sparsity in {0.25, 0.5, 1.0, 2.0}: each example costs its own size in nonzeros at 1.0."""

    name = "scaled"

    def __init__(self, choices=(None,), broken: bool = False):
        super().__init__()
        self._choices, self.broken = list(choices), broken

    def choices(self, spatial_shape):
        return self._choices

    def sparsities(self, choice, spatial_shape, examples):
        return [0.25, 0.5, 1.0, 2.0]

    def describe(self, choice, sparsity):
        return f"{choice}/{sparsity}"

    def _encode(self, choice, state, x, sparsity):
        return x * sparsity

    def _decode(self, choice, state, codes):
        return np.where(codes > 1, np.nan, codes) if self.broken else codes


def test_selection_takes_the_lowest_validation_phi_and_keeps_every_candidate():
    x = torch.ones(4, 1, 10)
    model = Scaled().fit(x, x)
    # Every sample is kept, so CR^-1 = 2 (value and index) at every sparsity; L~ = |1 - s|: s = 1 wins.
    assert model.sparsity == 1.0 and model.parameters == "None/1.0"
    assert [round(c.validation.reconstruction_loss, 6) for c in model.candidates] == [0.75, 0.5, 0.0, 1.0]
    assert model.evaluate(x).flithos == pytest.approx(2.0)
    assert model.validation == model.candidates[2].validation  # what fit chose on, not a second pass


def test_which_baselines_run_on_which_examples():
    from sanets.baselines import ConvolutionalDictionary, Wavelet

    assert Wavelet.runs_on(1) and Wavelet.runs_on(2) and not Wavelet.runs_on(3)
    assert not ConvolutionalDictionary.runs_on(2)
    assert ConvolutionalDictionary.runs_on(1) == (ConvolutionalDictionary.unavailable() is None)


def test_screening_compares_choices_on_the_first_examples_then_scores_the_chosen_one_on_all():
    model = Scaled(choices=("a", "b"))
    model.screen = 3
    model.fit(torch.ones(2, 1, 10), torch.ones(5, 1, 10))
    assert {(c.choice, c.examples) for c in model.candidates} == {("a", 5), ("b", 3)}


def test_a_solver_that_diverges_raises_instead_of_scoring_nan():
    x = torch.full((3, 1, 8), 1.0)
    with pytest.raises(FloatingPointError, match=r"Scaled \(None/2.0\) reconstructed non-finite values"):
        Scaled(broken=True).fit(x, x)


def test_grids():
    assert integer_grid(5, 8) == [1, 2, 3, 4, 5]
    grid = integer_grid(1000, 10)
    assert grid[0] == 1 and grid[-1] == 1000 and len(grid) == 10
    assert np.allclose(np.diff(np.log(grid[3:])), np.log(1000) / 9, rtol=0.2)  # geometric
    assert between_neighbours(10, [1, 10, 20]) == [*range(2, 10), *range(11, 20)]
    assert between_neighbours(1, [1, 4]) == [2, 3] and between_neighbours(4, [1, 4]) == [2, 3]
    assert len(between_neighbours(500, [1, 500, 1000], limit=16)) == 16


def test_a_baselines_bit_aware_phi_charges_the_index_of_its_codes():
    import math

    from sanets.baselines import DCT, Wavelet
    from sanets.metrics import flithos_bits

    x = torch.randn(10, 1, 64, generator=torch.Generator().manual_seed(3))
    dct = DCT(k=9).fit(x[:6], x[6:])
    assert dct.evaluate(x).flithos_bits == pytest.approx(dct.evaluate(x).flithos)  # n positions: the paper's count
    wavelet = Wavelet(["db4"], ["symmetric"], k=9).fit(x[:6], x[6:])
    codes = wavelet.encode(x)
    expected = flithos_bits(x, wavelet.decode(codes), codes, 0).mean().item()
    assert codes.shape[1] > 64 and math.isfinite(expected)
    assert wavelet.evaluate(x).flithos_bits == pytest.approx(expected)
