"""A learned patch dictionary with orthogonal matching pursuit codes (issue #9).

Each example is cut into non-overlapping patches (length p in 1D, p x p in 2D;
the end of each axis zero-padded to a multiple of p and cropped after
decoding). Atoms are learned on training patches with scikit-learn's
``MiniBatchDictionaryLearning``; every patch is coded with s nonzeros by OMP.
Patches are not mean-removed, so the codes are the whole representation:
W = atoms x p^dims (Eq. 2) and each nonzero costs dims + 1 numbers in CR^-1
(Eq. 4), its value and its position, like a spike.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence

import numpy as np

from sanets._extras import require
from sanets._validation import check_int, check_ints
from sanets.baselines._base import Baseline

__all__ = ["Dictionary"]

PATCH_LENGTHS_1D = (5, 8, 10, 16, 20, 32)
"""Patch lengths tried on 1D examples (those up to a quarter of the length; a quarter if none is)."""
PATCH_SIDES_2D = (4, 7, 8)
"""Patch sides tried on 2D examples (those up to a quarter of the smaller side; a quarter if none is)."""
ATOMS = (2, 4, 8, 16)
"""Dictionary sizes tried."""
BATCH, STEPS = 64, 50
"""Dictionary learning: patches per mini-batch, and mini-batches (rounded up to whole epochs)."""


class Dictionary(Baseline):
    """Patch dictionary + OMP: patch size, atoms and nonzeros per patch chosen on validation phi.

    Parameters
    ----------
    patch_lengths : sequence of int, optional
        Patch lengths p to try (sides of p x p patches in 2D). Default: from
        the examples' shape, :data:`PATCH_LENGTHS_1D` or :data:`PATCH_SIDES_2D`
        up to a quarter of the (smaller) side.
    atoms : sequence of int, optional
        Dictionary sizes to try (default :data:`ATOMS`). Pairs whose W alone
        reaches the example size (CR^-1 >= 1, so phi >= 1) are skipped.
    max_nonzeros : int
        Most nonzeros per patch s tried; s also stays below the number of
        atoms (at least 1) and at most the patch size.
    max_patches : int
        Atoms are learned on at most this many non-zero training patches, a
        subsample drawn with the ``seed`` of :meth:`fit` (MNIST: 20000 of its
        922829 non-zero 4 x 4 patches; PhysioNet: all, a few hundred).
        Validation is coded in full
        (but see :attr:`Baseline.screen`).

    Notes
    -----
    Choices are ``(p, atoms)`` in the order of the grids, sparsities s = 1, 2,
    ...; the state of a choice is its atoms, shape ``(atoms, p^dims)`` with
    unit norm. Codes have shape ``(N, patches * atoms)``, patches in C order.
    OMP runs batched over patches (:func:`_omp`), equal to
    ``sklearn.decomposition.sparse_encode(..., algorithm="omp")`` to rounding
    and one pass for all s, since OMP's path is nested.
    """

    name = "dictionary"

    def __init__(self, patch_lengths: Sequence[int] | None = None, atoms: Sequence[int] | None = None,
                 max_nonzeros: int = 8, max_patches: int = 20_000) -> None:
        super().__init__()
        self.patch_lengths = None if patch_lengths is None else check_ints(patch_lengths, "patch_lengths")
        self.atoms = ATOMS if atoms is None else check_ints(atoms, "atoms")
        self.max_nonzeros = check_int(max_nonzeros, "max_nonzeros", 1)
        self.max_patches = check_int(max_patches, "max_patches", 1)

    @classmethod
    def quick(cls) -> Dictionary:
        """Small grids (8 atoms, up to 2 nonzeros, 2000 patches), for ``sanets reproduce --quick`` and the demo."""
        return cls(atoms=(8,), max_nonzeros=2, max_patches=2000)

    def choices(self, spatial_shape: tuple[int, ...]) -> list[Hashable]:
        """``(p, atoms)`` pairs whose patch fits the examples and whose W is below their size."""
        dims, side, size = len(spatial_shape), min(spatial_shape), math.prod(spatial_shape)
        if self.patch_lengths is None:
            grid = PATCH_LENGTHS_1D if dims == 1 else PATCH_SIDES_2D
            lengths = [p for p in grid if p <= side // 4] or [max(1, side // 4)]  # small examples: a quarter side
        else:
            lengths = [p for p in self.patch_lengths if p <= side]
        pairs = [(p, a) for p in lengths for a in self.atoms if a * p**dims < size]
        if not pairs:
            raise ValueError(
                f"no (patch length, atoms) pair of patch_lengths={self.patch_lengths or lengths} and "
                f"atoms={self.atoms} fits examples of shape {spatial_shape} with W = atoms x p^{dims} below "
                f"their size {size}; give smaller patch_lengths or atoms"
            )
        return pairs

    def sparsities(self, choice: Hashable, spatial_shape: tuple[int, ...], examples: int) -> list:
        """Nonzeros per patch: 1 to min(atoms - 1, p^dims, max_nonzeros), at least 1."""
        p, atoms = choice
        return list(range(1, max(1, min(atoms - 1, p ** len(spatial_shape), self.max_nonzeros)) + 1))

    def learn(self, choice: Hashable, train: np.ndarray, seed: int) -> np.ndarray:
        """Unit-norm atoms ``(atoms, p^dims)`` learned on (a seeded subsample of) the non-zero training patches."""
        decomposition = require("sklearn.decomposition", "the Dictionary baseline")
        p, atoms = choice
        patches = _patches(train, p)
        patches = patches[np.any(patches != 0, axis=1)]  # all-zero patches (MNIST background) teach nothing
        if not len(patches):
            raise ValueError("train has no non-zero patch to learn a dictionary from")
        rng = np.random.default_rng(seed)
        if len(patches) > self.max_patches:
            patches = patches[np.sort(rng.choice(len(patches), self.max_patches, replace=False))]
        # Small batches and a cap of ~STEPS mini-batches (at least one epoch): scikit-learn's
        # defaults (256, up to 1000 epochs) took minutes where its early stopping never fired,
        # and learned worse atoms from the few hundred patches of a PhysioNet record.
        learner = decomposition.MiniBatchDictionaryLearning(
            n_components=atoms, batch_size=BATCH, fit_algorithm="cd",
            max_iter=max(1, -(-STEPS * BATCH // len(patches))), random_state=int(rng.integers(2**31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on a few hundred patches
            dictionary = learner.fit(patches).components_.astype(np.float64)
        # OMP picks by |<atom, residual>|: atoms of unit norm make that the residual's angle.
        norms = np.linalg.norm(dictionary, axis=1, keepdims=True)
        return dictionary / np.where(norms > 0, norms, 1)

    def weights(self, choice: Hashable, state: np.ndarray, sparsity: int) -> int:
        """W = atoms x p^dims (Eq. 2)."""
        return int(state.size)

    def positions(self, choice: Hashable, state: np.ndarray) -> int:
        """Patches times atoms."""
        return len(_patches(np.zeros((1, *self.spatial_shape)), choice[0])) * len(state)

    def describe(self, choice: Hashable, sparsity: int) -> str:
        """E.g. ``"p=10/atoms=8/s=1"`` (``"p=4x4/..."`` in 2D)."""
        p, atoms = choice
        side = f"{p}x{p}" if self.dims == 2 else str(p)
        return f"p={side}/atoms={atoms}/s={sparsity}"

    def _encode(self, choice: Hashable, state: np.ndarray, x: np.ndarray, sparsity: int) -> np.ndarray:
        """OMP codes ``(N, patches * atoms)`` of ``x`` ``(N, *spatial)``, ``sparsity`` nonzeros per patch."""
        codes = _omp(_patches(x, choice[0]), state, [sparsity])[0]
        return codes.reshape(len(x), -1)

    def _decode(self, choice: Hashable, state: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """``x_hat`` ``(N, *spatial)``: each patch is its codes times the atoms."""
        p, atoms = choice
        patches = _count(self.spatial_shape, p)
        if codes.ndim != 2 or codes.shape[1] != patches * atoms:
            raise ValueError(f"codes must have shape (N, {patches * atoms}) ({patches} patches x {atoms} atoms) "
                             f"for this Dictionary, got {codes.shape}")
        return _assemble(codes.reshape(-1, atoms) @ state, len(codes), self.spatial_shape, p)

    def _sweep(self, choice: Hashable, state: np.ndarray, x: np.ndarray,
               sparsities: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """All sparsities from one OMP path: reconstructions ``(S, N, *spatial)``, nonzeros ``(S, N)``."""
        p, atoms = choice
        codes = _omp(_patches(x, p), state, list(sparsities)).reshape(len(sparsities), len(x), -1)
        x_hat = np.stack([_assemble(c.reshape(-1, atoms) @ state, len(x), x.shape[1:], p) for c in codes])
        return x_hat, np.count_nonzero(codes, axis=2)


def _count(spatial_shape: tuple[int, ...], p: int) -> int:
    """Patches per example."""
    return math.prod(-(-n // p) for n in spatial_shape)


def _patches(x: np.ndarray, p: int) -> np.ndarray:
    """``(N, L)`` or ``(N, H, W)`` -> ``(N * patches, p^dims)``, each axis zero-padded to a multiple of p."""
    padded = np.pad(x, [(0, 0)] + [(0, -n % p) for n in x.shape[1:]])
    if x.ndim == 2:
        return padded.reshape(-1, p)
    n, h, w = padded.shape
    return padded.reshape(n, h // p, p, w // p, p).transpose(0, 1, 3, 2, 4).reshape(-1, p * p)


def _assemble(patches: np.ndarray, n: int, spatial_shape: tuple[int, ...], p: int) -> np.ndarray:
    """Inverse of :func:`_patches`: ``(n * patches, p^dims)`` -> ``(n, *spatial_shape)``, padding cropped."""
    if len(spatial_shape) == 1:
        return patches.reshape(n, -1)[:, : spatial_shape[0]]
    h, w = (-(-s // p) for s in spatial_shape)
    image = patches.reshape(n, h, w, p, p).transpose(0, 1, 3, 2, 4).reshape(n, h * p, w * p)
    return image[:, : spatial_shape[0], : spatial_shape[1]]


def _omp(x: np.ndarray, atoms: np.ndarray, sparsities: Sequence[int]) -> np.ndarray:
    """Orthogonal matching pursuit of every row of ``x`` at once, stopped at each of ``sparsities``.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    atoms : ndarray, shape (a, d)
    sparsities : sequence of int
        Nonzeros wanted, ascending or not.

    Returns
    -------
    ndarray, shape (len(sparsities), n, a)
        The codes after s steps for each s. As scikit-learn's ``_gram_omp``, a
        row stops early (fewer nonzeros) when its best correlation squared falls
        below machine epsilon or the next atom depends on those chosen.
    """
    n, a = len(x), len(atoms)
    eps = np.finfo(np.float64).eps
    gram, cov = atoms @ atoms.T, x @ atoms.T
    largest = max(sparsities)
    out = np.zeros((len(sparsities), n, a))
    support = np.zeros((n, largest), dtype=np.intp)
    inverse = np.zeros((n, 0, 0))  # of the Gram matrix on each live row's support
    current = np.zeros((n, a))
    live = np.arange(n)
    for j in range(largest):
        chosen = support[live, :j]
        corr = cov[live] - current[live] @ gram
        np.put_along_axis(corr, chosen, 0.0, axis=1)
        new = np.argmax(np.abs(corr), axis=1)  # first of equals, as scikit-learn
        keep = np.take_along_axis(corr, new[:, None], 1)[:, 0] ** 2 >= eps
        g = gram[chosen, new[:, None]]
        w = (inverse @ g[:, :, None])[:, :, 0]
        schur = gram[new, new] - (g * w).sum(1)  # = Lkk of the Cholesky update
        keep &= schur > eps
        live, new, w, schur, inverse = live[keep], new[keep], w[keep], schur[keep], inverse[keep]
        support[live, j] = new
        # The inverse grows by a block (Schur complement): no solve per row and step.
        grown = np.empty((len(live), j + 1, j + 1))
        grown[:, :j, :j] = inverse + w[:, :, None] * (w / schur[:, None])[:, None, :]
        grown[:, :j, j] = grown[:, j, :j] = -w / schur[:, None]
        grown[:, j, j] = 1 / schur
        inverse = grown
        chosen = support[live, : j + 1]
        rows = np.zeros((len(live), a))
        np.put_along_axis(rows, chosen, (inverse @ np.take_along_axis(cov[live], chosen, 1)[:, :, None])[:, :, 0], 1)
        current[live] = rows
        for index, s in enumerate(sparsities):
            if s == j + 1:
                out[index] = current
    return out
