"""CR^-1, L~ and phi against values computed by hand from Eqs. 2-7."""

import math

import numpy as np
import pytest
import torch

import sanets
from sanets.metrics import (
    flithos,
    inverse_compression_ratio,
    normalized_reconstruction_loss,
    scores,
)


def test_hand_computed_one_dimensional():
    x = torch.tensor([[[1.0, -2.0, 0.0, 3.0]], [[2.0, 2.0, 2.0, 2.0]]])
    x_hat = torch.tensor([[[1.0, -1.0, 0.0, 1.0]], [[2.0, 2.0, 2.0, 2.0]]])
    codes = torch.tensor([[[0.0, 5.0, 0.0, -1.0]], [[1.0, 1.0, 1.0, 0.0]]])
    # Example 0: W=3, nnz=2 -> (3 + 2*2)/4; MAE = 3/4, MAE(x, 0) = 6/4 -> L~ = 0.5.
    # Example 1: nnz=3 -> (3 + 2*3)/4; perfect reconstruction -> L~ = 0.
    assert inverse_compression_ratio(x, codes, 3).tolist() == [7 / 4, 9 / 4]
    assert normalized_reconstruction_loss(x, x_hat).tolist() == [0.5, 0.0]
    phi = flithos(x, x_hat, codes, 3)
    assert phi.tolist() == pytest.approx([math.sqrt((7 / 4) ** 2 + 0.25), 9 / 4])
    assert scores(x, x_hat, codes, 3).flatten().tolist() == pytest.approx(
        [7 / 4, 0.5, math.sqrt((7 / 4) ** 2 + 0.25), 9 / 4, 0.0, 9 / 4])


def test_hand_computed_two_dimensional_counts_every_kernel_weight():
    model = sanets.SAN([2, 2], "identity", dims=2)
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    codes = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [3.0, 0.0]]]])
    # W = 2 kernels * 2*2 weights = 8 (the authors counted m per kernel); three
    # activations of 3 numbers each (two coordinates and the amplitude).
    assert inverse_compression_ratio(x, codes, model.num_weights).tolist() == [(8 + 3 * 3) / 4]
    x_hat = torch.zeros_like(x)
    assert flithos(x, x_hat, codes, model).tolist() == pytest.approx([math.hypot(17 / 4, 1.0)])


def test_identity_baseline_matches_table_one():
    # One kernel of size 1 with Identity keeps every (non-zero) sample: CR^-1 = (1 + 2n)/n, ~2.00.
    x = torch.randn(4, 1, 1000, generator=torch.Generator().manual_seed(0))
    model = sanets.SAN([1], "identity")
    codes = model.encode(x)
    assert inverse_compression_ratio(x, codes, model.num_weights).tolist() == [2.001] * 4


def test_zero_example_is_rejected():
    x = torch.zeros(2, 1, 5)
    x[1, 0, 0] = 1.0
    with pytest.raises(ValueError, match=r"all-zero examples \(indices \[0\]\)"):
        normalized_reconstruction_loss(x, x)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: normalized_reconstruction_loss(torch.zeros(1, 1, 5), torch.zeros(1, 1, 6)), "does not match"),
        (lambda: inverse_compression_ratio(torch.zeros(1, 1, 5), torch.zeros(2, 1, 5), 1), "do not match"),
        (lambda: inverse_compression_ratio(torch.zeros(1, 1, 5), torch.zeros(1, 1, 5), -1), "num_weights"),
        (lambda: inverse_compression_ratio(torch.zeros(5), torch.zeros(5), 1), "shape"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_distortion_by_hand():
    from sanets.metrics import distortion

    x = np.array([[3.0, 5.0, 7.0], [1.0, 1.0, 1.0]])
    y = np.array([[3.0, 4.0, 7.0], [1.0, 1.0, 1.0]])
    prd, prdn, snr = distortion(x, y)
    assert prd == pytest.approx(100 * 1 / np.sqrt(9 + 25 + 49 + 3))
    assert prdn == pytest.approx(100 * 1 / np.sqrt(4 + 0 + 4))  # the second channel is flat: no spread
    assert snr == pytest.approx(-20 * np.log10(prdn / 100))
    assert distortion(np.ones(4), np.ones(4)) == (0.0, 0.0, float("inf"))
    assert distortion(np.ones(4), np.zeros(4))[1] == float("inf")


def test_bit_aware_count_charges_the_index_its_bits():
    from sanets.metrics import flithos_bits, index_numbers

    # One kernel: the index names one of n positions, dims numbers as in Eq. 4.
    assert index_numbers(1000, 1000, 1) == 1.0
    assert index_numbers(64 * 64, 64 * 64, 2) == 2.0
    # q = 8 kernels on n = 16 samples: log2(128) / log2(16) = 7 / 4 numbers per index.
    assert index_numbers(8 * 16, 16, 1) == 7 / 4
    x = torch.arange(1.0, 17.0).reshape(1, 1, 16)
    codes = torch.zeros(1, 8, 16)
    codes[0, 3, 5], codes[0, 7, 0] = 2.0, -1.0
    x_hat = x.clone()
    x_hat[0, 0, 0] = 0.0  # MAE 1/16 of MAE(x, 0) = 136/16
    loss = 1 / 136
    # W = 5: paper (5 + 2 * 2) / 16; bit-aware (5 + (1 + 7/4) * 2) / 16.
    assert flithos(x, x_hat, codes, 5).item() == pytest.approx(math.hypot(9 / 16, loss))
    assert flithos_bits(x, x_hat, codes, 5).item() == pytest.approx(math.hypot(10.5 / 16, loss))
    # One kernel: the two counts agree.
    assert flithos_bits(x, x_hat, codes[:, :1], 5).item() == flithos(x, x_hat, codes[:, :1], 5).item()


def test_evaluate_reports_the_bit_aware_phi_of_a_sans_codes():
    from sanets.metrics import flithos_bits

    x = torch.randn(3, 1, 50, generator=torch.Generator().manual_seed(1))
    model = sanets.SAN([5, 5, 5], "extrema", competition="across-kernels", seed=0)
    codes = model.encode(x)
    expected = flithos_bits(x, model.decode(codes), codes, model).mean().item()
    assert sanets.evaluate(model, x).flithos_bits == pytest.approx(expected)
    assert expected > sanets.evaluate(model, x).flithos
