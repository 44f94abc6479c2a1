"""Figures: axes per input, shape checks, atomic PNG writing, no pyplot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.image import imread

import sanets
from sanets import plots
from sanets.activations import ACTIVATIONS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _one_dimensional_example(q: int = 1, length: int = 64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    model = sanets.SAN([7] * q, activation="extrema", seed=0)
    x = torch.sin(torch.linspace(0, 12, length)).reshape(1, 1, length)
    codes = model.encode(x)
    return x[0], codes[0].detach(), model.decode(codes)[0].detach()


def _two_dimensional_example(q: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    model = sanets.SAN([3] * q, activation="extrema-pool-indices", dims=2, seed=0)
    x = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    codes = model.encode(x)
    return x[0], codes[0].detach(), model.decode(codes)[0].detach()


def _maps_for_every_activation(signal: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    maps = {}
    for name in ACTIVATIONS:
        model = sanets.SAN([9], activation=name, seed=0)
        maps[name] = (model.similarity(signal[None])[0].detach(), model.encode(signal[None])[0].detach())
    return maps


def test_plot_activations_stacks_signal_and_one_panel_per_activation():
    signal = torch.sin(torch.linspace(0, 12, 100)).reshape(1, 100)
    fig = plots.plot_activations(signal, _maps_for_every_activation(signal))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 + len(ACTIVATIONS)
    assert [ax.get_ylabel() for ax in fig.axes[1:]] == list(ACTIVATIONS)


def test_plot_activations_accepts_numpy_arrays():
    signal = np.cos(np.linspace(0, 6, 50))[None]
    fig = plots.plot_activations(signal, {"relu": (signal, np.maximum(signal, 0))})
    assert len(fig.axes) == 2


@pytest.mark.parametrize(
    "signal, similarity, codes, message",
    [
        (np.zeros((1, 50)), np.zeros((1, 49)), np.zeros((1, 49)), "spatial shape"),
        (np.zeros((1, 50)), np.zeros((1, 50)), np.zeros((2, 50)), "differ"),
        (np.zeros(50), np.zeros((1, 50)), np.zeros((1, 50)), "signal must"),
        (np.zeros((1, 50)), np.zeros((1, 50)), np.full((1, 50), np.nan), "NaN"),
    ],
)
def test_plot_activations_rejects_mismatched_shapes(signal, similarity, codes, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_activations(signal, {"relu": (similarity, codes)})


def test_plot_activations_rejects_no_results():
    with pytest.raises(ValueError, match="results is empty"):
        plots.plot_activations(np.zeros((1, 10)), {})


def kernels_of(model):
    return [kernel.detach() for kernel in model.kernels]


def test_plot_kernels_one_axes_per_model_in_1d():
    models = {name: kernels_of(sanets.SAN([5, 9], activation=name, seed=0)) for name in ACTIVATIONS}
    fig = plots.plot_kernels(models)
    assert len(fig.axes) == len(ACTIVATIONS)
    assert len(fig.axes[0].get_lines()) == 2 + 1  # two kernels and the zero line


def test_plot_kernels_one_image_per_kernel_in_2d():
    models = {
        "extrema": kernels_of(sanets.SAN([3, 3], activation="extrema", dims=2, seed=0)),
        "relu": [np.ones((4, 4))],  # arrays work as well as tensors
    }
    fig = plots.plot_kernels(models)
    assert len(fig.axes) == 3
    assert [ax.get_images()[0].get_array().shape for ax in fig.axes] == [(3, 3), (3, 3), (4, 4)]


def test_plot_kernels_rejects_mixed_dims_and_bad_kernels():
    with pytest.raises(ValueError, match="mixes 1D and 2D"):
        plots.plot_kernels({"a": [torch.zeros(3)], "b": [torch.zeros(3, 3)]})
    with pytest.raises(ValueError, match=r"kernels\['a'\] must hold at least one kernel of shape \(m,\) or \(m, m\)"):
        plots.plot_kernels({"a": [torch.zeros(2, 2, 2)]})
    with pytest.raises(ValueError, match="at least one kernel"):
        plots.plot_kernels({"a": []})
    with pytest.raises(ValueError, match="NaN"):
        plots.plot_kernels({"a": [torch.tensor([0.0, float("nan")])]})
    with pytest.raises(ValueError, match="empty"):
        plots.plot_kernels({})


def test_plot_reconstruction_1d_has_signal_and_codes_axes():
    x, codes, x_hat = _one_dimensional_example()
    fig = plots.plot_reconstruction(x, codes, x_hat, title="one window")
    assert len(fig.axes) == 2
    assert fig.get_suptitle() == "one window"
    signal_axes, codes_axes = fig.axes
    assert len(signal_axes.get_lines()) == 2  # input and reconstruction
    stem_tops = codes_axes.get_lines()[0].get_xdata()
    assert list(stem_tops) == torch.nonzero(codes[0]).flatten().tolist()


def test_plot_reconstruction_2d_has_input_code_maps_and_reconstruction():
    x, codes, x_hat = _two_dimensional_example(q=2)
    fig = plots.plot_reconstruction(x, codes, x_hat)
    assert len(fig.axes) == 2 + 2


def test_plot_reconstructions_stacks_examples_and_drops_unused_cells():
    one_kernel, two_kernels = _two_dimensional_example(q=1), _two_dimensional_example(q=2)
    fig = plots.plot_reconstructions({"q=1": one_kernel, "q=2": two_kernels})
    assert len(fig.axes) == (2 + 1) + (2 + 2)
    fig = plots.plot_reconstructions({"a": _one_dimensional_example(), "b": _one_dimensional_example(q=2)})
    assert len(fig.axes) == 4


def test_plot_reconstruction_rejects_mismatched_shapes():
    x, codes, x_hat = _one_dimensional_example(length=64)
    with pytest.raises(ValueError, match="x_hat .* does not match x"):
        plots.plot_reconstruction(x, codes, x_hat[:, :32])
    with pytest.raises(ValueError, match="codes must have shape \\(q, L\\)"):
        plots.plot_reconstruction(x, codes[:, :32], x_hat)
    with pytest.raises(ValueError, match="one example"):
        batch = torch.stack([x, x])
        plots.plot_reconstruction(batch, torch.stack([codes, codes]), batch)
    with pytest.raises(ValueError, match="mixes 1D and 2D"):
        plots.plot_reconstructions({"a": (x, codes, x_hat), "b": _two_dimensional_example()})


def test_plot_tradeoff_one_axes_with_a_scatter_per_label():
    fig = plots.plot_tradeoff({"relu": [(1.2, 0.3), (0.9, 0.5)], "extrema": np.array([[0.2, 0.6]])})
    assert len(fig.axes) == 1
    assert len(fig.axes[0].collections) == 2
    with pytest.raises(ValueError, match="shape \\(P, 2\\)"):
        plots.plot_tradeoff({"relu": [1.0, 2.0, 3.0]})


def test_plot_flithos_vs_kernel_size_one_axes_and_checks_lengths():
    fig = plots.plot_flithos_vs_kernel_size({"extrema": ([4, 8, 16], [0.7, 0.5, 0.6])})
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="one length"):
        plots.plot_flithos_vs_kernel_size({"extrema": ([4, 8, 16], [0.7, 0.5])})


def test_save_figure_writes_a_readable_png_and_no_temporary_files(tmp_path):
    target = tmp_path / "nested" / "kernels.png"
    target.parent.mkdir()
    target.write_bytes(b"old content")
    fig = plots.plot_kernels({"extrema": kernels_of(sanets.SAN([5], "extrema", seed=0))})
    assert plots.save_figure(fig, target) == target
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(target)
    assert image.shape[0] > 0 and image.shape[1] > 0
    assert sorted(path.name for path in target.parent.iterdir()) == ["kernels.png"]


def test_save_figure_leaves_nothing_behind_on_failure(tmp_path):
    fig = plots.plot_tradeoff({"relu": [(1.0, 0.5)]})
    with pytest.raises(ValueError, match="not supported"):
        plots.save_figure(fig, tmp_path / "figure.unknownformat")
    assert list(tmp_path.iterdir()) == []


def test_plots_never_build_models():
    code = "import sys, sanets.plots; print('sanets.model' in sys.modules, 'sanets.training' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["False", "False"]


def test_importing_and_plotting_never_loads_pyplot():
    code = (
        "import sys, numpy as np, sanets.plots as p; "
        "p.plot_tradeoff({'a': np.ones((2, 2))}); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"


def _drawn_extents(fig: Figure) -> tuple[object, list]:
    """Draw ``fig`` with Agg; return its renderer and the window extents of every non-empty text it shows but tick
    labels (those of ticks outside the view are kept, not drawn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ticks = {id(label) for ax in fig.axes for label in ax.get_xticklabels() + ax.get_yticklabels()}
    texts = [text for text in fig.findobj(lambda artist: hasattr(artist, "get_text") and hasattr(artist, "get_window_extent"))
             if text.get_visible() and text.get_text().strip() and id(text) not in ticks]
    return renderer, [(text.get_text(), text.get_window_extent(renderer)) for text in texts]


def test_the_rows_of_2d_figures_are_labelled_without_overlap_even_for_long_names():
    """Issue 28, item 16: long activation names as row labels overlapped one another in digits-kernels.png."""
    labels = [f"{name} (m=3)" for name in ACTIVATIONS]
    kernels = {label: kernels_of(sanets.SAN([3, 3], activation="extrema", dims=2, seed=i)) for i, label in enumerate(labels)}
    example = _two_dimensional_example(q=2)
    for fig in (plots.plot_kernels(kernels), plots.plot_reconstructions({label: example for label in labels})):
        renderer, extents = _drawn_extents(fig)
        shown = [(text, box) for text, box in extents if text in labels]
        assert sorted(text for text, _ in shown) == sorted(labels)
        for i, (text, box) in enumerate(shown):
            assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), f"{text!r} is clipped"
            assert not any(box.overlaps(other) for _, other in shown[i + 1 :]), f"{text!r} overlaps another row label"
            assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes), f"{text!r} overlaps an image"


def test_a_1d_kernels_figure_shows_its_labels_whole_and_whole_taps():
    """Issue 28, item 16: fit's kernels figure clipped its label; the identity kernel's axis showed fractional taps."""
    fig = plots.plot_kernels({"extrema-pool-indices (m=9)": [np.linspace(-1, 1, 9)], "identity (m=1)": [np.array([0.7])]})
    _, extents = _drawn_extents(fig)
    for text, box in extents:
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), f"{text!r} is clipped"
    for ax, m in zip(fig.axes, (9, 1)):
        low, high = ax.get_xlim()
        taps = [tick for tick in ax.get_xticks() if low <= tick <= high]
        assert taps and all(float(tick).is_integer() for tick in taps)
        assert low < 0 and high > m - 1


def test_every_row_of_a_2d_reconstructions_figure_draws_on_one_grey_scale():
    """Issue 28, item 16: the same input was drawn with a different contrast in each row."""
    x, codes, _ = _two_dimensional_example(q=2)
    fig = plots.plot_reconstructions({"faithful": (x, codes, x), "overshooting": (x, codes, 3 * x - 1)})
    greys = [image for ax in fig.axes for image in ax.get_images() if image.get_cmap().name == "gray_r"]
    assert len(greys) == 4
    assert {image.get_clim() for image in greys} == {(float(x.min()), float(x.max()))}


def test_plot_events_draws_each_shown_spike_in_its_kernels_colour_and_each_label_in_the_span(tmp_path):
    model = sanets.SAN([9, 15], activation="extrema", seed=0)
    x = np.sin(np.arange(1000) / 9.0)
    events = sanets.events(model, x, sampling_rate=100.0, as_frame=False)
    kernels = [w.detach() for w in model.kernel_weights()]
    fig = plots.plot_events(x, events, kernels, 100.0, reference=(np.array([50, 250, 950]), ["N", "V", "N"]),
                            start=2.0, seconds=5.0)
    spikes_ax, signal_ax, labels_ax = fig.axes[:3]
    assert len(fig.axes) == 3 + len(kernels)
    shown = events[(events["sample"] >= 200) & (events["sample"] < 700)]
    stems = [c for c in spikes_ax.collections]
    assert sum(len(c.get_segments()) for c in stems) == len(shown)
    assert [t.get_text() for t in labels_ax.texts] == ["V"]  # 50 and 950 lie outside 2-7 s
    np.testing.assert_allclose(signal_ax.lines[0].get_xdata()[[0, -1]], [2.0, 6.99])
    plots.save_figure(fig, tmp_path / "events.png")
    assert (tmp_path / "events.png").read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="holds no sample"):
        plots.plot_events(x, events, kernels, 100.0, start=20.0)
