"""
Five activations on one ECG window (Fig. 1)
===========================================

The paper's five activations keep different parts of a kernel's similarity map: the identity keeps everything,
ReLU the positive values, top-k the k largest magnitudes, Extrema-Pool the largest magnitude of each window, and
Extrema the dominant peaks and valleys (Sec. III-A, Algs. 1-3). One SAN per activation is trained on the same
windows, and the figure shows each one's similarity map and the spikes it keeps on the same test window.
"""

import torch

import sanets
from sanets.activations import ACTIVATIONS
from sanets.experiments.demo import load_ecg
from sanets.plots import plot_activations

split = load_ecg(window=128)
print(split.source)

# %%
# One kernel of 16 samples per activation, each with its default sparsity parameter, which follows the paper
# from the kernel size m (top-k: k = n // m; Extrema-Pool: a window of m; Extrema: a distance of m - 3).
results = {}
for name in ACTIVATIONS:
    model = sanets.SAN([16], activation=name, border_tolerance=3, seed=0)
    sanets.fit(model, split.train, split.validation, epochs=30, batch_size=2, seed=0)
    with torch.no_grad():
        window = split.test[:1]
        results[name] = (model.similarity(window)[0], model.encode(window)[0])
    print(f"{name:22s} test phi {sanets.evaluate(model, split.test).flithos:.2f}, "
          f"{int(results[name][1].count_nonzero())} nonzero codes")

fig = plot_activations(split.test[0], results)
# ``fig`` is a matplotlib Figure made without pyplot; ``sanets.plots.save_figure(fig, "activations.png")``
# writes it.
