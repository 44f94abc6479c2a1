"""sanets.sklearn.SANTransformer (issue 11): scikit-learn's own estimator checks, pipelines, and the features by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from sanets.sklearn import SANTransformer  # noqa: E402


@parametrize_with_checks([SANTransformer(epochs=2, random_state=0)])
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def bursts(n: int = 40, length: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a smooth bump; class 1: a flat pulse; at random places, in noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    X, y = rng.normal(0, 0.1, (n, length)), np.arange(n) % 2
    for row, label in zip(X, y):
        centre = rng.integers(10, length - 10)
        row += np.exp(-((t - centre) ** 2) / 8) if label == 0 else (np.abs(t - centre) < 4).astype(float)
    return X, y


def test_transform_inverse_transform_and_feature_names_agree_with_the_model():
    X, _ = bursts()
    san = SANTransformer(kernel_sizes=(9,), epochs=3, random_state=0).fit(X)
    codes = san.transform(X)
    names = san.get_feature_names_out()
    assert codes.shape == (40, 64) and len(names) == 64 and names[5] == "san0_t5"
    expected = san.model_(torch.tensor(X, dtype=torch.float32)[:, None])[:, 0].detach().double().numpy()
    assert np.allclose(san.inverse_transform(codes), expected, atol=1e-5)
    pooled = SANTransformer(kernel_sizes=(9, 5), epochs=3, random_state=0, output="pooled").fit(X)
    features = pooled.transform(X)
    raw = pooled.model_.encode(torch.tensor(X, dtype=torch.float32)[:, None]).detach().double().numpy()
    assert features.shape == (40, 6) and list(pooled.get_feature_names_out()[:3]) == ["san0_count", "san0_sum_abs", "san0_max_abs"]
    assert np.array_equal(features[:, 3], (raw[:, 1] != 0).sum(1))
    assert np.allclose(features[:, 4], np.abs(raw[:, 1]).sum(1)) and np.allclose(features[:, 5], np.abs(raw[:, 1]).max(1))
    with pytest.raises(ValueError, match="inverse_transform needs output='codes'"):
        pooled.inverse_transform(features)


def test_a_pipeline_and_a_grid_search_over_kernel_sizes():
    X, y = bursts(60)
    pipe = make_pipeline(SANTransformer(epochs=3, random_state=0, output="pooled", competition="across-kernels"),
                         LogisticRegression(max_iter=1000))
    search = GridSearchCV(pipe, {"santransformer__kernel_sizes": [(5, 9), (9, 15)]}, cv=2).fit(X, y)
    assert search.best_params_["santransformer__kernel_sizes"] in [(5, 9), (9, 15)]
    assert search.score(*bursts(40, seed=1)) > 0.7, "the codes of a smooth and a flat kernel tell bumps from pulses"


def test_bad_parameters_are_refused_at_fit():
    X, _ = bursts(10)
    with pytest.raises(ValueError, match="kernel size 100 is larger than the input"):
        SANTransformer(kernel_sizes=(100,), epochs=1).fit(X)
    with pytest.raises(ValueError, match="output must be 'codes' or 'pooled'"):
        SANTransformer(output="dense", epochs=1).fit(X)
    with pytest.raises(ValueError, match="every row of X is zero"):
        SANTransformer(epochs=1).fit(np.zeros((4, 16)))
