"""Convolutional sparse coding with SPORCO (issue #9): the closest classical relative of a SAN.

Like a SAN, a signal is a sum of q shift-invariant atoms of length m, each
convolved with a sparse activation map: ``x_hat = sum_k d_k (*) z_k``. The
atoms are learned on the training signals by SPORCO's convolutional BPDN
dictionary learning (ADMM); the maps of a signal minimise
``1/2 ||x - sum_k d_k (*) z_k||^2 + lambda ||z||_1`` (SPORCO's ``ConvBPDN``),
and, by default, their values are then refitted by least squares on the
support lambda chose ("debiasing": the L1 penalty shrinks every kept value,
which costs reconstruction loss at no saving in nonzeros). W = q m (Eq. 2);
each nonzero of the maps costs 2 numbers in CR^-1 (Eq. 4), like a spike.
The convolutions are circular (SPORCO works in the DFT domain), and the
reconstruction is SPORCO's own synthesis of exactly the codes returned.

1D only: coding the 10000 validation images of MNIST at each penalty takes
SPORCO's ADMM over an hour per structural choice on two cores (measured:
13 s for 200 images, 8 atoms of 8 x 8, one penalty).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from collections.abc import Hashable, Iterator, Sequence

import numpy as np

from sanets._extras import require
from sanets._validation import check_int, check_ints
from sanets.baselines._base import Baseline

__all__ = ["ConvolutionalDictionary"]

ATOMS = (2, 4, 8)
"""Numbers of atoms q tried."""
LENGTHS = (16, 32, 64)
"""Atom lengths m tried (those up to a quarter of the signal length)."""
PENALTIES = (5.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.2)
"""L1 penalties lambda tried, in units of the training signals' RMS, sparsest first."""
CODES_PER_SOLVE = 2_000_000
"""Most code entries (examples x q x L) one ADMM solve holds in memory."""


class ConvolutionalDictionary(Baseline):
    """Convolutional sparse coding: q atoms of length m and the L1 penalty chosen on validation phi.

    Parameters
    ----------
    atoms : sequence of int, optional
        Numbers of atoms q to try (default :data:`ATOMS`).
    lengths : sequence of int, optional
        Atom lengths m to try (default :data:`LENGTHS` up to a quarter of the
        signal length). Pairs whose W = q m reaches the signal length are skipped.
    penalties : sequence of float, optional
        L1 penalties lambda to try, relative to the RMS of the training signals
        (default :data:`PENALTIES`); the best is refined geometrically between
        its neighbours.
    learn_penalty : float
        The (relative) lambda of dictionary learning.
    iterations : int
        ADMM iterations of dictionary learning.
    coding_iterations : int
        Most ADMM iterations of sparse coding (it stops earlier at a relative
        residual of 1e-3).
    debias_iterations : int
        Conjugate-gradient iterations refitting the kept values by least squares
        on their support; 0 keeps SPORCO's shrunk L1 solution.
    max_examples : int
        Atoms are learned on at most this many training examples, a subsample
        drawn with the ``seed`` of :meth:`fit` (PhysioNet: all 6 windows; UCI
        epilepsy: 64 of 8740).
        Validation is coded in full (but see :attr:`Baseline.screen`).

    Notes
    -----
    Choices are ``(q, m)``; the state of a choice is ``(atoms, rms)``, atoms of
    shape ``(m, q)`` (unit norm) and rms that of the training signals. Codes
    have shape ``(N, q, L)``, the layout of a SAN's activation maps. The
    optional dependency is the ``sporco`` package (extra ``[baselines]``).
    ADMM's step size adapts to the whole batch, so codes of an example can
    differ in the last digits with the batch it is coded in.
    """

    name = "convolutional-dictionary"
    dimensions = (1,)

    @classmethod
    def unavailable(cls) -> str | None:
        """A note when SPORCO (the optional extra ``[baselines]``) is not installed."""
        if importlib.util.find_spec("sporco") is None:
            return 'it needs SPORCO: pip install "sparsely-activated-networks[baselines]"'
        return None

    def __init__(self, atoms: Sequence[int] | None = None, lengths: Sequence[int] | None = None,
                 penalties: Sequence[float] | None = None, learn_penalty: float = 1.0, iterations: int = 100,
                 coding_iterations: int = 200, debias_iterations: int = 30, max_examples: int = 64) -> None:
        super().__init__()
        self.atoms = ATOMS if atoms is None else check_ints(atoms, "atoms")
        self.lengths = None if lengths is None else check_ints(lengths, "lengths")
        self.penalties = PENALTIES if penalties is None else _positive(penalties, "penalties")
        self.learn_penalty = _positive(learn_penalty, "learn_penalty")
        self.iterations = check_int(iterations, "iterations", 1)
        self.coding_iterations = check_int(coding_iterations, "coding_iterations", 1)
        self.debias_iterations = check_int(debias_iterations, "debias_iterations", 0)
        self.max_examples = check_int(max_examples, "max_examples", 1)

    @classmethod
    def quick(cls) -> ConvolutionalDictionary:
        """Small grids (2 atoms of 32, two penalties) and fewer iterations, for ``sanets reproduce --quick`` and the demo."""
        return cls(atoms=(2,), lengths=(32,), penalties=(2.0, 1.0), iterations=30, coding_iterations=25,
                   debias_iterations=10, max_examples=32)

    def choices(self, spatial_shape: tuple[int, ...]) -> list[Hashable]:
        """``(q, m)`` pairs with m within the signal and W = q m below its length."""
        if len(spatial_shape) != 1:
            raise ValueError(
                f"ConvolutionalDictionary supports 1D signals (N, 1, L) only, got examples of shape {spatial_shape}: "
                "SPORCO's ADMM would take hours to code a validation split of images at each penalty on a CPU"
            )
        (length,) = spatial_shape
        lengths = [m for m in LENGTHS if m <= max(1, length // 4)] if self.lengths is None else \
            [m for m in self.lengths if m <= length]
        pairs = [(q, m) for q in self.atoms for m in lengths if q * m < length]
        if not pairs:
            raise ValueError(f"no (atoms, length) pair of atoms={self.atoms} and lengths={self.lengths or lengths} "
                             f"fits signals of length {length} with W = atoms x length below it; give smaller ones")
        return pairs

    def sparsities(self, choice: Hashable, spatial_shape: tuple[int, ...], examples: int) -> list:
        """The relative penalties, sparsest (largest) first."""
        return sorted(self.penalties, reverse=True)

    def refine(self, choice: Hashable, sparsity: float, tried: Sequence) -> list:
        """Geometric midpoints between the best penalty and its neighbours."""
        ordered = sorted(set(tried))
        index = ordered.index(sparsity)
        neighbours = ordered[max(0, index - 1) : index] + ordered[index + 1 : index + 2]
        return [float(np.sqrt(sparsity * n)) for n in sorted(neighbours, reverse=True)]

    def learn(self, choice: Hashable, train: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
        """Atoms ``(m, q)`` learned by SPORCO's ``ConvBPDNDictLearn`` from seeded random ones; the RMS of ``train``."""
        cbpdndl = require("sporco.dictlrn.cbpdndl", "the ConvolutionalDictionary baseline")
        q, m = choice
        rms = float(np.sqrt(np.mean(train**2)))
        if rms == 0:
            raise ValueError("train is all zeros: there is nothing to learn atoms from")
        penalty = self.learn_penalty * rms
        rng = np.random.default_rng(seed)
        start = rng.standard_normal((m, q))
        if len(train) > self.max_examples:
            train = train[np.sort(rng.choice(len(train), self.max_examples, replace=False))]
        options = cbpdndl.ConvBPDNDictLearn.Options(
            {"Verbose": False, "MaxMainIter": self.iterations, "CBPDN": {"rho": 50 * penalty + 0.5}}, dmethod="cns")
        with _fftw():
            learner = cbpdndl.ConvBPDNDictLearn(start, np.ascontiguousarray(train.T), penalty, options,
                                                dmethod="cns", dimK=1, dimN=1)
            learner.solve()
            atoms = np.asarray(learner.getdict()).reshape(m, q)
        return atoms, rms

    def weights(self, choice: Hashable, state: tuple[np.ndarray, float], sparsity: float) -> int:
        """W = q m (Eq. 2)."""
        return int(state[0].size)

    def positions(self, choice: Hashable, state: tuple[np.ndarray, float]) -> int:
        """Atoms times samples."""
        return state[0].shape[1] * self.spatial_shape[0]

    def describe(self, choice: Hashable, sparsity: float) -> str:
        """E.g. ``"atoms=4/m=32/lambda=1.5"`` (lambda in units of the training RMS)."""
        q, m = choice
        return f"atoms={q}/m={m}/lambda={sparsity:.3g}"

    def _encode(self, choice: Hashable, state: tuple[np.ndarray, float], x: np.ndarray, sparsity: float) -> np.ndarray:
        """Activation maps ``(N, q, L)`` of ``x`` ``(N, L)``."""
        return np.concatenate([_maps(self._solve(state, part, sparsity)[1]) for part in self._parts(state, x)])

    def _decode(self, choice: Hashable, state: tuple[np.ndarray, float], codes: np.ndarray) -> np.ndarray:
        """SPORCO's synthesis ``sum_k d_k (*) z_k`` ``(N, L)`` of maps ``(N, q, L)``."""
        expected = (state[0].shape[1], *self.spatial_shape)
        if codes.ndim != 3 or codes.shape[1:] != expected:
            raise ValueError(f"codes must have shape (N, {expected[0]}, {expected[1]}) (N, atoms, L) for this "
                             f"ConvolutionalDictionary, got {codes.shape}")
        cbpdn = require("sporco.admm.cbpdn", "the ConvolutionalDictionary baseline")
        if not len(codes):
            return np.zeros((0, *self.spatial_shape))
        with _fftw():
            coder = cbpdn.ConvBPDN(state[0], np.zeros((self.spatial_shape[0], len(codes))), 1.0,
                                   cbpdn.ConvBPDN.Options({"Verbose": False}), dimK=1, dimN=1)
            return _signals(coder.reconstruct(codes.transpose(2, 0, 1)[:, None]))

    def _sweep(self, choice: Hashable, state: tuple[np.ndarray, float], x: np.ndarray,
               sparsities: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """One sparse coding per penalty: reconstructions ``(S, N, L)`` and nonzeros ``(S, N)``."""
        x_hat, nonzero = np.zeros((len(sparsities), *x.shape)), np.zeros((len(sparsities), len(x)), dtype=np.int64)
        for index, penalty in enumerate(sparsities):
            start = 0
            for part in self._parts(state, x):
                coder, codes = self._solve(state, part, penalty)
                with _fftw():
                    x_hat[index, start : start + len(part)] = _signals(coder.reconstruct(codes))
                nonzero[index, start : start + len(part)] = np.count_nonzero(_maps(codes).reshape(len(part), -1), 1)
                start += len(part)
        return x_hat, nonzero

    def _parts(self, state: tuple[np.ndarray, float], x: np.ndarray) -> Iterator[np.ndarray]:
        """``x`` in batches of at most :data:`CODES_PER_SOLVE` code entries."""
        size = max(1, CODES_PER_SOLVE // (state[0].shape[1] * x.shape[1]))
        return (x[start : start + size] for start in range(0, len(x), size))

    def _solve(self, state: tuple[np.ndarray, float], x: np.ndarray, penalty: float):
        """SPORCO's ``ConvBPDN`` of ``x`` ``(N, L)`` at ``penalty`` x RMS, debiased: (coder, codes in its layout)."""
        cbpdn = require("sporco.admm.cbpdn", "the ConvolutionalDictionary baseline")
        atoms, rms = state
        options = cbpdn.ConvBPDN.Options({"Verbose": False, "MaxMainIter": self.coding_iterations, "RelStopTol": 1e-3})
        with _fftw():
            coder = cbpdn.ConvBPDN(atoms, np.ascontiguousarray(x.T), penalty * rms, options, dimK=1, dimN=1)
            codes = np.asarray(coder.solve())  # ADMM's Y: exactly sparse
        return coder, _debias(coder, codes, self.debias_iterations) if self.debias_iterations else codes


def _maps(codes: np.ndarray) -> np.ndarray:
    """SPORCO's layout ``(L, 1, N, q)`` -> ``(N, q, L)``."""
    return codes[:, 0].transpose(1, 2, 0)


def _signals(x: np.ndarray) -> np.ndarray:
    """SPORCO's reconstruction ``(L, 1, N)`` (or ``(L, 1, N, 1)``) -> ``(N, L)``."""
    return np.asarray(x).reshape(x.shape[0], -1).T


def _debias(coder, codes: np.ndarray, iterations: int) -> np.ndarray:
    """Least-squares values on the support of ``codes`` (CGLS, every signal at once); zeros stay zero.

    Parameters
    ----------
    coder : sporco.admm.cbpdn.ConvBPDN
        The solved problem: its DFT of the atoms ``Df``, signals ``S`` and axes.
    codes : ndarray
        Its sparse solution, SPORCO's layout ``(L, 1, N, q)``.
    iterations : int
    """
    axes, shape = coder.cri.axisN, coder.cri.Nv
    support = codes != 0
    other = tuple(axis for axis in range(codes.ndim) if axis != coder.cri.axisK)

    def forward(z: np.ndarray) -> np.ndarray:
        spectrum = np.sum(coder.Df * np.fft.rfftn(z, shape, axes), coder.cri.axisM, keepdims=True)
        return np.fft.irfftn(spectrum, shape, axes)

    def adjoint(r: np.ndarray) -> np.ndarray:
        return support * np.fft.irfftn(np.conj(coder.Df) * np.fft.rfftn(r, shape, axes), shape, axes)

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # A signal whose gradient has vanished (CG converged; supports are small) is done: the next step
        # would divide rounding noise by rounding noise, which diverged on UCI epilepsy windows.
        return np.divide(a, b, out=np.zeros_like(a), where=(b > 0) & (energy > floor))

    z = codes.copy()
    residual = coder.S - forward(z)
    gradient = adjoint(residual)
    direction, energy = gradient.copy(), np.sum(gradient**2, other, keepdims=True)
    floor = 1e-20 * energy
    for _ in range(iterations):
        image = forward(direction)
        step = ratio(energy, np.sum(image**2, other, keepdims=True))
        z += step * direction
        residual -= step * image
        gradient = adjoint(residual)
        new = np.sum(gradient**2, other, keepdims=True)
        direction = gradient + ratio(new, energy) * direction
        energy = new
    return z


@contextlib.contextmanager
def _fftw() -> Iterator[None]:
    """SPORCO's pyfftw on one thread with deterministic plans, restored after.

    Its defaults (every core, FFTW_MEASURE) were ~10x slower on these small
    FFTs (benchmarks/bench_csc_libraries.py) and choose plans by timing, which
    can change the last digits, hence the codes, from run to run.
    """
    fft = require("sporco.fft", "the ConvolutionalDictionary baseline")
    saved = fft.pyfftw_threads, fft.pyfftw_planner_effort
    fft.pyfftw_threads, fft.pyfftw_planner_effort = 1, "FFTW_ESTIMATE"
    try:
        yield
    finally:
        fft.pyfftw_threads, fft.pyfftw_planner_effort = saved


def _positive(values: float | Sequence[float], name: str) -> float | tuple[float, ...]:
    """A finite float > 0, or a non-empty tuple of them, or an error naming the argument."""
    single = not hasattr(values, "__iter__")
    if isinstance(values, str | bytes | bool) or single and not isinstance(values, int | float):
        raise TypeError(f"{name} must be {'a number' if single else 'a sequence of numbers'} > 0, got {values!r}")
    try:
        numbers = (float(values),) if single else tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers > 0, got {values!r}") from None
    if not numbers or not all(math.isfinite(v) and v > 0 for v in numbers):
        raise ValueError(f"{name} must be finite and > 0, got {values!r}")
    return numbers[0] if single else numbers
