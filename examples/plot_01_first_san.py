"""
Your first SAN
==============

A Sparsely Activated Network learns a few kernels and describes a signal by sparse spikes: where each kernel
fits, and how strongly. Here one kernel learns from eight windows of real ECG (MIT-BIH, 360 Hz) that ship
with PyWavelets, with the paper's training procedure (Alg. 4: Adam on the reconstruction error, keeping the
epoch of lowest validation phi).
"""

import matplotlib.pyplot as plt
import pywt
import torch

import sanets

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
# The codes are zero almost everywhere; the decoder places the kernel at each spike (Eqs. 12-13). The figure shows
# the learned kernel, and a test window with its spikes and its reconstruction.
codes = model.encode(test).detach()
reconstruction = model.decode(codes).detach()
print(f"{int(codes[0].count_nonzero())} spikes describe {test.shape[-1]} samples")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3), width_ratios=[1, 3], layout="constrained")
left.plot(model.kernel_weights()[0].detach().flatten(), color="C3")
left.set(title="learned kernel (m = 21)", xlabel="tap")
right.plot(test[0, 0], color="0.6", label="ECG window (test)")
right.plot(reconstruction[0, 0], color="C0", label="reconstruction")
spikes = codes[0, 0].nonzero().flatten()
right.stem(spikes, codes[0, 0, spikes], linefmt="C3-", markerfmt="C3o", basefmt=" ", label="spikes")
right.set(title=f"{len(spikes)} spikes, test phi {scores.flithos:.2f}", xlabel="sample")
right.legend(loc="upper left", fontsize="small")
plt.show()
