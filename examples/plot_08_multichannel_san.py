"""
A SAN of several channels
=========================

A recording of several leads can be coded by one SAN: ``SAN(..., in_channels=C, channels="shared")`` uses one
set of kernels for every channel (its weights W count once), ``channels="separate"`` gives each channel kernels
of its own. phi of a window counts W and every channel's spikes over all C x L samples (Eq. 4). The
recording is the two leads of MIT-BIH record 100 when it is found; otherwise PyWavelets' ECG and a second lead
made from it (smoothed, inverted and scaled).
"""

import matplotlib.pyplot as plt
import numpy as np
import pywt
import torch

import sanets
from sanets.datasets import data_roots, load_signal, standardize_windows, windows

record = next((root.path / "physionet/mitdb/100.hea" for root in data_roots()
               if (root.path / "physionet/mitdb/100.hea").is_file()), None)
if record is not None:
    data = load_signal(record).data[:, : 12 * 1000]
    length = 1000
else:
    ecg = pywt.data.ecg().astype(np.float64)
    data = np.stack([ecg, -0.6 * np.convolve(ecg, np.ones(9) / 9, mode="same")])
    length = 128
standardized, _, _, constant = standardize_windows(windows(data, length).numpy())
x = torch.tensor(standardized[~constant.any(axis=1)], dtype=torch.float32)
train, validation, test = x[: len(x) // 2], x[len(x) // 2 : 3 * len(x) // 4], x[3 * len(x) // 4 :]
print(f"windows {tuple(x.shape)}: (N, channels, samples)")

# %%
# Both ways of sharing kernels: Extrema, one kernel of m = L / 8 per set, 20 epochs.
m = length // 8
models = {}
for mode in ("shared", "separate"):
    model = sanets.SAN([m], activation="extrema", in_channels=2, channels=mode, border_tolerance=3, seed=0)
    sanets.fit(model, train, validation, epochs=20, batch_size=2, seed=0)
    scores = sanets.evaluate(model, test)
    print(f"{mode:8s} W = {model.num_weights:3d}: test CR^-1 {scores.inverse_compression_ratio:.3f}, "
          f"L~ {scores.reconstruction_loss:.3f}, phi {scores.flithos:.3f}")
    models[mode] = model

# %%
# Each channel's codes are code channels ``c*q ... (c+1)*q - 1``; the separate SAN's reconstruction per lead.
model = models["separate"]
with torch.no_grad():
    codes = model.encode(test[:1])
    reconstruction = model.decode(codes)
fig, axes = plt.subplots(2, 1, sharex=True, figsize=(7, 4.5))
for channel, ax in enumerate(axes):
    ax.plot(test[0, channel], label="window", color="0.6")
    ax.plot(reconstruction[0, channel], label="reconstruction")
    spikes = codes[0, channel].nonzero().flatten()
    ax.plot(spikes, codes[0, channel, spikes], "o", label="spikes")
    ax.set(ylabel=f"lead {channel}")
axes[0].legend(loc="upper right", fontsize="small")
axes[1].set(xlabel="sample")
fig.tight_layout()
plt.show()
