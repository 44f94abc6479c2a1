"""The five activations against naive per-map references written here."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sanets import activations
from sanets.activations import (
    _compiled,
    _extrema,
    _pool,
    _suppression,
    _topk,
    extrema,
    extrema_pool_indices,
    identity,
    relu,
    topk_absolutes,
)


def smooth_1d(n, c, length, seed, width=9):
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, c, length + width - 1, generator=generator, dtype=torch.float64)
    return F.avg_pool1d(noise, width, 1)


def smooth_2d(n, c, size, seed, width=3):
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, c, size + width - 1, size + width - 1, generator=generator, dtype=torch.float64)
    return F.avg_pool2d(noise, width, 1)


def per_map(reference, x, *args):
    """Apply a numpy reference to every (example, channel) map of x."""
    return np.stack([[reference(x[i, j].numpy(), *args) for j in range(x.shape[1])] for i in range(x.shape[0])])


# Naive references: plain loops over positions, written from the paper's definitions.


def naive_topk(values, k):
    flat = values.ravel()
    order = sorted(range(flat.size), key=lambda i: -abs(flat[i]))
    out = np.zeros_like(flat)
    for i in order[:k]:
        out[i] = flat[i]
    return out.reshape(values.shape)


def naive_extrema_pool(values, window):
    window = (window,) * values.ndim if isinstance(window, int) else window
    out = np.zeros_like(values)
    counts = [n // w for n, w in zip(values.shape, window)]
    for block in itertools.product(*(range(c) for c in counts)):
        cells = itertools.product(*(range(b * w, (b + 1) * w) for b, w in zip(block, window)))
        best = max(cells, key=lambda p: abs(values[p]))
        out[best] = values[best]
    return out


def is_peak_or_valley_along(values, position, axis):
    line = values[position[:axis] + (slice(None),) + position[axis + 1 :]]
    i, length = position[axis], len(line)
    before = line[i] - line[i - 1] if i > 0 else 0.0
    after = line[i + 1] - line[i] if i < length - 1 else 0.0
    return (before > 0 and after <= 0), (before <= 0 and after > 0)


def naive_extrema(values, distance):
    distance = (distance,) * values.ndim if isinstance(distance, int) else distance
    candidates = []
    for position in np.ndindex(values.shape):
        kinds = [is_peak_or_valley_along(values, position, axis) for axis in range(values.ndim)]
        peak = all(p for p, _ in kinds) and values[position] > 0
        valley = all(v for _, v in kinds) and values[position] <= 0
        if peak or valley:
            candidates.append(position)
    candidates.sort(key=lambda p: (-abs(values[p]), np.ravel_multi_index(p, values.shape)))
    kept = []
    for position in candidates:
        if all(any(abs(a - b) > d for a, b, d in zip(position, other, distance)) for other in kept):
            kept.append(position)
    out = np.zeros_like(values)
    for position in kept:
        out[position] = values[position]
    return out


def test_identity_and_relu_match_definitions():
    x = smooth_1d(3, 2, 50, seed=0)
    assert torch.equal(identity(x), x)
    assert torch.equal(relu(x), torch.where(x > 0, x, torch.zeros_like(x)))


@pytest.fixture(params=["compiled", "tensor"])
def topk_path(request, monkeypatch):
    """Top-k's mask compiled (the CPU's default) or by tensor operations (the other devices')."""
    monkeypatch.setattr(_topk, "COMPILED_ON_CPU", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("k", [1, 7, 40])
def test_topk_absolutes_matches_naive_1d(k, topk_path):
    x = smooth_1d(4, 2, 80, seed=k)
    out = topk_absolutes(x, k)
    np.testing.assert_array_equal(out.numpy(), per_map(naive_topk, x, k))
    assert (out.flatten(2) != 0).sum(-1).eq(k).all()


def test_topk_absolutes_matches_naive_2d(topk_path):
    x = smooth_2d(3, 2, 12, seed=1)
    out = topk_absolutes(x, 16)
    np.testing.assert_array_equal(out.numpy(), per_map(naive_topk, x, 16))
    assert (out.flatten(2) != 0).sum(-1).eq(16).all()


@pytest.fixture(params=["compiled", "tensor"])
def pool_path(request, monkeypatch):
    """Extrema-Pool's mask compiled (the CPU's default) or by tensor operations (the other devices')."""
    monkeypatch.setattr(_pool, "COMPILED_ON_CPU", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("window", [1, 3, 7, 50])
def test_extrema_pool_indices_matches_naive_1d(window, pool_path):
    x = smooth_1d(4, 2, 103, seed=window)
    out = extrema_pool_indices(x, window)
    np.testing.assert_array_equal(out.numpy(), per_map(naive_extrema_pool, x, window))
    # One position per full window; the trailing partial window is not pooled.
    assert (out.flatten(2) != 0).sum(-1).eq(103 // window).all()


@pytest.mark.parametrize("window", [1, 2, (3, 4), 5])
def test_extrema_pool_indices_matches_naive_2d(window, pool_path):
    x = smooth_2d(2, 2, 14, seed=3)
    out = extrema_pool_indices(x, window)
    np.testing.assert_array_equal(out.numpy(), per_map(naive_extrema_pool, x, window))
    rows, cols = (window, window) if isinstance(window, int) else window
    # One per window in every window of the grid, not one per image.
    per_window = F.max_pool2d((out != 0).double(), (rows, cols)).sum((-1, -2))
    assert per_window.eq((14 // rows) * (14 // cols)).all()


@pytest.fixture(params=["compiled", "rounds"])
def engine(request, monkeypatch):
    """Extrema's greedy pass compiled (the CPU's default) or as parallel rounds (the other devices')."""
    monkeypatch.setattr(_extrema, "COMPILED_ON_CPU", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("distance", [0, 1, 2, 5, 13, 60, 500])
def test_extrema_matches_naive_1d(distance, engine):
    x = smooth_1d(4, 2, 240, seed=distance)
    np.testing.assert_array_equal(extrema(x, distance).numpy(), per_map(naive_extrema, x, distance))


@pytest.mark.parametrize("distance", [0, 1, 3, 9])
def test_extrema_with_ties_matches_naive_1d(distance, engine):
    # Quantised values make many equal magnitudes: the lower index must win ties.
    x = torch.round(smooth_1d(4, 1, 200, seed=7) * 3)
    assert len(torch.unique(x.abs())) < 10
    np.testing.assert_array_equal(extrema(x, distance).numpy(), per_map(naive_extrema, x, distance))


@pytest.mark.parametrize("distance", [0, 1, 2, (1, 3), 4])
def test_extrema_matches_naive_2d(distance, engine):
    x = smooth_2d(3, 2, 20, seed=11)
    np.testing.assert_array_equal(extrema(x, distance).numpy(), per_map(naive_extrema, x, distance))


@pytest.mark.parametrize("distance", [1, (2, 1)])
def test_extrema_with_ties_matches_naive_2d(distance, engine):
    x = torch.round(smooth_2d(2, 1, 16, seed=5) * 4)
    np.testing.assert_array_equal(extrema(x, distance).numpy(), per_map(naive_extrema, x, distance))


def extrema_inputs_1d():
    """Maps that exercise ties, plateaus, signs and rounds, with their names."""
    noise = torch.randn(6, 2, 90, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    steps = torch.arange(90, dtype=torch.float64)
    # Peaks of growing height with valleys between: the greedy order runs along the whole map,
    # which takes the parallel rounds the longest; the batch also holds maps that finish at once.
    staircase = (steps * (-1) ** steps / 10)[None, None].expand(2, 1, 90)
    yield "noise", noise
    yield "quantised", torch.round(noise * 2)  # many equal magnitudes and plateaus
    yield "plateaus", torch.repeat_interleave(torch.round(noise[:, :, :30] * 3), 3, dim=-1)
    yield "constant", torch.full((2, 1, 90), 1.5, dtype=torch.float64)
    yield "zeros", torch.zeros(2, 1, 90, dtype=torch.float64)
    yield "mixed rounds", torch.cat([staircase, noise[:2, :1], torch.zeros(2, 1, 90, dtype=torch.float64)])
    yield "float32", noise.float()


@pytest.mark.parametrize("method", ["compiled", "auto", "pairwise", "dense"])
@pytest.mark.parametrize("distance", [1, 2, 7, 30, 89, 200])
def test_extrema_edge_cases_match_naive_1d(method, distance, monkeypatch):
    # Every method (compiled greedy pass; pairwise comparisons of few candidates, rounds on dense maps) on every input.
    limit = {"compiled": 0, "auto": _suppression.PAIRWISE_LIMIT, "pairwise": math.inf, "dense": 0}[method]
    monkeypatch.setattr(_suppression, "PAIRWISE_LIMIT", limit)
    monkeypatch.setattr(_extrema, "COMPILED_ON_CPU", method == "compiled")
    for name, x in extrema_inputs_1d():
        out = extrema(x, distance)
        assert out.dtype == x.dtype
        np.testing.assert_array_equal(out.numpy(), per_map(naive_extrema, x, distance), err_msg=name)


@pytest.mark.parametrize("method", ["compiled", "pairwise", "dense"])
@pytest.mark.parametrize("distance", [1, (0, 2), (3, 0), (1, 4), (2, 1), 30])
def test_extrema_edge_cases_match_naive_2d(method, distance, monkeypatch):
    monkeypatch.setattr(_suppression, "PAIRWISE_LIMIT", {"compiled": 0, "pairwise": math.inf, "dense": 0}[method])
    monkeypatch.setattr(_extrema, "COMPILED_ON_CPU", method == "compiled")
    noise = torch.randn(4, 2, 9, 13, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    inputs = {
        "noise": noise,
        "quantised": torch.round(noise * 2),
        "plateaus": torch.repeat_interleave(torch.round(noise[:, :, :, :5] * 2), 3, dim=-1)[..., :13],
        "constant": torch.full((2, 1, 9, 13), -2.0, dtype=torch.float64),
        "float32": smooth_2d(3, 1, 12, seed=4).float(),
        "one row": noise[:, :, :1],
        "one column": noise[:, :, :, :1],
    }
    for name, x in inputs.items():
        np.testing.assert_array_equal(extrema(x, distance).numpy(), per_map(naive_extrema, x, distance), err_msg=name)


@pytest.mark.parametrize("key_bits", [32, 64])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_extrema_orders_magnitudes_that_share_their_leading_bits(key_bits, dtype, monkeypatch):
    # The compiled pass sorts keys made of a magnitude's leading bits only: here most candidates share them
    # (and many are exactly equal), so the exact order is restored afterwards.
    monkeypatch.setattr(_compiled, "SHORT_KEYS_UP_TO", 1 << 20 if key_bits == 32 else 0)
    noise = torch.randn(5, 2, 150, generator=torch.Generator().manual_seed(2), dtype=dtype)
    # Distinct magnitudes beyond the bits that a key keeps, and exact ties.
    close = 1 + noise.abs() * (2**-19 if dtype == torch.float32 else 2**-46) * (-1) ** torch.arange(150)
    # 2D maps with rows of at most 64 positions block a word per row, wider ones bytes.
    wide = torch.cat([close, close.flip(-1)], -1).view(5, 2, 3, 100)
    for x, distance in [(close, 3), (torch.round(noise * 2) + close - 1, 2), (close.view(5, 2, 10, 15), (1, 2)),
                        (close.view(5, 2, 10, 15), (2, 1)), (wide, (1, 3))]:
        np.testing.assert_array_equal(extrema(x, distance).numpy(), per_map(naive_extrema, x, distance))


def test_extrema_on_tiny_and_empty_maps(engine):
    for length in [1, 2, 3]:
        x = torch.randn(3, 2, length, generator=torch.Generator().manual_seed(length))
        np.testing.assert_array_equal(extrema(x, 5).numpy(), per_map(naive_extrema, x, 5))
    # 2D maps of one or two rows or columns: each has a first and last row, or column, and little else.
    for shape in [(1, 1), (1, 6), (6, 1), (2, 2), (2, 7), (7, 2)]:
        x = torch.randn(3, 2, *shape, generator=torch.Generator().manual_seed(sum(shape)))
        np.testing.assert_array_equal(extrema(x, 5).numpy(), per_map(naive_extrema, x, 5), err_msg=str(shape))
    assert extrema(torch.zeros(0, 2, 10), 3).shape == (0, 2, 10)
    assert extrema(torch.zeros(2, 1, 0, 4), 1).shape == (2, 1, 0, 4)


def test_extrema_on_a_non_contiguous_slice(engine):
    # The model applies the activation to one channel of a similarity tensor at a time.
    x = smooth_1d(3, 4, 200, seed=9).transpose(0, 1)[1:2].transpose(0, 1)
    assert not x.is_contiguous()
    np.testing.assert_array_equal(extrema(x, 6).numpy(), per_map(naive_extrema, x, 6))


@pytest.mark.parametrize("limit", [0, math.inf])
def test_extrema_gradient_with_either_method(limit, engine, monkeypatch):
    monkeypatch.setattr(_suppression, "PAIRWISE_LIMIT", limit)
    for x in [smooth_1d(2, 2, 80, seed=1), smooth_2d(2, 1, 10, seed=2)]:
        x = x.float().requires_grad_()
        out = extrema(x, 2)
        out.sum().backward()
        assert torch.equal(x.grad != 0, out.detach() != 0)


def test_extrema_keeps_spikes_apart_and_signed():
    x = torch.zeros(1, 1, 30)
    x[0, 0, [5, 8, 20]] = torch.tensor([2.0, 3.0, -1.5])
    out = extrema(x, 3)[0, 0]
    # 8 suppresses the weaker peak at 5 (distance 3); the valley at 20 is kept with its sign.
    assert out.nonzero().flatten().tolist() == [8, 20]
    assert out[20].item() == -1.5


def test_examples_and_channels_are_independent():
    x = smooth_1d(3, 2, 120, seed=4)
    for function, parameter in [(topk_absolutes, 9), (extrema_pool_indices, 6), (extrema, 4)]:
        whole = function(x, parameter)
        one_by_one = torch.cat([function(x[i : i + 1, j : j + 1], parameter) for i in range(3) for j in range(2)])
        assert torch.equal(whole.reshape(6, 1, 120), one_by_one)


PER_CHANNEL = {
    1: dict(k=[1, 7, 7, 30, 120, 3], pool_size=[[1], [2], [5], [5], [17], [120]], min_distance=[[0], [1], [4], [13], [0], [500]]),
    2: dict(k=[1, 9, 9, 40, 225, 3], pool_size=[[1, 1], [2, 3], [3, 3], [5, 2], [15, 15], [4, 4]],
            min_distance=[[0, 0], [1, 1], [2, 1], [0, 3], [4, 4], [30, 30]]),
}


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("function, parameter", [(topk_absolutes, "k"), (extrema_pool_indices, "pool_size"), (extrema, "min_distance")])
def test_per_channel_parameters_equal_one_call_per_channel(dims, function, parameter, engine, monkeypatch):
    # A SAN with kernels of several sizes (and fit_sweep) passes one parameter per channel.
    x = smooth_1d(3, 6, 120, seed=9) if dims == 1 else smooth_2d(3, 6, 15, seed=9)
    table = torch.tensor(PER_CHANNEL[dims][parameter])
    whole = function(x, table)
    for channel, value in enumerate(table.tolist()):
        scalar = value if isinstance(value, int) else tuple(value)
        assert torch.equal(whole[:, channel : channel + 1], function(x[:, channel : channel + 1], scalar)), (channel, value)
    if function is extrema_pool_indices:  # pooled group by group or all windows in one pass: same ties, same gradient
        ties = torch.round(x * 2).requires_grad_()  # many equal magnitudes, zeros among them
        grouped = torch.autograd.grad(function(ties, table).sum(), ties)[0]
        monkeypatch.setattr(_pool, "WINDOW_GROUPS", 0)
        assert torch.equal(function(x, table), whole)
        assert torch.equal(torch.autograd.grad(function(ties, table).sum(), ties)[0], grouped)
    if function is extrema:  # neither grouping by distance nor chunks of maps change anything
        monkeypatch.setattr(_suppression, "DISTANCE_GROUPS", 0)
        assert torch.equal(function(x, table), whole)
        monkeypatch.setattr(_suppression, "PAIR_BUDGET", 1)
        assert torch.equal(function(x, table), whole)


def test_maps_of_very_different_candidate_counts_are_chunked_without_changing_anything(engine, monkeypatch):
    # A sweep's maps: white noise (about L/3 candidates) beside smooth maps (a few): chunks by count.
    x = torch.cat([torch.randn(3, 2, 120, generator=torch.Generator().manual_seed(4)), smooth_1d(3, 4, 120, seed=5)], 1)
    table = torch.tensor([1, 6, 2, 9, 14, 3])
    monkeypatch.setattr(_suppression, "DISTANCE_GROUPS", 0)
    whole = extrema(x, table)
    for channel, value in enumerate(table.tolist()):
        assert torch.equal(whole[:, channel : channel + 1], extrema(x[:, channel : channel + 1], value)), channel


def test_per_channel_gradient_and_bad_tables():
    x = smooth_1d(2, 3, 50, seed=1).requires_grad_()
    out = extrema(x, torch.tensor([1, 4, 9]))
    out.sum().backward()
    assert torch.equal(x.grad != 0, out.detach() != 0)
    with pytest.raises(ValueError, match=r"k as a tensor must hold ints of shape \(3,\)"):
        topk_absolutes(x, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="min_distance as a tensor must hold ints"):
        extrema(x, torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="pool_size must be >= 1"):
        extrema_pool_indices(x, torch.tensor([1, 0, 2]))
    with pytest.raises(ValueError, match="k=51 exceeds"):
        topk_absolutes(x, torch.tensor([1, 51, 2]))


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_gradient_reaches_exactly_the_kept_values(name):
    x = smooth_1d(2, 1, 60, seed=2).requires_grad_()
    parameter = {"topk-absolutes": 5, "extrema-pool-indices": 6, "extrema": 3}.get(name)
    out = activations.get(name, parameter)(x)
    out.sum().backward()
    kept = out.detach() != 0
    assert torch.equal(x.grad != 0, kept) if name != "relu" else torch.equal(x.grad != 0, x.detach() > 0)


def test_registry_builds_modules_by_name():
    assert list(activations.ACTIVATIONS) == ["identity", "relu", "topk-absolutes", "extrema-pool-indices", "extrema"]
    module = activations.get("extrema", 5)
    assert isinstance(module, torch.nn.Module) and "min_distance=5" in repr(module)
    x = smooth_1d(2, 1, 40, seed=0)
    assert torch.equal(module(x), extrema(x, 5))
    assert torch.equal(torch.nn.Sequential(activations.get("relu"))(x), relu(x))


@pytest.mark.parametrize(
    "name, spatial, m, border_tolerance, expected",
    [
        ("topk-absolutes", (1000,), 7, 3, 142),
        ("topk-absolutes", (28, 28), 3, 2, 81),  # (28 // 3) ** 2
        ("extrema-pool-indices", (178,), 15, 2, 15),
        ("extrema", (1000,), 229, 3, 226),
        ("extrema", (1000,), 2, 3, 0),  # m - border tolerance, down to 0
        ("identity", (10,), 3, 2, None),
    ],
)
def test_registry_defaults_follow_the_paper(name, spatial, m, border_tolerance, expected):
    assert activations.ACTIVATIONS[name].defaults([m], spatial, border_tolerance) == [expected]


def test_checked_functions_equal_the_public_ones_on_a_table():
    # The model calls the checked function with a per-channel table built once; it must equal the public call.
    x = smooth_1d(3, 2, 90, seed=5)
    for name, values in [("topk-absolutes", [4, 9]), ("extrema-pool-indices", [3, 7]), ("extrema", [2, 6]), ("relu", [None, None])]:
        spec = activations.ACTIVATIONS[name]
        table = spec.table(values, 1)
        public = spec.function(x) if table is None else spec.function(x, table)
        assert torch.equal(spec.checked(x, table), public), name


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: extrema(torch.zeros(5), 1), ValueError, "shape"),
        (lambda: extrema(torch.zeros(1, 1, 1, 1, 5), 1), ValueError, "shape"),
        (lambda: relu(torch.zeros(1, 1, 5, dtype=torch.int64)), TypeError, "floating-point"),
        (lambda: identity(np.zeros((1, 1, 5))), TypeError, "torch.Tensor"),
        (lambda: extrema(torch.tensor([[[0.0, float("nan"), 1.0]]]), 1), ValueError, "NaN or inf"),
        (lambda: topk_absolutes(torch.tensor([[[0.0, float("inf")]]]), 1), ValueError, "NaN or inf"),
        (lambda: topk_absolutes(torch.zeros(1, 1, 5), 0), ValueError, "k must be >= 1"),
        (lambda: topk_absolutes(torch.zeros(1, 1, 5), 6), ValueError, "k=6 exceeds"),
        (lambda: topk_absolutes(torch.zeros(1, 1, 5), 2.5), TypeError, "k must be an int"),
        (lambda: extrema(torch.zeros(1, 1, 5), -1), ValueError, "min_distance must be >= 0"),
        (lambda: extrema(torch.zeros(1, 1, 5, 5), (1, 2, 3)), ValueError, "min_distance must be an int or 2 ints"),
        (lambda: extrema_pool_indices(torch.zeros(1, 1, 5), 0), ValueError, "pool_size must be >= 1"),
        (lambda: extrema_pool_indices(torch.zeros(1, 1, 5), 6), ValueError, "larger than the spatial size"),
        (lambda: activations.get("softmax"), ValueError, "unknown activation 'softmax'"),
        (lambda: activations.get("extrema"), TypeError, "min_distance"),
        (lambda: activations.ACTIVATIONS["relu"].check(2, 1), ValueError, "takes no parameter"),
        (lambda: activations.ACTIVATIONS["extrema"].check((1, 2), 1), ValueError, "min_distance must be an int or 1 ints"),
        (lambda: activations.get("relu", 3), TypeError, "no parameter"),
    ],
)
def test_bad_input_raises_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("groups", [0, 8])
@pytest.mark.parametrize("dims", [1, 2])
def test_topk_keeps_the_lower_index_among_equal_magnitudes(dims, groups, topk_path, monkeypatch):
    # Quantised maps with zeros: the k-th largest magnitude is shared by many positions. Per channel k, the
    # thresholds found by one sort of every map (groups 0) or a selection per group of equal k.
    monkeypatch.setattr(activations._topk, "K_GROUPS", groups)
    x = torch.round(smooth_1d(3, 4, 60, seed=2) * 2) if dims == 1 else torch.round(smooth_2d(3, 4, 9, seed=2) * 2)
    ks = torch.tensor([1, 5, 17, 40])
    x.requires_grad_()
    out = topk_absolutes(x, ks)
    kept = torch.autograd.grad(out.sum(), x)[0]  # the kept positions, zeros among them
    for channel, k in enumerate(ks.tolist()):
        expected = per_map(naive_topk_positions, x.detach()[:, channel : channel + 1], k)
        np.testing.assert_array_equal(kept[:, channel : channel + 1].numpy(), expected)
    assert torch.equal(out.detach(), x.detach() * kept)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_topk_equals_the_tensor_operations(dtype, monkeypatch):
    # Maps that stress the radix selection: many magnitudes in one bin (equal up to the last bits), exact ties
    # across the threshold, zeros, subnormals, signs, magnitudes 1e-30 to 1e30 apart; every k from 1 to the map.
    generator = torch.Generator().manual_seed(0)
    size = 50
    maps = [
        torch.randn(size, generator=generator, dtype=dtype),
        1.0 + torch.randint(0, 4, (size,), generator=generator).to(dtype) * torch.finfo(dtype).eps,
        torch.randint(-2, 3, (size,), generator=generator).to(dtype),
        torch.zeros(size, dtype=dtype),
        torch.randn(size, generator=generator, dtype=dtype) * torch.finfo(dtype).tiny / 4,
        10.0 ** torch.randint(-30, 31, (size,), generator=generator).to(dtype) * torch.randn(size, generator=generator, dtype=dtype).sign(),
    ]
    x = torch.stack(maps)[None]
    for k in range(1, size + 1):
        monkeypatch.setattr(_topk, "COMPILED_ON_CPU", True)
        compiled = topk_absolutes(x, k)
        monkeypatch.setattr(_topk, "COMPILED_ON_CPU", False)
        assert torch.equal(compiled, topk_absolutes(x, k)), k


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, table", [
    ((3, 13, 50), [[1], [2], [3], [4], [5], [6], [7], [9], [11], [13], [25], [50], [49]]),  # 13 windows: one pass
    ((3, 4, 14, 15), [[1, 1], [2, 2], [3, 4], [14, 15]]),
    ((2, 12, 28, 28), [[m, m] for m in range(1, 7) for _ in range(2)]),  # Table III's packed sweep
])
def test_compiled_extrema_pool_equals_the_tensor_operations(dtype, shape, table, monkeypatch):
    # Ties everywhere (few distinct magnitudes, both signs, zeros) and subnormals: the first largest magnitude of
    # each window, row by row, as torch's max pooling picks it.
    generator = torch.Generator().manual_seed(0)
    values = torch.randint(-3, 4, shape, generator=generator).to(dtype)
    values[0, 0] *= torch.finfo(dtype).tiny / 8
    windows = torch.tensor(table)
    outputs, kept = [], []
    for compiled in (True, False):
        monkeypatch.setattr(_pool, "COMPILED_ON_CPU", compiled)
        x = values.clone().requires_grad_()
        outputs.append(extrema_pool_indices(x, windows))
        outputs[-1].sum().backward()
        kept.append(x.grad != 0)  # the masks themselves, kept zeros included
    assert torch.equal(outputs[0], outputs[1]) and torch.equal(kept[0], kept[1])
    assert kept[0].flatten(2).sum(-1).gt(0).all()


def naive_topk_positions(values, k):
    flat = values.ravel()
    order = sorted(range(flat.size), key=lambda i: -abs(flat[i]))  # stable: the lower index first among equals
    out = np.zeros_like(flat)
    out[order[:k]] = 1.0
    return out.reshape(values.shape)
