"""Reproduce the paper's experiments (Sec. IV): Tables I-III, keys-values.csv and the figures.

>>> from sanets.experiments import reproduce
>>> outcome = reproduce(["physionet"], out="sanets-results", quick=True)   # doctest: +SKIP
>>> outcome.status                                                        # doctest: +SKIP
'partial'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sanets.errors import Interrupted
from sanets.experiments._folder import ResultsFolder
from sanets.experiments._registry import EXPERIMENTS, TARGETS
from sanets.experiments._runner import check_arguments, connect, plan, run_units
from sanets.experiments._units import Settings

__all__ = ["reproduce", "Reproduction", "EXPERIMENTS", "TARGETS"]


@dataclass(frozen=True)
class Reproduction:
    """The outcome of :func:`reproduce`.

    Attributes
    ----------
    status : str
        ``"complete"``; ``"partial"`` when datasets were skipped for missing
        data; ``"failed"`` when runs failed (rerunning retries them).
    out : Path
        The results folder.
    files : list of Path
        Everything the report wrote.
    failures : dict of str to str
        Failed tasks and their errors.
    """

    status: str
    out: Path
    files: list[Path] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def reproduce(
    targets: Sequence[str],
    out: str | os.PathLike = "sanets-results",
    *,
    data_dir: str | os.PathLike | None = None,
    databases: Sequence[str] | None = None,
    kernel_sizes: Sequence[int] | None = None,
    activations: Sequence[str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    workers: int = 1,
    scheduler: str | None = None,
    device: str = "cpu",
    init: str = "constant",
    quick: bool = False,
    baselines: bool = True,
    variants: bool = False,
    records: Sequence[str] | None = None,
    all_records: bool = False,
    progress: bool | None = None,
    echo: Callable[[str], object] = print,
    command: str = "sanets reproduce",
) -> Reproduction:
    """Run (or resume) the paper's experiments and write their report into ``out``.

    Parameters
    ----------
    targets : sequence of str
        ``"physionet"`` (Table I), ``"uci-epilepsy"`` (Table II), ``"mnist"``,
        ``"fashion-mnist"`` (Table III), or ``"all"``.
    out : path-like
        Results folder; rerunning into it skips every finished run.
    data_dir : path-like, optional
        Data root searched before ``$SANETS_DATA`` and the cache. Nothing is
        downloaded: missing datasets are skipped and reported with the command
        that fetches them.
    databases, kernel_sizes, activations : sequences, optional
        Restrict Table I to some PhysioNet databases, every table to some
        kernel sizes m, and every table to some activations.
    epochs : int, optional
        Override the paper's epochs.
    seed : int
        Seeds kernels, batch orders and classifiers.
    workers : int
        Parallel processes on this machine (joblib).
    scheduler : str, optional
        Address of a Dask scheduler to run on instead (``tcp://host:8786``).
    device : {"cpu", "cuda"}
    init : {"constant", "normal"}
        Kernel initialisation: every weight 0.1, as the authors' code ran (the
        default, which produced the published tables), or N(0, 0.1) as the
        paper's text says. Table I runs under both.
    quick : bool
        Small sweeps, few epochs and data subsets, for trying it out.
    baselines : bool
        Also fit the classical baselines of :mod:`sanets.baselines` on every
        dataset (chosen on validation, scored on test, beside the SANs).
    variants : bool
        Also train the SAN variants of :mod:`sanets.experiments.variants` on
        every dataset (each a small grid chosen on validation, scored on test).
    records : sequence of str, optional
        Other records of Table I's databases, ``<database>/<record>`` (``mitdb/101``), each run as a dataset of
        its own under Table I's protocol (keys ``physionet/<database>/<record>/...``).
    all_records : bool
        Every record the data root holds beside each database's first (of the ``databases`` asked for).
    progress : bool, optional
        Progress bars on stderr: None (default) only on a terminal, True always, False never.
    echo : callable
        Receives each line of output.
    command : str
        The command line, recorded in the report.

    Returns
    -------
    Reproduction

    Raises
    ------
    ReproduceError
        Before any work: unknown names, kernel sizes out of range, an ``out``
        that is a file, holds incompatible results or is being written by
        another process, an unreachable scheduler.
    Interrupted
        On Ctrl-C, after the runs that finished are saved; the message says how
        many and the command that resumes.
    """
    from sanets.experiments._report import write_report

    settings = Settings(seed=seed, quick=quick, epochs=epochs)
    experiments = check_arguments(targets, databases, activations, kernel_sizes, init, settings, workers, scheduler, device,
                                  records)
    data_dir = None if data_dir is None else os.fspath(data_dir)
    if all_records and any(experiment.name == "physionet" for experiment in experiments):
        from sanets.datasets.physionet import local_records

        records = [*(records or ()), *(f"{database}/{record}" for database in databases or EXPERIMENTS["physionet"].datasets
                                       for record in local_records(database, data_dir)[1:])]
    folder = ResultsFolder(out, settings)
    client = connect(scheduler) if scheduler is not None else None
    try:
        with folder:
            the_plan = plan(experiments, settings, init, databases, activations, kernel_sizes, data_dir, baselines,
                            variants, records)
            for skipped in the_plan.skipped:
                echo(f"skipping {skipped.experiment}/{skipped.dataset}: data not found; get it with `{skipped.fetch_command}`")
            for note in the_plan.notes:
                echo(note)
            try:
                run = run_units(folder, the_plan, settings, data_dir, device, workers, client, progress, echo)
            except KeyboardInterrupt:
                kept = sum(folder.has(unit) for unit in the_plan.units)
                raise Interrupted(
                    f"interrupted: {kept} of {len(the_plan.units)} runs are saved in {folder.path}; "
                    f"resume with `{command}`"
                ) from None
            status, files = write_report(folder, the_plan, settings, init, run, data_dir, command, echo)
    finally:
        if client is not None:
            client.close()
    return Reproduction(status, folder.path, files, run.failures)
