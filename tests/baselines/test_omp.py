"""OMP baselines (dct-dst-omp, gabor-mp) against a naive OMP written here and properties of their dictionaries."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch

import sanets
from sanets import metrics
from sanets.baselines import BASELINES, DctDstOMP, GaborMP


def naive_omp(x: np.ndarray, atoms: np.ndarray, k: int) -> np.ndarray:
    """Textbook OMP: pick the atom of largest |<r, a>| / ||a||, least squares on all picked, k times."""
    norms = np.linalg.norm(atoms, axis=1)
    picked, residual = [], x.copy()
    for _ in range(k):
        picked.append(int(np.argmax(np.abs(atoms @ residual) / norms)))
        coefficients = np.linalg.lstsq(atoms[picked].T, x, rcond=None)[0]
        residual = x - coefficients @ atoms[picked]
    return x - residual


def sinusoids(count: int, n: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = [np.cos(2 * np.pi * rng.uniform(0.01, 0.2) * t + rng.uniform(0, 6)) + 0.1 * rng.standard_normal(n) for _ in range(count)]
    return torch.tensor(np.stack(x))[:, None]


def test_dct_dst_omp_equals_a_naive_omp_over_both_bases():
    x = sinusoids(6, 48, 0)
    model = DctDstOMP(k=5).fit(x[:3], x[3:])
    identity = np.eye(48)
    atoms = np.concatenate([scipy.fft.idct(identity, norm="ortho"), scipy.fft.idst(identity, norm="ortho")])
    expected = np.stack([naive_omp(example, atoms, 5) for example in x[:, 0].numpy()])
    codes = model.encode(x)
    assert codes.shape == (6, 96) and (codes.count_nonzero(1) == 5).all()
    np.testing.assert_allclose(model.decode(codes)[:, 0].numpy(), expected, atol=1e-8)
    scores = model.evaluate(x)
    reference = metrics.scores(x, torch.tensor(expected)[:, None], codes, 0, with_bits=True).mean(0)
    assert [scores.inverse_compression_ratio, scores.reconstruction_loss, scores.flithos, scores.flithos_bits] == \
        pytest.approx(reference.tolist())
    # 2n positions: an index costs log2(96) / log2(48) numbers
    assert scores.flithos_bits > scores.flithos


def gabor_atoms(model: GaborMP, n: int) -> tuple[np.ndarray, list[str]]:
    """Every (kernel, shift) atom built from its label's formula, cropped to the window."""
    t, atoms = np.arange(n), []
    for label in model.kernel_labels():
        frequency = float(label.split("f=")[1])
        for shift in range(n):
            s = t - shift
            if label.startswith("cos"):
                atoms.append(np.cos(2 * np.pi * frequency * s))
            else:
                sigma = float(label.split("sigma=")[1].split()[0])
                envelope = np.exp(-0.5 * (s / sigma) ** 2) * (np.abs(s) <= min(np.ceil(3 * sigma), n - 1))
                atoms.append(envelope * np.cos(2 * np.pi * frequency * s))
    return np.stack(atoms), list(model.kernel_labels())


def test_gabor_mp_equals_a_naive_omp_over_its_dictionary_written_out():
    n = 40
    x = sinusoids(5, n, 1) + torch.tensor(np.exp(-0.5 * ((np.arange(n) - 17) / 2.0) ** 2))
    model = GaborMP(grids=[(2, (0.05, 0.2))], k=4).fit(x[:3], x[3:])
    atoms, labels = gabor_atoms(model, n)
    assert len(labels) == n + 2 * 2 + 2 * 8  # cosines at j / 2n < 1/2; Gabor sigma 2 and 8 at f = j / (4 sigma) < 1/2
    expected = np.stack([naive_omp(example, atoms, 4) for example in x[:, 0].numpy()])
    codes = model.encode(x)
    assert codes.shape == (5, len(labels) * n)
    np.testing.assert_allclose(model.decode(codes)[:, 0].numpy(), expected, atol=1e-8)


def test_one_shifted_cosine_is_one_spike_where_the_dct_needs_many():
    n = 64
    t = np.arange(n)
    x = torch.tensor(np.stack([np.cos(2 * np.pi * 5 / n * t + phase) for phase in np.linspace(0, 3, 12)]))[:, None]
    model = GaborMP(grids=[(1, ())]).fit(x[:8], x[8:])
    assert model.sparsity == 1 and model.num_weights == 0
    assert model.evaluate(x[8:]).reconstruction_loss < 0.05
    # the bit-aware count charges the index into q n = 32 * 64 positions
    q = len(model.kernel_labels())
    test = x[8:, 0].numpy()
    x_hat = model.decode(model.encode(x[8:]))[:, 0].numpy()
    losses = np.abs(test - x_hat).mean(1) / np.abs(test).mean(1)
    expected = np.hypot((1 + np.log2(q * n) / np.log2(n)) / n, losses).mean()
    assert model.evaluate(x[8:]).flithos_bits == pytest.approx(expected, rel=1e-9)


def test_choosing_k_by_doubling_finds_the_k_a_full_grid_finds():
    x = sinusoids(10, 80, 2)
    model = GaborMP(grids=[(1, (0.1,))]).fit(x[:6], x[6:])
    full = [GaborMP(grids=[(1, (0.1,))], k=k).fit(x[:6], x[6:]).validation.flithos for k in range(1, 21)]
    assert model.validation.flithos == pytest.approx(min(full))
    assert model.sparsity == 1 + int(np.argmin(full))


def test_registry_and_bad_grids():
    assert BASELINES["gabor-mp"] is GaborMP and BASELINES["dct-dst-omp"] is DctDstOMP
    assert not GaborMP.runs_on(2)
    with pytest.raises(ValueError, match="grids must be"):
        GaborMP(grids=[(3, ())])
    with pytest.raises(ValueError, match="grids must be"):
        GaborMP(grids=[(1, (0.0,))])
    with pytest.raises(ValueError, match=r"kernels\[1\] must be a 1D array of finite numbers, not all zero"):
        GaborMP(kernels=[np.ones(3), np.zeros(4)])
    with pytest.raises(ValueError, match="learned_weights must be an int >= 0"):
        GaborMP(kernels=[np.ones(3)], learned_weights=-1)


def test_learned_kernels_join_the_dictionary_placed_as_a_san_places_them():
    n, kernel = 50, np.array([0.3, -1.0, 2.0, 0.5])  # even: a SAN places it at p over p - 1 .. p + 2
    san = sanets.SAN(kernel_sizes=[4], activation="identity")
    with torch.no_grad():
        san.kernels[0].copy_(torch.tensor(kernel))
    codes = torch.zeros(6, 1, n, dtype=torch.float64)
    for example, position in enumerate((0, 7, 20, 33, 48, 49)):  # at both edges too, where the kernel is cut
        codes[example, 0, position] = 1.5 - example
    x = san.double().decode(codes).detach()
    joined = GaborMP(grids=[(1, ())], k=1, kernels=[kernel], learned_weights=4).fit(x[:4], x[4:])
    assert joined.kernel_labels()[-1] == "learned 0" and joined.num_weights == 4
    assert joined.parameters == "cos/1n+1 learned/k=1"
    spikes = joined.encode(x).view(6, -1, n)[:, -1]  # the learned kernel's shifts
    assert spikes.nonzero()[:, 1].tolist() == [0, 7, 20, 33, 48, 49]
    assert joined.learned_uses(x).tolist() == [1.0]
    np.testing.assert_allclose(joined.decode(joined.encode(x)).numpy(), x.numpy(), atol=1e-10)
    alone = GaborMP(grids=[(1, ())], k=1).fit(x[:4], x[4:])
    assert alone.evaluate(x).reconstruction_loss > 0.3 > 1e-6 > joined.evaluate(x).reconstruction_loss
    assert joined.evaluate(x).inverse_compression_ratio == pytest.approx((4 + 2) / n)
