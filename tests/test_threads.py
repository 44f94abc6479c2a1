"""The thread policy: workers times threads never exceed the cores; the user's settings are respected."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from sanets import _threads


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "cores, torch_threads, workers, expected",
    [
        (2, 2, 1, (1, 2)),
        (2, 2, 2, (2, 1)),
        (2, 2, 4, (2, 1)),  # never more processes than cores
        (8, 8, 2, (2, 4)),
        (8, 8, 3, (3, 2)),
        (8, 1, 2, (2, 1)),  # the user's torch.set_num_threads(1) (or OMP_NUM_THREADS=1) is respected
        (16, 3, 2, (2, 3)),
    ],
)
def test_worker_plan_never_exceeds_the_cores(monkeypatch, threads, cores, torch_threads, workers, expected):
    monkeypatch.setattr(_threads, "available_cores", lambda: cores)
    torch.set_num_threads(torch_threads)
    processes, per_process = _threads.worker_plan(workers)
    assert (processes, per_process) == expected
    assert processes * per_process <= cores


@pytest.fixture
def registry(tmp_path, monkeypatch):
    folder = tmp_path / "computing"
    monkeypatch.setattr(_threads, "registry", lambda: folder)
    monkeypatch.setattr(_threads, "_CHECK_EVERY", 0.0)
    yield folder
    _threads.unregister()


def hold_registration(folder) -> subprocess.Popen:
    """Another process that registers as computing and waits."""
    code = (
        "import pathlib, sys, sanets._threads as t\n"
        f"t.registry = lambda: pathlib.Path({str(folder)!r})\n"
        "t.register(2)\nprint('ready', flush=True)\nsys.stdin.readline()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_computing_processes_share_the_cores_and_a_lone_one_keeps_its_threads(registry, monkeypatch, threads):
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    torch.set_num_threads(2)
    _threads.register(2)
    _threads.share_cores()
    assert _threads.computing() == 1 and torch.get_num_threads() == 2, "alone: nothing changes"
    other = hold_registration(registry)
    try:
        assert _threads.computing() == 2
        _threads.share_cores()
        assert torch.get_num_threads() == 1, "two computing processes on 2 cores: one thread each"
    finally:
        other.communicate("\n")
    _threads.share_cores()
    assert _threads.computing() == 1 and torch.get_num_threads() == 2, "the other is gone: the threads come back"


def test_a_dead_process_does_not_count_and_its_file_is_cleared(registry):
    other = hold_registration(registry)
    other.kill()
    other.wait()
    assert len(list(registry.glob("*.lock"))) == 1, "killed: its file stays behind, but no one holds its lock"
    assert _threads.computing() == 0
    assert not list(registry.glob("*.lock"))


def test_library_calls_never_change_threads(registry, threads):
    torch.set_num_threads(2)
    other = hold_registration(registry)
    try:
        _threads.share_cores()  # this process is not registered: a plain sanets.fit of a user
        assert torch.get_num_threads() == 2
    finally:
        other.communicate("\n")


def test_unregistering_gives_the_budget_back(registry, monkeypatch, threads):
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    torch.set_num_threads(2)
    _threads.register(2)
    other = hold_registration(registry)
    try:
        _threads.share_cores()
        assert torch.get_num_threads() == 1
        _threads.unregister()
        assert torch.get_num_threads() == 2 and not (registry / f"{os.getpid()}.lock").exists()
    finally:
        other.communicate("\n")


def test_importing_sanets_does_not_start_torch():
    code = "import sys, sanets; print('torch' in sys.modules); sanets.SAN; print('torch' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["False", "True"]
