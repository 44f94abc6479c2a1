"""Training of SANs with phi model selection (paper Alg. 4).

Adam on the mean absolute error of the reconstruction (Eq. 14); after every
epoch the mean phi on validation (Eq. 7) is measured and a copy of the weights
of the best epoch is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from sanets.metrics import flithos, inverse_compression_ratio, normalized_reconstruction_loss
from sanets.model import SAN

__all__ = ["fit", "evaluate", "FitResult", "Evaluation"]


@dataclass(frozen=True)
class Evaluation:
    """Means over a dataset (Eq. 7) of CR^-1, L~ and phi."""

    inverse_compression_ratio: float
    reconstruction_loss: float
    flithos: float


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch of :func:`fit` measured."""

    epoch: int
    train_loss: float
    validation: Evaluation


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


@torch.no_grad()
def evaluate(model: SAN, x: Tensor, batch_size: int = 1024) -> Evaluation:
    """Mean CR^-1, L~ and phi of ``model`` over the examples of ``x`` (Eq. 7).

    Parameters
    ----------
    model : SAN
    x : Tensor, shape (N, 1, L) or (N, 1, H, W)
    batch_size : int
        Examples per forward pass (memory only; the result does not depend on it).
    """
    device = next(model.parameters()).device
    parts = []
    for batch in x.split(batch_size):
        batch = batch.to(device)
        codes = model.encode(batch)
        x_hat = model.decode(codes)
        parts.append(
            torch.stack(
                [
                    inverse_compression_ratio(batch, codes, model.num_weights),
                    normalized_reconstruction_loss(batch, x_hat),
                    flithos(batch, x_hat, codes, model),
                ],
                dim=1,
            )
        )
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
) -> FitResult:
    """Train ``model`` with Adam on the MAE and select the epoch by validation phi (Alg. 4).

    Parameters
    ----------
    model : SAN
        Trained in place.
    train, validation : Tensor, shape (N, 1, L) or (N, 1, H, W)
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
        Show a progress bar over epochs.

    Returns
    -------
    FitResult
    """
    _check_fit_arguments(model, train, validation, epochs, batch_size, lr)
    if device is not None:
        model.to(device)
    device = next(model.parameters()).device
    train = train.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    generator = _new_generator(seed)

    history: list[EpochRecord] = []
    best: tuple[float, int, dict[str, Tensor]] | None = None
    for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, leave=False):
        model.train()
        order = torch.randperm(len(train), generator=generator) if shuffle else torch.arange(len(train))
        total, count = torch.zeros((), device=device), 0
        for batch_indices in order.split(batch_size):
            batch = train[batch_indices.to(device)]
            loss = F.l1_loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)
            count += len(batch)
        train_loss = (total / count).item()
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"training diverged at epoch {epoch}: the mean training MAE is {train_loss}")
        model.eval()
        scores = evaluate(model, validation)
        history.append(EpochRecord(epoch, train_loss, scores))
        if best is None or scores.flithos < best[0]:
            best = (scores.flithos, epoch, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})

    assert best is not None
    best_flithos, best_epoch, state_dict = best
    if restore_best:
        model.load_state_dict(state_dict)
    return FitResult(best_epoch, best_flithos, state_dict, history)


def _check_fit_arguments(model: SAN, train: Tensor, validation: Tensor, epochs: int, batch_size: int, lr: float) -> None:
    for name, data in (("train", train), ("validation", validation)):
        if not isinstance(data, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor of shape (N, 1, *spatial), got {type(data).__name__}")
        if data.ndim != model.dims + 2 or len(data) == 0:
            raise ValueError(f"{name} must have shape (N>0, 1, *spatial) for a {model.dims}D SAN, got {tuple(data.shape)}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")


def _new_generator(seed: int | None) -> torch.Generator:
    """The generator of the batch order: seeded, or from fresh entropy."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator
