"""Training of SANs with phi model selection (paper Alg. 4).

Adam on the mean absolute error of the reconstruction (Eq. 14); after every
epoch the mean phi on validation (Eq. 7) is measured and a copy of the weights
of the best epoch is kept. :func:`first_lowest` is the one selection rule of
sanets: the epoch of a fit, the kernel size of a sweep, the parameters of a
baseline all go to the lowest validation phi, ties to the earliest candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from sanets._threads import share_cores
from sanets._validation import check_int
from sanets.metrics import scores
from sanets.model import SAN

__all__ = ["fit", "evaluate", "first_lowest", "FitResult", "Evaluation", "EpochRecord"]


@dataclass(frozen=True)
class Evaluation:
    """Means over a dataset (Eq. 7) of CR^-1, L~ and phi, and of the bit-aware phi (our addition,
    :func:`sanets.metrics.flithos_bits`; None where it was not measured, as during training)."""

    inverse_compression_ratio: float
    reconstruction_loss: float
    flithos: float
    flithos_bits: float | None = None


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch of :func:`fit` measured."""

    epoch: int
    train_loss: float
    validation: Evaluation
    num_kernels: int | None = None


@dataclass
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    best_epoch : int
        The epoch (1-based) with the lowest mean validation phi.
    best_flithos : float
        That epoch's mean validation phi.
    state_dict : dict of str to Tensor
        A copy (on the CPU) of the model's weights after that epoch.
    history : list of EpochRecord
        One record per epoch, in order.
    """

    best_epoch: int
    best_flithos: float
    state_dict: dict[str, Tensor]
    history: list[EpochRecord] = field(default_factory=list)


def first_lowest(values: Sequence[float]) -> int:
    """Index of the lowest value, the first among equals (ties go to the earlier epoch or the smaller m).

    >>> first_lowest([0.5, 0.3, 0.3])
    1
    """
    if not len(values):
        raise ValueError("nothing to select from: no values")
    return min(range(len(values)), key=values.__getitem__)


@torch.no_grad()
def evaluate(model: SAN, x: Tensor, batch_size: int = 1024, shared_by: int = 1) -> Evaluation:
    """Mean CR^-1, L~, phi and bit-aware phi of ``model`` over the examples of ``x`` (Eq. 7).

    Parameters
    ----------
    model : SAN
    x : Tensor, shape (N, C, L) or (N, C, H, W), C = ``model.in_channels``
        Any floating dtype and device; batches are moved to the model's.
    batch_size : int
        Examples per forward pass (memory only; the result does not depend on it).
    shared_by : int
        How many examples share the kernels' W: 1 charges W to every example (Eq. 4, the paper's protocol); the
        windows of a recording charge it once per recording (our amortised protocol, issue 30).
    """
    model._check(x, nonempty=True)
    return _evaluate(model, x, check_int(batch_size, "batch_size", 1), check_int(shared_by, "shared_by", 1))


def _evaluate(model: SAN, x: Tensor, batch_size: int = 1024, shared_by: int = 1) -> Evaluation:
    """:func:`evaluate` of a checked, non-empty ``x``."""
    device = model.kernels[0].device
    weights = model.kernel_weights()  # the same for every batch: no gradient steps between them
    parts = []
    for batch in x.split(batch_size):
        batch = batch.to(device, model.dtype)
        codes = model._encode(batch, weights)
        x_hat = model._decode(codes, weights)
        charged = model.num_weights if shared_by == 1 else torch.full((len(batch),), model.num_weights / shared_by)
        parts.append(scores(batch, x_hat, codes, charged, model.numbers_per_code, with_bits=True))
    means = torch.cat(parts).mean(0).tolist()
    return Evaluation(*means)


def fit(
    model: SAN,
    train: Tensor,
    validation: Tensor,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 0.01,
    seed: int | None = None,
    shuffle: bool = True,
    device: str | torch.device | None = None,
    restore_best: bool = True,
    progress: bool = False,
    distance_schedule: tuple[int, int] | None = None,
    activation_dropout: float = 0.0,
    grow_to: int | None = None,
    grow_patience: int = 2,
) -> FitResult:
    """Train ``model`` with Adam on the MAE and select the epoch by validation phi (Alg. 4).

    Parameters
    ----------
    model : SAN
        Trained in place.
    train, validation : Tensor, shape (N, C, L) or (N, C, H, W), C = ``model.in_channels``
        Any floating dtype; converted to the model's.
    epochs : int
        Passes over ``train``.
    batch_size : int
        Examples per Adam step.
    lr : float
        Adam learning rate (paper: 0.01, betas (0.9, 0.999), eps 1e-8).
    seed : int, optional
        Seed of the batch order; with the model's own ``seed``, a fit is repeatable.
    shuffle : bool
        Draw a new batch order every epoch (otherwise keep the data's order).
    device : str or torch.device, optional
        Where to train; default: where the model is.
    restore_best : bool
        Load the best epoch's weights into ``model`` at the end.
    progress : bool
        Show a progress bar over epochs (needs tqdm, from the ``[experiments]`` extra).
    distance_schedule : (int, int), optional
        Extrema only (Sec. VI, future work 1): ``(start, end)`` minimum extrema
        distances, cosine-annealed: epoch e of E trains every kernel with
        ``round(end + (start - end) (1 + cos(pi (e - 1) / (E - 1))) / 2)``.
        Validation, hence the epoch kept, and the model afterwards use ``end``.
    activation_dropout : float
        Sec. VI, future work 3: while training, each code is zeroed with this
        probability and the others scaled by ``1 / (1 - p)`` (``F.dropout``), so
        kernels learn not to rely on one another's spikes. Validation and the
        trained model use every code.
    grow_to : int, optional
        Sec. VI, future work 4, kernels created while training: when the
        training MAE has not fallen 1 % below its earlier best for
        ``grow_patience`` epochs (since the start or the last kernel added), a
        kernel of the last kernel's size, drawn as the constructor draws, joins
        the model, until it has ``grow_to`` kernels; the earlier kernels keep
        their weights and Adam state. The epoch kept may have fewer kernels:
        the model is restored to them (``history`` records each epoch's count).

    Returns
    -------
    FitResult
    """
    check_fit_arguments(model, train, validation, epochs, batch_size, lr)
    distances = _cosine_schedule(model, distance_schedule, epochs)
    if not 0 <= activation_dropout < 1:
        raise ValueError(f"activation_dropout must be in [0, 1), got {activation_dropout!r}")
    if grow_to is not None:
        check_int(grow_to, "grow_to", model.num_kernels)
    grow_patience = check_int(grow_patience, "grow_patience", 1)
    if device is not None:
        model.to(device)
    device = model.kernels[0].device
    train = train.to(device, model.dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    generator = new_generator(seed)
    growth = new_generator(None if seed is None else seed + 1)

    history: list[EpochRecord] = []
    best_state: dict[str, Tensor] = {}
    best_sizes, grown_at = list(model.kernel_sizes), 0
    for epoch in _epochs(epochs, "epochs", progress):
        if distances:
            model.set_sparsity([distances[epoch - 1]] * model.num_kernels)
        model.train()
        order = torch.randperm(len(train), generator=generator) if shuffle else torch.arange(len(train))
        total, count = torch.zeros((), device=device), 0
        for batch_indices in order.split(batch_size):
            share_cores()
            batch = train.index_select(0, batch_indices.to(device))  # 4x faster than train[indices]
            weights = model.kernel_weights()
            codes = model._encode(batch, weights)
            codes = F.dropout(codes, activation_dropout) if activation_dropout else codes
            loss = F.l1_loss(model._decode(codes, weights), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)
            count += len(batch)
        train_loss = (total / count).item()
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"training diverged at epoch {epoch}: the mean training MAE is {train_loss}")
        if distances:
            model.set_sparsity([distances[-1]] * model.num_kernels)
        model.eval()
        history.append(EpochRecord(epoch, train_loss, _evaluate(model, validation), model.num_kernels))
        if first_lowest([record.validation.flithos for record in history]) == epoch - 1:
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            best_sizes = list(model.kernel_sizes)
        losses = [record.train_loss for record in history[grown_at:]]
        if grow_to and model.num_kernels < grow_to and len(losses) > grow_patience \
                and min(losses[-grow_patience:]) > 0.99 * min(losses[:-grow_patience]):
            _add_kernel(model, optimizer, growth)
            grown_at = epoch

    best = history[first_lowest([record.validation.flithos for record in history])]
    if restore_best:
        if len(best_sizes) != model.num_kernels:
            model.set_kernels(best_sizes, list(model.kernels)[: len(best_sizes) * model._groups])
        model.load_state_dict(best_state)
    return FitResult(best.epoch, best.validation.flithos, best_state, history)


def _add_kernel(model: SAN, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> None:
    """Append a kernel of the last one's size (one per input channel, if separate) to ``model`` and to ``optimizer``
    (``fit(grow_to=...)``)."""
    size = model.kernel_sizes[-1]
    numbers = [model._family.initial(size, model.dims, model.init, generator, model.num_kernels).to(model.kernels[0])
               for _ in range(model._groups)]
    model.set_kernels([*model.kernel_sizes, size], [*model.kernels, *numbers])
    optimizer.add_param_group({"params": list(model.kernels)[-model._groups :]})


def check_fit_arguments(model: SAN, train: Tensor, validation: Tensor, epochs: int, batch_size: int, lr: float) -> None:
    """Check what :func:`fit` (and :func:`sanets.sweep.fit_sweep`) receive, once, before any work."""
    for name, data in (("train", train), ("validation", validation)):
        model._check(data, name, nonempty=True)
    check_int(epochs, "epochs", 1)
    check_int(batch_size, "batch_size", 1)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")


def _cosine_schedule(model: SAN, schedule: tuple[int, int] | None, epochs: int) -> list[int] | None:
    """Each epoch's minimum extrema distance for ``fit(distance_schedule=...)``, checked; None without one."""
    if schedule is None:
        return None
    if model.activation != "extrema":
        raise ValueError(f"distance_schedule anneals the Extrema distance; this model's activation is {model.activation!r}")
    if isinstance(schedule, str) or not hasattr(schedule, "__len__") or len(schedule) != 2:
        raise ValueError(f"distance_schedule must be a pair (start, end) of ints >= 0, got {schedule!r}")
    start, end = (check_int(d, "distance_schedule", 0) for d in schedule)
    if epochs == 1:
        return [end]
    return [round(end + (start - end) * (1 + math.cos(math.pi * e / (epochs - 1))) / 2) for e in range(epochs)]


def new_generator(seed: int | None) -> torch.Generator:
    """The generator of the batch order: seeded, or from fresh entropy."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def _epochs(epochs: int, description: str, progress: bool, start: int = 1):
    """``range(start, epochs + 1)``, behind a progress bar when asked for."""
    if not progress:
        return range(start, epochs + 1)
    from sanets._extras import require

    tqdm = require("tqdm.auto", "progress bars").tqdm
    return tqdm(range(start, epochs + 1), desc=description, leave=False, disable=None, initial=start - 1, total=epochs)
