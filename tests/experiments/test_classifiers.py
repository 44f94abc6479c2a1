import copy

import pytest
import torch
import torch.nn.functional as F

from sanets.experiments.classifiers import (
    CLASSIFIERS,
    EpilepsyCNN,
    LinearClassifier,
    _BatchedLinear,
    _LinearLockstep,
    _Lockstep,
    _train_epoch,
    train_classifiers,
)


def test_classifiers_have_the_papers_shapes():
    cnn = EpilepsyCNN(178, 3)
    assert cnn.head[1].in_features == 656 and cnn(torch.zeros(2, 1, 178)).shape == (2, 3)
    assert LinearClassifier(784, 10)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def _two_classes(count: int, shape: tuple[int, ...], shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian noise, shifted by ``shift`` for the examples of class 1."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (count,), generator=generator)
    return torch.randn(count, *shape, generator=generator) + shift * labels.view(-1, *[1] * len(shape)), labels


def test_classifier_keeps_the_best_validation_epoch():
    x, labels = _two_classes(600, (1, 4, 4), shift=1.5)
    split = lambda a, b: (x[None, a:b], labels[a:b])  # noqa: E731
    [result] = train_classifiers("linear", split(0, 400), split(400, 500), split(500, 600), epochs=4, batch_size=32, seed=1)
    assert result.best_epoch == 1 + max(range(4), key=lambda i: (result.validation_accuracy[i], -i))
    assert result.test_accuracy > 80  # separable classes
    again = train_classifiers("linear", split(0, 400), split(400, 500), split(500, 600), epochs=4, batch_size=32, seed=1)
    assert again == [result]


@pytest.mark.parametrize("name, shape", [("linear", (1, 28, 28)), ("cnn", (1, 178))])
def test_lockstep_epoch_is_bitwise_each_model_trained_alone(name, shape):
    # The reference: each model alone, with Adam's default (single-tensor) step, as the classifiers were trained
    # before the lockstep.
    versions = torch.randn(3, 200, *shape, generator=torch.Generator().manual_seed(1))
    labels = torch.randint(0, 4, (200,), generator=torch.Generator().manual_seed(2))
    order = torch.randperm(200, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    first = CLASSIFIERS[name](torch.Size(shape), 4)
    alone = []
    for version in versions:
        model = copy.deepcopy(first)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        for indices in order.split(64):
            loss = F.cross_entropy(model(version[indices]), labels[indices])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        alone.append(model)
    lockstep = (_LinearLockstep if name == "linear" else _Lockstep)(copy.deepcopy(first), len(versions))
    optimizer = torch.optim.Adam(lockstep.parameters(), lr=0.01, foreach=True)
    _train_epoch(lockstep, optimizer, versions, labels, order, 64)
    for k, a in enumerate(alone):
        for (key, p), q in zip(a.named_parameters(), lockstep.model(k).parameters()):
            assert torch.equal(p, q), key
        assert not torch.equal(next(a.parameters()), next(first.parameters()))  # trained


@pytest.mark.parametrize("batch", [64, 16])
def test_batched_linear_layers_compute_what_each_linear_layer_computes(batch):
    # Table III's shapes: six models, 784 inputs, 10 classes; the last batch of 50000 is 16.
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(6, batch, 784, generator=generator)
    weight = (0.03 * torch.randn(6, 10, 784, generator=generator)).requires_grad_()
    bias = torch.randn(6, 10, generator=generator).requires_grad_()
    upstream = torch.randn(6, batch, 10, generator=generator)
    out = _BatchedLinear.apply(x, weight, bias)
    grads = torch.autograd.grad(out, (weight, bias), upstream)
    for k in range(6):
        w, b = weight[k].detach().requires_grad_(), bias[k].detach().requires_grad_()
        expected = F.linear(x[k], w, b)
        assert torch.equal(out[k], expected)
        for got, want in zip(grads, torch.autograd.grad(expected, (w, b), upstream[k])):
            assert torch.equal(got[k], want)


@pytest.mark.parametrize("name", ["cnn", "linear"])
def test_classifiers_in_lockstep_equal_one_at_a_time(name):
    # Classes hard to tell apart: accuracies far from 100 % and sensitive to every weight.
    x, labels = _two_classes(300, (1, 30), shift=0.2)
    versions = torch.stack([x, x.flip(-1), 0.5 * x])
    parts = [(versions[:, a:b], labels[a:b]) for a, b in ((0, 200), (200, 250), (250, 300))]
    together = train_classifiers(name, *parts, epochs=3, batch_size=16, seed=4)
    alone = [train_classifiers(name, *[(inputs[k : k + 1], y) for inputs, y in parts], epochs=3, batch_size=16, seed=4)[0]
             for k in range(3)]
    assert together == alone
    assert len({tuple(result.validation_accuracy) for result in together}) == 3  # each trained on its own version


def test_max_pool_of_2_has_max_pool_1ds_values_and_gradients():
    # Odd lengths drop the last sample; ties (after a ReLU, many zeros; repeated values) send the gradient to
    # the first of the equal maxima.
    x = torch.randint(-2, 3, (4, 3, 11), generator=torch.Generator().manual_seed(0)).float().relu().requires_grad_()
    pooled = EpilepsyCNN(178, 2).features[2](x)
    expected = torch.nn.MaxPool1d(2)(x)
    assert torch.equal(pooled, expected)
    grad = torch.randn_like(expected)
    assert torch.equal(*(torch.autograd.grad(y, x, grad)[0] for y in (pooled, expected)))
