"""
Kernels learned on MNIST (Fig. 5)
=================================

On images a SAN learns m x m kernels. With a sparse activation the kernels become strokes and blobs that a
digit is assembled from. This example trains two 4 x 4 kernels per activation, as the paper's Table III does
(two kernels, border tolerance 2), on MNIST when it is found (:doc:`/user_guide/data`) and otherwise on
scikit-learn's 8 x 8 digits, which ship with scikit-learn.
"""

import torch

import sanets
from sanets.activations import ACTIVATIONS
from sanets.errors import DataNotFoundError
from sanets.experiments.demo import load_digits
from sanets.plots import plot_kernels

try:
    mnist = sanets.datasets.load_mnist(download=False)
    train, validation, test = mnist.train[:1000], mnist.validation[:250], mnist.test[:250]
    source, size = "MNIST (1000 training images)", 4
except DataNotFoundError:
    digits = load_digits()
    train, validation, test = digits.train, digits.validation, digits.test
    source, size = "scikit-learn's 8 x 8 digits (MNIST not found)", 3
print(f"training on {source}: {tuple(train.shape)}")

# %%
# One epoch of Alg. 4 per activation (the paper trains five on the full 50 000 images).
kernels = {}
torch.manual_seed(0)
for name in ACTIVATIONS:
    model = sanets.SAN([size, size], activation=name, dims=2, border_tolerance=2, seed=0)
    sanets.fit(model, train, validation, epochs=1, batch_size=64, seed=0)
    print(f"{name:22s} test phi {sanets.evaluate(model, test).flithos:.2f}")
    kernels[name] = [kernel.detach() for kernel in model.kernel_weights()]

fig = plot_kernels(kernels)
# ``fig`` is a matplotlib Figure made without pyplot; ``sanets.plots.save_figure(fig, "kernels.png")``
# writes it.
