"""Kernel families and stretching kernels (issue 10, variants 4 and 8): weights against hand-computed ones."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import safetensors.torch
import torch
import torch.nn.functional as F

import sanets
from sanets.errors import ModelFileError
from sanets.kernel_families import KERNEL_FAMILIES
from sanets.metrics import flithos


def weights_of(family: str, numbers, m: int, size: int | None = None, dims: int = 1) -> torch.Tensor:
    return KERNEL_FAMILIES[family].weights(torch.tensor(numbers, dtype=torch.float64), m, size or m, dims)


def test_free_kernels_draw_the_papers_normal_initialisation_unchanged():
    expected = torch.normal(0.0, 0.1, (7,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(sanets.SAN([7], seed=3).kernels[0].detach(), expected)
    assert sanets.SAN([7]).num_weights == 7 and sanets.SAN([3, 4], dims=2).num_weights == 9 + 16


def test_gaussian_derivatives_are_unit_energy_gaussians_and_their_derivatives():
    sigma, m = 2.0, 9
    t = torch.arange(m, dtype=torch.float64) - 4
    g = torch.exp(-(t**2) / (2 * sigma**2))
    unit = lambda f: f / f.norm()
    log_width = math.log(sigma)
    assert torch.allclose(weights_of("gaussian-derivatives", [1, 0, 0, log_width], m), unit(g))
    assert torch.allclose(weights_of("gaussian-derivatives", [0, 2, 0, log_width], m), 2 * unit(-t * g))
    assert torch.allclose(weights_of("gaussian-derivatives", [0, 0, 1, log_width], m), unit((t**2 / sigma**2 - 1) * g))
    mixed = weights_of("gaussian-derivatives", [0.5, -1, 3, log_width], m)
    assert torch.allclose(mixed, 0.5 * unit(g) - unit(-t * g) + 3 * unit((t**2 / sigma**2 - 1) * g))


def test_gaussian_derivatives_in_2d_mix_six_functions_of_one_width():
    sigma, m = 1.5, 7
    t = torch.arange(m, dtype=torch.float64) - 3
    y, x = torch.meshgrid(t, t, indexing="ij")
    g = torch.exp(-(x**2 + y**2) / (2 * sigma**2))
    cross = weights_of("gaussian-derivatives", [0, 0, 0, 0, 1, 0, math.log(sigma)], m, dims=2)
    assert torch.allclose(cross, x * y * g / (x * y * g).norm())
    assert sanets.SAN([5, 5], dims=2, kernel_family="gaussian-derivatives").num_weights == 14


def test_piecewise_constant_kernels_are_a_box_and_a_step():
    assert torch.allclose(weights_of("piecewise-constant", [2, 0], 4), torch.full((4,), 1.0, dtype=torch.float64))
    assert torch.allclose(weights_of("piecewise-constant", [0, 1], 4), torch.tensor([-0.5, -0.5, 0.5, 0.5], dtype=torch.float64))
    odd = weights_of("piecewise-constant", [0, 1], 5)  # the centre sample sits on the edge
    assert torch.allclose(odd, torch.tensor([-1, -1, 0, 1, 1], dtype=torch.float64) / 2)
    checker = weights_of("piecewise-constant", [0, 0, 0, 1], 2, dims=2)
    assert torch.allclose(checker, torch.tensor([[0.5, -0.5], [-0.5, 0.5]], dtype=torch.float64))
    assert sanets.SAN([9, 30], kernel_family="piecewise-constant").num_weights == 4


def test_stretching_resamples_free_kernels_linearly_and_scales_a_gaussians_width():
    assert torch.allclose(weights_of("free", [0.0, 3.0], 2, size=4), torch.tensor([0.0, 1, 2, 3], dtype=torch.float64))
    numbers = [1.0, 0.0, 0.0, math.log(2.0)]
    stretched = weights_of("gaussian-derivatives", numbers, 9, size=18)
    assert torch.allclose(stretched, weights_of("gaussian-derivatives", [1.0, 0.0, 0.0, math.log(4.0)], 18))


def gabor(t: torch.Tensor, size: int, sigma: float, frequency: float, phase: float) -> torch.Tensor:
    """A Gabor atom written out: sigma as a share of the support, frequency in cycles per support, unit energy."""
    atom = [math.exp(-0.5 * (s / size / sigma) ** 2) * math.cos(2 * math.pi * frequency * s / size + phase) for s in t.tolist()]
    return torch.tensor(atom, dtype=torch.float64) / math.sqrt(sum(a * a for a in atom))


def test_gabor_kernels_are_unit_energy_gabor_atoms():
    m, sigma, frequency, phase = 12, 0.2, 2.5, 0.7
    t = torch.arange(m, dtype=torch.float64) - 5.5
    kernel = weights_of("gabor", [math.log(sigma), math.log(frequency), phase], m)
    assert torch.allclose(kernel, gabor(t, m, sigma, frequency, phase))
    assert float(kernel.norm()) == pytest.approx(1.0)
    flipped = weights_of("gabor", [math.log(sigma), math.log(frequency), phase + math.pi], m)
    assert torch.allclose(flipped, -kernel)  # a phase of pi is the sign an amplitude would carry
    assert sanets.SAN([9, 30, 1000], kernel_family="gabor").num_weights == 9


def test_a_gabor_kernel_wider_than_its_support_is_a_cosine_and_holds_every_dct_atom():
    n = 16
    j = torch.arange(n, dtype=torch.float64)
    for k in range(1, n):
        dct = torch.cos(math.pi * k * (j + 0.5) / n)  # DCT-II atom k
        kernel = weights_of("gabor", [20.0, math.log(k / 2), math.pi * k / 2], n)
        assert torch.allclose(kernel, dct / dct.norm(), atol=1e-9)
    off_grid = weights_of("gabor", [20.0, math.log(3.3), 1.0], n)
    expected = torch.cos(2 * math.pi * 3.3 * (j - 7.5) / n + 1.0)
    assert torch.allclose(off_grid, expected / expected.norm(), atol=1e-9)
    nearly_flat = weights_of("gabor", [20.0, -20.0, 0.0], n)  # k = 0: the mean
    assert torch.allclose(nearly_flat, torch.full((n,), n**-0.5, dtype=torch.float64))


def test_gabor_kernels_in_2d_are_the_product_of_one_atom_per_axis():
    m = 7
    t = torch.arange(m, dtype=torch.float64) - 3
    rows, columns = (0.3, 1.5, 0.2), (0.15, 0.8, -1.0)
    numbers = [math.log(rows[0]), math.log(rows[1]), rows[2], math.log(columns[0]), math.log(columns[1]), columns[2]]
    kernel = weights_of("gabor", numbers, m, dims=2)
    assert torch.allclose(kernel, torch.outer(gabor(t, m, *rows), gabor(t, m, *columns)))
    assert sanets.SAN([5, 5], dims=2, kernel_family="gabor").num_weights == 12


def test_gabor_kernels_stretch_in_cycles_and_widths_per_support_and_every_number_learns():
    numbers = torch.tensor([math.log(0.25), math.log(3.0), 0.4], dtype=torch.float64, requires_grad=True)
    family = KERNEL_FAMILIES["gabor"]
    stretched = family.weights(numbers, 10, 20, 1)
    assert torch.allclose(stretched, family.weights(numbers, 20, 20, 1))  # same numbers, same atom at any size
    t = torch.arange(20, dtype=torch.float64) - 9.5
    assert torch.allclose(stretched, gabor(t, 20, 0.25, 3.0, 0.4))  # 3 cycles over 20 samples, not over 10
    (stretched * torch.linspace(-1, 2, 20, dtype=torch.float64)).sum().backward()
    assert numbers.grad is not None and bool((numbers.grad != 0).all())


def test_gabor_kernels_of_one_san_start_spread_over_frequencies():
    model = sanets.SAN([63] * 8, kernel_family="gabor", seed=0)
    frequencies = sorted(float(kernel[1].detach().exp()) for kernel in model.kernels)
    assert 0.25 <= frequencies[0] and frequencies[-1] <= 2
    gaps = [math.log(b / a) for a, b in itertools.pairwise(frequencies)]
    assert min(gaps) > 0.1 and max(gaps) < 0.6 and math.log(frequencies[-1] / frequencies[0]) > 1.5  # of log(8) = 2.08
    assert all(float(kernel[1].detach().exp()) <= 5 / 4 for kernel in sanets.SAN([5] * 8, kernel_family="gabor").kernels)
    constant = sanets.SAN([63] * 2, kernel_family="gabor", init="constant")
    assert torch.equal(constant.kernels[0], constant.kernels[1])


def test_a_gabor_san_learns_with_alg_4_and_survives_save_and_load(tmp_path):
    x = torch.randn(6, 1, 64, generator=torch.Generator().manual_seed(4))
    model = sanets.SAN([9, 21], "extrema", seed=0, kernel_family="gabor", scales=[1.0, 2.0])
    before = [kernel.detach().clone() for kernel in model.kernels]
    sanets.fit(model, x[:4], x[4:], epochs=2, batch_size=2, seed=0, restore_best=False)
    assert all(bool((a != b).all()) for a, b in zip(before, model.kernels))
    model.save(tmp_path / "gabor.safetensors")
    loaded = sanets.SAN.load(tmp_path / "gabor.safetensors")
    assert loaded.config() == model.config() and torch.equal(loaded(x), model(x))


def test_mixed_kernels_take_the_families_in_turn_each_with_its_own_numbers(tmp_path):
    model = sanets.SAN([7, 7, 7, 9, 9], kernel_family="mixed", seed=0, dtype="float64", scales=[1.0, 2.0])
    members = ["gabor", "gaussian-derivatives", "piecewise-constant", "gabor", "gaussian-derivatives"]
    assert [kernel.numel() for kernel in model.kernels] == [3, 4, 2, 3, 4] and model.num_weights == 16
    weights = model.kernel_weights()
    for i, (member, kernel, m) in enumerate(zip(members, model.kernels, model.kernel_sizes)):
        for j, size in enumerate((m, 2 * m)):
            assert torch.equal(weights[2 * i + j], KERNEL_FAMILIES[member].weights(kernel, m, size, 1))
    second_gabor = KERNEL_FAMILIES["gabor"].initial(9, 1, "normal", None, 1)  # the second Gabor atom's place among them
    assert float(model.kernels[3][1].detach()) == pytest.approx(float(second_gabor[1]))
    model.save(tmp_path / "mixed.safetensors")
    loaded = sanets.SAN.load(tmp_path / "mixed.safetensors")
    x = torch.randn(2, 1, 40, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert loaded.config() == model.config() and torch.equal(loaded(x), model(x))
    assert sanets.SAN([5, 5, 5], dims=2, kernel_family="mixed").num_weights == 6 + 7 + 4


def test_a_mixed_san_grows_the_next_family_in_turn():
    x = torch.randn(6, 1, 60, generator=torch.Generator().manual_seed(5))
    grown = sanets.SAN([7], "extrema", seed=2, kernel_family="mixed", competition="across-kernels")
    sanets.fit(grown, x[:4], x[4:], epochs=6, batch_size=2, lr=1e-12, seed=3, grow_to=3, grow_patience=1, restore_best=False)
    assert [kernel.numel() for kernel in grown.kernels] == [3, 4, 2]


def test_a_san_with_scales_has_a_code_channel_per_kernel_and_scale_and_decodes_as_a_naive_sum():
    model = sanets.SAN([6, 4], "relu", seed=0, kernel_family="gaussian-derivatives", scales=[0.5, 1.0, 2.0], dtype="float64")
    assert model.channel_sizes == [3, 6, 12, 2, 4, 8] and model.num_channels == 6
    x = torch.randn(2, 1, 40, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    codes = model.encode(x)
    assert codes.shape == (2, 6, 40)
    naive = torch.zeros_like(x)
    for channel, kernel in enumerate(model.kernel_weights()):
        m = len(kernel)
        for n, position in codes[:, channel].nonzero().tolist():
            for tap in range(m):  # the kernel's first tap sits (m-1)//2 before the spike
                place = position - (m - 1) // 2 + tap
                if 0 <= place < 40:
                    naive[n, 0, place] += codes[n, channel, position] * kernel[tap]
    assert torch.allclose(model.decode(codes), naive)


def test_a_spikes_scale_costs_one_number_in_the_compression_ratio():
    x = torch.randn(1, 1, 50, generator=torch.Generator().manual_seed(2))
    for scales, numbers in (([1.0], 2), ([1.0, 2.0], 3)):
        model = sanets.SAN([5], "extrema", seed=0, kernel_family="gaussian-derivatives", scales=scales)
        with torch.no_grad():
            codes = model.encode(x)
            x_hat = model.decode(codes)
        loss = (x - x_hat).abs().mean() / x.abs().mean()
        expected = math.hypot((4 + numbers * int((codes != 0).sum())) / 50, float(loss))
        assert float(flithos(x, x_hat, codes, model)) == pytest.approx(expected, rel=1e-5)
        assert sanets.evaluate(model, x).flithos == pytest.approx(expected, rel=1e-5)


def test_competing_across_scales_fires_one_channel_per_position():
    model = sanets.SAN([8], "extrema", seed=0, competition="across-kernels", scales=[0.5, 1.0, 2.0])
    codes = model.encode(torch.randn(3, 1, 120, generator=torch.Generator().manual_seed(3)))
    assert int((codes != 0).sum(1).max()) <= 1 and int((codes != 0).sum()) > 0


def test_a_families_numbers_learn_with_alg_4():
    x = torch.randn(6, 1, 64, generator=torch.Generator().manual_seed(4))
    model = sanets.SAN([9, 9], "extrema", seed=0, kernel_family="gaussian-derivatives", competition="across-kernels")
    before = [kernel.detach().clone() for kernel in model.kernels]
    sanets.fit(model, x[:4], x[4:], epochs=2, batch_size=2, seed=0, restore_best=False)
    assert all(not torch.equal(a, b) for a, b in zip(before, model.kernels))
    assert all(kernel.shape == (4,) for kernel in model.kernels)


def test_families_and_scales_survive_save_and_load(tmp_path):
    model = sanets.SAN([7, 5], seed=1, kernel_family="piecewise-constant", scales=[1.0, 1.5], passes=2)
    model.save(tmp_path / "m.safetensors")
    loaded = sanets.SAN.load(tmp_path / "m.safetensors")
    assert loaded.config() == model.config()
    x = torch.randn(2, 1, 30, generator=torch.Generator().manual_seed(5))
    assert torch.equal(loaded(x), model(x))


def test_a_version_1_file_loads_as_free_kernels(tmp_path):
    config = {"kernel_sizes": [3], "activation": "relu", "dims": 1, "init": "normal", "border_tolerance": 2,
              "sparsity": [None]}
    path = tmp_path / "old.safetensors"
    safetensors.torch.save_file({"kernel.0": torch.tensor([1.0, 2.0, 3.0])}, path,
                                metadata={"format": "sanets.SAN", "format_version": "1", "config": json.dumps(config)})
    model = sanets.SAN.load(path)
    assert model.kernel_family == "free" and model.scales == [1.0]
    assert torch.equal(model.kernel_weights()[0].detach(), torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ModelFileError, match="version '9'"):
        safetensors.torch.save_file({"kernel.0": torch.ones(3)}, path,
                                    metadata={"format": "sanets.SAN", "format_version": "9", "config": json.dumps(config)})
        sanets.SAN.load(path)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"kernel_family": "mexican-hat"}, ValueError, "kernel_family must be one of free, gaussian-derivatives"),
        ({"scales": 2.0}, TypeError, "scales must be a non-empty sequence"),
        ({"scales": []}, TypeError, "scales must be a non-empty sequence"),
        ({"scales": [1.0, -1.0]}, ValueError, "positive finite"),
        ({"scales": [1.0, float("nan")]}, ValueError, "positive finite"),
        ({"scales": [1.0, 1.0]}, ValueError, "distinct"),
    ],
)
def test_bad_families_and_scales_are_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        sanets.SAN([5], **arguments)


def test_stretched_kernels_larger_than_the_input_and_codes_of_the_wrong_width_are_refused():
    model = sanets.SAN([8], scales=[1.0, 4.0])
    with pytest.raises(ValueError, match="kernel size 32 is larger than the input"):
        model.encode(torch.zeros(1, 1, 20))
    with pytest.raises(ValueError, match=r"2 code channels \(q=1 kernels x 2 scales\)"):
        model.decode(torch.zeros(1, 1, 40))


def test_a_free_kernel_stretched_to_its_own_size_is_itself():
    model = sanets.SAN([5], seed=0, scales=[1.0, 0.2])
    one, stretched = model.kernel_weights()
    assert torch.equal(one, model.kernels[0]) and stretched.shape == (1,)
    assert torch.allclose(stretched, F.interpolate(model.kernels[0][None, None], size=1, mode="linear", align_corners=True)[0, 0])
