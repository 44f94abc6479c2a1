"""Plan, run and resume a reproduction: which units, which tasks, and three ways to execute them.

Every unit's result is written atomically to its own JSON file as soon as its
task finishes, so a killed run loses at most the tasks in flight, and running
the same command again skips every unit whose file exists. Tasks run in this
process, in worker processes (joblib) or on a Dask cluster; the task function
is the same pure :meth:`Experiment.run` in all three.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

from sanets import _threads, datasets
from sanets._extras import require
from sanets.activations import ACTIVATIONS
from sanets.baselines import BASELINES
from sanets.errors import ReproduceError
from sanets.experiments._experiment import Experiment
from sanets.experiments._folder import ResultsFolder
from sanets.experiments._registry import EXPERIMENTS, TARGETS
from sanets.experiments._units import ORIGINAL, Settings, Task, Unit
from sanets.experiments.variants import VARIANTS
from sanets.model import INITS

__all__ = ["Skipped", "Plan", "Run", "check_arguments", "plan", "tasks_for", "execute", "run_units", "connect"]

Echo = Callable[[str], object]

CONNECT_TIMEOUT = "10s"
"""How long to try reaching a Dask scheduler."""


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
        Every unit asked for, finished or not.
    skipped : list of Skipped
        Datasets left out because their data is missing.
    notes : list of str
        Baselines left out, and why (a missing optional dependency).
    """

    experiments: list[Experiment]
    units: list[Unit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
    records: Sequence[str] | None = None,
) -> list[Experiment]:
    """Check every argument of a reproduction before any work; return the experiments.

    Raises
    ------
    ReproduceError
        Naming the argument and what is wrong with it.
    """
    if isinstance(targets, str) or not targets:
        raise ReproduceError(f"name at least one target: {', '.join(TARGETS)}")
    unknown = [name for name in targets if name not in TARGETS]
    if unknown:
        raise ReproduceError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    wanted = set(EXPERIMENTS) if "all" in targets else set(targets)
    experiments = [experiment for name, experiment in EXPERIMENTS.items() if name in wanted]
    physionet = EXPERIMENTS["physionet"].datasets
    for name, given, known in (("database", databases, physionet), ("activation", activations, ACTIVATIONS)):
        unknown = [value for value in given or () if value not in known]
        if unknown:
            raise ReproduceError(f"unknown {name} {unknown[0]!r}; choose from {', '.join(known)}")
    if databases and "physionet" not in wanted:
        raise ReproduceError("--databases selects PhysioNet databases, but the physionet target was not asked for")
    for record in records or ():
        database, _, name = record.partition("/")
        if database not in physionet or not name or "/" in name:
            raise ReproduceError(f"--records takes DATABASE/RECORD of the PhysioNet databases (e.g. mitdb/101), got {record!r}")
    if records and "physionet" not in wanted:
        raise ReproduceError("--records selects PhysioNet records, but the physionet target was not asked for")
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
    baselines: bool = True,
    variants: bool = False,
    records: Sequence[str] | None = None,
) -> Plan:
    """The units of a reproduction, and the datasets skipped because their data is missing.

    With ``baselines``, every dataset also gets one unit per classical baseline (:data:`sanets.baselines.BASELINES`)
    that codes its examples' dimensions and can run here. With ``variants``, one unit per SAN variant
    (:data:`sanets.experiments.variants.VARIANTS`) too. ``records`` (``<database>/<record>``) add other records
    of Table I's databases as datasets of their own, after the databases.
    """
    result = Plan(list(experiments))
    for experiment in experiments:
        # --databases narrows the experiments whose datasets it names, and no other.
        narrowed = bool(set(databases or ()) & set(experiment.datasets))
        names = [name for name in experiment.datasets if not narrowed or name in databases]
        if experiment.name == "physionet":
            names += [record for record in dict.fromkeys(records or ()) if record not in names]
        sizes = sorted(set(kernel_sizes)) if kernel_sizes else experiment.sweep_for(settings).kernel_sizes
        for dataset in names:
            reason, fetch_command = _missing(dataset, data_dir)
            if reason is not None:
                result.skipped.append(Skipped(experiment.name, dataset, reason, fetch_command))
                continue
            if experiment.classifier is not None:
                result.units.append(Unit(experiment.name, dataset, init, ORIGINAL, 0))
            result.units.extend(
                Unit(experiment.name, dataset, start, activation, m)
                for start in experiment.inits(init)
                for activation in ACTIVATIONS
                if not activations or activation in activations
                for m in sizes
            )
            if baselines:
                result.units.extend(Unit.of_baseline(experiment.name, dataset, name) for name, cls in BASELINES.items()
                                    if cls.runs_on(len(experiment.spatial_shape)))
            if variants:
                result.units.extend(Unit.of_variant(experiment.name, dataset, name) for name, variant in VARIANTS.items()
                                    if len(experiment.spatial_shape) in variant.dims)
    if baselines:
        result.notes += [f"baseline {name} left out: {cls.unavailable()}" for name, cls in BASELINES.items() if cls.unavailable()]
    return result


def _missing(dataset: str, data_dir: str | os.PathLike | None) -> tuple[str | None, str]:
    """Why ``dataset`` (a dataset name, or ``<database>/<record>``) cannot be read, or None; and how to get it."""
    database, _, record = dataset.partition("/")
    if record:
        found, searched = datasets.physionet.locate_record(database, record, data_dir)
        command = f"wfdb.dl_database('{database}', '<data root>/physionet/{database}', records=['{record}'])"
    else:
        status = datasets.dataset_status(dataset, data_dir)
        found, searched, command = status.available or None, status.searched, status.fetch_command
    if found:
        return None, command
    return f"data not found (searched: {'; '.join(str(entry.path) for entry in searched)})", command


def tasks_for(
    units: Sequence[Unit],
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
    tasks = [Task(tuple(sorted(group, key=lambda u: u.kernel_size)), settings, data_dir, device, threads)
             for group in groups.values()]
    return sorted(tasks, key=_expected_cost, reverse=True)


RELATIVE_COST = {"extrema": 4.5, "topk-absolutes": 2.6, "extrema-pool-indices": 2.0, "identity": 1.3, "relu": 1.0}
"""Training time per kernel size relative to ReLU, measured on Table I (mitdb, m = 1..249, one thread)."""


def _expected_cost(task: Task) -> float:
    """A task's expected seconds, roughly: tasks start longest first, so that no long task starts last and leaves
    the other workers idle. Variants train many SANs and baselines search grids: they come first."""
    unit = task.units[0]
    if unit.variant is not None or unit.baseline is not None:
        return math.inf if unit.variant is not None else 1e9
    seconds = EXPERIMENTS[unit.experiment].seconds_per_kernel_size
    return RELATIVE_COST.get(unit.activation, 1.0) * seconds * len(task.units)


Outcome = tuple[Task, list[tuple[Unit, dict]] | None, str | None]
"""A finished task: its results, or None and the error that stopped it."""


def _attempt(task: Task) -> Outcome:
    worker = task.threads is not None and threading.current_thread() is threading.main_thread()
    if task.threads is not None:
        torch.set_num_threads(task.threads)
    if worker:  # a process of its own (joblib), not one of a Dask worker's threads
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent alone answers Ctrl-C
        _threads.register(task.threads)
    try:
        return task, EXPERIMENTS[task.units[0].experiment].run(task), None
    except Exception as error:  # one failed task must not stop the others
        return task, None, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=-3)}"
    finally:
        if worker:
            _threads.unregister()  # an idle worker waiting for its next task computes nothing


def connect(scheduler: str):
    """A Dask client of the scheduler at ``scheduler`` (``tcp://HOST:PORT``), or ReproduceError if it is no such
    address or cannot be reached. Reachability is tried with a plain socket first: a ``Client`` that fails to
    connect leaves a half-made object that complains when it is collected."""
    distributed = require("distributed", "--scheduler (running on a Dask cluster)")
    from dask.utils import parse_timedelta
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        protocol, location = parse_address(scheduler)
        host, port = parse_host_port(location)
    except ValueError:
        raise ReproduceError(f"--scheduler {scheduler!r} is not a scheduler address; give tcp://HOST:PORT "
                             "(as `dask scheduler` prints it, e.g. tcp://127.0.0.1:8786)") from None
    if protocol in ("tcp", "tls"):
        try:
            socket.create_connection((host, int(port)), timeout=parse_timedelta(CONNECT_TIMEOUT)).close()
        except OSError as error:
            raise ReproduceError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
    try:
        return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
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
        joblib = require("joblib", "--workers (parallel processes)")
        parallel = joblib.Parallel(n_jobs=workers, return_as="generator_unordered")
        with warnings.catch_warnings():
            # On Ctrl-C the report says what is kept; joblib's note on cancelled tasks would only add noise.
            warnings.filterwarnings("ignore", message=r".*tasks which were still being processed", category=UserWarning)
            yield from parallel(joblib.delayed(_attempt)(task) for task in tasks)
    else:
        for task in tasks:
            yield _attempt(task)


@dataclass
class Run:
    """What :func:`run_units` did: failures by task description, runs computed, and the wall time."""

    failures: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    seconds: float = 0.0


def run_units(
    folder: ResultsFolder,
    the_plan: Plan,
    settings: Settings,
    data_dir: str | None,
    device: str,
    workers: int,
    client=None,
    progress: bool | None = None,
    echo: Echo = print,
) -> Run:
    """Run every planned unit without a result in ``folder``, writing each as its task ends.

    Progress bars (with ETA) show the whole job and each experiment, on a
    terminal (``progress=None``), always (True) or never (False).
    """
    start = time.perf_counter()
    pending = [unit for unit in the_plan.units if not folder.has(unit)]
    done = len(the_plan.units) - len(pending)
    echo(f"{len(the_plan.units)} runs planned: {done} already in {folder.path}, {len(pending)} to compute.")
    threads = None
    if client is None and workers > 1:
        processes, threads = _threads.worker_plan(workers)
        if processes < workers:
            echo(f"--workers {workers} on {processes} cores: running {processes} processes.")
        workers = processes
    elif client is not None:
        threads = 1  # a Dask worker runs several tasks at once; one thread each never oversubscribes it
    tasks = tasks_for(pending, settings, data_dir, device, threads)
    run = Run()
    bars = _progress_bars(the_plan, folder, done, progress)
    if workers == 1 and client is None and tasks:
        _threads.register(torch.get_num_threads())
    try:
        for task, results, error in execute(tasks, workers, client):
            if error is not None:
                run.failures[task.describe()] = error
                echo(f"failed: {task.describe()}: {error.splitlines()[0]}")
            else:
                for unit, record in results:
                    folder.write(unit, record)
                run.computed += len(results)
            for name in ("all", task.units[0].experiment):
                bars[name].update(len(task.units))
    finally:
        _threads.unregister()
        for bar in bars.values():
            bar.close()
        run.seconds = time.perf_counter() - start
    return run


def _progress_bars(the_plan: Plan, folder: ResultsFolder, done: int, progress: bool | None) -> dict:
    """tqdm bars of the whole job and of each experiment, drawn on stderr when ``progress`` allows."""
    tqdm = require("tqdm.auto", "progress bars").tqdm
    disable = None if progress is None else not progress  # None: only on a terminal
    bars = {"all": tqdm(total=len(the_plan.units), initial=done, desc="all runs", unit="run", disable=disable, file=sys.stderr)}
    for position, experiment in enumerate(the_plan.experiments, start=1):
        units = [unit for unit in the_plan.units if unit.experiment == experiment.name]
        bars[experiment.name] = tqdm(
            total=len(units), initial=sum(folder.has(unit) for unit in units), desc=f"Table {experiment.table} {experiment.name}",
            unit="run", position=position, disable=disable, file=sys.stderr, leave=True,
        )
    return bars
