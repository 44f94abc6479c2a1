"""The san codec (``sanets.codec._pursuit``): kernel adaptation, the staged choice among spike steps, kernel sets and
wavelets, and the search of several channels."""

from __future__ import annotations

import numpy as np
import torch

from sanets.codec import _matching as M
from sanets.codec import _pursuit as P


def test_adaptation_finds_the_shape_that_recurs():
    rng = np.random.default_rng(5)
    t = np.arange(64) - 20
    shape = np.exp(-t**2 / 18.0) - 0.4 * np.exp(-(t - 8) ** 2 / 30.0)
    shape /= np.linalg.norm(shape)
    x = 0.05 * rng.standard_normal(20000)
    for start in range(50, 19900, 230):
        x[start : start + 64] += rng.uniform(2, 3) * shape
    start_from = M.dictionary([torch.tensor(np.exp(-(np.arange(64) - 32) ** 2 / 200.0))])
    def likeness(kernel: np.ndarray) -> float:  # the shape up to a shift
        return float(np.abs(np.correlate(np.pad(kernel, 64), shape, mode="valid")).max())

    adapted = P.adapt(x, start_from, P.adapt_step(x, 64, 0.5), rounds=3)
    assert likeness(start_from[0]) < 0.8 and likeness(adapted[0]) > 0.98
    np.testing.assert_allclose(np.linalg.norm(adapted, axis=1), 1)


def _staged_search(sizes: dict) -> tuple:
    """Drive the san codec's staged choice as :func:`sanets.codec._channels._search` does, on sizes known in advance."""
    from concurrent.futures import Future

    from sanets.codec._channels import _search

    def submit(choice):
        future = Future()
        future.set_result((sizes[choice], choice))
        return future

    return _search(P.PursuitCodec([torch.ones(4)]), [submit])[0][1]


def test_the_staged_choice_finds_the_smallest_file_where_no_wavelet_is_far_below_bior44_without_spikes():
    rng = np.random.default_rng(0)
    for _ in range(100):
        plain = 9_000 + rng.integers(0, 4000)
        sizes = {choice: 10_000 + rng.integers(0, 500) if choice[0] is not None
                 else plain * rng.uniform(1 - P.WAVELET_MARGIN / 2, 1.1) for choice in P.PursuitCodec.choices}
        sizes[(None, P.RESIDUAL_WAVELET)] = plain
        assert _staged_search(sizes) == min(sizes, key=sizes.get)


def test_other_wavelets_are_tried_only_where_no_spikes_come_close_to_spikes():
    spiky = {choice: 1000 if choice[0] is not None else 2000 for choice in P.PursuitCodec.choices}
    spiky[(None, "coif3")] = 999  # not found: spikes are far better than bior4.4 without them
    assert _staged_search(spiky)[0] is not None
    close = spiky | {(None, P.RESIDUAL_WAVELET): 1020, (None, "coif3"): 990}
    assert _staged_search(close) == (None, "coif3")


def test_the_search_of_several_channels_keeps_each_ones_smallest_and_starts_each_on_its_own():
    from concurrent.futures import Future

    from sanets.codec._channels import _search

    order = []

    def submitter(channel: int, sizes: dict):
        def submit(choice):
            order.append(channel)
            future = Future()
            future.set_result((sizes[choice], choice))
            return future
        return submit

    choices = P.PursuitCodec.choices
    sizes = [{choice: 100 + i for i, choice in enumerate(choices)}, {choice: 100 - i for i, choice in enumerate(choices)}]
    found = _search(P.PursuitCodec([torch.ones(4)]), [submitter(c, s) for c, s in enumerate(sizes)])
    assert [choice for _, choice in found] == [min(s, key=s.get) for s in sizes]  # a spike choice, then a wavelet's
    assert found[0][1][0] is not None and found[1][1] == (None, "coif3")
    assert order[:2] == [0, 1]  # interleaved: the workers start on different channels
