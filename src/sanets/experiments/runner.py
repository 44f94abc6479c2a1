"""Plan, run and resume a reproduction: units, the results folder, and three ways to execute.

Every unit's result is written atomically to its own JSON file as soon as its
task finishes, so a killed run loses at most the tasks in flight, and running
the same command again skips every unit whose file exists. Tasks run in this
process, in ``workers`` processes (joblib) or on a Dask cluster; the task
function is the same pure :func:`sanets.experiments.tables.run_task` in all three.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from sanets import __version__, datasets
from sanets._files import write_atomically
from sanets.activations import ACTIVATIONS
from sanets.errors import ReproduceError
from sanets.experiments.tables import EXPERIMENTS, Experiment, run_task
from sanets.experiments.units import BASELINE, RESULTS_FORMAT, Settings, Task, Unit
from sanets.model import INITS

__all__ = ["TARGETS", "Skipped", "Plan", "ResultsFolder", "plan", "tasks_for", "execute", "check_arguments"]

TARGETS = (*EXPERIMENTS, "all")
"""What ``sanets reproduce`` accepts: an experiment name or ``"all"``."""

MANIFEST = "sanets-results.json"
"""The file that marks a results folder, with its format version and settings."""

Echo = Callable[[str], object]


@dataclass(frozen=True)
class Skipped:
    """A part of the reproduction that cannot run, and how to make it run."""

    experiment: str
    dataset: str
    reason: str
    fetch_command: str


@dataclass
class Plan:
    """What a reproduction covers.

    Attributes
    ----------
    experiments : list of Experiment
        In the paper's order.
    units : list of Unit
        Every unit the report covers, finished or not.
    skipped : list of Skipped
        Datasets left out because their data is missing.
    """

    experiments: list[Experiment]
    units: list[Unit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _parse_targets(targets: Sequence[str]) -> list[Experiment]:
    if isinstance(targets, str) or not targets:
        raise ReproduceError(f"name at least one target: {', '.join(TARGETS)}")
    unknown = [name for name in targets if name not in TARGETS]
    if unknown:
        raise ReproduceError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    wanted = set(EXPERIMENTS) if "all" in targets else set(targets)
    return [experiment for name, experiment in EXPERIMENTS.items() if name in wanted]


def check_arguments(
    targets: Sequence[str],
    databases: Sequence[str] | None,
    activations: Sequence[str] | None,
    kernel_sizes: Sequence[int] | None,
    init: str,
    settings: Settings,
    workers: int,
    scheduler: str | None,
    device: str,
) -> list[Experiment]:
    """Check every argument of a reproduction before any work; return the experiments.

    Raises
    ------
    ReproduceError
        Naming the argument and what is wrong with it.
    """
    experiments = _parse_targets(targets)
    for name, given, known in (("database", databases, datasets.PHYSIONET_DATABASES), ("activation", activations, ACTIVATIONS)):
        unknown = [value for value in given or () if value not in known]
        if unknown:
            raise ReproduceError(f"unknown {name} {unknown[0]!r}; choose from {', '.join(known)}")
    if databases and not any(experiment.name == "physionet" for experiment in experiments):
        raise ReproduceError("--databases selects PhysioNet databases, but the physionet target was not asked for")
    for m in kernel_sizes or ():
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ReproduceError(f"kernel sizes must be positive ints, got {m!r}")
        for experiment in experiments:
            if m > min(experiment.spatial_shape):
                raise ReproduceError(
                    f"kernel size {m} is out of range for {experiment.name}, whose examples have shape "
                    f"{experiment.spatial_shape}: choose m <= {min(experiment.spatial_shape)}"
                )
    if init not in INITS:
        raise ReproduceError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    if settings.epochs is not None and (isinstance(settings.epochs, bool) or settings.epochs < 1):
        raise ReproduceError(f"epochs must be >= 1, got {settings.epochs!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ReproduceError(f"workers must be an int >= 1, got {workers!r}")
    if scheduler is not None and workers > 1:
        raise ReproduceError("choose --workers (processes on this machine) or --scheduler (a Dask cluster), not both")
    if device not in ("cpu", "cuda"):
        raise ReproduceError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ReproduceError("--device cuda was asked for, but torch sees no CUDA device on this machine")
    return experiments


def plan(
    experiments: Sequence[Experiment],
    settings: Settings,
    init: str = "constant",
    databases: Sequence[str] | None = None,
    activations: Sequence[str] | None = None,
    kernel_sizes: Sequence[int] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> Plan:
    """The units of a reproduction, and the datasets skipped because their data is missing.

    Table I runs under both initialisations (``init`` first), so the report can
    show what the authors' constant start changes; Tables II and III under ``init``.
    """
    result = Plan(list(experiments))
    for experiment in experiments:
        names = [name for name in experiment.datasets if not databases or experiment.table != "I" or name in databases]
        inits = [init, *(other for other in INITS if other != init)] if experiment.table == "I" else [init]
        sizes = sorted(set(kernel_sizes)) if kernel_sizes else experiment.protocol_for(settings).kernel_sizes
        for dataset in names:
            status = datasets.dataset_status(dataset, data_dir)
            if not status.available:
                searched = "; ".join(str(entry.path) for entry in status.searched)
                result.skipped.append(
                    Skipped(experiment.name, dataset, f"data not found (searched: {searched})", status.fetch_command)
                )
                continue
            if experiment.classifier is not None:
                result.units.append(Unit(experiment.name, dataset, init, BASELINE, 0))
            result.units.extend(
                Unit(experiment.name, dataset, start, activation, m)
                for start in inits
                for activation in ACTIVATIONS
                if not activations or activation in activations
                for m in sizes
            )
    return result


class ResultsFolder:
    """A folder of unit results, marked by a manifest that pins the format and settings.

    Parameters
    ----------
    path : path-like
        Created if missing. Must not be a file, nor a non-empty folder that is
        not a results folder, nor a results folder of another format or settings.
    settings : Settings

    Raises
    ------
    ReproduceError
    """

    def __init__(self, path: str | os.PathLike, settings: Settings) -> None:
        self.path = Path(path)
        manifest = {"format": "sanets-results", "format_version": RESULTS_FORMAT, "settings": settings.as_dict()}
        if self.path.exists() and not self.path.is_dir():
            raise ReproduceError(f"--out {str(self.path)!r} is a file, not a folder; choose another --out")
        marker = self.path / MANIFEST
        if marker.is_file():
            try:
                found = json.loads(marker.read_text())
            except (OSError, ValueError) as error:
                raise ReproduceError(f"{marker}: unreadable results manifest ({error}); choose another --out") from None
            if found.get("format") != "sanets-results" or found.get("format_version") != RESULTS_FORMAT:
                raise ReproduceError(
                    f"{self.path} holds results of an incompatible sanets (format version "
                    f"{found.get('format_version')!r}, written by sanets {found.get('sanets')!r}; this is "
                    f"format {RESULTS_FORMAT}, sanets {__version__}); choose another --out"
                )
            if found.get("settings") != manifest["settings"]:
                raise ReproduceError(
                    f"{self.path} holds results made with other settings ({found.get('settings')}, now "
                    f"{manifest['settings']}); rerun with the same --seed/--epochs/--quick or choose another --out"
                )
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise ReproduceError(
                f"--out {str(self.path)!r} is a folder with other files in it and no {MANIFEST}; "
                "choose an empty or new folder"
            )
        else:
            manifest["sanets"] = __version__
            write_atomically(marker, lambda file: file.write(json.dumps(manifest, indent=1).encode()))

    def has(self, unit: Unit) -> bool:
        """Whether ``unit``'s result is written."""
        return (self.path / unit.path).is_file()

    def read(self, unit: Unit) -> dict:
        """``unit``'s result, as written by :meth:`write`."""
        file = self.path / unit.path
        try:
            return json.loads(file.read_text())
        except (OSError, ValueError) as error:
            raise ReproduceError(f"{file}: unreadable result ({error}); delete it to recompute the unit") from None

    def write(self, unit: Unit, record: dict) -> None:
        """Write ``unit``'s result atomically."""
        payload = json.dumps({"unit": unit.__dict__, **record}).encode()
        write_atomically(self.path / unit.path, lambda file: file.write(payload))


def tasks_for(
    units: Iterable[Unit],
    settings: Settings,
    data_dir: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
) -> list[Task]:
    """Group pending units into tasks: one per experiment, dataset, init, activation and block of m.

    Blocks are fixed ranges of m (``Experiment.kernel_sizes_per_task``), so a
    unit trains with the same neighbours whether or not a run was resumed.
    """
    groups: dict[tuple, list[Unit]] = {}
    for unit in units:
        block = (unit.kernel_size - 1) // EXPERIMENTS[unit.experiment].kernel_sizes_per_task
        groups.setdefault((unit.experiment, unit.dataset, unit.init, unit.activation, block), []).append(unit)
    return [Task(tuple(sorted(group, key=lambda u: u.kernel_size)), settings, data_dir, device, threads) for group in groups.values()]


Outcome = tuple[Task, list[tuple[Unit, dict]] | None, str | None]
"""A finished task: its results, or None and the error that stopped it."""


def _attempt(task: Task) -> Outcome:
    try:
        return task, run_task(task), None
    except Exception as error:  # one failed task must not stop the others
        return task, None, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=-3)}"


def connect(scheduler: str):
    """A Dask client of the scheduler at ``scheduler``, or ReproduceError if it cannot be reached."""
    from distributed import Client

    try:
        return Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ReproduceError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None


def execute(tasks: Sequence[Task], workers: int = 1, client=None) -> Iterator[Outcome]:
    """Run ``tasks``, yielding each as it finishes (in any order).

    Parameters
    ----------
    tasks : sequence of Task
    workers : int
        Processes on this machine (joblib); 1 runs in this process.
    client : distributed.Client, optional
        Runs the tasks on that Dask cluster instead.
    """
    if client is not None:
        from distributed import as_completed

        futures = [client.submit(_attempt, task, pure=False) for task in tasks]
        with client.as_current():
            for future in as_completed(futures):
                yield future.result()
    elif workers > 1:
        from joblib import Parallel, delayed

        yield from Parallel(n_jobs=workers, return_as="generator_unordered")(delayed(_attempt)(task) for task in tasks)
    else:
        for task in tasks:
            yield _attempt(task)


@dataclass
class Run:
    """What :func:`run_units` did: failures by task description, and the wall time."""

    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def run_units(
    folder: ResultsFolder,
    the_plan: Plan,
    settings: Settings,
    data_dir: str | None,
    device: str,
    workers: int,
    client=None,
    progress: bool = True,
    echo: Echo = print,
) -> Run:
    """Run every planned unit without a result in ``folder``, writing each as its task ends.

    Progress bars (with ETA) show the whole job and each experiment.
    """
    start = time.perf_counter()
    pending = [unit for unit in the_plan.units if not folder.has(unit)]
    done = len(the_plan.units) - len(pending)
    echo(f"{len(the_plan.units)} runs planned: {done} already in {folder.path}, {len(pending)} to compute.")
    threads = None if workers == 1 and client is None else max(1, (os.cpu_count() or 1) // workers)
    tasks = tasks_for(pending, settings, data_dir, device, threads)
    run = Run()
    bars = {}
    overall = tqdm(total=len(the_plan.units), initial=done, desc="all runs", unit="run", disable=not progress, file=sys.stderr)
    for position, experiment in enumerate(the_plan.experiments, start=1):
        units = [unit for unit in the_plan.units if unit.experiment == experiment.name]
        if units:
            finished = sum(folder.has(unit) for unit in units)
            bars[experiment.name] = tqdm(
                total=len(units), initial=finished, desc=f"Table {experiment.table} {experiment.name}",
                unit="run", position=position, disable=not progress, file=sys.stderr, leave=True,
            )
    try:
        for task, results, error in execute(tasks, workers, client):
            if error is not None:
                run.failures[task.describe()] = error
                echo(f"failed: {task.describe()}: {error.splitlines()[0]}")
            else:
                for unit, record in results:
                    folder.write(unit, record)
            bars[task.units[0].experiment].update(len(task.units))
            overall.update(len(task.units))
    finally:
        for bar in (overall, *bars.values()):
            bar.close()
    run.seconds = time.perf_counter() - start
    return run
