"""Principal component analysis: the first k principal components of the training examples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sanets._validation import check_int
from sanets.baselines._base import Baseline, between_neighbours, integer_grid


class PCA(Baseline):
    """Each example as its k scores on the first k principal components learned on train.

    The decoder needs the mean and the k components, W = k n + n (n values per
    example); a score's index is its component, so each costs one number in
    CR^-1 (``numbers_per_code = 1``). k, at most the number of training
    examples and n, is chosen on validation phi unless given. The weights
    dominate: a component costs more than n numbers, so phi rarely keeps more
    than one.

    Codes: ``(N, K)`` scores on all K learned components, zero beyond the k kept.

    Parameters
    ----------
    k : int, optional
        Components kept; default: chosen on validation.
    """

    name = "pca"
    numbers_per_code = 1

    def __init__(self, k: int | None = None) -> None:
        super().__init__()
        self.k = None if k is None else check_int(k, "k", 0)

    def sparsities(self, choice: None, spatial_shape: tuple[int, ...], examples: int) -> list[int]:
        if self.k is not None:
            if self.k > self._rank:
                raise ValueError(f"k={self.k} exceeds the {self._rank} components learned (at most one per training example and per value of an example)")
            return [self.k]
        return integer_grid(self._rank, 64)

    def refine(self, choice: None, sparsity: int, tried: Sequence[int]) -> list[int]:
        return [] if self.k is not None else between_neighbours(sparsity, tried)

    def learn(self, choice: None, train: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        flat = train.reshape(len(train), -1)
        mean = flat.mean(0)
        centred = flat - mean
        # Right singular vectors of the centred data, by decreasing variance (sign fixed for repeatability);
        # with more examples than values, from the n x n scatter matrix (an SVD of 50000 x 784 takes a minute).
        if len(flat) > flat.shape[1]:
            _, vectors = np.linalg.eigh(centred.T @ centred)
            components = vectors[:, ::-1].T.copy()
        else:
            _, _, components = np.linalg.svd(centred, full_matrices=False)
        components *= np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])[:, None]
        self._rank = len(components)  # min(training examples, n): how many k there are
        return mean, components

    def weights(self, choice: None, state: tuple[np.ndarray, np.ndarray], k: int) -> int:
        mean = state[0]
        return (k + 1) * len(mean)

    def describe(self, choice: None, k: int) -> str:
        return f"k={k}"

    def _encode(self, choice: None, state: tuple[np.ndarray, np.ndarray], x: np.ndarray, k: int) -> np.ndarray:
        mean, components = state
        scores = (x.reshape(len(x), -1) - mean) @ components.T
        scores[:, k:] = 0.0
        return scores

    def _decode(self, choice: None, state: tuple[np.ndarray, np.ndarray], codes: np.ndarray) -> np.ndarray:
        mean, components = state
        return (codes @ components + mean).reshape(len(codes), *self.spatial_shape)

    def _sweep(self, choice: None, state: tuple[np.ndarray, np.ndarray], x: np.ndarray, ks: Sequence[int]):
        mean, components = state
        scores = (x.reshape(len(x), -1) - mean) @ components.T  # (N, K)
        x_hat = np.empty((len(ks), len(x), components.shape[1]))
        # Each k adds the components after the previous k: one matrix product per k, all examples at once.
        order = np.argsort(ks, kind="stable")
        current, done = np.broadcast_to(mean, x_hat.shape[1:]).copy(), 0
        for index in order:
            k = ks[index]
            current += scores[:, done:k] @ components[done:k]
            x_hat[index], done = current, k
        nonzero = np.stack([np.count_nonzero(scores[:, :k], axis=1) for k in ks])
        return x_hat.reshape(len(ks), len(x), *self.spatial_shape), nonzero
