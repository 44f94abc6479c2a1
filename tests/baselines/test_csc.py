"""ConvolutionalDictionary: SPORCO's convolutional sparse coding; W = atoms x length, 2 numbers a nonzero."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sanets import metrics
from sanets.baselines._csc import ConvolutionalDictionary

pytest.importorskip("sporco")

SMALL = {"atoms": (2,), "lengths": (8,), "penalties": (1.0, 0.3), "iterations": 20}


def noise(n: int, *spatial: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, *spatial, generator=generator, dtype=torch.float64)


def circular_synthesis(atoms: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """sum_k d_k (*) z_k, circularly, by definition: ``atoms (m, q)``, ``maps (N, q, L)`` -> ``(N, L)``."""
    n, q, length = maps.shape
    out = np.zeros((n, length))
    for k in range(q):
        for shift in range(atoms.shape[0]):
            out += atoms[shift, k] * np.roll(maps[:, k], shift, axis=1)
    return out


def test_costs_by_hand_with_a_spike_atom():
    # With the atom [1, 0, 0, 0], coding is soft thresholding and debiasing restores the spikes exactly.
    x = torch.zeros(1, 1, 20, dtype=torch.float64)
    x[0, 0, [2, 9, 15]] = torch.tensor([5.0, -4.0, 6.0], dtype=torch.float64)
    model = ConvolutionalDictionary(**SMALL).fit(noise(3, 20), noise(2, 20, seed=1))
    model.choice, model.state, model.sparsity = (1, 4), (np.eye(4)[:, :1], 1.0), 1.0
    codes = model.encode(x)
    assert codes.shape == (1, 1, 20) and torch.nonzero(codes[0, 0]).flatten().tolist() == [2, 9, 15]
    np.testing.assert_allclose(model.decode(codes).numpy(), x.numpy(), atol=1e-6)
    assert model.num_weights == 4 and model.parameters == "atoms=1/m=4/lambda=1"
    assert model.evaluate(x).inverse_compression_ratio == pytest.approx((4 + 2 * 3) / 20)
    assert model.evaluate(x).reconstruction_loss < 1e-6
    # Without debiasing, the L1 penalty shrinks each spike by lambda x RMS = 1: L~ = 3 / 15.
    model.debias_iterations = 0
    assert model.evaluate(x).reconstruction_loss == pytest.approx(3 / 15, abs=1e-3)


def test_decode_is_the_circular_synthesis_of_the_codes():
    x = noise(6, 48)
    model = ConvolutionalDictionary(**SMALL).fit(x[:4], x[4:])
    atoms, _ = model.state
    assert atoms.shape == (8, 2) and model.num_weights == 16
    np.testing.assert_allclose(np.linalg.norm(atoms, axis=0), 1, atol=1e-6)
    codes = model.encode(x)
    assert codes.shape == (6, 2, 48)
    expected = circular_synthesis(atoms, codes.numpy())
    np.testing.assert_allclose(model.decode(codes)[:, 0].numpy(), expected, atol=1e-10)


def test_round_trip_matches_the_metric_and_selection_is_seeded(shared):
    from sanets.datasets import load_physionet

    splits = load_physionet("mitdb", data_dir=shared, download=False)
    model = ConvolutionalDictionary.quick().fit(splits.train, splits.validation, seed=0)
    codes = model.encode(splits.test)
    x_hat = model.decode(codes)
    assert x_hat.shape == splits.test.shape and codes.shape == (4, 2, 1000)
    phi = metrics.flithos(splits.test, x_hat, codes, model)
    assert model.evaluate(splits.test).flithos == pytest.approx(phi.mean().item(), rel=1e-5)
    icr = (model.num_weights + 2 * (codes != 0).flatten(1).sum(1).double()) / 1000
    assert model.evaluate(splits.test).inverse_compression_ratio == pytest.approx(icr.mean().item())
    best = min(model.candidates, key=lambda c: c.validation.flithos)
    assert (best.choice, best.sparsity) == (model.choice, model.sparsity)
    assert model.evaluate(splits.test).flithos < 0.6  # measured 0.38 (full grids: 0.36)
    again = ConvolutionalDictionary.quick().fit(splits.train, splits.validation, seed=0)
    assert again.parameters == model.parameters and np.array_equal(again.state[0], model.state[0])
    other = model.learn(model.choice, splits.train[:, 0].numpy().astype(np.float64), 1)[0]
    assert not np.allclose(other, model.state[0])


def test_grids_and_refinement():
    model = ConvolutionalDictionary()
    assert model.choices((1000,)) == [(q, m) for q in (2, 4, 8) for m in (16, 32, 64)]
    assert model.choices((178,)) == [(2, 16), (2, 32), (4, 16), (4, 32), (8, 16)]  # W = 8 x 32 >= 178
    assert model.sparsities((2, 16), (1000,), 2) == [5.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.2]
    assert model.refine((2, 16), 2.0, [5.0, 3.0, 2.0, 1.5]) == pytest.approx([math.sqrt(6), math.sqrt(3)])
    assert model.refine((2, 16), 5.0, [5.0, 3.0]) == pytest.approx([math.sqrt(15)])


def test_bad_input_gives_clear_errors():
    x = noise(4, 40)
    with pytest.raises(RuntimeError, match="not fitted"):
        ConvolutionalDictionary().encode(x)
    with pytest.raises(ValueError, match=r"1D signals \(N, 1, L\) only"):
        ConvolutionalDictionary().fit(noise(4, 28, 28), noise(2, 28, 28))
    with pytest.raises(ValueError, match="lengths"):
        ConvolutionalDictionary(lengths=(64,)).fit(x, x)
    for arguments, message in [({"atoms": (0,)}, "atoms"), ({"lengths": []}, "lengths"),
                               ({"penalties": (1.0, -1.0)}, "penalties"), ({"penalties": "1"}, "penalties"),
                               ({"learn_penalty": float("nan")}, "learn_penalty"), ({"iterations": 0}, "iterations"),
                               ({"debias_iterations": -1}, "debias_iterations")]:
        with pytest.raises((TypeError, ValueError), match=message):
            ConvolutionalDictionary(**arguments)
    model = ConvolutionalDictionary(**SMALL).fit(x, x)
    with pytest.raises(ValueError, match=r"\(N, 1, L\)"):
        model.encode(noise(2, 8, 5))
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 2, 40\)"):
        model.decode(torch.zeros(2, 2, 39))
    with pytest.raises(ValueError, match="all zeros"):
        ConvolutionalDictionary(**SMALL).fit(torch.zeros(2, 1, 40), x)


def test_debiasing_is_least_squares_on_the_support_and_stays_finite_after_converging():
    # Many more CG iterations than nonzeros: CG converges early and must then stop, not divide noise by noise.
    x = noise(3, 1, 40, seed=2)[:, 0]
    model = ConvolutionalDictionary(**SMALL).fit(x, x)
    model.sparsity, model.debias_iterations = 2.0, 300
    atoms, _ = model.state
    codes = model.encode(x).numpy()
    assert np.isfinite(codes).all()
    columns = {(k, t): np.roll(np.pad(atoms[:, k], (0, 40 - len(atoms))), t) for k in range(atoms.shape[1]) for t in range(40)}
    for signal, maps in zip(x[:, 0].numpy(), codes):
        support = [(k, t) for k, t in zip(*np.nonzero(maps))]
        matrix = np.stack([columns[kt] for kt in support], 1)
        expected = np.linalg.lstsq(matrix, signal, rcond=None)[0]
        np.testing.assert_allclose([maps[kt] for kt in support], expected, rtol=1e-6, atol=1e-8)
