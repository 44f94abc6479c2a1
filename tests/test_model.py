"""SAN: similarity, encode/decode, defaults from the paper, save/load, bad input."""

import json

import pytest
import torch
from safetensors.torch import save_file

import sanets
from sanets.errors import ModelFileError, ModelFileNotFoundError


def with_kernels(model, *kernels):
    with torch.no_grad():
        for parameter, values in zip(model.kernels, kernels):
            parameter.copy_(torch.tensor(values, dtype=torch.float32))
    return model


def test_similarity_is_same_size_cross_correlation_hand_computed():
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    odd = with_kernels(sanets.SAN([3], "identity"), [1.0, 0.0, -1.0])
    # s[i] = x[i-1] - x[i+1], zero outside.
    assert odd.similarity(x).tolist() == [[[-2.0, -2.0, -2.0, -2.0, 4.0]]]
    even = with_kernels(sanets.SAN([2], "identity"), [1.0, 2.0])
    # Even m: (m-1)//2 = 0 samples before, m//2 = 1 after: s[i] = x[i] + 2 x[i+1].
    assert even.similarity(x).tolist() == [[[5.0, 8.0, 11.0, 14.0, 5.0]]]


def test_decode_places_the_kernel_at_each_activation():
    model = with_kernels(sanets.SAN([3, 2], "identity"), [1.0, 0.0, -1.0], [4.0, 5.0])
    codes = torch.zeros(1, 2, 6)
    codes[0, 0, 2] = 2.0  # kernel 0 centred on position 2
    codes[0, 1, 4] = -1.0  # kernel 1 starting at position 4
    assert model.decode(codes).tolist() == [[[0.0, 2.0, 0.0, -2.0, -4.0, -5.0]]]


@pytest.mark.parametrize("dims, sizes, shape", [(1, [3, 4], (3, 1, 17)), (2, [3, 2], (2, 1, 9, 8))])
def test_decoder_is_the_adjoint_of_the_similarity(dims, sizes, shape):
    torch.manual_seed(0)
    model = sanets.SAN(sizes, "identity", dims=dims, seed=1).double()
    x = torch.randn(shape, dtype=torch.float64)
    codes = torch.randn(shape[0], len(sizes), *shape[2:], dtype=torch.float64)
    # <S x, a> == <x, S^T a>: the decoder reconstructs exactly what the encoder detects.
    left = (model.similarity(x) * codes).sum()
    right = (x * model.decode(codes)).sum()
    torch.testing.assert_close(left, right)


def test_two_dimensional_hand_computed():
    model = with_kernels(sanets.SAN([2], "identity", dims=2), [[1.0, 2.0], [3.0, 4.0]])
    x = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    # Only (0, 0) is non-zero; s[i, j] = sum w[a, b] x[i + a, j + b] for a, b in {0, 1}.
    assert model.similarity(x).tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]
    codes = torch.tensor([[[[0.0, 0.0], [0.0, 1.0]]]])
    assert model.decode(codes).tolist() == [[[[0.0, 0.0], [0.0, 1.0]]]]


@pytest.mark.parametrize(
    "activation, spatial, sizes, border_tolerance, expected",
    [
        ("topk-absolutes", (1000,), [7, 229], 3, [142, 4]),
        ("topk-absolutes", (28, 28), [3], 2, [81]),
        ("extrema-pool-indices", (178,), [8, 15], 2, [8, 15]),
        ("extrema", (1000,), [229, 2], 3, [226, 0]),
        ("identity", (10,), [3], 2, [None]),
    ],
)
def test_default_sparsity_follows_the_paper(activation, spatial, sizes, border_tolerance, expected):
    model = sanets.SAN(sizes, activation, dims=len(spatial), border_tolerance=border_tolerance)
    assert model.sparsity_for(spatial) == expected


def test_sparsity_override_is_used():
    model = sanets.SAN([5, 5], "topk-absolutes", sparsity=[None, 3])
    codes = model.encode(torch.randn(2, 1, 50))
    assert (codes != 0).sum(-1).tolist() == [[10, 3], [10, 3]]


@pytest.mark.parametrize("activation", list(sanets.activations.ACTIVATIONS))
@pytest.mark.parametrize("dims", [1, 2])
def test_gradient_reaches_every_kernel(activation, dims):
    model = sanets.SAN([3, 4], activation, dims=dims, seed=0)
    x = torch.randn((4, 1, 40) if dims == 1 else (4, 1, 12, 12), generator=torch.Generator().manual_seed(0))
    torch.nn.functional.l1_loss(model(x), x).backward()
    for kernel in model.kernels:
        assert kernel.grad is not None and kernel.grad.abs().sum() > 0


def test_shapes_and_number_of_weights():
    model = sanets.SAN([3, 5], "extrema", dims=2)
    x = torch.rand(2, 1, 10, 11)
    assert model.encode(x).shape == (2, 2, 10, 11)
    assert model(x).shape == x.shape
    assert model.num_weights == 3 * 3 + 5 * 5
    assert sanets.SAN([3, 5]).num_weights == 8


def test_initialisations():
    normal = sanets.SAN([50, 50], seed=0)
    assert not torch.equal(normal.kernels[0], normal.kernels[1])
    weights = torch.cat([k.detach() for k in sanets.SAN([5000], seed=1).kernels])
    assert abs(weights.mean().item()) < 0.01 and abs(weights.std().item() - 0.1) < 0.01
    assert torch.equal(sanets.SAN([4], seed=3).kernels[0], sanets.SAN([4], seed=3).kernels[0])
    constant = sanets.SAN([3, 3], "topk-absolutes", init="constant")
    assert all(torch.equal(k.detach(), torch.full((3,), 0.1)) for k in constant.kernels)


def test_constant_init_kernels_of_one_size_stay_identical():
    model = sanets.SAN([5, 5], "extrema-pool-indices", init="constant")
    x = torch.randn(8, 1, 64, generator=torch.Generator().manual_seed(0))
    sanets.fit(model, x[:6], x[6:], epochs=3, batch_size=2, seed=0)
    assert not torch.equal(model.kernels[0].detach(), torch.full((5,), 0.1))
    assert torch.equal(model.kernels[0], model.kernels[1])


@pytest.mark.parametrize("dims, sparsity", [(1, None), (2, [(2, 1), None])])
def test_save_load_round_trip(tmp_path, dims, sparsity):
    model = sanets.SAN([3, 4], "extrema", dims=dims, border_tolerance=1, sparsity=sparsity, seed=5)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = sanets.SAN.load(path)
    assert loaded.config() == model.config()
    for a, b in zip(model.kernels, loaded.kernels):
        assert torch.equal(a, b)
    x = torch.randn((2, 1, 30) if dims == 1 else (2, 1, 9, 9))
    assert torch.equal(loaded(x), model(x))
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
    assert path.stat().st_mode & 0o644 == 0o644, "saved with the user's umask, readable by others"


def test_load_rejects_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(ModelFileNotFoundError, match="missing.safetensors: model file not found") as missing:
        sanets.SAN.load(tmp_path / "missing.safetensors")
    assert isinstance(missing.value, FileNotFoundError) and isinstance(missing.value, ValueError)

    path = tmp_path / "model.safetensors"
    sanets.SAN([3], seed=0).save(path)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ModelFileError, match="truncated.safetensors"):
        sanets.SAN.load(truncated)

    garbage = tmp_path / "model.pt"
    garbage.write_bytes(b"PK\x03\x04 not a safetensors file at all")
    with pytest.raises(ModelFileError, match="model.pt: not a readable safetensors file"):
        sanets.SAN.load(garbage)

    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, foreign)
    with pytest.raises(ModelFileError, match="not a sanets SAN file"):
        sanets.SAN.load(foreign)

    future = tmp_path / "future.safetensors"
    config = json.dumps(sanets.SAN([3]).config())
    save_file({"kernel.0": torch.zeros(3)}, future, metadata={"format": "sanets.SAN", "format_version": "99", "config": config})
    with pytest.raises(ModelFileError, match="format version '99'"):
        sanets.SAN.load(future)

    mismatched = tmp_path / "mismatched.safetensors"
    save_file({"kernel.0": torch.zeros(4)}, mismatched, metadata={"format": "sanets.SAN", "format_version": "1", "config": config})
    with pytest.raises(ModelFileError, match="do not match"):
        sanets.SAN.load(mismatched)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: sanets.SAN(3), TypeError, "kernel_sizes must be a non-empty sequence"),
        (lambda: sanets.SAN([]), TypeError, "kernel_sizes must be a non-empty sequence"),
        (lambda: sanets.SAN([0]), ValueError, "positive ints"),
        (lambda: sanets.SAN([3], "softmax"), ValueError, "unknown activation 'softmax'"),
        (lambda: sanets.SAN([3], dims=3), ValueError, "dims must be 1 or 2"),
        (lambda: sanets.SAN([3], init="xavier"), ValueError, "init must be one of normal, constant"),
        (lambda: sanets.SAN([3], border_tolerance=-1), ValueError, "border_tolerance"),
        (lambda: sanets.SAN([3], sparsity=[1, 2]), ValueError, "one entry per kernel"),
        (lambda: sanets.SAN([3], "extrema", sparsity=[-1]), ValueError, "min_distance must be >= 0"),
        (lambda: sanets.SAN([3], "topk-absolutes", sparsity=[0]), ValueError, "k must be >= 1"),
        (lambda: sanets.SAN([3], "relu", sparsity=[2]), ValueError, "takes no parameter"),
        (lambda: sanets.SAN([3], "extrema-pool-indices", sparsity=[(2, 2)]), ValueError, "pool_size must be an int or 1 ints"),
    ],
)
def test_bad_construction_raises_clear_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize(
    "x, error, message",
    [
        (torch.zeros(2, 20), ValueError, r"shape \(N, 1, L\)"),
        (torch.zeros(2, 3, 20), ValueError, "one channel"),
        (torch.zeros(2, 1, 20, dtype=torch.int32), TypeError, "floating-point"),
        ([[0.0] * 20], TypeError, "torch.Tensor"),
        (torch.full((2, 1, 20), float("nan")), ValueError, "NaN or inf"),
        (torch.zeros(2, 1, 4), ValueError, "kernel size 5 is larger than the input"),
    ],
)
def test_bad_input_raises_clear_errors(x, error, message):
    with pytest.raises(error, match=message):
        sanets.SAN([5])(x)


def test_decode_rejects_codes_of_the_wrong_shape():
    with pytest.raises(ValueError, match="q=2"):
        sanets.SAN([3, 3]).decode(torch.zeros(1, 1, 10))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_any_floating_input_is_converted_to_the_models_dtype(dtype):
    model = sanets.SAN([5, 3], "extrema", seed=0)
    x = torch.randn(3, 1, 60, generator=torch.Generator().manual_seed(1)).to(dtype)
    out = model(x)
    assert out.dtype == torch.float32
    assert torch.equal(out, model(x.float())), "the input is converted first, then everything runs in float32"
    assert torch.equal(model.encode(x), model.encode(x.float()))


def test_a_double_model_computes_saves_and_loads_in_float64(tmp_path):
    model = sanets.SAN([5, 3], "topk-absolutes", seed=0).double()
    assert model.dtype == torch.float64 and model.config()["dtype"] == "float64"
    x = torch.randn(2, 1, 40, generator=torch.Generator().manual_seed(2))
    y = model(x)
    assert y.dtype == torch.float64
    # Against float64 arithmetic written here: top-k of the float64 similarity, kernels pasted back.
    x64, w = x.double(), [k.detach() for k in model.kernels]
    similarity = torch.stack([torch.nn.functional.conv1d(torch.nn.functional.pad(x64, ((m - 1) // 2, m // 2)), k.view(1, 1, -1))[:, 0]
                              for k, m in zip(w, (5, 3))], 1)
    torch.testing.assert_close(model.similarity(x), similarity, rtol=0, atol=1e-12)
    model.save(tmp_path / "double.safetensors")
    loaded = sanets.SAN.load(tmp_path / "double.safetensors")
    assert loaded.dtype == torch.float64 and loaded.config() == model.config()
    assert torch.equal(loaded(x), y)
    assert sanets.SAN([4], dtype="float64").dtype == torch.float64
    # A seed gives the same kernels in every dtype (drawn in float32, then converted).
    assert torch.equal(sanets.SAN([7], seed=3, dtype=torch.float64).kernels[0], sanets.SAN([7], seed=3).kernels[0].double())
    with pytest.raises(ValueError, match="dtype must be a floating-point torch dtype"):
        sanets.SAN([3], dtype=torch.int32)


def test_nan_weights_are_named_at_encode_save_and_load(tmp_path):
    model = sanets.SAN([3, 4], "extrema", seed=0)
    with torch.no_grad():
        model.kernels[1][2] = float("nan")
    with pytest.raises(ValueError, match=r"kernel 1 \(m=4\) holds NaN or inf weights"):
        model.encode(torch.randn(1, 1, 20))
    with pytest.raises(ValueError, match=r"kernel 1 \(m=4\) holds NaN or inf weights"):
        model.save(tmp_path / "nan.safetensors")
    assert not (tmp_path / "nan.safetensors").exists(), "nothing is written"
    config = json.dumps(sanets.SAN([3]).config())
    save_file({"kernel.0": torch.tensor([0.0, float("inf"), 1.0])}, tmp_path / "inf.safetensors",
              metadata={"format": "sanets.SAN", "format_version": "1", "config": config})
    with pytest.raises(ModelFileError, match=r"inf\.safetensors: kernel 0 \(m=3\) holds NaN or inf"):
        sanets.SAN.load(tmp_path / "inf.safetensors")


def test_empty_batches_encode_to_empty_codes_and_cannot_be_evaluated():
    model = sanets.SAN([3, 2], "extrema", seed=0)
    codes = model.encode(torch.zeros(0, 1, 20))
    assert codes.shape == (0, 2, 20) and model.decode(codes).shape == (0, 1, 20)
    with pytest.raises(ValueError, match=r"x holds no examples \(shape \(0, 1, 20\)\)"):
        sanets.evaluate(model, torch.zeros(0, 1, 20))
    with pytest.raises(ValueError, match="train holds no examples"):
        sanets.fit(model, torch.zeros(0, 1, 20), torch.randn(2, 1, 20))


def test_the_parameter_table_is_built_once_per_input_shape(monkeypatch):
    model = sanets.SAN([3, 5], "extrema", seed=0)
    spec, calls = model._spec, []
    original = spec.table
    monkeypatch.setattr(type(spec), "table", lambda self, *args: calls.append(args) or original(*args))
    for _ in range(3):
        model(torch.randn(2, 1, 30))
    model(torch.randn(2, 1, 40))
    assert len(calls) == 2, "one table per spatial shape, not one per forward pass"


def one_channel_san(model, channel, **options):
    """The one-channel SAN whose kernels are those ``model`` uses on input ``channel``."""
    single = sanets.SAN(model.kernel_sizes, model.activation, dims=model.dims, **options)
    groups = model.in_channels if model.channels == "separate" else 1
    numbers = [model.kernels[i * groups + channel % groups].detach().clone() for i in range(model.num_kernels)]
    single.set_kernels(model.kernel_sizes, numbers)
    return single


@pytest.mark.parametrize("channels", ["shared", "separate"])
@pytest.mark.parametrize(
    "dims, shape, options",
    [(1, (3, 3, 60), {}), (1, (2, 2, 80), {"competition": "across-kernels", "passes": 3, "scales": [1.0, 2.0]}),
     (2, (2, 3, 12, 10), {"passes": 2})],
)
def test_each_input_channel_is_coded_by_its_kernels_as_a_one_channel_san_would(channels, dims, shape, options):
    model = sanets.SAN([3, 5], "extrema", dims=dims, seed=0, in_channels=shape[1], channels=channels, **options)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    codes, x_hat = model.encode(x), model(x)
    per_channel = len(model.channel_sizes)
    assert codes.shape == (shape[0], shape[1] * per_channel, *shape[2:]) and x_hat.shape == x.shape
    for c in range(shape[1]):
        single = one_channel_san(model, c, **options)
        assert torch.equal(codes[:, c * per_channel : (c + 1) * per_channel], single.encode(x[:, c : c + 1]))
        torch.testing.assert_close(x_hat[:, c : c + 1], single(x[:, c : c + 1]))
    assert torch.equal(model.decode(codes), x_hat)


def test_separate_kernels_count_c_times_the_weights_and_differ_by_channel():
    shared = sanets.SAN([4, 6], seed=0, in_channels=3)
    separate = sanets.SAN([4, 6], seed=0, in_channels=3, channels="separate")
    assert shared.num_weights == 10 and separate.num_weights == 30 and shared.num_channels == separate.num_channels == 6
    assert len(shared.kernel_weights()) == 2 and len(separate.kernel_weights()) == 6
    assert not torch.equal(separate.kernels[0], separate.kernels[1])  # kernel 0 of channels 0 and 1
    x = torch.randn(4, 3, 50)
    codes = separate.encode(x)
    # phi of a multichannel example: W and every channel's spikes over all C * L samples (Eq. 4).
    expected = (30 + 2 * torch.count_nonzero(codes.flatten(1), dim=1).double()) / 150
    torch.testing.assert_close(sanets.metrics.inverse_compression_ratio(x, codes, separate.num_weights), expected)


def test_multichannel_models_save_load_and_refuse_the_wrong_channel_count(tmp_path):
    model = sanets.SAN([5], seed=0, in_channels=2, channels="separate", kernel_family="gaussian-derivatives")
    model.save(tmp_path / "two.safetensors")
    loaded = sanets.SAN.load(tmp_path / "two.safetensors")
    assert loaded.config() == model.config() and all(torch.equal(a, b) for a, b in zip(loaded.kernels, model.kernels))
    with pytest.raises(ValueError, match=r"x must have 2 channels \(N, 2, L\) for a 1D SAN of 2 input channels, got 3"):
        model.encode(torch.zeros(1, 3, 40))
    with pytest.raises(ValueError, match=r"2 code channels \(2 input channels x q=1 kernels x 1 scales\)"):
        model.decode(torch.zeros(1, 1, 40))
    with pytest.raises(ValueError, match="channels must be one of shared, separate"):
        sanets.SAN([5], in_channels=2, channels="joint")
    with pytest.raises(ValueError, match="in_channels"):
        sanets.SAN([5], in_channels=0)
    with pytest.raises(ValueError, match="2 kernel sizes x 2 input channel"):
        model.set_kernels([5, 5], list(model.kernels))
