"""What every baseline shares: parameters chosen on validation phi, vectorised over the sparsity, scored as SANs are.

A baseline is a *family* of representations: a few structural choices (a
wavelet and a boundary mode, a patch length and a number of atoms) times a
sparsity (coefficients kept, nonzeros per patch). :meth:`Baseline.fit` learns
what each structural choice needs on the training split, scores every
(choice, sparsity) on the validation split with the paper's metric, and keeps
the one of lowest mean phi (ties: the first in the documented order, as Alg. 4
keeps the first epoch among equals). The test split is never seen.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sanets._validation import check_batch, check_int
from sanets.metrics import index_numbers
from sanets.training import Evaluation, first_lowest


@dataclass(frozen=True)
class Candidate:
    """One (structural choice, sparsity) scored on validation.

    Attributes
    ----------
    choice : hashable
        The structural parameters, e.g. ``("bior2.2", "periodization")``.
    sparsity : int or float
        Coefficients kept, nonzeros per patch, ...
    parameters : str
        Short description, e.g. ``"bior2.2/periodization/k=75"``.
    num_weights : int
        W of Eq. 2 for this candidate.
    validation : Evaluation
        Mean CR^-1, L~ and phi on validation.
    examples : int
        Validation examples scored (fewer than all when choices were screened).
    """

    choice: Hashable
    sparsity: Any
    parameters: str
    num_weights: int
    validation: Evaluation
    examples: int


class Baseline:
    """A classical sparse representation with a SAN's small interface, scored with Eqs. 4-7.

    Subclasses give the structural choices (:meth:`choices`), the sparsities
    (:meth:`sparsities`), what a choice learns from training data
    (:meth:`learn`), and the transform itself (:meth:`_encode`,
    :meth:`_decode`); this class selects, encodes, decodes and scores.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"wavelet"``.
    numbers_per_code : int or None
        Numbers one non-zero code costs in CR^-1; None: dims + 1 (its value and
        its position, like a spike).
    choice, sparsity, state
        What :meth:`fit` selected and learned.
    candidates : list of Candidate
        Every (choice, sparsity) scored on validation, in selection order.
    """

    name: str = ""
    numbers_per_code: int | None = None
    screen: int = 500
    """With several structural choices and more validation examples than this, the choices are compared
    on the first ``screen`` of them; the chosen one's sparsities are then scored on all."""

    dimensions: tuple[int, ...] = (1, 2)
    """The spatial dimensions of the examples it codes."""

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this baseline cannot run here (a missing optional dependency), or None."""
        return None

    @classmethod
    def runs_on(cls, dims: int) -> bool:
        """Whether it codes examples of ``dims`` spatial dimensions and can run here."""
        return dims in cls.dimensions and cls.unavailable() is None

    @classmethod
    def quick(cls) -> Baseline:
        """An instance with small grids, for ``sanets reproduce --quick`` and the demo."""
        return cls()

    def __init__(self) -> None:
        self.dims: int | None = None
        self.spatial_shape: tuple[int, ...] | None = None
        self.choice: Hashable = None
        self.sparsity: Any = None
        self.state: Any = None
        self.candidates: list[Candidate] = []

    # What subclasses define.

    def choices(self, spatial_shape: tuple[int, ...]) -> list[Hashable]:
        """The structural choices to try, in selection order (ties go to the earlier)."""
        return [None]

    def sparsities(self, choice: Hashable, spatial_shape: tuple[int, ...], examples: int) -> list:
        """The sparsities to try for ``choice``, cheapest first."""
        raise NotImplementedError

    def learn(self, choice: Hashable, train: np.ndarray, seed: int) -> Any:
        """What ``choice`` learns from ``train`` ``(N, *spatial)`` (None for fixed transforms)."""
        return None

    def weights(self, choice: Hashable, state: Any, sparsity: Any) -> int:
        """W of Eq. 2: the learned numbers a decoder needs (0 for fixed transforms)."""
        return 0

    def positions(self, choice: Hashable, state: Any) -> int:
        """P, the code positions of one example, whose index the bit-aware phi charges
        (:func:`sanets.metrics.index_numbers`); default: the size of the codes of a zero example."""
        sparsity = self.sparsities(choice, self.spatial_shape, 1)[0]
        return self._encode(choice, state, np.zeros((1, *self.spatial_shape)), sparsity)[0].size

    def describe(self, choice: Hashable, sparsity: Any) -> str:
        """Short description of a candidate, e.g. ``"bior2.2/periodization/k=75"``."""
        raise NotImplementedError

    def refine(self, choice: Hashable, sparsity: Any, tried: Sequence) -> list:
        """More sparsities to try near the best of a coarse grid ``tried`` (default: none)."""
        return []

    def _encode(self, choice: Hashable, state: Any, x: np.ndarray, sparsity: Any) -> np.ndarray:
        """Codes ``(N, ...)`` of ``x`` ``(N, *spatial)``; zero except at the kept coefficients."""
        raise NotImplementedError

    def _decode(self, choice: Hashable, state: Any, codes: np.ndarray) -> np.ndarray:
        """``x_hat`` ``(N, *spatial)`` from codes ``(N, ...)``."""
        raise NotImplementedError

    def _sweep(self, choice: Hashable, state: Any, x: np.ndarray, sparsities: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """Reconstructions ``(S, N, *spatial)`` and non-zero counts ``(S, N)`` of ``x`` at every sparsity.

        Subclasses vectorise this over the sparsities where they can; the default encodes once per sparsity.
        """
        outputs = [(self._decode(choice, state, codes), np.count_nonzero(codes.reshape(len(x), -1), axis=1))
                   for codes in (self._encode(choice, state, x, s) for s in sparsities)]
        return np.stack([o[0] for o in outputs]), np.stack([o[1] for o in outputs])

    # The interface of a SAN.

    @property
    def num_weights(self) -> int:
        """W of Eq. 2 of the selected representation."""
        self._check_fitted()
        return self.weights(self.choice, self.state, self.sparsity)

    @property
    def validation(self) -> Evaluation:
        """Mean CR^-1, L~ and phi of the selected representation on the whole validation split, as :meth:`fit`
        scored it to choose (no second pass over the split)."""
        self._check_fitted()
        return next(c.validation for c in self.candidates if (c.choice, c.sparsity) == (self.choice, self.sparsity))

    @property
    def parameters(self) -> str:
        """What :meth:`fit` chose, e.g. ``"bior2.2/periodization/k=75"``."""
        self._check_fitted()
        return self.describe(self.choice, self.sparsity)

    def fit(self, train: Tensor, validation: Tensor, seed: int = 0) -> Baseline:
        """Learn on ``train`` and choose every parameter on the mean phi of ``validation``.

        Parameters
        ----------
        train, validation : Tensor, shape (N, 1, L) or (N, 1, H, W)
        seed : int
            Seeds what is learned at random (dictionary learning).

        Returns
        -------
        Baseline
            ``self``, with :attr:`choice`, :attr:`sparsity`, :attr:`state` and
            :attr:`candidates` set.
        """
        dims = check_batch(train, "train", channels=1, nonempty=True)
        check_batch(validation, "validation", dims=dims, channels=1, nonempty=True)
        if validation.shape[2:] != train.shape[2:]:
            raise ValueError(
                f"validation examples of shape {tuple(validation.shape[2:])} differ from train's {tuple(train.shape[2:])}"
            )
        self.dims, self.spatial_shape = dims, tuple(train.shape[2:])
        train_array, validation_array = _array(train), _array(validation)
        choices = self.choices(self.spatial_shape)
        # Many structural choices on a large validation split: screen them on its first examples, then score
        # the best one's sparsities on all of it.
        screened = validation_array[: self.screen] if len(choices) > 1 and len(validation_array) > self.screen else None
        candidates, states = [], {}
        for choice in choices:
            states[choice] = self.learn(choice, train_array, seed)
            candidates += self._candidates(choice, states[choice], validation_array if screened is None else screened)
        choice = candidates[first_lowest([candidate.validation.flithos for candidate in candidates])].choice
        if screened is not None:
            candidates = [c for c in candidates if c.choice != choice] + self._candidates(choice, states[choice], validation_array)
        final = [c for c in candidates if c.choice == choice]
        best = final[first_lowest([c.validation.flithos for c in final])]
        finer = self.refine(choice, best.sparsity, [c.sparsity for c in final])
        if finer:
            candidates += self._candidates(choice, states[choice], validation_array, finer)
            final = [c for c in candidates if c.choice == choice]
            best = final[first_lowest([c.validation.flithos for c in final])]
        self.choice, self.sparsity, self.state = choice, best.sparsity, states[choice]
        self.candidates = candidates
        return self

    def _candidates(self, choice: Hashable, state: Any, validation: np.ndarray, sparsities: Sequence | None = None) -> list:
        """Every sparsity of ``choice`` (or the given ones) scored on ``validation``."""
        if sparsities is None:
            sparsities = self.sparsities(choice, self.spatial_shape, len(validation))
        return [Candidate(choice, sparsity, self.describe(choice, sparsity), self.weights(choice, state, sparsity), scores,
                          len(validation))
                for sparsity, scores in zip(sparsities, self._score(choice, state, validation, sparsities))]

    def encode(self, x: Tensor) -> Tensor:
        """Sparse codes of ``x``: ``(N, 1, L)`` or ``(N, 1, H, W)`` -> ``(N, ...)``, zero except at kept coefficients."""
        x = self._checked(x)
        return torch.from_numpy(self._encode(self.choice, self.state, _array(x), self.sparsity)).to(x.dtype)

    def decode(self, codes: Tensor) -> Tensor:
        """Reconstruction ``(N, 1, *spatial)`` from :meth:`encode`'s codes."""
        self._check_fitted()
        if not isinstance(codes, Tensor) or codes.ndim < 2:
            raise ValueError(f"codes must be the tensor encode returned, one row per example; got {codes!r:.80}")
        x_hat = self._decode(self.choice, self.state, codes.detach().cpu().numpy().astype(np.float64))
        return torch.from_numpy(x_hat).unsqueeze(1).to(codes.dtype if codes.is_floating_point() else torch.float32)

    def evaluate(self, x: Tensor, shared_by: int = 1) -> Evaluation:
        """Mean CR^-1, L~, phi and bit-aware phi over the examples of ``x`` (Eq. 7), as :func:`sanets.evaluate`
        scores a SAN, W charged once per ``shared_by`` examples."""
        x = self._checked(x, nonempty=True)
        return self._score(self.choice, self.state, _array(x), [self.sparsity], check_int(shared_by, "shared_by", 1))[0]

    def curve(self, x: Tensor) -> list[tuple[Any, Evaluation]]:
        """Mean CR^-1, L~ and phi of ``x`` at every sparsity of the selected structural choice (a Fig. 3 curve)."""
        x = self._checked(x, nonempty=True)
        sparsities = self.sparsities(self.choice, self.spatial_shape, len(x))
        return list(zip(sparsities, self._score(self.choice, self.state, _array(x), sparsities)))

    # Internals.

    def _score(self, choice: Hashable, state: Any, x: np.ndarray, sparsities: Sequence, shared_by: int = 1) -> list[Evaluation]:
        """Means over ``x`` of CR^-1, L~, phi and bit-aware phi at each sparsity (Eqs. 4-7), W charged once per
        ``shared_by`` examples, in chunks of bounded memory."""
        size = math.prod(x.shape[1:])
        chunk = max(1, int(2e7 // max(1, len(sparsities) * size)))
        sums = np.zeros((len(sparsities), 4))
        scale = np.abs(x.reshape(len(x), -1)).mean(1)
        if (scale == 0).any():
            raise ValueError(f"x has all-zero examples (indices {np.flatnonzero(scale == 0)[:5].tolist()}), "
                             "for which L~ = MAE(x, x_hat) / MAE(x, 0) is undefined")
        numbers = self.dims + 1 if self.numbers_per_code is None else self.numbers_per_code
        numbers_bits = 1 if numbers == 1 else 1 + index_numbers(self.positions(choice, state), size, self.dims)
        weights = np.array([self.weights(choice, state, sparsity) for sparsity in sparsities], dtype=np.float64) / shared_by
        for start in range(0, len(x), chunk):
            part = x[start : start + chunk]
            x_hat, nonzero = self._sweep(choice, state, part, sparsities)
            if not np.isfinite(x_hat).all():  # a diverged solver must not become a score
                bad = int(np.flatnonzero(~np.isfinite(x_hat).reshape(len(sparsities), -1).all(1))[0])
                raise FloatingPointError(f"{type(self).__name__} ({self.describe(choice, sparsities[bad])}) reconstructed "
                                         "non-finite values; please report this with the data that caused it")
            loss = np.abs(x_hat - part[None]).reshape(len(sparsities), len(part), -1).mean(2) / scale[start : start + chunk]
            icr = (weights[:, None] + numbers * nonzero) / size
            icr_bits = (weights[:, None] + numbers_bits * nonzero) / size
            sums += np.stack([icr.sum(1), loss.sum(1), np.hypot(icr, loss).sum(1), np.hypot(icr_bits, loss).sum(1)], 1)
        return [Evaluation(*(row / len(x)).tolist()) for row in sums]

    def _checked(self, x: Tensor, nonempty: bool = False) -> Tensor:
        self._check_fitted()
        what = f" for a baseline fitted on {self.dims}D examples of shape {self.spatial_shape}"
        check_batch(x, "x", dims=self.dims, channels=1, nonempty=nonempty, what=what)
        if tuple(x.shape[2:]) != self.spatial_shape:
            raise ValueError(f"x has examples of shape {tuple(x.shape[2:])}; this baseline was fitted on {self.spatial_shape}")
        return x

    def _check_fitted(self) -> None:
        if self.spatial_shape is None:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit(train, validation) first")

    def __repr__(self) -> str:
        fitted = f"{self.parameters}, W={self.num_weights}" if self.spatial_shape is not None else "not fitted"
        return f"{type(self).__name__}({fitted})"


def _array(x: Tensor) -> np.ndarray:
    """``(N, 1, *spatial)`` tensor -> float64 ``(N, *spatial)`` array on the CPU."""
    return x.detach().cpu().to(torch.float64).numpy()[:, 0]


def integer_grid(largest: int, count: int) -> list[int]:
    """About ``count`` integers from 1 to ``largest``: every one where that many fit, else spaced geometrically."""
    if largest <= count:
        return list(range(1, largest + 1))
    return sorted({int(round(v)) for v in np.geomspace(1, largest, count)})


def between_neighbours(best: int, tried: Sequence[int], limit: int = 64) -> list[int]:
    """The integers strictly between ``best``'s neighbours in ``tried`` that were not tried (at most ``limit``)."""
    ordered = sorted(set(tried))
    index = ordered.index(best)
    low = ordered[index - 1] if index else best
    high = ordered[index + 1] if index + 1 < len(ordered) else best
    values = [v for v in range(low + 1, high) if v not in set(ordered)]
    if len(values) > limit:
        values = sorted({values[int(round(i))] for i in np.linspace(0, len(values) - 1, limit)})
    return values
