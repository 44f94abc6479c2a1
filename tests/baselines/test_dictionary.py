"""Dictionary: patches, atoms learned by scikit-learn, OMP codes; W = atoms x p^dims, dims + 1 numbers a nonzero."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sanets import metrics
from sanets.baselines._dictionary import Dictionary, _omp

pytest.importorskip("sklearn")


def noise(n: int, *spatial: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, *spatial, generator=generator, dtype=torch.float64)


def hand_made(model: Dictionary, choice: tuple[int, int], atoms: np.ndarray, sparsity: int) -> Dictionary:
    """``model`` (fitted, for its shape) with a dictionary set by hand."""
    model.choice, model.state, model.sparsity = choice, atoms, sparsity
    return model


def test_costs_by_hand_1d():
    # Length 10 in patches of 4: two patches and a half, zero-padded to 12 and cropped.
    x = torch.tensor([[[3.0, 0, 1, 0, 0, -2, 0, 0, 0.5, 0]]], dtype=torch.float64)
    model = hand_made(Dictionary(patch_lengths=(4,), atoms=(2,)).fit(noise(4, 10), noise(2, 10, seed=1)),
                      (4, 2), np.eye(4)[:2], 1)
    codes = model.encode(x)
    assert codes.shape == (1, 3 * 2)  # 3 patches x 2 atoms
    assert codes[0].tolist() == [3, 0, 0, -2, 0.5, 0]  # one nonzero a patch: the 1 in the first is left out
    x_hat = model.decode(codes)
    assert x_hat[0, 0].tolist() == [3, 0, 0, 0, 0, -2, 0, 0, 0.5, 0]
    assert model.num_weights == 2 * 4
    icr, loss = (8 + 2 * 3) / 10, 0.1 / 0.65  # W + (dims + 1) nnz over 10 samples; MAE 0.1 over MAE 0.65
    assert metrics.inverse_compression_ratio(x, codes, model.num_weights).item() == pytest.approx(icr)
    assert metrics.flithos(x, x_hat, codes, model).item() == pytest.approx(math.hypot(icr, loss))
    assert model.evaluate(x).flithos == pytest.approx(math.hypot(icr, loss))
    assert model.parameters == "p=4/atoms=2/s=1"


def test_costs_by_hand_2d():
    # A 5 x 5 image in 2 x 2 patches: padded to 6 x 6, nine patches of 4 values, W = atoms x 4.
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 0, 0], x[0, 0, 4, 4], x[0, 0, 1, 3] = 4.0, 1.0, 2.0
    model = hand_made(Dictionary(patch_lengths=(2,), atoms=(4,)).fit(noise(6, 5, 5), noise(2, 5, 5, seed=1)),
                      (2, 4), np.eye(4), 1)
    codes = model.encode(x)
    assert codes.shape == (1, 9 * 4) and int((codes != 0).sum()) == 3
    assert torch.equal(model.decode(codes), x)
    assert model.num_weights == 16 and model.parameters == "p=2x2/atoms=4/s=1"
    assert model.evaluate(x).flithos == pytest.approx((16 + 3 * 3) / 25)  # L~ = 0; 3 numbers per nonzero


def test_batched_omp_is_scikit_learns():
    from sklearn.decomposition import sparse_encode

    rng = np.random.default_rng(0)
    atoms = rng.standard_normal((12, 9))
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    x = rng.standard_normal((300, 9))
    x[:10] = 0  # stops at once
    x[10:20] = 3 * atoms[4]  # stops after one atom
    x[20:30] = atoms[1] - 2 * atoms[7]
    path = _omp(x, atoms, [1, 2, 4, 7])
    for codes, s in zip(path, [1, 2, 4, 7]):
        with pytest.warns(RuntimeWarning, match="prematurely"):  # scikit-learn's early stops: ours are silent
            expected = sparse_encode(x, atoms, algorithm="omp", n_nonzero_coefs=s)
        np.testing.assert_allclose(codes, expected, atol=1e-10)
        assert np.array_equal(codes != 0, expected != 0)


def test_round_trip_matches_the_metric_and_selection_is_seeded(shared):
    from sanets.datasets import load_physionet

    splits = load_physionet("mitdb", data_dir=shared, download=False)
    grids = {"patch_lengths": (8, 10), "atoms": (4, 8), "max_nonzeros": 2}
    model = Dictionary(**grids).fit(splits.train, splits.validation, seed=0)
    codes = model.encode(splits.test)
    x_hat = model.decode(codes)
    assert x_hat.shape == splits.test.shape and x_hat.dtype == splits.test.dtype
    phi = metrics.flithos(splits.test, x_hat, codes, model)
    assert model.evaluate(splits.test).flithos == pytest.approx(phi.mean().item(), rel=1e-5)
    p, atoms = model.choice
    assert model.num_weights == atoms * p
    assert (codes != 0).sum(1).max() <= model.sparsity * math.ceil(1000 / p)
    # The choice is the lowest validation phi, ties to the earlier.
    best = min(model.candidates, key=lambda c: c.validation.flithos)
    assert (best.choice, best.sparsity) == (model.choice, model.sparsity)
    assert model.evaluate(splits.test).flithos < 0.5  # the 0.417, measured 0.36
    again = Dictionary(**grids).fit(splits.train, splits.validation, seed=0)
    assert again.parameters == model.parameters and np.array_equal(again.state, model.state)
    assert not np.array_equal(model.learn(model.choice, splits.train[:, 0].numpy().astype(np.float64), 1), model.state)


def test_the_validation_split_alone_decides():
    # fit(train, validation) sees no test split; show that the validation split moves the choice.
    generator = torch.Generator().manual_seed(0)
    train = torch.randn(8, 1, 1600, generator=generator, dtype=torch.float64)
    model = Dictionary(patch_lengths=(16,), atoms=(8,), max_nonzeros=3)
    atoms = model.fit(train, train[:2], seed=0).state  # the atoms of seed 0, to build validation sets from
    weights = torch.randn(4, 100, 2, generator=generator, dtype=torch.float64) * 4
    one = torch.einsum("npk,kd->npd", weights[..., :1], torch.from_numpy(atoms[:1])).reshape(4, 1, 1600)
    two = torch.einsum("npk,kd->npd", weights, torch.from_numpy(atoms[[0, 5]])).reshape(4, 1, 1600)
    # Patches of one atom: exact at s = 1, and OMP stops there (equal phi at s = 2, 3: the first wins).
    assert model.fit(train, one, seed=0).sparsity == 1
    assert model.fit(train, two, seed=0).sparsity == 2
    assert np.array_equal(model.state, atoms)


def test_default_grids_follow_the_shape():
    model = Dictionary()
    assert model.choices((1000,))[0] == (5, 2) and (32, 16) in model.choices((1000,))
    assert (10, 16) in model.choices((178,)) and (16, 16) not in model.choices((178,))  # W >= 178
    assert {p for p, _ in model.choices((28, 28))} == {4, 7} and (7, 16) not in model.choices((28, 28))
    assert model.choices((8, 8)) == [(2, 2), (2, 4), (2, 8)] and model.choices((12,)) == [(3, 2)]  # small: a quarter side
    assert model.sparsities((10, 8), (1000,), 2) == [1, 2, 3, 4, 5, 6, 7]
    assert model.sparsities((5, 16), (1000,), 2) == [1, 2, 3, 4, 5]
    assert model.sparsities((8, 2), (1000,), 2) == [1]
    assert Dictionary.quick().atoms == (8,)


def test_bad_input_gives_clear_errors():
    x = noise(4, 40)
    with pytest.raises(RuntimeError, match="not fitted"):
        Dictionary().encode(x)
    with pytest.raises(ValueError, match="one channel"):
        Dictionary().fit(noise(4, 40).expand(4, 2, 40), x)
    with pytest.raises(ValueError, match="differ from train"):
        Dictionary().fit(x, noise(2, 30))
    with pytest.raises(ValueError, match="patch_lengths"):
        Dictionary(patch_lengths=(64,)).fit(x, x)
    for arguments, message in [({"patch_lengths": (0,)}, "patch_lengths"), ({"atoms": ()}, "atoms"),
                               ({"atoms": "8"}, "atoms"), ({"max_nonzeros": 0}, "max_nonzeros"),
                               ({"max_patches": 1.5}, "max_patches")]:
        with pytest.raises((TypeError, ValueError), match=message):
            Dictionary(**arguments)
    model = Dictionary(patch_lengths=(8,), atoms=(2,)).fit(x, x)
    with pytest.raises(ValueError, match=r"\(N, 1, L\)"):
        model.encode(noise(2, 8, 5))
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 10\)"):
        model.decode(torch.zeros(2, 7))
    with pytest.raises(ValueError, match="no non-zero patch"):
        Dictionary(patch_lengths=(8,), atoms=(2,)).fit(torch.zeros(2, 1, 40), x)
