"""DCT and wavelet top-k coding against computations written here with scipy and PyWavelets."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import scipy.fft
import torch

from sanets import metrics
from sanets.baselines import DCT, Wavelet
from sanets.datasets import load_physionet


def signals(n: int, length: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.cumsum(torch.randn(n, 1, length, generator=generator, dtype=torch.float64), -1)


def images(n: int, seed: int, size: int = 12) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def keep_largest(flat: np.ndarray, k: int) -> np.ndarray:
    """A naive top-k: sort one example's coefficients by magnitude, keep the first k (ties: lower index)."""
    order = sorted(range(len(flat)), key=lambda i: (-abs(flat[i]), i))
    out = np.zeros_like(flat)
    out[order[:k]] = flat[order[:k]]
    return out


def naive_dct(x: np.ndarray, k: int) -> np.ndarray:
    out = []
    for example in x:
        coefficients = scipy.fft.dctn(example, norm="ortho")
        kept = keep_largest(coefficients.ravel(), k).reshape(coefficients.shape)
        out.append(scipy.fft.idctn(kept, norm="ortho"))
    return np.stack(out)


def naive_wavelet(x: np.ndarray, wavelet: str, mode: str, k: int) -> np.ndarray:
    out = []
    for example in x:
        level = pywt.dwt_max_level(min(example.shape), pywt.Wavelet(wavelet).dec_len)
        if example.ndim == 1:
            parts = pywt.wavedec(example, wavelet, mode=mode, level=level)
            flat = keep_largest(np.concatenate(parts), k)
            parts = np.split(flat, np.cumsum([len(p) for p in parts])[:-1])
            out.append(pywt.waverec(parts, wavelet, mode=mode)[: len(example)])
        else:
            array, slices = pywt.coeffs_to_array(pywt.wavedec2(example, wavelet, mode=mode, level=level))
            kept = keep_largest(array.ravel(), k).reshape(array.shape)
            coeffs = pywt.array_to_coeffs(kept, slices, output_format="wavedec2")
            out.append(pywt.waverec2(coeffs, wavelet, mode=mode)[: example.shape[0], : example.shape[1]])
    return np.stack(out)


@pytest.mark.parametrize("k", [1, 7, 40])
@pytest.mark.parametrize("data", ["1d", "2d"])
def test_dct_top_k_matches_scipy(k, data):
    x = signals(6, 90, seed=k) if data == "1d" else images(6, seed=k)
    model = DCT(k=k).fit(x[:3], x[3:])
    codes = model.encode(x)
    assert (codes != 0).sum(1).eq(k).all()
    np.testing.assert_allclose(model.decode(codes)[:, 0].numpy(), naive_dct(x[:, 0].numpy(), k), atol=1e-10)


@pytest.mark.parametrize("wavelet, mode", [("haar", "periodization"), ("db3", "symmetric"), ("bior2.2", "periodization"),
                                           ("coif1", "symmetric")])
@pytest.mark.parametrize("data", ["1d", "2d"])
def test_wavelet_top_k_matches_pywt_waverec_of_thresholded_coefficients(wavelet, mode, data):
    x = signals(5, 101, seed=3) if data == "1d" else images(5, seed=3, size=13)  # odd sizes: the tricky borders
    model = Wavelet(wavelets=[wavelet], modes=[mode], k=17).fit(x[:2], x[2:])
    x_hat = model.decode(model.encode(x))[:, 0].numpy()
    np.testing.assert_allclose(x_hat, naive_wavelet(x[:, 0].numpy(), wavelet, mode, 17), atol=1e-9)


@pytest.mark.parametrize("make", [lambda k: DCT(k=k), lambda k: Wavelet(["db2"], ["symmetric"], k=k)])
def test_all_coefficients_reconstruct_exactly_and_none_gives_loss_one(make):
    x = signals(6, 64, seed=5)
    everything = make(None).fit(x[:3], x[3:])
    n = everything.encode(x).shape[1]
    exact = make(n).fit(x[:3], x[3:]).evaluate(x)
    assert exact.reconstruction_loss == pytest.approx(0.0, abs=1e-12)
    assert exact.inverse_compression_ratio == pytest.approx(2 * n / 64)
    nothing = make(0).fit(x[:3], x[3:]).evaluate(x)
    assert nothing.reconstruction_loss == pytest.approx(1.0) and nothing.inverse_compression_ratio == 0.0
    with pytest.raises(ValueError, match=f"k={n + 1} exceeds the {n} coefficients"):
        make(n + 1).fit(x[:3], x[3:])


def test_costs_by_hand():
    # x = [4, 0, 0, 0]: its orthonormal DCT-II is [2, 2 cos(pi/8) / sqrt(2) ...]; keep 2 coefficients of 4 samples:
    # CR^-1 = (W + 2 nnz) / n = (0 + 2 * 2) / 4 = 1, as two spikes of a SAN with no weights would cost.
    x = torch.tensor([[[4.0, 0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0, 4.0]]], dtype=torch.float64)
    model = DCT(k=2).fit(x, x)
    codes = model.encode(x)
    assert metrics.inverse_compression_ratio(x, codes, model.num_weights).tolist() == [1.0, 1.0]
    # 2D: three numbers per kept coefficient (value, row, column): (0 + 3 * 2) / 16.
    image = images(2, seed=0, size=4)
    assert DCT(k=2).fit(image, image).evaluate(image).inverse_compression_ratio == pytest.approx(6 / 16)


@pytest.mark.parametrize("model", [DCT(), Wavelet(["haar", "db2"], ["periodization", "symmetric"])])
def test_the_metric_scores_a_baseline_as_it_scores_a_san(model):
    x = signals(10, 80, seed=9)
    model.fit(x[:5], x[5:8])
    codes = model.encode(x[8:])
    phi = metrics.flithos(x[8:], model.decode(codes), codes, model)
    assert model.evaluate(x[8:]).flithos == pytest.approx(phi.mean().item(), rel=1e-12)


def test_parameters_are_chosen_on_validation_and_every_candidate_is_kept():
    x = signals(12, 64, seed=2)
    model = Wavelet(["haar", "db2"], ["periodization"]).fit(x[:6], x[6:])
    best = min(model.candidates, key=lambda c: c.validation.flithos)
    assert model.parameters == best.parameters and model.evaluate(x[6:]).flithos == pytest.approx(best.validation.flithos)
    assert {c.choice for c in model.candidates} == {("haar", "periodization"), ("db2", "periodization")}
    assert len({c.sparsity for c in model.candidates if c.choice == model.choice}) >= 64  # every k of 64 coefficients


def test_the_papers_records_against_the_issue(shared):
    # Measured on the paper's protocol when the baselines were proposed (issue 9): mitdb DCT 0.386 (k 154),
    # best wavelet 0.214 (bior2.2, periodization, k 75).
    splits = load_physionet("mitdb", data_dir=shared, download=False)
    dct = DCT().fit(splits.train, splits.validation)
    assert dct.parameters == "k=154" and dct.evaluate(splits.test).flithos == pytest.approx(0.386, abs=5e-4)
    wavelet = Wavelet(["haar", "db4", "bior2.2"]).fit(splits.train, splits.validation)
    assert wavelet.parameters == "bior2.2/periodization/k=75"
    assert wavelet.evaluate(splits.test).flithos == pytest.approx(0.214, abs=5e-4)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: DCT(k=-1), ValueError, "k must be an int >= 0"),
        (lambda: DCT(k=2.5), TypeError, "k must be an int"),
        (lambda: Wavelet(["morlet-ish"]), ValueError, "unknown wavelet 'morlet-ish'"),
        (lambda: Wavelet(["haar"], ["mirror-ish"]), ValueError, "unknown boundary mode 'mirror-ish'"),
        (lambda: Wavelet("haar"), ValueError, "non-empty sequences of names"),
        (lambda: DCT().encode(torch.zeros(1, 1, 8)), RuntimeError, "not fitted yet"),
        (lambda: DCT().fit(torch.zeros(4, 8), torch.zeros(2, 8)), ValueError, "train must have shape"),
        (lambda: DCT().fit(torch.zeros(4, 2, 8), torch.zeros(2, 2, 8)), ValueError, "one channel"),
        (lambda: DCT().fit(torch.ones(4, 1, 8), torch.ones(2, 1, 9)), ValueError, "differ from train's"),
        (lambda: DCT().fit(torch.ones(4, 1, 8), torch.zeros(2, 1, 8)), ValueError, "all-zero examples"),
        (lambda: DCT(k=1).fit(torch.ones(4, 1, 8), torch.ones(2, 1, 8)).encode(torch.ones(2, 1, 9)), ValueError,
         r"examples of shape \(9,\); this baseline was fitted on \(8,\)"),
    ],
)
def test_bad_input_raises_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
