"""SAN variants from the paper's future work (Sec. VI): kernels competing across maps, residual passes."""

from __future__ import annotations

import math

import pytest
import torch

import sanets
from sanets.activations import ACTIVATIONS


def signals(n: int = 3, length: int = 80, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, length, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def model(activation: str, sizes=(5, 9, 7), **options) -> sanets.SAN:
    return sanets.SAN(list(sizes), activation, seed=1, dtype=torch.float64, border_tolerance=2, **options)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_competition_is_the_activation_of_the_winning_similarity_at_each_position(activation):
    competing = model(activation, competition="across-kernels")
    x = signals()
    similarity = competing.similarity(x)
    codes = competing.encode(x)
    # Naive reference: per position, the kernel with the largest |s| (first on ties) and its value.
    combined = torch.zeros(3, 1, 80, dtype=torch.float64)
    winners = torch.zeros(3, 80, dtype=torch.long)
    for n in range(3):
        for t in range(80):
            column = similarity[n, :, t].tolist()
            winners[n, t] = max(range(3), key=lambda i: (abs(column[i]), -i))
            combined[n, 0, t] = column[winners[n, t]]
    # The largest kernel (m = 9) sets the sparsity of the combined map.
    parameter = competing.sparsity_for((80,))[1]
    function = ACTIVATIONS[activation].function
    spikes = function(combined) if parameter is None else function(combined, parameter)
    expected = torch.zeros_like(similarity)
    expected.scatter_(1, winners[:, None], spikes)
    torch.testing.assert_close(codes, expected, rtol=0, atol=0)
    assert int((codes != 0).sum(1).max()) <= 1  # one kernel at most fires per position


def test_competing_extrema_keep_one_distance_across_all_kernels():
    competing = model("extrema", competition="across-kernels")  # d = 9 - 2 = 7 on the combined map
    alone = model("extrema")
    x = signals(4, 200)
    for example in competing.encode(x):
        positions = sorted(torch.nonzero(example.abs().sum(0)).flatten().tolist())
        assert all(b - a >= 7 for a, b in zip(positions, positions[1:]))
    # Without competition the kernels' spikes crowd each other, and every kernel fires.
    crowded = [sorted(torch.nonzero(e.abs().sum(0)).flatten().tolist()) for e in alone.encode(x)]
    assert any(b - a < 7 for p in crowded for a, b in zip(p, p[1:]))


def test_residual_passes_add_the_codes_of_what_each_pass_left():
    single, triple = model("extrema"), model("extrema", passes=3)
    triple.load_state_dict(single.state_dict())
    x = signals()
    first = single.encode(x)
    second = single.encode(x - single.decode(first))
    third = single.encode(x - single.decode(first + second))
    torch.testing.assert_close(triple.encode(x), first + second + third, rtol=0, atol=0)
    torch.testing.assert_close(triple(x), single.decode(first) + single.decode(second) + single.decode(third))


def test_passes_of_a_kernel_that_matches_the_signal_leave_less_each_time():
    # One spike kernel (m = 1) and top-10: each pass keeps the 10 largest samples of the residual.
    spike = sanets.SAN([1], "topk-absolutes", sparsity=[10], dtype=torch.float64, init="constant")
    with torch.no_grad():
        spike.kernels[0].fill_(1.0)
    x = signals(2, 100)
    losses = []
    for passes in (1, 2, 3):
        spike.passes = passes
        losses.append(sanets.metrics.normalized_reconstruction_loss(x, spike(x)).mean().item())
        assert int((spike.encode(x) != 0).sum(-1).max()) == 10 * passes  # k new samples each pass
    assert losses[0] > losses[1] > losses[2]


def test_variants_train_save_and_load(tmp_path):
    x = signals(8, 120).float()
    variant = sanets.SAN([9, 15], "extrema", seed=0, competition="across-kernels", passes=2)
    sanets.fit(variant, x[:6], x[6:], epochs=3, batch_size=3, seed=0)
    variant.save(tmp_path / "variant.safetensors")
    loaded = sanets.SAN.load(tmp_path / "variant.safetensors")
    assert (loaded.competition, loaded.passes) == ("across-kernels", 2)
    torch.testing.assert_close(loaded(x), variant(x))


@pytest.mark.parametrize("options, message", [
    ({"competition": "winner-takes-all"}, "competition must be one of none, across-kernels"),
    ({"passes": 0}, "passes"),
    ({"passes": 1.5}, "passes"),
])
def test_bad_variant_options_are_named(options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        sanets.SAN([5], "extrema", **options)


def test_the_distance_schedule_is_cosine_and_validation_uses_the_final_distance(monkeypatch):
    from sanets import training

    seen = []
    original = sanets.SAN.set_sparsity

    def spy(self, sparsity):
        seen.append(sparsity[0])
        original(self, sparsity)

    x = signals(6, 120).float()
    variant = sanets.SAN([9, 9], "extrema", seed=0)
    monkeypatch.setattr(sanets.SAN, "set_sparsity", spy)
    result = sanets.fit(variant, x[:4], x[4:], epochs=5, batch_size=2, seed=0, distance_schedule=(20, 4))
    # Per epoch: the training distance, then the final one for validation. cos at 0, pi/4, pi/2, 3pi/4, pi:
    expected = [round(4 + 16 * (1 + math.cos(math.pi * e / 4)) / 2) for e in range(5)]
    assert expected == [20, 18, 12, 6, 4]
    assert seen == [d for e in expected for d in (e, 4)]
    assert variant.sparsity == [4, 4]
    # The epoch kept was chosen on validation at d = 4: evaluating it again gives the same phi.
    assert sanets.evaluate(variant, x[4:]).flithos == pytest.approx(result.best_flithos, rel=1e-6)
    assert training._cosine_schedule(variant, (20, 4), 1) == [4]


@pytest.mark.parametrize("schedule, activation, message", [
    ((20, 4), "relu", "anneals the Extrema distance"),
    ((20,), "extrema", "pair"),
    ((20, -1), "extrema", "distance_schedule"),
    ("20", "extrema", "pair"),
])
def test_bad_distance_schedules_are_named(schedule, activation, message):
    x = signals(4, 60).float()
    with pytest.raises((TypeError, ValueError), match=message):
        sanets.fit(sanets.SAN([5], activation, seed=0), x[:2], x[2:], epochs=2, distance_schedule=schedule)


def test_activation_dropout_drops_codes_while_training_only(monkeypatch):
    x = signals(6, 120).float()
    plain, dropped = (sanets.SAN([9], "extrema", seed=0) for _ in range(2))
    kept = []
    original = torch.nn.functional.dropout

    def spy(codes, p):
        out = original(codes, p)
        kept.append((int((codes != 0).sum()), int((out != 0).sum()), p))
        # Survivors are scaled by 1 / (1 - p): the expected reconstruction is unchanged.
        torch.testing.assert_close(out[out != 0], codes[out != 0] / (1 - p))
        return out

    monkeypatch.setattr(torch.nn.functional, "dropout", spy)
    sanets.fit(plain, x[:4], x[4:], epochs=3, batch_size=2, seed=0)
    assert not kept  # p = 0 never calls dropout: the paper's training, bit for bit
    result = sanets.fit(dropped, x[:4], x[4:], epochs=3, batch_size=2, seed=0, activation_dropout=0.5)
    assert len(kept) == 3 * 2 and all(p == 0.5 for *_, p in kept)
    before, after = sum(k[0] for k in kept), sum(k[1] for k in kept)
    assert 0.2 * before < after < 0.8 * before
    assert sanets.evaluate(dropped, x[4:]).flithos == pytest.approx(result.best_flithos, rel=1e-6)


@pytest.mark.parametrize("p", [-0.1, 1.0, float("nan")])
def test_bad_activation_dropout_is_named(p):
    x = signals(4, 60).float()
    with pytest.raises(ValueError, match="activation_dropout"):
        sanets.fit(sanets.SAN([5], "extrema", seed=0), x[:2], x[2:], epochs=1, activation_dropout=p)


def test_unit_norm_kernels_have_unit_energy_and_keep_their_direction():
    plain, normed = model("relu"), model("relu", unit_norm=True)
    for kernel, unit in zip(plain.kernel_weights(), normed.kernel_weights()):
        assert float(unit.detach().norm()) == pytest.approx(1.0)
        assert torch.allclose(unit * kernel.norm(), kernel)
    with pytest.raises(TypeError, match="unit_norm must be True or False"):
        model("relu", unit_norm="yes")


def test_top_1_competing_passes_of_unit_norm_kernels_are_matching_pursuit():
    x, passes = signals(2, 60, seed=4), 7
    pursuit = model("topk-absolutes", sparsity=[1, 1, 1], competition="across-kernels", passes=passes, unit_norm=True)
    kernels = [kernel.detach().tolist() for kernel in pursuit.kernel_weights()]
    codes = pursuit.encode(x).detach()
    # Naive matching pursuit: place the (kernel, position) of largest |<residual, kernel>|, subtract it, repeat.
    for n in range(2):
        residual, expected = x[n, 0].tolist(), torch.zeros(3, 60, dtype=torch.float64)
        for _ in range(passes):
            best = (0.0, 0, 0)
            for i, kernel in enumerate(kernels):
                m = len(kernel)
                for t in range(60):
                    taps = [(t - (m - 1) // 2 + j, w) for j, w in enumerate(kernel) if 0 <= t - (m - 1) // 2 + j < 60]
                    value = sum(residual[place] * w for place, w in taps)
                    if abs(value) > abs(best[0]):
                        best = (value, i, t)
            value, i, t = best
            expected[i, t] += value
            m = len(kernels[i])
            for j, w in enumerate(kernels[i]):
                if 0 <= t - (m - 1) // 2 + j < 60:
                    residual[t - (m - 1) // 2 + j] -= value * w
        assert torch.allclose(codes[n], expected)
        assert int((codes[n] != 0).sum()) <= passes


def test_kernels_grow_when_the_training_error_stalls_and_earlier_kernels_are_kept():
    x = signals(6, 60, seed=5).float()
    grown = sanets.SAN([7], "extrema", seed=2, competition="across-kernels")
    first = grown.kernels[0].detach().clone()
    # With a vanishing learning rate the error stalls at once: with patience 1, a kernel joins every other epoch.
    result = sanets.fit(grown, x[:4], x[4:], epochs=6, batch_size=2, lr=1e-12, seed=3, grow_to=3, grow_patience=1,
                        restore_best=False)
    assert [record.num_kernels for record in result.history] == [1, 1, 2, 2, 3, 3]
    assert grown.kernel_sizes == [7, 7, 7] and grown.num_weights == 21
    assert torch.allclose(grown.kernels[0].detach(), first)
    drawn = torch.Generator().manual_seed(3 + 1)  # the growth draws from seed + 1, as the constructor draws
    assert torch.allclose(grown.kernels[1].detach(), torch.normal(0.0, 0.1, (7,), generator=drawn))
    assert torch.allclose(grown.kernels[2].detach(), torch.normal(0.0, 0.1, (7,), generator=drawn))


def test_growth_restores_the_kernel_count_of_the_epoch_kept():
    x = signals(6, 60, seed=5).float()
    grown = sanets.SAN([7], "extrema", seed=2)
    result = sanets.fit(grown, x[:4], x[4:], epochs=4, batch_size=2, lr=1e-12, seed=3, grow_to=2, grow_patience=1)
    kept = result.history[result.best_epoch - 1]
    assert kept.num_kernels < result.history[-1].num_kernels, "the epoch kept had fewer kernels than the last"
    assert grown.num_kernels == kept.num_kernels and set(result.state_dict) == {f"kernels.{i}" for i in range(kept.num_kernels)}
    assert sanets.evaluate(grown, x[4:]).flithos == pytest.approx(result.best_flithos)
    with pytest.raises(ValueError, match="grow_to must be an int >= 2"):
        sanets.fit(sanets.SAN([7, 7]), x[:4], x[4:], epochs=1, grow_to=1)


def test_the_winning_channel_is_the_first_of_the_largest_as_argmax_gives_it():
    from sanets.activations._common import channel_argmax

    x = torch.randn(4, 5, 30, generator=torch.Generator().manual_seed(6)).abs()
    x[:, 3] = x[:, 1]  # ties between channels 1 and 3 everywhere: channel 1 wins where they lead
    x[0, :, 7] = 2.0  # all five equal: channel 0 wins
    assert torch.equal(channel_argmax(x), x.argmax(1, keepdim=True))
    assert int(channel_argmax(x)[0, 0, 7]) == 0 and not (channel_argmax(x) == 3).any()
