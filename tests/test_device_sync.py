"""The training and sweep loops are device-generic (issue 12): no per-batch round trip of data to the host.

On a GPU every ``.item()``, ``.tolist()``, ``.cpu()``, ``.numpy()`` or truth test of a
device tensor waits for the device. Counted here on the CPU: the loops' round trips of
floating-point tensors (data, weights, losses) must not grow with the number of batches.
The activations' small integer tables live on the host, and Extrema's candidate counts
size its work, so integer reads are not counted.
"""

import collections
import traceback

import pytest
import pywt
import torch

import sanets
from sanets.sweep import fit_sweep

SYNCS = ("item", "tolist", "cpu", "numpy", "__bool__", "__int__", "__float__")


@pytest.fixture()
def float_syncs(monkeypatch):
    counts = collections.Counter()
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _name=name, _original=original, **kwargs):
            caller = traceback.extract_stack(limit=2)[0]
            if self.is_floating_point() and "/sanets/" in caller.filename:
                counts[f"{_name} at {caller.filename.rsplit('/sanets/', 1)[1]}:{caller.lineno}"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    return counts


@pytest.fixture(scope="module")
def windows():
    signal = torch.tensor(pywt.data.ecg(), dtype=torch.float32).view(8, 1, 128)
    return (signal - signal.mean(-1, keepdim=True)) / signal.std(-1, keepdim=True)


@pytest.mark.parametrize("activation", list(sanets.activations.ACTIVATIONS))
def test_round_trips_per_epoch_do_not_grow_with_the_batches(activation, windows, float_syncs, monkeypatch):
    # What a GPU runs: Extrema's greedy pass and top-k's and Extrema-Pool's masks, compiled for the CPU, read their
    # maps on the host by design.
    monkeypatch.setattr(sanets.activations._extrema, "COMPILED_ON_CPU", False)
    monkeypatch.setattr(sanets.activations._topk, "COMPILED_ON_CPU", False)
    monkeypatch.setattr(sanets.activations._pool, "COMPILED_ON_CPU", False)
    counted = []
    for batch_size in (6, 1):  # one batch per epoch, then six
        float_syncs.clear()
        fit_sweep([3, 9, 20], activation, windows[:6], windows[6:], epochs=2, batch_size=batch_size, seed=0)
        sanets.fit(sanets.SAN([5, 9], activation, seed=0), windows[:6], windows[6:], epochs=2, batch_size=batch_size, seed=0)
        counted.append(dict(float_syncs))
    assert counted[1] == counted[0]
    # A few per epoch of each of the two trainings: the epoch's loss, its validation scores, the best weights.
    assert sum(counted[0].values()) <= 5 * 2 * 2
