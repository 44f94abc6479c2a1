"""Orthogonal matching pursuit over a fixed dictionary, and OMP over the DCT and DST bases together (issue 30).

OMP (Pati, Rezaiifar & Krishnaprasad, 1993) picks, at each step, the atom of
largest normalised correlation with the residual ``|<r, a>| / ||a||``, then
projects the signal on the span of every atom picked so far. A dictionary of
P atoms (a SAN's P = q n positions: q kernels at every shift) learns nothing,
so W = 0; a kept atom costs its value and its index, dims + 1 numbers, like a
spike (Eq. 4), and the bit-aware phi charges the index ``log2(P) / log2(n)``
numbers (:func:`sanets.metrics.index_numbers`).

All spike counts k come from one pursuit: the projection after k steps is the
k-atom reconstruction, so choosing k on validation costs one pursuit of the
largest k. The span is kept orthonormal by Gram-Schmidt (twice, for the
precision a few hundred steps need), vectorised over the examples.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from sanets._extras import require
from sanets._validation import check_int
from sanets.baselines._base import Baseline

__all__ = ["DctDstOMP"]

SCORES_PER_BATCH = 2e7
"""Correlations (examples times atoms) held at once: examples are pursued in batches of this many."""

RUNS_KEPT = 4
"""Pursuits kept to be resumed (per baseline): validation, test, and a batch or two."""


class _Run:
    """One OMP of examples ``x`` ``(N, n)``, step by step: the orthonormal basis of the atoms picked (Gram-Schmidt,
    twice: "twice is enough", Giraud et al. 2005), each step's coefficient on it, the residual."""

    def __init__(self, x: np.ndarray) -> None:
        self.scale = np.linalg.norm(x, axis=1)
        self.residual = x.copy()
        self.basis: list[np.ndarray] = []  # per step, (N, n)
        self.coefficients: list[np.ndarray] = []  # per step, (N,)
        self.picked: list[np.ndarray] = []  # per step, (N,) atom index, -1 where nothing new was picked
        self.alive = np.ones(len(x), dtype=bool)

    @property
    def steps(self) -> int:
        return len(self.basis)

    def step(self, atom: np.ndarray, index: np.ndarray | None = None) -> None:
        """Add the atoms ``(N, n)`` (flat indices ``index``) picked for each example."""
        if self.basis:
            basis = np.stack(self.basis)
            for _ in range(2):
                atom = atom - np.einsum("sc,scn->cn", np.einsum("scn,cn->sc", basis, atom), basis)
        norm = np.linalg.norm(atom, axis=1)
        # An atom already in the span, or an exact fit: nothing new to pick.
        self.alive &= (norm > 1e-9 * np.maximum(self.scale, 1e-300)) & \
            (np.linalg.norm(self.residual, axis=1) > 1e-12 * self.scale)
        atom = np.where(self.alive[:, None], atom / np.where(norm > 0, norm, 1)[:, None], 0.0)
        coefficient = np.einsum("cn,cn->c", atom, self.residual)
        self.residual -= coefficient[:, None] * atom
        self.basis.append(atom)
        self.coefficients.append(coefficient)
        self.picked.append(np.where(self.alive, index, -1))

    def reconstructions(self, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The projections ``(len(ks), N, n)`` on the atoms of the first k steps, and their atom counts."""
        projections = np.stack(self.coefficients)[:, :, None] * np.stack(self.basis)
        cumulative = np.concatenate([np.zeros_like(projections[:1]), np.cumsum(projections, axis=0)])
        counts = np.concatenate([np.zeros((1, projections.shape[1]), dtype=np.int64),
                                 np.cumsum(np.stack(self.picked) >= 0, axis=0)])
        return cumulative[list(ks)], counts[list(ks)]


class Pursuit(Baseline):
    """OMP over a fixed dictionary of P atoms of an n-sample signal; the sparsity is the number of atoms k.

    Subclasses build the dictionary of a structural choice (:meth:`learn`),
    correlate a residual with every atom (:meth:`_match`) and give atoms by
    index (:meth:`_atoms`). Codes: ``(N, P)``, zero except the k coefficients
    of the atoms picked (a least-squares fit of the example on them).

    Parameters
    ----------
    k : int, optional
        Atoms per example; default: chosen on validation from 1 to
        ``max_share`` times n.
    """

    dimensions = (1,)
    max_share: float = 0.25
    """The largest k tried, as a share of n: a spike costs at least 2 numbers, so phi >= 2 k / n = 0.5 there,
    above every phi the paper reports on its 1000-sample records."""

    def __init__(self, k: int | None = None) -> None:
        super().__init__()
        self.k = None if k is None else check_int(k, "k", 1)
        self._reach: dict[Hashable, int] = {}
        self._runs: dict[tuple, _Run] = {}

    # What a dictionary defines.

    def _best(self, state: Any, residual: np.ndarray) -> np.ndarray:
        """The flat index ``(N,)`` of the atom of largest ``|<r, a_p>| / ||a_p||`` for each residual ``(N, n)``
        (ties: the lower index)."""
        raise NotImplementedError

    def _atoms(self, state: Any, indices: np.ndarray) -> np.ndarray:
        """The atoms ``(M, n)`` of flat indices ``(M,)``, as the codes' coefficients multiply them."""
        raise NotImplementedError

    # The pursuit.

    def sparsities(self, choice: Hashable, spatial_shape: tuple[int, ...], examples: int) -> list[int]:
        """Every k from 1 to the reach :meth:`fit` found for ``choice`` (before: to ``max_share`` n)."""
        if self.k is not None:
            return [self.k]
        largest = max(1, int(self.max_share * spatial_shape[0]))
        return list(range(1, min(self._reach.get(choice, largest), largest) + 1))

    def _candidates(self, choice: Hashable, state: Any, validation: np.ndarray, sparsities: Sequence | None = None) -> list:
        """Every k scored on validation, pursuing ever further until no larger k can win: phi >= CR^-1, which grows
        with k, so once the largest k's mean CR^-1 passes the lowest phi the search is exact. Each extension aims
        where CR^-1, extrapolated along its line from k = 1, would pass the lowest phi (at most doubling the reach)."""
        if sparsities is not None or self.k is not None:
            return super()._candidates(choice, state, validation, sparsities)
        largest = max(1, int(self.max_share * self.spatial_shape[0]))
        self._reach[choice] = min(largest, max(8, self.spatial_shape[0] // 32))
        while True:
            candidates = super()._candidates(choice, state, validation)
            lowest = min(candidate.validation.flithos for candidate in candidates)
            reach, first, reached = (self._reach[choice], candidates[0].validation.inverse_compression_ratio,
                                     candidates[-1].validation.inverse_compression_ratio)
            if reach >= largest or reached > lowest:
                return candidates
            slope = (reached - first) / (reach - 1) if reach > 1 else 0.0
            aim = math.floor(1 + (lowest - first) / slope) + 1 if slope > 0 else 2 * reach
            self._reach[choice] = min(largest, 2 * reach, max(reach + 1, aim))

    def _pursue(self, choice: Hashable, state: Any, x: np.ndarray, steps: int) -> _Run:
        """OMP of ``x`` ``(N, n)`` for at least ``steps`` steps, resuming the run of the same choice and examples
        where one was made (choosing k by doubling, then testing, then the test curve: one pursuit each)."""
        key = (choice, x.shape, hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest())
        run = self._runs.pop(key, None) or _Run(x)
        self._runs[key] = run  # most recent last; a few runs are kept
        while len(self._runs) > RUNS_KEPT:
            self._runs.pop(next(iter(self._runs)))
        while run.steps < steps:
            index = self._best(state, run.residual)
            run.step(self._atoms(state, index), index)
        return run

    def _batches(self, choice: Hashable, state: Any, x: np.ndarray) -> list[slice]:
        size = max(1, int(SCORES_PER_BATCH // self.positions(choice, state)))
        return [slice(start, start + size) for start in range(0, len(x), size)]

    def _sweep(self, choice: Hashable, state: Any, x: np.ndarray, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        x_hat, counts = np.zeros((len(ks), *x.shape)), np.zeros((len(ks), len(x)), dtype=np.int64)
        for part in self._batches(choice, state, x):
            run = self._pursue(choice, state, x[part], max(ks))
            x_hat[:, part], counts[:, part] = run.reconstructions(ks)
        return x_hat, counts

    def _encode(self, choice: Hashable, state: Any, x: np.ndarray, k: int) -> np.ndarray:
        codes = np.zeros((len(x), self.positions(choice, state)))
        for part in self._batches(choice, state, x):
            run = self._pursue(choice, state, x[part], k)
            for row, (example, indices) in enumerate(zip(x[part], np.stack(run.picked[:k]).T), start=part.start or 0):
                indices = indices[indices >= 0]
                if len(indices):
                    atoms = self._atoms(state, indices)
                    codes[row, indices] = np.linalg.lstsq(atoms.T, example, rcond=None)[0]
        return codes

    def _decode(self, choice: Hashable, state: Any, codes: np.ndarray) -> np.ndarray:
        positions = self.positions(choice, state)
        if codes.ndim != 2 or codes.shape[1] != positions:
            raise ValueError(f"codes must have shape (N, {positions}) for this {type(self).__name__}, got {codes.shape}")
        x_hat = np.zeros((len(codes), *self.spatial_shape))
        for row, example in enumerate(codes):
            indices = np.flatnonzero(example)
            if len(indices):
                x_hat[row] = example[indices] @ self._atoms(state, indices)
        return x_hat


class DctDstOMP(Pursuit):
    """OMP over the orthonormal DCT-II and DST-II bases together: 2n atoms, W = 0.

    The union is twice overcomplete: a sinusoid of any phase at a DCT/DST
    frequency is one DCT atom plus one DST atom, where the DCT alone needs many
    coefficients for a phase it does not hold. Codes: ``(N, 2 n)``, the DCT
    coefficients then the DST ones; k is chosen on validation unless given.

    Parameters
    ----------
    k : int, optional
        Atoms per example; default: chosen on validation.

    Examples
    --------
    >>> import torch
    >>> from sanets.baselines import DctDstOMP
    >>> t = torch.arange(64.0)
    >>> x = torch.stack([torch.sin(0.3 * t + p) for p in range(12)])[:, None]
    >>> DctDstOMP().fit(x[:8], x[8:]).num_weights
    0
    """

    name = "dct-dst-omp"

    def describe(self, choice: None, k: int) -> str:
        return f"k={k}"

    def positions(self, choice: Hashable, state: Any) -> int:
        return 2 * self.spatial_shape[0]

    def learn(self, choice: None, train: np.ndarray, seed: int) -> np.ndarray:
        """The 2n unit-norm atoms ``(2 n, n)``: DCT-II rows, then DST-II rows."""
        fft = require("scipy.fft", "the dct-dst-omp baseline")
        identity = np.eye(self.spatial_shape[0])
        return np.concatenate([fft.idct(identity, norm="ortho"), fft.idst(identity, norm="ortho")])

    def _best(self, state: np.ndarray, residual: np.ndarray) -> np.ndarray:
        fft = require("scipy.fft", "the dct-dst-omp baseline")
        return np.argmax(np.abs(np.concatenate([fft.dct(residual, norm="ortho"), fft.dst(residual, norm="ortho")], axis=1)), 1)

    def _atoms(self, state: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return state[indices].copy()
