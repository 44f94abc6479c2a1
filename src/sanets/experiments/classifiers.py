"""The supervised classifiers of Tables II and III (paper Secs. IV-B2 and IV-C2).

A SAN is trained, frozen, and a classifier is trained on its reconstructions;
the same classifier trained on the original data is the baseline, and the
difference of their test accuracies is the table's A%.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sanets._threads import share_cores

__all__ = ["EpilepsyCNN", "LinearClassifier", "train_classifiers"]


class EpilepsyCNN(nn.Module):
    """Table II's 1D CNN: two Conv1d(kernel 5) + ReLU + MaxPool(2) blocks, then 3 linear layers.

    Conv1d(1 -> 3), Conv1d(3 -> 16), Linear(656 -> 120), Linear(120 -> 84),
    Linear(84 -> classes); 656 = 16 * 41 for the 178-sample UCI segments.

    Parameters
    ----------
    length : int
        Samples per input signal ``(N, 1, length)``.
    num_classes : int
    """

    def __init__(self, length: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 3, 5), nn.ReLU(), _MaxPoolOf2(), nn.Conv1d(3, 16, 5), nn.ReLU(), _MaxPoolOf2()
        )
        flat = 16 * (((length - 4) // 2 - 4) // 2)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(N, 1, L)`` -> logits ``(N, classes)``."""
        return self.head(self.features(x))


class _MaxPoolOf2(nn.Module):
    """``nn.MaxPool1d(2)``: the same values and gradients (to the first of equal maxima), from a max over pairs,
    1.7x faster forward on the CPU for these small maps."""

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, L)`` -> ``(N, C, L // 2)``."""
        return x[..., : x.shape[-1] // 2 * 2].unflatten(-1, (-1, 2)).max(-1).values


class LinearClassifier(nn.Module):
    """Table III's classifier: one fully connected layer on the flattened image.

    Parameters
    ----------
    size : int
        Values per input (784 for 28 x 28 images).
    num_classes : int
    """

    def __init__(self, size: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, 1, H, W)`` -> logits ``(N, classes)``."""
        return self.linear(x.flatten(1))


CLASSIFIERS = {
    "cnn": lambda shape, classes: EpilepsyCNN(shape[-1], classes),
    "linear": lambda shape, classes: LinearClassifier(shape[1:].numel(), classes),
}
"""Classifier name -> constructor ``(example shape (1, *spatial), number of classes) -> nn.Module``."""


@dataclass(frozen=True)
class ClassifierResult:
    """A classifier trained with model selection on validation accuracy.

    Attributes
    ----------
    validation_accuracy : list of float
        Percent correct on validation after each epoch.
    best_epoch : int
        The epoch (1-based) with the highest validation accuracy; its weights
        are the ones tested.
    test_accuracy : float
        Percent correct on test of the best epoch's weights.
    last_epoch_test_accuracy : float
        Percent correct on test of the last epoch's weights.
    authors_accuracy : float
        What the authors' code reported for the same run: the last epoch's
        weights, scored on validation and test together (their counters were not
        reset between the two loops).
    """

    validation_accuracy: list[float]
    best_epoch: int
    test_accuracy: float
    last_epoch_test_accuracy: float
    authors_accuracy: float


@torch.no_grad()
def _correct(model: nn.Module, x: Tensor, labels: Tensor, batch_size: int = 1024) -> int:
    model.eval()
    return sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch_size), labels.split(batch_size)))


def train_classifiers(
    name: str,
    train: tuple[Tensor, Tensor],
    validation: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 0.01,
    seed: int = 0,
) -> list[ClassifierResult]:
    """Train classifier ``name`` on each of K versions of the same data (e.g. a sweep's reconstructions) with
    Adam on cross-entropy, keeping each one's best validation epoch.

    The K classifiers start from the same weights and see the same batches, each of its own inputs, as K
    separate trainings would; they run in lockstep, one backward pass and one (multi-tensor) Adam step for all,
    which saves part of the per-step overhead of these small models (10-25 %); the linear classifiers are one
    batched product (:class:`_LinearLockstep`). Each model's arithmetic is that of a training on its own, so the
    results are identical to K calls with K = 1.

    Parameters
    ----------
    name : {"cnn", "linear"}
        Key of :data:`CLASSIFIERS`.
    train, validation, test : (Tensor, Tensor)
        Inputs ``(K, N, 1, *spatial)`` and their int64 labels ``(N,)``, on one device.
    epochs, batch_size, lr :
        As for the SANs (the paper trains the classifiers "with the same batch
        size and model selection procedure").
    seed : int
        Seeds the initial weights and the batch order.

    Returns
    -------
    list of ClassifierResult
        One per version of the inputs, in their order.
    """
    (x, y), (x_val, y_val), (x_test, y_test) = train, validation, test
    classes = int(max(y.max(), y_val.max(), y_test.max())) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        first = CLASSIFIERS[name](x.shape[2:], classes).to(x.device)
    lockstep = _LinearLockstep(first, len(x)) if isinstance(first, LinearClassifier) else _Lockstep(first, len(x))
    # One Adam over every model's parameters: the multi-tensor step does each tensor's arithmetic as the
    # single-tensor step does (the default on the CPU), in fewer calls.
    optimizer = torch.optim.Adam(lockstep.parameters(), lr=lr, foreach=True)
    generator = torch.Generator().manual_seed(seed)
    accuracies: list[list[float]] = [[] for _ in range(len(x))]
    best_states, best_epochs = [None] * len(x), [0] * len(x)
    for epoch in range(1, epochs + 1):
        _train_epoch(lockstep, optimizer, x, y, torch.randperm(x.shape[1], generator=generator), batch_size)
        for k, history in enumerate(accuracies):
            model = lockstep.model(k)
            history.append(100.0 * _correct(model, x_val[k], y_val) / len(y_val))
            if history[-1] > max(history[:-1], default=-1.0):
                best_states[k], best_epochs[k] = copy.deepcopy(model.state_dict()), epoch
    results = []
    for k, history in enumerate(accuracies):
        model = lockstep.model(k)
        last_test_correct = _correct(model, x_test[k], y_test)
        last_validation_correct = round(history[-1] * len(y_val) / 100)
        model.load_state_dict(best_states[k])
        results.append(ClassifierResult(
            validation_accuracy=history,
            best_epoch=best_epochs[k],
            test_accuracy=100.0 * _correct(model, x_test[k], y_test) / len(y_test),
            last_epoch_test_accuracy=100.0 * last_test_correct / len(y_test),
            authors_accuracy=100.0 * (last_validation_correct + last_test_correct) / (len(y_val) + len(y_test)),
        ))
    return results


class _Lockstep(nn.Module):
    """K copies of one classifier trained side by side: ``(K, N, 1, *spatial)`` -> logits ``(K, N, classes)``,
    model k on inputs k."""

    def __init__(self, first: nn.Module, count: int) -> None:
        super().__init__()
        self.models = nn.ModuleList([first, *(copy.deepcopy(first) for _ in range(count - 1))])

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([model(batch) for model, batch in zip(self.models, x)])

    def model(self, k: int) -> nn.Module:
        """Model k itself."""
        return self.models[k]


class _LinearLockstep(nn.Module):
    """K copies of a :class:`LinearClassifier` as one weight ``(K, classes, size)`` and bias ``(K, classes)``:
    ``(K, N, 1, *spatial)`` -> logits ``(K, N, classes)`` in one batched product, and Adam's step on two tensors
    instead of 2K. Each model's arithmetic is still that of its own ``nn.Linear`` (:class:`_BatchedLinear`):
    Table III's classifier stage takes a quarter less time (6 models, 5 epochs of
    MNIST's 50000 images: 16.7 -> 12.8 s, 12.0 -> 9.2 s), with the same results."""

    def __init__(self, first: LinearClassifier, count: int) -> None:
        super().__init__()
        self._template = [first]  # in a list: not a submodule (its parameters are not trained)
        self.weight = nn.Parameter(first.linear.weight.detach().expand(count, -1, -1).clone())
        self.bias = nn.Parameter(first.linear.bias.detach().expand(count, -1).clone())

    def forward(self, x: Tensor) -> Tensor:
        return _BatchedLinear.apply(x.flatten(2), self.weight, self.bias)

    def model(self, k: int) -> LinearClassifier:
        """A copy of model k's weights as a :class:`LinearClassifier`."""
        model = copy.deepcopy(self._template[0])
        model.load_state_dict({"linear.weight": self.weight[k], "linear.bias": self.bias[k]})
        return model


class _BatchedLinear(torch.autograd.Function):
    """K linear layers on K batches, ``(K, N, size)`` -> ``(K, N, classes)``: the forward one batched product,
    equal to each layer's own ``F.linear``; the weights' gradients one product per layer, as ``F.linear``'s
    backward computes them (a batched product rounds them differently)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return torch.baddbmm(bias[:, None], x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor, Tensor]:
        (x,) = ctx.saved_tensors
        return None, torch.stack([g.t().mm(inputs) for g, inputs in zip(grad, x)]), torch.stack([g.sum(0) for g in grad])


def _train_epoch(lockstep: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, order: Tensor,
                 batch_size: int) -> None:
    """One epoch of K classifiers in lockstep (:class:`_Lockstep` or :class:`_LinearLockstep`): model k on ``x[k]``
    ``(K, N, ...)``, batches of ``order``."""
    lockstep.train()
    for indices in order.split(batch_size):
        share_cores()
        indices = indices.to(x.device)
        inputs, labels = x.index_select(1, indices), y[indices]  # 4-7x faster than x[:, indices]
        # A sum of the models' own mean losses: each model's gradient is its loss's alone.
        loss = F.cross_entropy(lockstep(inputs).flatten(0, 1), labels.repeat(len(x)), reduction="none")
        loss = loss.view(len(x), -1).mean(1).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
