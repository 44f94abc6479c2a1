"""The small, picklable pieces of a reproduction: settings, units of work, tasks.

A *unit* is one run of the paper: one SAN (experiment, dataset, initialisation,
activation, kernel size m), the classifier trained on the original data
(``activation == ORIGINAL``), a classical baseline (``activation ==
"baseline-<name>"``, see :mod:`sanets.baselines`), or a SAN variant
(``activation == "variant-<name>"``, see :mod:`sanets.experiments.variants`). A *task* is a group of units computed together
(all kernel sizes of one activation train at once, see
:func:`sanets.sweep.fit_sweep`) by a pure function, in this process, a worker
process or a Dask worker alike. Each unit's result is a JSON-able dict written
to its own file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

__all__ = ["ORIGINAL", "BASELINE", "VARIANT", "Settings", "Unit", "Task", "RESULTS_FORMAT"]

ORIGINAL = "original"
"""The activation name of a classifier unit trained on the original data."""

BASELINE = "baseline-"
"""The prefix of the activation name of a baseline unit: ``"baseline-wavelet"``."""

VARIANT = "variant-"
"""The prefix of the activation name of a SAN variant's unit: ``"variant-gaussian"``."""

RESULTS_FORMAT = 2
"""Version of the layout and contents of a results folder; bumped on any change
that makes older folders unreadable (2: records carry their SAN's config)."""


@dataclass(frozen=True)
class Settings:
    """What every unit of a reproduction shares and what its results depend on.

    Attributes
    ----------
    seed : int
        Seeds the kernels (``init="normal"``), batch orders and classifiers.
    quick : bool
        Small sweeps, few epochs and data subsets (for trying it out).
    epochs : int or None
        Overrides the paper's epochs of every table.
    """

    seed: int = 0
    quick: bool = False
    epochs: int | None = None

    def as_dict(self) -> dict:
        """JSON form, stored in the results folder to refuse mixing incompatible runs."""
        return asdict(self)


@dataclass(frozen=True, order=True)
class Unit:
    """One run of the paper.

    Attributes
    ----------
    experiment : str
        ``"physionet"`` (Table I), ``"uci-epilepsy"`` (Table II), ``"mnist"`` or
        ``"fashion-mnist"`` (Table III).
    dataset : str
        The PhysioNet database, or the experiment's own name.
    init : str
        Kernel initialisation, ``"constant"`` or ``"normal"``.
    activation : str
        An activation name, or :data:`ORIGINAL`.
    kernel_size : int
        m; 0 for the classifier on the original data.
    """

    experiment: str
    dataset: str
    init: str
    activation: str
    kernel_size: int

    @classmethod
    def of_baseline(cls, experiment: str, dataset: str, name: str) -> Unit:
        """The unit of the classical baseline ``name`` (a key of :data:`sanets.baselines.BASELINES`) on a dataset."""
        return cls(experiment, dataset, "", f"{BASELINE}{name}", 0)

    def _named(self, prefix: str) -> str | None:
        return self.activation.removeprefix(prefix) if self.activation.startswith(prefix) else None

    @property
    def baseline(self) -> str | None:
        """The baseline's name for a baseline unit, else None."""
        return self._named(BASELINE)

    @classmethod
    def of_variant(cls, experiment: str, dataset: str, name: str) -> Unit:
        """The unit of the SAN variant ``name`` (a key of :data:`sanets.experiments.variants.VARIANTS`) on a dataset."""
        return cls(experiment, dataset, "", f"{VARIANT}{name}", 0)

    @property
    def variant(self) -> str | None:
        """The variant's name for a variant unit, else None."""
        return self._named(VARIANT)

    @property
    def is_san(self) -> bool:
        """Whether the unit is one of the paper's SANs (not a classifier, baseline or variant)."""
        return self.activation != ORIGINAL and self.baseline is None and self.variant is None

    @property
    def path(self) -> PurePosixPath:
        """Where the result lives, relative to the results folder."""
        if self.activation == ORIGINAL:
            return PurePosixPath("runs", self.experiment, self.dataset, f"{ORIGINAL}.json")
        if self.baseline is not None:
            return PurePosixPath("runs", self.experiment, self.dataset, "baselines", f"{self.baseline}.json")
        if self.variant is not None:
            return PurePosixPath("runs", self.experiment, self.dataset, "variants", f"{self.variant}.json")
        return PurePosixPath(
            "runs", self.experiment, self.dataset, self.init, self.activation, f"m{self.kernel_size:03d}.json"
        )

    def describe(self) -> str:
        """Human-readable name, e.g. ``physionet/mitdb extrema m=7 (constant init)``."""
        if self.activation == ORIGINAL:
            return f"{self.experiment}/{self.dataset} classifier on the original data"
        if self.baseline is not None:
            return f"{self.experiment}/{self.dataset} baseline {self.baseline}"
        if self.variant is not None:
            return f"{self.experiment}/{self.dataset} variant {self.variant}"
        return f"{self.experiment}/{self.dataset} {self.activation} m={self.kernel_size} ({self.init} init)"


@dataclass(frozen=True)
class Task:
    """Units of one experiment, dataset, initialisation and activation, computed together.

    Attributes
    ----------
    units : tuple of Unit
    settings : Settings
    data_dir : str or None
        Extra data root searched first (see :func:`sanets.datasets.data_roots`).
    device : str
        ``"cpu"`` or ``"cuda"``.
    threads : int or None
        Torch CPU threads of the worker process running the task (None: in this
        process, whose setting is left alone).
    """

    units: tuple[Unit, ...]
    settings: Settings
    data_dir: str | None = None
    device: str = "cpu"
    threads: int | None = None

    def describe(self) -> str:
        """Human-readable name of the task."""
        first = self.units[0]
        if len(self.units) == 1:
            return first.describe()
        sizes = ", ".join(str(unit.kernel_size) for unit in self.units)
        return f"{first.experiment}/{first.dataset} {first.activation} m in {{{sizes}}} ({first.init} init)"
