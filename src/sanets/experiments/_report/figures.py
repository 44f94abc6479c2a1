"""The figures of a reproduction and of the demo: what the models compute, handed to :mod:`sanets.plots`.

:func:`sweep_figures` draws a sweep (Figs. 3 and 4b) from numbers;
:func:`model_figures` runs the selected models on one example and draws their
kernels, codes, reconstructions and Fig. 1. The report (:func:`write_figures`)
and ``sanets demo`` both go through these two.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

from sanets import plots
from sanets._files import strict_json, write_atomically
from sanets.activations import ACTIVATIONS
from sanets.errors import DataError
from sanets.experiments._experiment import Experiment, select_by_validation
from sanets.experiments._units import Settings, Unit
from sanets.model import SAN

__all__ = ["activation_maps", "reconstruction_examples", "sweep_figures", "model_figures", "baseline_figure", "write_figures"]


@torch.no_grad()
def activation_maps(kernel_source: SAN, x: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
    """Similarity and sparse maps of one example under every activation with the same kernels (Fig. 1).

    Parameters
    ----------
    kernel_source : SAN
        Whose kernels and border tolerance are used, with each activation's default sparsity.
    x : Tensor, shape (1, 1, L) or (1, 1, H, W)

    Returns
    -------
    dict of str to (Tensor, Tensor)
        Per activation name: similarity ``(q, *spatial)`` and codes ``(q, *spatial)``.
    """
    maps = {}
    config = {**kernel_source.config(), "sparsity": None}
    for name in ACTIVATIONS:
        probe = SAN.from_config({**config, "activation": name}, list(kernel_source.kernels)).to(x.device)
        maps[name] = (probe.similarity(x)[0], probe.encode(x)[0])
    return maps


@torch.no_grad()
def reconstruction_examples(models: Mapping[str, SAN], x: Tensor) -> dict[str, tuple[Tensor, Tensor, Tensor]]:
    """Per labelled model, ``(x, codes, x_hat)`` of one example ``x`` of shape ``(1, 1, *spatial)``.

    Shapes ``(1, *spatial)``, ``(q, *spatial)``, ``(1, *spatial)``: the input of
    :func:`sanets.plots.plot_reconstructions`.
    """
    examples = {}
    for label, model in models.items():
        codes = model.encode(x)
        examples[label] = (x[0], codes[0], model.decode(codes)[0])
    return examples


def sweep_figures(
    points: Mapping[str, Sequence[tuple[float, float]]],
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    stem: Path,
    titles: tuple[str, str],
) -> list[Path]:
    """CR^-1 against L~ of every run (Fig. 3) and phi against m (Fig. 4b), as ``<stem>-tradeoff.png`` and
    ``<stem>-flithos-vs-m.png``.

    Parameters
    ----------
    points : mapping of str to sequence of (float, float)
        Per activation, ``(CR^-1, L~)`` of each run.
    curves : mapping of str to (sizes, phis)
        Per activation, kernel sizes and their phi.
    stem : Path
        Folder and name prefix of the files.
    titles : (str, str)
        Titles of the two figures.
    """
    tradeoff = plots.plot_tradeoff({name: list(p) for name, p in points.items() if p})
    tradeoff.suptitle(titles[0])
    flithos = plots.plot_flithos_vs_kernel_size(curves)
    flithos.suptitle(titles[1])
    return [
        plots.save_figure(tradeoff, stem.with_name(f"{stem.name}-tradeoff.png")),
        plots.save_figure(flithos, stem.with_name(f"{stem.name}-flithos-vs-m.png")),
    ]


def model_figures(models: Mapping[str, SAN], example: Tensor, stem: Path, name: str) -> list[Path]:
    """The selected models' kernels (Fig. 5), their codes and reconstructions of ``example``, and for 1D
    data Fig. 1: the example through every activation with the kernels Extrema learned.

    Parameters
    ----------
    models : mapping of str to SAN
        Per activation, the selected model.
    example : Tensor, shape (1, 1, *spatial)
    stem : Path
        Folder and name prefix of the files ``<stem>-kernels.png``, ``-reconstructions.png``, ``-activations.png``.
    name : str
        What the figures show, e.g. the dataset.
    """
    labelled = {f"{activation} (m={', '.join(map(str, sorted(set(model.kernel_sizes))))})": model
                for activation, model in models.items()}
    kernels = plots.plot_kernels({label: [k.detach() for k in model.kernel_weights()] for label, model in labelled.items()})
    kernels.suptitle(f"{name}: learned kernels")
    figures = {"kernels": kernels}
    figures["reconstructions"] = plots.plot_reconstructions(
        reconstruction_examples(labelled, example), title=f"{name}: a test example, its codes and reconstruction"
    )
    if example.ndim == 3 and "extrema" in models:
        source = models["extrema"]
        figures["activations"] = plots.plot_activations(example[0], activation_maps(source, example))
        figures["activations"].suptitle(
            f"{name}: a test example through each activation\n(the kernels Extrema learned, m={source.kernel_sizes[0]})"
        )
    return [plots.save_figure(figure, stem.with_name(f"{stem.name}-{kind}.png")) for kind, figure in figures.items()]


def baseline_figure(units: list[Unit], results: dict[Unit, dict], curves: dict[str, list], path: Path, name: str) -> Path:
    """Test CR^-1 against L~ of every SAN run of a dataset (dots), each variant's chosen configuration (a dot
    each) and each baseline's curve over its sparsity (lines): the paper's Fig. 3 with the competition drawn in.

    ``curves`` maps a baseline's name to its record's ``curve``: rows ``[sparsity, CR^-1, L~, phi]``.
    """
    point = lambda u: (results[u]["test"]["inverse_compression_ratio"], results[u]["test"]["reconstruction_loss"])  # noqa: E731
    points = {a: [point(u) for u in units if u.activation == a] for a in ACTIVATIONS}
    points = {a: p for a, p in points.items() if p}
    marked = {f"variant {u.variant}": [point(u)] for u in units if u.variant is not None}
    lines = {f"{b} (baseline)": [(row[1], row[2]) for row in curve] for b, curve in curves.items()}
    reach = max(max(max(cr, loss) for cr, loss in p) for p in points.values())
    figure = plots.plot_tradeoff(points, lines, limit=max(1.0, 1.05 * reach), marked=marked)
    figure.suptitle(f"{name}: SAN runs and baselines' curves, on test")
    return plots.save_figure(figure, path)


@torch.no_grad()
def best_variant_figure(record: dict, path: Path, name: str) -> Path:
    """The kernels of a variant's chosen model, one line (or image) per code channel: what it places."""
    weights = SAN.from_config(record["model"], record["kernels"]).kernel_weights()
    kept = record.get("kept_kernels") or range(len(weights))  # a joined dictionary's learned kernels, where pruned
    figure = plots.plot_kernels({record["variant"]: [weights[k].detach() for k in kept]})
    figure.suptitle(f"{name}: kernels of the best variant, {record['variant']} ({record['configuration']})")
    return plots.save_figure(figure, path)


def write_figures(
    out: Path, experiment: Experiment, results: dict[Unit, dict], init: str, data_dir: str | None, settings: Settings
) -> tuple[list[Path], list[str]]:
    """Figs. 1, 3, 4b and 5 and a reconstruction per dataset; the selected models as safetensors.

    Per dataset and activation the model of lowest validation phi is selected
    (:func:`select_by_validation`), saved to ``models/<experiment>/<dataset>/<activation>.safetensors``
    and drawn on the first test example. Figures already drawn from the same runs
    are kept as they are (``figures/.<experiment>.json`` records which).

    Returns
    -------
    files : list of Path
    notes : list of str
        Figures left out, and why (a dataset no longer found).
    """
    units = [u for u in results if u.experiment == experiment.name and u.init == init and u.is_san]
    if not units:
        return [], []
    baselines = [u for u in results if u.experiment == experiment.name and u.baseline is not None]
    variants = [u for u in results if u.experiment == experiment.name and u.variant is not None]
    record = out / "figures" / f".{experiment.name}.json"
    drawn_from = [[str(u.path), results[u]["seconds"]] for u in units + baselines + variants]
    fingerprint = hashlib.sha256(json.dumps(drawn_from).encode()).hexdigest()
    try:
        drawn = json.loads(record.read_text())
        kept = [out / name for name in drawn["files"] + drawn["models"]]
        if drawn["fingerprint"] == fingerprint and not drawn["notes"] and all(path.is_file() for path in kept):
            return [out / name for name in drawn["files"]], []
    except (OSError, ValueError, KeyError, TypeError):
        pass
    files, models, notes = _draw(out, experiment, units, results, data_dir, settings)
    for dataset in experiment.datasets:
        curves = {u.baseline: results[u]["curve"] for u in baselines if u.dataset == dataset}
        sans = [u for u in units + variants if u.dataset == dataset]
        if curves and sans:
            files.append(baseline_figure(sans, results, curves,
                                         out / "figures" / f"{experiment.name}-{dataset}-baselines.png", dataset))
        tried = [u for u in variants if u.dataset == dataset]
        if tried:
            best = select_by_validation(tried, results)
            files.append(best_variant_figure(results[best], out / "figures" / f"{experiment.name}-{dataset}-best-variant-kernels.png",
                                             dataset))
    payload = {"fingerprint": fingerprint, "notes": notes, **{
        key: [str(path.relative_to(out)) for path in paths] for key, paths in (("files", files), ("models", models))}}
    write_atomically(record, lambda file: file.write(strict_json(payload).encode()))
    return files, notes


def _draw(out: Path, experiment: Experiment, units: list[Unit], results: dict[Unit, dict], data_dir: str | None,
          settings: Settings) -> tuple[list[Path], list[Path], list[str]]:
    """:func:`write_figures` for the SAN units of one initialisation: figures, models, notes."""
    points = {a: [(results[u]["test"]["inverse_compression_ratio"], results[u]["test"]["reconstruction_loss"])
                  for u in units if u.activation == a] for a in ACTIVATIONS}
    curves = {}
    for activation in ACTIVATIONS:
        sizes = sorted({u.kernel_size for u in units if u.activation == activation})
        if sizes:
            curves[activation] = (sizes, [statistics.fmean(results[u]["test"]["flithos"] for u in units
                                                           if (u.activation, u.kernel_size) == (activation, m)) for m in sizes])
    figures = out / "figures"
    files = sweep_figures(points, curves, figures / experiment.name, (
        f"{experiment.name}: test CR⁻¹ and L̃ of every run", f"{experiment.name}: test φ̄ against m, mean over datasets"))
    notes, saved = [], []
    for dataset in experiment.datasets:
        models = {}
        for activation in ACTIVATIONS:
            candidates = sorted(u for u in units if (u.dataset, u.activation) == (dataset, activation))
            if candidates:
                record = results[select_by_validation(candidates, results)]
                models[activation] = SAN.from_config(record["model"], record["kernels"])
                saved.append(out / "models" / experiment.name / dataset / f"{activation}.safetensors")
                models[activation].save(saved[-1])
        if not models:
            continue
        try:
            example = experiment.data(dataset, data_dir, settings.quick).test[:1]
        except DataError as error:
            reason = error.args[0].splitlines()[0]
            notes.append(f"{experiment.name}/{dataset}: no example figures, its data is not found now ({reason})")
            continue
        files += model_figures(models, example, figures / f"{experiment.name}-{dataset}", dataset)
    return files, saved, notes
