"""Alg. 4 for many kernel sizes at once: one fit per kernel size m, run together.

The paper's experiments train one SAN per kernel size (Table I: m = 1..249) and
keep, per m, the epoch with the best validation phi. These fits are
independent, so :func:`fit_sweep` packs them into one set of kernels: every
kernel is zero-padded to the largest size (centred so that its "same"
alignment is unchanged) and masked, so the padding never learns. The loss is
the sum of the models' MAEs, so each model receives exactly its own gradient;
Adam works weight by weight; and the batch order is drawn as :func:`sanets.fit`
draws it. Each result therefore equals a separate ``fit`` of
``SAN([m] * num_kernels, ..., seed=seed)`` with the same ``seed``, up to
floating-point summation order, at a fraction of the cost.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sanets._convolution import correlate_same, place_kernels
from sanets._files import write_atomically
from sanets._threads import share_cores
from sanets._validation import check_int
from sanets.activations._registry import spec_of
from sanets.errors import CheckpointError
from sanets.metrics import scores
from sanets.model import SAN
from sanets.training import (
    Evaluation,
    _epochs,
    check_fit_arguments,
    first_lowest,
    new_generator,
)

__all__ = ["fit_sweep", "evaluate_many", "reconstruct_many", "SweepResult", "Sweep"]


@dataclass
class SweepResult:
    """The fit of one kernel size in :func:`fit_sweep`.

    Attributes
    ----------
    kernel_size : int
    best_epoch : int
        Epoch (1-based) with the lowest mean validation phi.
    best_flithos : float
        That epoch's mean validation phi.
    model : SAN
        The SAN with that epoch's weights, on the CPU.
    history : list of Evaluation
        Validation means (CR^-1, L~, phi) after each epoch.
    last_model : SAN
        The SAN after the last epoch (what the authors' code reported as its
        "best", having kept a reference to the live model).
    """

    kernel_size: int
    best_epoch: int
    best_flithos: float
    model: SAN
    history: list[Evaluation] = field(default_factory=list)
    last_model: SAN | None = None


@dataclass(frozen=True)
class Sweep:
    """A sweep of kernel sizes trained with one protocol (paper Sec. IV): the SANs and Alg. 4's settings.

    Attributes
    ----------
    kernel_sizes : tuple of int
        The kernel sizes m swept for every activation.
    num_kernels : int
        q, kernels per SAN (all of size m).
    dims : {1, 2}
        1D signals ``(N, 1, L)`` or 2D images ``(N, 1, H, W)``.
    border_tolerance : int
        Extrema's minimum distance is ``m - border_tolerance``.
    epochs, batch_size : int
        Training of every SAN (Alg. 4).
    lr : float
        Adam learning rate.
    """

    kernel_sizes: tuple[int, ...]
    num_kernels: int
    dims: int
    border_tolerance: int
    epochs: int
    batch_size: int
    lr: float = 0.01

    def describe(self) -> str:
        """One line naming the model and training settings."""
        kernels = "1 kernel" if self.num_kernels == 1 else f"{self.num_kernels} kernels"
        shape = "m" if self.dims == 1 else "m x m"
        sizes = ", ".join(str(m) for m in self.kernel_sizes)
        return (
            f"SAN with {kernels} of size {shape}, m in {{{sizes}}}; {self.epochs} epochs, "
            f"batch {self.batch_size}, Adam lr {self.lr}, Extrema border tolerance {self.border_tolerance}."
        )

    def fit(
        self,
        activation: str,
        train: Tensor,
        validation: Tensor,
        init: str = "normal",
        seed: int | None = None,
        device: str | torch.device | None = None,
        progress: bool = False,
    ) -> list[SweepResult]:
        """:func:`fit_sweep` of every kernel size of this sweep with ``activation``."""
        return fit_sweep(
            self.kernel_sizes,
            activation,
            train,
            validation,
            num_kernels=self.num_kernels,
            dims=self.dims,
            init=init,
            border_tolerance=self.border_tolerance,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=seed,
            device=device,
            progress=progress,
        )


class _PackedSANs(nn.Module):
    """K SANs with q kernels each, packed as K*q zero-padded, masked kernels."""

    def __init__(self, models: Sequence[SAN], spatial_shape: Sequence[int]) -> None:
        super().__init__()
        self.models = list(models)
        self.num_kernels = models[0].num_kernels
        self.dims = models[0].dims
        self.activation = models[0].activation
        size = max(m for model in models for m in model.kernel_sizes)
        weight = torch.zeros(len(models) * self.num_kernels, *(size,) * self.dims)
        mask = torch.zeros_like(weight)
        self.windows: list[tuple[slice, ...]] = []
        supports = []
        for model in models:
            for kernel in model.kernels:
                m = kernel.shape[0]
                # Offsets keep each kernel's "same" alignment: (size-1)//2 before the
                # centre of the padded kernel equals (m-1)//2 before its own centre.
                start = (size - 1) // 2 - (m - 1) // 2
                window = (len(self.windows), *(slice(start, start + m),) * self.dims)
                weight[window] = kernel.detach()
                mask[window] = 1.0
                self.windows.append(window)
                supports.append((start, m))
        self.weight = nn.Parameter(weight)
        self.register_buffer("mask", mask)
        # Each kernel's square in the padded ones, (first row and column, m): the native convolutions skip the rest.
        self.supports = torch.tensor(supports, dtype=torch.int32)
        self.register_buffer(
            "num_weights", torch.tensor([model.num_weights for model in models], dtype=torch.float64)
        )
        self.spec = spec_of(self.activation)
        self.table = self.spec.table([v for model in models for v in model.sparsity_for(spatial_shape)], self.dims)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (N, 1, *spatial) -> codes (N, K*q, *spatial), reconstructions (N, K, *spatial)."""
        kernels = self.weight * self.mask
        similarity = correlate_same(x, kernels, self.supports)
        codes = self.spec.checked(similarity, self.table)
        return codes, place_kernels(codes, kernels, self.num_kernels, self.supports)

    @torch.no_grad()
    def evaluate(self, x: Tensor, batch_size: int = 256, with_bits: bool = False) -> Tensor:
        """Means over x of CR^-1, L~, phi (and, ``with_bits``, the bit-aware phi) per model: (K, 3) or (K, 4)."""
        columns = 3 + with_bits
        sums = torch.zeros(len(self.models), columns, dtype=torch.float64, device=x.device)
        for batch in x.split(batch_size):
            codes, reconstructions = self(batch)
            count, models = len(batch), len(self.models)
            # One row per (example, model) pair, as the metrics expect.
            inputs = batch.expand(-1, models, *batch.shape[2:]).reshape(count * models, 1, *batch.shape[2:])
            outputs = reconstructions.reshape(count * models, 1, *batch.shape[2:])
            per_model_codes = codes.reshape(count * models, self.num_kernels, *batch.shape[2:])
            num_weights = self.num_weights.repeat(count)
            sums += scores(inputs, outputs, per_model_codes, num_weights, with_bits=with_bits).view(count, models, columns).sum(0)
        return sums / len(x)

    def kernels_of(self, index: int, weight: Tensor) -> list[Tensor]:
        """The q kernels of model ``index`` cut out of a packed weight tensor."""
        channels = range(index * self.num_kernels, (index + 1) * self.num_kernels)
        return [weight[self.windows[channel]].clone() for channel in channels]


def _packed(models: Sequence[SAN], x: Tensor) -> _PackedSANs:
    """The paper's SANs of one activation, q and dims, packed on their device, after checking ``x``."""
    first = models[0]
    for model in models:
        if (model.activation, model.num_kernels, model.dims) != (first.activation, first.num_kernels, first.dims) or (
            model.competition, model.passes, model.kernel_family, list(model.scales), model.unit_norm, model.in_channels
        ) != ("none", 1, "free", [1.0], False, 1):
            raise ValueError("SANs are packed only as the paper's SANs of one activation, q and dims; run others one by one")
        model._check(x, nonempty=True)
    return _PackedSANs(models, x.shape[2:]).to(first.kernels[0].device)


@torch.no_grad()
def reconstruct_many(models: Sequence[SAN], x: Tensor, batch_size: int = 256) -> Tensor:
    """``model(x)`` of each of SANs that differ only in kernel size (a sweep's), in one packed pass.

    Parameters
    ----------
    models : sequence of SAN
        As for :func:`evaluate_many`.
    x : Tensor, shape (N, 1, L) or (N, 1, H, W)

    Returns
    -------
    Tensor, shape ``(K, N, 1, *spatial)``
        On the models' device; equal to separate forward passes up to floating-point summation order (the
        packed kernels are zero-padded to the largest size).
    """
    packed = _packed(models, x)
    x = x.to(packed.weight.device, models[0].dtype)
    out = x.new_empty(len(models), *x.shape)
    for start in range(0, len(x), batch_size):
        _, reconstructions = packed(x[start : start + batch_size])
        out[:, start : start + batch_size, 0] = reconstructions.transpose(0, 1)
    return out


@torch.no_grad()
def evaluate_many(models: Sequence[SAN], x: Tensor, batch_size: int = 256) -> list[Evaluation]:
    """:func:`sanets.evaluate` of each of SANs that differ only in kernel size (a sweep's), in one packed pass.

    Parameters
    ----------
    models : sequence of SAN
        Free kernels, one activation and q; on one device.
    x : Tensor, shape (N, 1, L) or (N, 1, H, W)

    Returns
    -------
    list of Evaluation
        In the order of ``models``; equal to separate evaluations up to floating-point summation order.
    """
    packed = _packed(models, x)
    return [Evaluation(*row) for row in packed.evaluate(x.to(packed.weight.device, models[0].dtype), batch_size, True).tolist()]


def fit_sweep(
    kernel_sizes: Sequence[int],
    activation: str,
    train: Tensor,
    validation: Tensor,
    num_kernels: int = 1,
    dims: int = 1,
    init: str = "normal",
    border_tolerance: int = 2,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 0.01,
    seed: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
) -> list[SweepResult]:
    """Fit one SAN per kernel size, all at once, each with phi model selection (Alg. 4).

    Parameters
    ----------
    kernel_sizes : sequence of int
        One model per entry, with ``num_kernels`` kernels of that size.
    activation : str
        Name in :data:`sanets.activations.ACTIVATIONS`.
    train, validation : Tensor, shape (N, 1, L) or (N, 1, H, W)
    num_kernels : int
        q, kernels per model (Table I: 1; Tables II and III: 2).
    dims, init, border_tolerance
        As for :class:`sanets.SAN`.
    epochs, batch_size, lr, seed, device, progress
        As for :func:`sanets.fit`.
    checkpoint : path-like, optional
        A file the training state is written to (atomically) after every epoch.
        If it exists, the sweep resumes from it and ends exactly as without the
        interruption; a checkpoint of other arguments or data is refused.

    Returns
    -------
    list of SweepResult
        In the order of ``kernel_sizes``.
    """
    if isinstance(kernel_sizes, int) or len(kernel_sizes) == 0:
        raise ValueError(f"kernel_sizes must be a non-empty sequence of ints, got {kernel_sizes!r}")
    check_int(num_kernels, "num_kernels", 1)
    models = [
        SAN([m] * num_kernels, activation, dims=dims, init=init, border_tolerance=border_tolerance, seed=seed)
        for m in kernel_sizes
    ]
    check_fit_arguments(max(models, key=lambda model: model.kernel_sizes[0]), train, validation, epochs, batch_size, lr)
    device = torch.device(device) if device is not None else train.device
    packed = _PackedSANs(models, train.shape[2:]).to(device)
    dtype = models[0].dtype
    train, validation = train.to(device, dtype), validation.to(device, dtype)
    optimizer = torch.optim.Adam(packed.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    generator = new_generator(seed)

    histories: list[list[Evaluation]] = [[] for _ in models]
    best_weight = packed.weight.detach().cpu().clone()
    done, identity = 0, None
    if checkpoint is not None:
        identity = _identity(kernel_sizes, activation, train, validation, num_kernels, dims, init, border_tolerance, epochs,
                             batch_size, lr, seed)
        done = _resume(checkpoint, identity, packed, optimizer, generator, histories, best_weight)
    for epoch in _epochs(epochs, f"{activation} x {len(models)} kernel sizes", progress, start=done + 1):
        order = torch.randperm(len(train), generator=generator)
        for batch_indices in order.split(batch_size):
            share_cores()
            batch = train.index_select(0, batch_indices.to(device))  # 4x faster than train[indices]
            _, reconstructions = packed(batch)
            # Sum over models of each model's own MAE: one fused kernel each way, the gradient bit for bit that of
            # the per-model means (sign(x_hat - x) / (N H W)).
            loss = F.l1_loss(reconstructions, batch.expand_as(reconstructions), reduction="sum") / batch[:, 0].numel()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if not torch.isfinite(packed.weight).all():
            raise FloatingPointError(f"training diverged at epoch {epoch}: non-finite kernel weights")
        for k, (icr, loss_, phi) in enumerate(packed.evaluate(validation).tolist()):
            histories[k].append(Evaluation(icr, loss_, phi))
        improved = [k for k, history in enumerate(histories) if first_lowest([e.flithos for e in history]) == epoch - 1]
        if improved:
            weight = packed.weight.detach().cpu()
            for k in improved:
                best_weight[k * num_kernels : (k + 1) * num_kernels] = weight[k * num_kernels : (k + 1) * num_kernels]
        if checkpoint is not None:
            state = {"identity": identity, "epoch": epoch, "weight": packed.weight.detach().cpu(), "best_weight": best_weight,
                     "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                     "histories": [[list(astuple(e)) for e in history] for history in histories]}
            write_atomically(checkpoint, partial(torch.save, state))

    last_weight = packed.weight.detach().cpu()
    results = []
    for k, (m, model) in enumerate(zip(kernel_sizes, models)):
        last_model = copy.deepcopy(model)
        for target, weight in ((model, best_weight), (last_model, last_weight)):
            with torch.no_grad():
                for kernel, values in zip(target.kernels, packed.kernels_of(k, weight)):
                    kernel.copy_(values)
        best = first_lowest([scores.flithos for scores in histories[k]])
        results.append(SweepResult(m, best + 1, histories[k][best].flithos, model, histories[k], last_model))
    return results


def _identity(*arguments: object) -> str:
    """SHA-256 of a sweep's arguments and data: what a checkpoint must match to be resumed."""
    digest = hashlib.sha256()
    for argument in arguments:
        if isinstance(argument, Tensor):
            digest.update(repr((tuple(argument.shape), str(argument.dtype))).encode())
            digest.update(argument.detach().cpu().contiguous().numpy().tobytes())
        else:
            digest.update(repr(argument).encode())
    return digest.hexdigest()


def _resume(
    path: str | os.PathLike, identity: str, packed: _PackedSANs, optimizer: torch.optim.Optimizer, generator: torch.Generator,
    histories: list[list[Evaluation]], best_weight: Tensor,
) -> int:
    """Load a checkpoint of :func:`fit_sweep` into its state, in place; the epochs it had done (0 without one)."""
    if not os.path.exists(path):
        return 0
    try:
        state = torch.load(path, weights_only=True)
        found = state["identity"]
    except Exception as error:  # a file torch cannot read, whatever the reason, is not a checkpoint to trust
        raise CheckpointError(f"{path}: not a readable sweep checkpoint ({error}); delete it to start over") from None
    if found != identity:
        raise CheckpointError(f"{path}: a checkpoint of another sweep (other arguments or data); "
                              "rerun with the arguments it was made with, or delete it to start over")
    with torch.no_grad():
        packed.weight.copy_(state["weight"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    best_weight.copy_(state["best_weight"])
    for history, rows in zip(histories, state["histories"]):
        history.extend(Evaluation(*row) for row in rows)
    return int(state["epoch"])
