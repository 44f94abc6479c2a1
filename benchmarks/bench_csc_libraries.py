"""Evidence for the library behind ``sanets.baselines.ConvolutionalDictionary``: alphacsc or SPORCO.

Run once per library, each installed in its own throwaway virtual environment::

    python3 -m venv --system-site-packages /tmp/venv-sporco && /tmp/venv-sporco/bin/pip install sporco
    python3 -m venv --system-site-packages /tmp/venv-alphacsc && /tmp/venv-alphacsc/bin/pip install alphacsc
    OMP_NUM_THREADS=2 /tmp/venv-sporco/bin/python benchmarks/bench_csc_libraries.py sporco
    OMP_NUM_THREADS=2 /tmp/venv-alphacsc/bin/python benchmarks/bench_csc_libraries.py alphacsc

For q atoms of length m and an L1 penalty lambda it learns the atoms on the 6
training windows of mitdb (same objective in both libraries:
0.5 ||x - sum_k d_k * z_k||^2 + lambda ||z||_1, unit-norm atoms, 50 outer
iterations), sparse codes the 2 validation windows, and prints seconds, the
non-zero codes and the validation phi-bar (W = q m, 2 numbers per code, Eq. 4).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import time

import numpy as np

import sanets.datasets

CONFIGS = [(4, 16, 0.5), (8, 32, 0.5), (8, 64, 0.2)]
ITERATIONS = 50
FFTW_THREADS = 1
SOLVER_Z = "l-bfgs"


def flithos(x: np.ndarray, x_hat: np.ndarray, nonzero: np.ndarray, weights: int) -> float:
    """phi-bar (Eqs. 4-7) of 1D windows ``x`` ``(N, L)``."""
    icr = (weights + 2 * nonzero) / x.shape[1]
    loss = np.abs(x - x_hat).mean(1) / np.abs(x).mean(1)
    return float(np.hypot(icr, loss).mean())


def sporco_run(train: np.ndarray, validation: np.ndarray, atoms: int, length: int, penalty: float, seed: int):
    import sporco.fft
    from sporco.admm import cbpdn
    from sporco.dictlrn import cbpdndl

    # SPORCO runs pyfftw on every core by default; on these tiny FFTs threads cost ~10x.
    sporco.fft.pyfftw_threads = FFTW_THREADS
    start = time.perf_counter()
    d0 = np.random.default_rng(seed).standard_normal((length, atoms))
    opt = cbpdndl.ConvBPDNDictLearn.Options(
        {"Verbose": False, "MaxMainIter": ITERATIONS, "CBPDN": {"rho": 50 * penalty + 0.5}},
        dmethod="cns")
    learner = cbpdndl.ConvBPDNDictLearn(d0, train.T.copy(), penalty, opt, dmethod="cns", dimK=1, dimN=1)
    learner.solve()
    atoms_ = learner.getdict().squeeze()
    learned = time.perf_counter() - start
    start = time.perf_counter()
    coder = cbpdn.ConvBPDN(atoms_, validation.T.copy(), penalty,
                           cbpdn.ConvBPDN.Options({"Verbose": False, "MaxMainIter": 200}), dimK=1, dimN=1)
    codes = coder.solve()
    x_hat = coder.reconstruct(codes).squeeze().T
    coded = time.perf_counter() - start
    nonzero = np.count_nonzero(codes.reshape(validation.shape[1], len(validation), -1), axis=(0, 2))
    return learned, coded, nonzero, x_hat


def alphacsc_run(train: np.ndarray, validation: np.ndarray, atoms: int, length: int, penalty: float, seed: int):
    from alphacsc import learn_d_z
    from alphacsc.update_d import update_d
    from alphacsc.update_z import update_z
    from alphacsc.utils.convolution import construct_X

    start = time.perf_counter()
    # The default atom update, update_d_block, fails on numpy 2 ("ValueError: setting an array
    # element with a sequence" in update_d.solve_unit_norm_dual); update_d solves the same problem.
    _, _, d_hat, _, _ = learn_d_z(train, atoms, length, func_d=update_d, reg=penalty, n_iter=ITERATIONS,
                                  random_state=seed, verbose=0, n_jobs=1, solver_z=SOLVER_Z)
    learned = time.perf_counter() - start
    start = time.perf_counter()
    codes = update_z(validation, d_hat, penalty, solver=SOLVER_Z)
    x_hat = construct_X(codes, d_hat)
    coded = time.perf_counter() - start
    nonzero = np.count_nonzero(codes, axis=(0, 2))
    return learned, coded, nonzero, x_hat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=["sporco", "alphacsc"])
    parser.add_argument("--data-dir", default="/work/shared/data")
    parser.add_argument("--fftw-threads", type=int, default=1, help="SPORCO: pyfftw threads (its default: all cores)")
    parser.add_argument("--solver-z", default="l-bfgs", help="alphacsc: sparse coder (l-bfgs, its default, or lgcd)")
    arguments = parser.parse_args()
    global FFTW_THREADS, SOLVER_Z
    FFTW_THREADS, SOLVER_Z = arguments.fftw_threads, arguments.solver_z
    start = time.perf_counter()
    importlib.import_module("sporco.dictlrn.cbpdndl" if arguments.library == "sporco" else "alphacsc")
    print(f"{arguments.library} {importlib.metadata.version(arguments.library)}, "
          f"numpy {np.__version__}, import {time.perf_counter() - start:.1f} s")
    splits = sanets.datasets.load_physionet("mitdb", data_dir=arguments.data_dir, download=False)
    train, validation = (t.double().numpy()[:, 0] for t in (splits.train, splits.validation))
    run = sporco_run if arguments.library == "sporco" else alphacsc_run
    print("q   m  lambda  learn_s  code_s  nnz/window  val_phi")
    for atoms, length, penalty in CONFIGS:
        learned, coded, nonzero, x_hat = run(train, validation, atoms, length, penalty, seed=0)
        print(f"{atoms:<3d} {length:<3d} {penalty:<6g}  {learned:7.2f}  {coded:6.2f}  {nonzero.mean():10.1f}  "
              f"{flithos(validation, x_hat, nonzero, atoms * length):7.3f}")


if __name__ == "__main__":
    main()
