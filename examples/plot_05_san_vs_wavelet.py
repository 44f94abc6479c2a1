"""
A SAN against a wavelet on an ECG record
========================================

Does a learned sparse code beat a classical one? :mod:`sanets.baselines` answers on the paper's own protocol
and metric: each baseline chooses its parameters on validation phi, exactly as a SAN chooses its kernel size.
This example uses the first record of MIT-BIH (Table I's protocol: twelve standardised windows of 1000
samples) when it is found, and PyWavelets' ECG excerpt otherwise.
"""

import numpy as np

import sanets
from sanets.baselines import Wavelet
from sanets.errors import DataNotFoundError
from sanets.experiments.demo import load_ecg
from sanets.plots import plot_tradeoff
from sanets.sweep import fit_sweep

try:
    split = sanets.datasets.load_physionet("mitdb", download=False)
    sizes = list(range(20, 141, 20))
    print(f"MIT-BIH record {split.source.name}: {tuple(split.train.shape)} train windows")
except DataNotFoundError:
    split = load_ecg(window=128)
    sizes = [8, 12, 16, 24, 32]
    print("MIT-BIH not found; PyWavelets' ECG excerpt instead")

# %%
# Extrema SANs of one kernel, a sweep of kernel sizes, 30 epochs with batch 2 (Table I).
results = fit_sweep(sizes, "extrema", split.train, split.validation, border_tolerance=3, epochs=30,
                    batch_size=2, seed=0)
best = min(results, key=lambda result: result.best_flithos)
san = sanets.evaluate(best.model, split.test)
print(f"SAN (Extrema, m = {best.kernel_size}): test CR^-1 {san.inverse_compression_ratio:.3f}, "
      f"L~ {san.reconstruction_loss:.3f}, phi {san.flithos:.3f}")

# %%
# The wavelet baseline tries 18 wavelets in two boundary modes and keeps, per example, the k largest
# coefficients; k and the wavelet are chosen on validation.
wavelet = Wavelet().fit(split.train, split.validation)
scores = wavelet.evaluate(split.test)
print(f"wavelet ({wavelet.parameters}): test CR^-1 {scores.inverse_compression_ratio:.3f}, "
      f"L~ {scores.reconstruction_loss:.3f}, phi {scores.flithos:.3f}")

# %%
# Fig. 3 with the competition drawn in: every SAN of the sweep as a dot, the wavelet along its sparsity as a
# line. phi is the distance from the origin, so the dashed circles are lines of equal phi.
points = [sanets.evaluate(result.model, split.test) for result in results]
curve = wavelet.curve(split.test)
fig = plot_tradeoff(
    {"extrema SAN": np.array([[p.inverse_compression_ratio, p.reconstruction_loss] for p in points])},
    curves={f"wavelet {wavelet.parameters.split('/k=')[0]}":
            np.array([[e.inverse_compression_ratio, e.reconstruction_loss] for _, e in curve])},
    limit=1.2,
)
# ``fig`` is a matplotlib Figure made without pyplot; ``sanets.plots.save_figure(fig, "san-vs-wavelet.png")``
# writes it.
