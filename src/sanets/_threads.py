"""The one thread policy of sanets: torch's intra-op threads times computing processes never exceed the cores.

- A plain library call (``sanets.fit`` ...) leaves torch's threads alone.
- ``--workers N`` runs at most one process per core, each with ``cores // N``
  threads and never more than the parent has (which is how a user's
  ``OMP_NUM_THREADS`` or ``torch.set_num_threads`` is respected).
- Every process that computes for ``sanets reproduce`` (the command itself, or
  each worker) registers on this machine while it runs, and its training loops
  call :func:`share_cores` between batches: at most twice a second it counts the
  registered processes and takes ``cores // count`` threads (at least 1, at most
  its budget). A lone run keeps its threads, so its numbers do not change; two
  runs at once drop to a core each instead of fighting over both. OpenMP
  threads that wait for a descheduled team mate spin, so two 2-thread processes
  on 2 cores ran 5 to 30 times slower than one; sleeping threads
  (``OMP_WAIT_POLICY=PASSIVE``) fixed that but cost a lone run 40-60 %.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

_CHECK_EVERY = 0.5
"""Seconds between two counts of the registered processes."""

_registration = None  # (lock held while this process computes, its path, thread budget)
_last_check = 0.0


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_plan(workers: int) -> tuple[int, int]:
    """``(processes, torch threads per process)`` for ``workers`` requested processes.

    Processes are capped at the cores; threads are the cores' share of each, and
    never more than this process runs with.
    """
    import torch

    cores = available_cores()
    processes = max(1, min(workers, cores))
    return processes, max(1, min(cores // processes, torch.get_num_threads()))


def registry() -> Path:
    """The folder where computing sanets processes of this user register (one locked file each)."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"sanets-{user}" / "computing"


def register(budget: int) -> None:
    """Count this process among those computing on this machine, with at most ``budget`` threads; idempotent."""
    global _registration
    if _registration is not None:
        _registration = (*_registration[:2], budget)
        return
    from filelock import FileLock

    folder = registry()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.lock"
    lock = FileLock(str(path))
    lock.acquire(timeout=0)
    _registration = (lock, path, budget)


def unregister() -> None:
    """Stop counting this process (the OS releases its lock too if it dies) and give it back its budget."""
    global _registration
    if _registration is not None:
        lock, path, budget = _registration
        _registration = None
        path.unlink(missing_ok=True)
        lock.release()
        import torch

        torch.set_num_threads(budget)


def computing() -> int:
    """How many registered processes are alive: those whose lock file is still held."""
    from filelock import FileLock, Timeout

    alive = 0
    for path in registry().glob("*.lock"):
        if _registration is not None and path == _registration[1]:
            alive += 1
            continue
        probe = FileLock(str(path))
        try:
            probe.acquire(timeout=0)
        except Timeout:
            alive += 1
            continue
        probe.release()  # its owner is gone: clear the leftover
        path.unlink(missing_ok=True)
    return alive


def share_cores() -> None:
    """Between two batches: take this process's fair share of the cores, if it is registered.

    Costs a clock read except twice a second; a no-op for library calls.
    """
    global _last_check
    if _registration is None:
        return
    now = time.monotonic()
    if now - _last_check < _CHECK_EVERY:
        return
    _last_check = now
    import torch

    threads = max(1, min(_registration[2], available_cores() // max(1, computing())))
    if threads != torch.get_num_threads():
        torch.set_num_threads(threads)
