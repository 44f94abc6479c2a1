"""
SAN codes as features in scikit-learn
=====================================

:class:`sanets.sklearn.SANTransformer` fits a SAN with Alg. 4 inside ``fit`` and gives its sparse codes (or a
few pooled numbers per kernel) from ``transform``, so a SAN slots into a :class:`~sklearn.pipeline.Pipeline`
and a grid search like any transformer. Here the rows are scikit-learn's 8 x 8 digits read as 1D signals of 64
samples, and a logistic regression classifies them from the SAN's codes.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sanets.sklearn import SANTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.3, random_state=0)

# %%
# The same classifier on the raw pixels and on the codes of an Extrema SAN with two kernels of 8 samples.
raw = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
coded = make_pipeline(
    SANTransformer(kernel_sizes=[8, 8], activation="extrema", epochs=10, batch_size=64, random_state=0),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
)
for name, pipeline in (("raw pixels", raw), ("SAN codes", coded)):
    pipeline.fit(X_train, y_train)
    print(f"{name:10s} test accuracy {pipeline.score(X_test, y_test):.3f}")

# %%
# What the classifier sees: a digit, its spikes per kernel, and the SAN's reconstruction.
san = coded[0]
codes = san.transform(X_test[:1]).reshape(2, 64)
fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
images = [X_test[0], codes[0], codes[1], san.inverse_transform(san.transform(X_test[:1]))[0]]
titles = ["digit", "codes, kernel 1", "codes, kernel 2", "reconstruction"]
for ax, image, title in zip(axes, images, titles):
    reach = np.abs(image).max() or 1.0
    ax.imshow(np.reshape(image, (8, 8)), cmap="RdBu_r", vmin=-reach, vmax=reach)
    ax.set(title=title, xticks=[], yticks=[])
fig.tight_layout()
plt.show()
