"""
phi against kernel size (Fig. 4b)
=================================

The metric phi (Eq. 6) is the distance from the origin of the point (CR^-1, L~): small kernels reconstruct
well but fire often; large kernels fire rarely but reconstruct coarsely. Sweeping the kernel size m shows the
trade-off, and Alg. 4's rule picks the m whose best epoch has the lowest validation phi.
:func:`sanets.sweep.fit_sweep` trains all sizes of a sweep together, packed in one model, and gives the same
SANs as separate fits.
"""


import sanets
from sanets.experiments.demo import load_ecg
from sanets.plots import plot_flithos_vs_kernel_size
from sanets.sweep import fit_sweep

split = load_ecg(window=128)
sizes = [4, 8, 12, 16, 24, 32, 48, 64]

# %%
# The three sparse activations of the paper; the identity and ReLU stay far above (see the previous example).
curves = {}
for name in ("topk-absolutes", "extrema-pool-indices", "extrema"):
    results = fit_sweep(sizes, name, split.train, split.validation, border_tolerance=3, epochs=30, batch_size=2,
                        seed=0)
    test_phi = [sanets.evaluate(result.model, split.test).flithos for result in results]
    chosen = min(results, key=lambda result: result.best_flithos)
    print(f"{name:22s} m chosen on validation: {chosen.kernel_size:2d}, test phi "
          f"{test_phi[results.index(chosen)]:.2f}")
    curves[name] = (sizes, test_phi)

fig = plot_flithos_vs_kernel_size(curves)
# ``fig`` is a matplotlib Figure made without pyplot; ``sanets.plots.save_figure(fig, "flithos-vs-m.png")``
# writes it.
