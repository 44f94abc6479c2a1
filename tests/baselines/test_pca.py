"""PCA: components of the training data, scores as codes, W = k n + n, one number per score."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sanets import metrics
from sanets.baselines import PCA


def data(n: int, length: int = 20, rank: int = 3, seed: int = 0) -> torch.Tensor:
    """Examples on a ``rank``-dimensional affine subspace, plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    basis = torch.randn(rank, length, generator=generator, dtype=torch.float64)
    weights = torch.randn(n, rank, generator=generator, dtype=torch.float64) * torch.tensor([5.0, 2.0, 1.0][:rank])
    return (2.0 + weights @ basis + 1e-3 * torch.randn(n, length, generator=generator, dtype=torch.float64))[:, None]


def test_components_and_reconstruction_match_numpy_svd():
    x = data(40)
    model = PCA().fit(x[:30], x[30:])
    train = x[:30, 0].numpy()
    mean = train.mean(0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    k = int(model.parameters.removeprefix("k="))
    test = x[30:, 0].numpy()
    projection = (test - mean) @ vt[:k].T @ vt[:k] + mean
    np.testing.assert_allclose(model.decode(model.encode(x[30:]))[:, 0].numpy(), projection, atol=1e-10)


def test_the_rank_of_the_data_reconstructs_it_and_phi_chooses_on_validation():
    x = data(60, rank=3)
    assert PCA(k=3).fit(x[:40], x[40:]).evaluate(x[40:]).reconstruction_loss < 1e-3
    assert PCA(k=2).fit(x[:40], x[40:]).evaluate(x[40:]).reconstruction_loss > 0.01
    model = PCA().fit(x[:40], x[40:])
    # Every component costs n + 1 numbers per example (Eq. 4), more than the loss it can remove.
    assert model.parameters == min(model.candidates, key=lambda c: c.validation.flithos).parameters == "k=1"
    with pytest.raises(ValueError, match="k=41 exceeds the 20 components"):
        PCA(k=41).fit(x[:40], x[40:])


def test_costs_by_hand():
    x = data(30, length=20)
    model = PCA().fit(x[:20], x[20:])
    k = int(model.parameters.removeprefix("k="))
    assert model.num_weights == k * 20 + 20  # k components and the mean
    codes = model.encode(x[20:])
    assert (codes != 0).sum(1).eq(k).all()
    # Each score costs one number: its index is its component.
    assert metrics.inverse_compression_ratio(x[20:], codes, model.num_weights, model.numbers_per_code).tolist() == \
        pytest.approx([(k * 20 + 20 + k) / 20] * 10)
    phi = metrics.flithos(x[20:], model.decode(codes), codes, model)
    assert model.evaluate(x[20:]).flithos == pytest.approx(phi.mean().item(), rel=1e-12)
    # The amortised protocol: 7 windows share the components, each pays a seventh of W.
    assert model.evaluate(x[20:], shared_by=7).inverse_compression_ratio == pytest.approx((k * 20 + 20) / 7 / 20 + k / 20)


def test_two_dimensional_examples():
    x = data(30, length=16).view(30, 1, 4, 4)
    model = PCA(k=3).fit(x[:20], x[20:])
    assert model.decode(model.encode(x[20:])).shape == (10, 1, 4, 4)
    assert model.evaluate(x[20:]).reconstruction_loss < 1e-3
