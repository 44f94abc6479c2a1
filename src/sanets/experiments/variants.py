"""SAN variants from the paper's Sec. V-VI, run beside its tables (``sanets reproduce --variants``, issue 10).

Each variant is a small grid of configurations of :class:`sanets.SAN` and
:func:`sanets.fit`; all train with Alg. 4 under the table's protocol (Extrema,
its border tolerance, batch size, epochs, Adam lr 0.01), the configuration of
lowest validation phi is kept (:func:`sanets.training.first_lowest`), and its
test means are the variant's row. Every configuration's validation and test
phi are kept in the result too, so nothing tried is hidden.

Variants (:data:`VARIANTS`), all with the kernels competing across kernels
unless named otherwise:

- ``competing``: q = 4 free kernels compete for each position (future work 2).
- ``residual``: the same with T = 3 residual passes.
- ``annealed``: ``residual`` with the Extrema distance cosine-annealed from a
  quarter of its final value (future work 1).
- ``dropout``: ``competing`` with activation dropout 0.1 (future work 3).
- ``growing``: ``residual`` that starts with one kernel and adds one, up to
  four, whenever the training error stalls for two epochs (future work 4).
- ``several-sizes``: kernels of three sizes in one model, the set chosen on
  validation (Table I used q = 1).
- ``stretching``: two free kernels, each also placed at half and twice its
  size (Sec. V, grid sampler); a spike names its scale.
- ``gaussian``: four Gaussian-derivative kernels, 4 numbers each (Sec. V,
  kernels chosen for the metric), T = 3.
- ``piecewise``: four box-and-step kernels, 2 numbers each, stretched to half
  and twice their size, T = 3.
- ``pursuit-gaussian`` and ``pursuit-piecewise``: convolutional matching
  pursuit (issue 10, item 9) with kernels of those families at sizes doubling
  from 7 (gaussian; 3 in 2D) or 2 (piecewise) to a quarter of a signal or half
  an image: unit-norm
  kernels, top-1 across all kernels and positions, and T residual passes, so
  each pass places the one kernel that best matches what is left; T (4, 6 or
  8 % of the samples) is chosen on validation.
- ``pursuit-gabor``: the same pursuit with Gabor kernels (issue 30), two
  per size (their frequencies start apart), at sizes doubling from 7 (3 in
  2D) up to the whole signal or image, so that a kernel can grow into a
  whole-window cosine: the DCT's atoms, and any frequency between them.
- ``pursuit-mixed``: the same pursuit with three kernels per size, one of
  each family of ``"mixed"`` (a Gabor atom, Gaussian derivatives, a box and
  a step), at the sizes of ``pursuit-gaussian``: the families compete for
  every spike.
- ``auto``: the family and the configuration chosen on validation among the
  grids of ``pursuit-gabor``, ``pursuit-gaussian``, ``pursuit-piecewise``,
  ``pursuit-mixed`` (parametric kernels) and ``several-sizes`` (free
  kernels); ``--quick`` runs the first configuration of each.
- ``joined-gabor``: the kernels learned by the first configuration of
  ``pursuit-gaussian`` or ``pursuit-piecewise`` join ``gabor-mp``'s largest
  fixed dictionary, coded by orthogonal matching pursuit over both; for the
  family of lower validation phi, also with only the kernels that pursuit
  uses (:data:`KEPT_USES`). W counts the learned numbers that joined. 1D only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from torch import Tensor

from sanets.baselines import GRIDS, GaborMP
from sanets.model import SAN
from sanets.sweep import Sweep
from sanets.training import evaluate, first_lowest, fit

__all__ = ["VARIANTS", "Variant", "run_variant", "describe_configuration", "split_configuration"]

_FIT_OPTIONS = ("distance_schedule", "activation_dropout", "grow_to", "grow_patience")


@dataclass(frozen=True)
class Variant:
    """A named grid of SAN configurations.

    Attributes
    ----------
    name : str
    source : str
        Where in the paper the idea comes from.
    grid : callable (dims, length, border_tolerance) -> list of dict
        The configurations for examples of ``dims`` spatial dimensions and side
        ``length``: keyword arguments of :class:`SAN` and, for
        ``distance_schedule``, ``activation_dropout``, ``grow_to`` and
        ``grow_patience``, of :func:`fit` (:func:`split_configuration`). The
        first is the one ``--quick`` runs.
    """

    name: str
    source: str
    grid: Callable[[int, int, int], list[dict[str, Any]]]
    quick: int = 1
    """How many of the grid's first configurations ``--quick`` runs."""
    joins: Callable[[list[Tensor], int], GaborMP] | None = None
    """``(kernels, W) -> baseline``: the fixed dictionary each configuration's learned kernels join, coding with
    both (chosen and scored as that baseline is); None: the SAN codes alone."""
    dims: tuple[int, ...] = (1, 2)
    """The examples' spatial dimensions it codes."""


def _pursuit(family: str, smallest: tuple[int, int], step: int, whole: bool = False,
             per_size: int = 1) -> Callable[[int, int, int], list[dict[str, Any]]]:
    """The grid of matching pursuit with ``per_size`` kernels of ``family`` at sizes ``s, 2 * s + step, ...`` up to a
    quarter of a signal or half an image, from ``s = smallest[dims - 1]``; with ``whole``, up to half the signal or
    image and then its whole length."""
    def grid(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
        sizes = [smallest[dims - 1]]
        while 2 * sizes[-1] + step <= length // (2 if whole or dims == 2 else 4):
            sizes.append(2 * sizes[-1] + step)
        sizes = [m for m in sizes + [length] * whole for _ in range(per_size)]
        return [{"kernel_sizes": sizes, "kernel_family": family, "activation": "topk-absolutes", "sparsity": [1] * len(sizes),
                 "competition": "across-kernels", "passes": max(round(share * length**dims), 1), "unit_norm": True}
                for share in (0.04, 0.06, 0.08)]
    return grid


def _base(dims: int, length: int) -> int:
    """A kernel size suited to the examples: 32 for the paper's 1000-sample windows, less for shorter ones."""
    return 4 if dims == 2 else 32 if length >= 500 else 16


def _competing(dims: int, length: int, tolerance: int, passes: int = 1, **options: Any) -> list[dict[str, Any]]:
    base = _base(dims, length)
    return [{"kernel_sizes": [m] * 4, "competition": "across-kernels", "passes": passes, **options}
            for m in (base, base // 2)]


def _annealed(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    # From a quarter of the final distance, as measured best on the PhysioNet records (8 -> 29).
    return [{**c, "distance_schedule": (max((c["kernel_sizes"][0] - tolerance) // 4, 1), c["kernel_sizes"][0] - tolerance)}
            for c in _competing(dims, length, tolerance, passes=3)]


def _growing(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    return [{**c, "kernel_sizes": c["kernel_sizes"][:1], "grow_to": 4, "grow_patience": 2}
            for c in _competing(dims, length, tolerance, passes=3)]


def _several_sizes(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    base = _base(dims, length)
    return [{"kernel_sizes": sizes, "competition": "across-kernels", "passes": 3}
            for sizes in ([base // 2, base, 2 * base], [base // 4, base // 2, base])]


def _stretching(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    return [{**c, "kernel_sizes": c["kernel_sizes"][:2], "scales": [0.5, 1.0, 2.0]}
            for c in _competing(dims, length, tolerance, passes=3)]


def _gaussian(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    # Measured on mitdb: a support about twice the Extrema distance beats m = d + tolerance.
    base = _base(dims, length)
    return [{"kernel_sizes": [m] * 4, "competition": "across-kernels", "passes": 3,
             "kernel_family": "gaussian-derivatives", "sparsity": [base] * 4}
            for m in (2 * base - 1, base + tolerance)]


def _piecewise(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    return [{**c, "kernel_family": "piecewise-constant", "scales": [0.5, 1.0, 2.0]}
            for c in _competing(dims, length, tolerance, passes=3)]


def _joined_grid(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    return [VARIANTS[name].grid(dims, length, tolerance)[0] for name in _JOINED_FAMILIES]


def _join_gabor(kernels: list[Tensor], num_weights: int) -> GaborMP:
    # Only gabor-mp's largest grid: its cosines and Gabor atoms at every width (3x faster than choosing the grid).
    return GaborMP(GRIDS[-1:], kernels=kernels, learned_weights=num_weights)


def _pruned(join: Callable[[list[Tensor], int], GaborMP], san: SAN, joined: GaborMP, splits: dict[str, Tensor],
            seed: int) -> list[tuple[GaborMP, str, list[int]]]:
    """``joined`` (``san``'s kernels joining a fixed dictionary) again with only the kernels its pursuit picks at
    least :data:`KEPT_USES` times per validation window, each subset fitted once; each with a note of what was kept
    and the kept kernels' indices. The uses come from the validation pursuit ``joined`` ran to choose its k, so they
    cost nothing."""
    kernels, numbers = list(san.kernel_weights()), [kernel.numel() for kernel in san.kernels]
    uses, subsets, pruned = joined.learned_uses(splits["validation"]), [list(range(len(kernels)))], []
    for least in KEPT_USES:
        kept = [k for k in range(len(kernels)) if uses[k] >= least]
        if kept and kept not in subsets:
            subsets.append(kept)
            smaller = join([kernels[k] for k in kept], sum(numbers[k] for k in kept))
            pruned.append((smaller.fit(splits["train"], splits["validation"], seed=seed),
                           f", the {len(kept)} kernels used >= {least:g} times per window", kept))
    return pruned


_JOINED_FAMILIES = ("pursuit-gaussian", "pursuit-piecewise")
"""The variants whose kernels ``joined-gabor`` tries, each at its first configuration: the families of shapes the
dictionary lacks (Gabor kernels would join Gabor atoms and cosines they resemble)."""

KEPT_USES = (1.0, 2.0)
"""Beside all of a configuration's learned kernels, ``joined-gabor`` tries, for the configuration of lowest
validation phi, those the joined pursuit picks at least this many times per validation window: fewer kernels, a
smaller W, chosen on validation like the rest."""


def _auto(dims: int, length: int, tolerance: int) -> list[dict[str, Any]]:
    grids = [VARIANTS[name].grid(dims, length, tolerance) for name in _AUTO_CHOICES]
    return [grid[0] for grid in grids] + [c for grid in grids for c in grid[1:]]


_AUTO_CHOICES = ("pursuit-gabor", "pursuit-gaussian", "pursuit-piecewise", "pursuit-mixed", "several-sizes")
"""The variants whose grids ``auto`` chooses from: one per kernel family."""

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("competing", "Sec. VI, future work 2", _competing),
        Variant("residual", "Sec. VI, residual passes", lambda d, n, t: _competing(d, n, t, passes=3)),
        Variant("annealed", "Sec. VI, future work 1", _annealed),
        Variant("dropout", "Sec. VI, future work 3", lambda d, n, t: _competing(d, n, t, activation_dropout=0.1)),
        Variant("growing", "Sec. VI, future work 4", _growing),
        Variant("several-sizes", "Sec. V, q = 1 in Table I", _several_sizes),
        Variant("stretching", "Sec. V, grid sampler", _stretching),
        Variant("gaussian", "Sec. V, kernels chosen for the metric", _gaussian),
        Variant("piecewise", "Sec. V, kernels chosen for the metric", _piecewise),
        Variant("pursuit-gaussian", "Sec. V-VI with matching pursuit from sparse coding",
                _pursuit("gaussian-derivatives", (7, 3), 1)),
        Variant("pursuit-piecewise", "Sec. V-VI with matching pursuit from sparse coding",
                _pursuit("piecewise-constant", (2, 2), 0)),
        Variant("pursuit-gabor", "Sec. V-VI with matching pursuit, kernels holding the DCT's atoms (issue 30)",
                _pursuit("gabor", (7, 3), 1, whole=True, per_size=2)),
        Variant("pursuit-mixed", "Sec. V-VI with matching pursuit, several families competing (issue 30)",
                _pursuit("mixed", (7, 3), 1, per_size=3)),
        Variant("auto", "the family and configuration of lowest validation phi (issue 30)", _auto,
                quick=len(_AUTO_CHOICES)),
        Variant("joined-gabor", "learned kernels joining gabor-mp's fixed dictionary (issue 30)", _joined_grid,
                joins=_join_gabor, dims=(1,)),
    )
}
"""The variants ``--variants`` runs, by name; see the module docstring."""


def split_configuration(configuration: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A configuration's keyword arguments of :class:`SAN` and those of :func:`fit`."""
    options = {key: value for key, value in configuration.items() if key in _FIT_OPTIONS}
    return {key: value for key, value in configuration.items() if key not in _FIT_OPTIONS}, options


def describe_configuration(configuration: dict[str, Any]) -> str:
    """A configuration as one short line, e.g. ``4x32 free, across-kernels, T=3``."""
    sizes = configuration["kernel_sizes"]
    shape = f"{len(sizes)}x{sizes[0]}" if len(set(sizes)) == 1 else "+".join(map(str, sizes))
    parts = [f"{shape} {configuration.get('kernel_family', 'free')}"]
    activation = configuration.get("activation", "extrema")
    if activation != "extrema":
        parts.append(activation)
    if configuration.get("unit_norm"):
        parts.append("unit-norm")
    if configuration.get("competition", "none") != "none":
        parts.append(configuration["competition"])
    parts.append(f"T={configuration.get('passes', 1)}")
    if configuration.get("scales", [1.0]) != [1.0]:
        parts.append("scales " + "/".join(f"{s:g}" for s in configuration["scales"]))
    if configuration.get("sparsity"):
        parts.append(f"{'k' if activation == 'topk-absolutes' else 'd'}={configuration['sparsity'][0]}")
    if configuration.get("distance_schedule"):
        parts.append("d {}->{}".format(*configuration["distance_schedule"]))
    if configuration.get("grow_to"):
        parts.append(f"growing to {configuration['grow_to']} (patience {configuration.get('grow_patience', 2)})")
    if configuration.get("activation_dropout"):
        parts.append(f"dropout {configuration['activation_dropout']}")
    return ", ".join(parts)


def run_variant(
    name: str, sweep: Sweep, spatial_shape: tuple[int, ...], splits: dict[str, Tensor], seed: int, quick: bool,
    fitted: dict[str, tuple] | None = None,
) -> tuple[SAN, dict[str, Any]]:
    """Train every configuration of variant ``name`` with Alg. 4 under ``sweep``'s protocol; keep the best on validation.

    Parameters
    ----------
    splits : dict of str to Tensor
        ``"train"``, ``"validation"``, ``"test"``, each ``(N, 1, *spatial_shape)``, on the device to train on.
    fitted : dict, optional
        Configurations trained on the same splits, sweep and seed by earlier calls, filled by this one: ``auto``
        after the variants it chooses from trains nothing again.

    Returns
    -------
    model : SAN or Baseline
        The chosen configuration's model (its best epoch), or for a variant that joins a fixed dictionary, that
        dictionary with the model's kernels (fitted).
    record : dict
        JSON-able: ``configuration`` (a line), ``model`` (its config), ``kernels``
        (learned numbers), ``kept_kernels`` (for a variant that joins a fixed
        dictionary, the indices of the kernels that joined it where not all
        did, else None), ``fit`` options, ``best_epoch``, ``validation`` and
        ``test`` means, and ``candidates``: every configuration's line, validation
        phi and test means.
    """
    variant = VARIANTS[name]
    if sweep.dims not in variant.dims:
        raise ValueError(f"variant {name} codes {' or '.join(f'{d}D' for d in variant.dims)} examples, not {sweep.dims}D")
    grid = variant.grid(sweep.dims, min(spatial_shape), sweep.border_tolerance)
    grid = grid[: variant.quick] if quick else grid
    fitted = {} if fitted is None else fitted
    cpu = {split: x.cpu() for split, x in splits.items()}  # where a joined fixed dictionary codes
    runs = []
    for configuration in grid:
        key = json.dumps(configuration, sort_keys=True)
        if key not in fitted:
            fitted[key] = _fit_configuration(configuration, sweep, splits, seed)
        options, san, result, test = fitted[key]
        line = describe_configuration(configuration)
        if variant.joins is None:
            validation = asdict(result.history[result.best_epoch - 1].validation)
            runs.append((line, options, san, san, None, result, validation, test))
            continue
        joined = variant.joins(list(san.kernel_weights()), san.num_weights)
        runs.append(_joined_run(line, options, joined.fit(cpu["train"], cpu["validation"], seed=seed), san, None,
                                result, cpu))
    if variant.joins is not None:  # the family chosen on validation, with fewer kernels
        best = first_lowest([validation["flithos"] for *_, validation, _ in runs])
        _, options, joined, san, _, result, *_ = runs[best]
        runs += [_joined_run(describe_configuration(grid[best]) + note, options, pruned, san, kept, result, cpu)
                 for pruned, note, kept in _pruned(variant.joins, san, joined, cpu, seed)]
    chosen = first_lowest([validation["flithos"] for *_, validation, _ in runs])
    candidates = [{"configuration": line, "validation_flithos": validation["flithos"], "test": test}
                  for line, *_, validation, test in runs]
    line, options, model, san, kept, result, validation, test = runs[chosen]
    record = {
        "variant": name,
        "configuration": line,
        "model": san.config(),
        "kernels": [kernel.detach().cpu().tolist() for kernel in san.kernels],
        "kept_kernels": kept,
        "num_weights": model.num_weights,
        "fit": json.loads(json.dumps(options)),
        "best_epoch": result.best_epoch,
        "validation": validation,
        "test": test,
        "candidates": candidates,
    }
    return model, record


def _joined_run(line: str, options: dict, joined: GaborMP, san: SAN, kept: list[int] | None, result: Any,
                splits: dict[str, Tensor]) -> tuple:
    """A run of :func:`run_variant`: ``san``'s kernels (those ``kept``, or all) joining a fixed dictionary
    (``joined``, fitted)."""
    return (f"{line}, joining {joined.parameters}", options, joined, san, kept, result, asdict(joined.validation),
            asdict(joined.evaluate(splits["test"])))


def _fit_configuration(configuration: dict[str, Any], sweep: Sweep, splits: dict[str, Tensor], seed: int) -> tuple:
    """One configuration trained with Alg. 4: its fit options, model (best epoch), fit result and test means."""
    arguments, options = split_configuration(configuration)
    arguments = {"activation": "extrema", "dims": sweep.dims, "border_tolerance": sweep.border_tolerance, **arguments}
    model = SAN(seed=seed, **arguments).to(splits["train"].device)
    result = fit(model, splits["train"], splits["validation"], epochs=sweep.epochs, batch_size=sweep.batch_size,
                 lr=sweep.lr, seed=seed, **options)
    return options, model, result, asdict(evaluate(model, splits["test"]))

