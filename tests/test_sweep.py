"""fit_sweep: many kernel sizes at once equal one fit per kernel size."""

import pytest
import pywt
import torch

import sanets
from sanets.sweep import fit_sweep


@pytest.fixture(scope="module")
def ecg_windows():
    signal = torch.tensor(pywt.data.ecg(), dtype=torch.float32).view(8, 1, 128)
    return (signal - signal.mean(-1, keepdim=True)) / signal.std(-1, keepdim=True)


@pytest.mark.parametrize("activation", list(sanets.activations.ACTIVATIONS))
def test_sweep_equals_separate_fits_1d(ecg_windows, activation):
    sizes = [1, 4, 9, 16]
    options = dict(epochs=4, batch_size=2, seed=3)
    results = fit_sweep(sizes, activation, ecg_windows[:4], ecg_windows[4:6], num_kernels=2, border_tolerance=3, **options)
    for m, result in zip(sizes, results):
        model = sanets.SAN([m, m], activation, border_tolerance=3, seed=3)
        alone = sanets.fit(model, ecg_windows[:4], ecg_windows[4:6], **options)
        assert result.kernel_size == m and result.best_epoch == alone.best_epoch
        assert result.best_flithos == pytest.approx(alone.best_flithos, rel=1e-4)
        assert [h.flithos for h in result.history] == pytest.approx([r.validation.flithos for r in alone.history], rel=1e-4)
        for mine, theirs in zip(result.model.kernels, model.kernels):
            torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation", ["topk-absolutes", "extrema-pool-indices", "extrema"])
def test_sweep_equals_separate_fits_2d(activation):
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images[:60], dtype=torch.float32)[:, None] / 16
    sizes = [1, 2, 3]
    options = dict(epochs=2, batch_size=16, seed=0)
    results = fit_sweep(sizes, activation, images[:40], images[40:], num_kernels=2, dims=2, **options)
    for m, result in zip(sizes, results):
        model = sanets.SAN([m, m], activation, dims=2, seed=0)
        alone = sanets.fit(model, images[:40], images[40:], **options)
        assert result.best_epoch == alone.best_epoch
        assert result.best_flithos == pytest.approx(alone.best_flithos, rel=1e-4)
        for mine, theirs in zip(result.model.kernels, model.kernels):
            torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)


def test_sweep_rejects_bad_arguments(ecg_windows):
    with pytest.raises(ValueError, match="kernel size 200 is larger than the input"):
        fit_sweep([3, 200], "relu", ecg_windows[:4], ecg_windows[4:])
    with pytest.raises(ValueError, match="kernel_sizes must be a non-empty sequence"):
        fit_sweep([], "relu", ecg_windows[:4], ecg_windows[4:])
    with pytest.raises(ValueError, match="unknown activation"):
        fit_sweep([3], "tanh", ecg_windows[:4], ecg_windows[4:])


def test_an_interrupted_sweep_resumes_from_its_checkpoint_and_ends_as_without_the_interruption(ecg_windows, tmp_path, monkeypatch):
    import sanets.sweep

    arguments = ([3, 8], "extrema", ecg_windows[:4], ecg_windows[4:6])
    options = dict(num_kernels=2, epochs=4, batch_size=2, seed=5)
    whole = fit_sweep(*arguments, **options)
    checkpoint = tmp_path / "sweep.pt"
    write, calls = sanets.sweep.write_atomically, []

    def write_then_stop(path, contents):
        write(path, contents)
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(sanets.sweep, "write_atomically", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fit_sweep(*arguments, checkpoint=checkpoint, **options)
    monkeypatch.setattr(sanets.sweep, "write_atomically", write)
    resumed = fit_sweep(*arguments, checkpoint=checkpoint, **options)
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 4
    for mine, theirs in zip(resumed, whole):
        assert mine.best_epoch == theirs.best_epoch and mine.history == theirs.history
        for a, b in zip([*mine.model.kernels, *mine.last_model.kernels], [*theirs.model.kernels, *theirs.last_model.kernels]):
            assert torch.equal(a, b)
    from sanets.errors import CheckpointError

    with pytest.raises(CheckpointError, match="a checkpoint of another sweep"):
        fit_sweep(*arguments, checkpoint=checkpoint, **{**options, "seed": 6})
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable sweep checkpoint"):
        fit_sweep(*arguments, checkpoint=checkpoint, **options)


@pytest.mark.parametrize("activation", list(sanets.activations.ACTIVATIONS))
def test_evaluating_a_sweeps_models_packed_equals_evaluating_each(ecg_windows, activation):
    from sanets.sweep import evaluate_many

    models = [sanets.SAN([m, m], activation, border_tolerance=3, seed=m) for m in (1, 5, 17, 40)]
    for model, scores in zip(models, evaluate_many(models, ecg_windows)):
        alone = sanets.evaluate(model, ecg_windows)
        assert [scores.inverse_compression_ratio, scores.reconstruction_loss, scores.flithos] == pytest.approx(
            [alone.inverse_compression_ratio, alone.reconstruction_loss, alone.flithos], rel=1e-5)
    with pytest.raises(ValueError, match="packed only as the paper's SANs"):
        evaluate_many([models[0], sanets.SAN([3, 3], activation, passes=2)], ecg_windows)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("activation", list(sanets.activations.ACTIVATIONS))
def test_reconstructing_with_a_sweeps_models_packed_equals_each_forward_pass(ecg_windows, activation, dims):
    from sklearn.datasets import load_digits

    from sanets.sweep import reconstruct_many

    sizes = (1, 5, 17, 40) if dims == 1 else (1, 2, 4, 6)
    x = ecg_windows if dims == 1 else torch.tensor(load_digits().images[:50, None], dtype=torch.float32) / 16
    models = [sanets.SAN([m, m], activation, dims=dims, border_tolerance=2, seed=m) for m in sizes]
    together = reconstruct_many(models, x, batch_size=7)  # batches that do not divide the examples
    assert together.shape == (len(models), *x.shape)
    for model, reconstruction in zip(models, together):
        alone = model(x).detach()
        # Zero-padded kernels add their products in another order: equal to rounding.
        assert torch.allclose(reconstruction, alone, rtol=1e-5, atol=1e-5 * float(alone.abs().max())), model.kernel_sizes
