"""
Your first SAN
==============

A Sparsely Activated Network learns a few kernels and describes a signal by sparse spikes: where each kernel
fits, and how strongly. Here one kernel learns from eight windows of real ECG (MIT-BIH, 360 Hz) that ship
with PyWavelets, with the paper's training procedure (Alg. 4: Adam on the reconstruction error, keeping the
epoch of lowest validation phi).
"""

import pywt
import torch

import sanets
from sanets.plots import plot_reconstruction

# %%
# Eight standardised windows of 128 samples: four train, two validate, two test.
ecg = torch.tensor(pywt.data.ecg(), dtype=torch.float32).view(8, 1, 128)
ecg = (ecg - ecg.mean(-1, keepdim=True)) / ecg.std(-1, keepdim=True)
train, validation, test = ecg[:4], ecg[4:6], ecg[6:]

# %%
# One kernel of 21 samples with the Extrema activation (Alg. 3): spikes at the dominant peaks and valleys of
# the similarity, at least ``21 - 3`` samples apart.
model = sanets.SAN(kernel_sizes=[21], activation="extrema", border_tolerance=3, seed=0)
result = sanets.fit(model, train, validation, epochs=30, batch_size=2, seed=0)
scores = sanets.evaluate(model, test)
print(f"best epoch {result.best_epoch}: test CR^-1 {scores.inverse_compression_ratio:.2f}, "
      f"L~ {scores.reconstruction_loss:.2f}, phi {scores.flithos:.2f}")

# %%
# The codes are zero almost everywhere; the decoder places the kernel at each spike (Eq. 12).
codes = model.encode(test)
reconstruction = model.decode(codes)
print(f"{int(codes[0].count_nonzero())} spikes describe {test.shape[-1]} samples")
fig = plot_reconstruction(test[0], codes[0], reconstruction[0], title="Extrema SAN, test window")
# ``fig`` is a matplotlib Figure made without pyplot; ``sanets.plots.save_figure(fig, "first-san.png")``
# writes it.
