"""The ``sanets`` command: help, usage errors, one-line errors with exit statuses, progress only on a terminal."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sanets import cli
from sanets.errors import ReproduceError
from sanets.experiments import reproduce


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["physionet", "--databases", "nosuchdb"], "unknown database 'nosuchdb'"),
        (["physionet", "--activations", "tanh"], "unknown activation 'tanh'"),
        (["mnist", "--kernel-sizes", "29"], "kernel size 29 is out of range for mnist"),
        (["physionet", "--kernel-sizes", "1001"], "kernel size 1001 is out of range for physionet"),
        (["uci-epilepsy", "--databases", "mitdb"], "--databases selects PhysioNet databases"),
        (["physionet", "--epochs", "0"], "epochs must be >= 1"),
        (["physionet", "--workers", "0"], "workers must be an int >= 1"),
        (["physionet", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "choose --workers"),
        (["physionet", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.setattr("sanets.experiments._runner.CONNECT_TIMEOUT", "1s")
    out = tmp_path / "out"
    assert cli.main(["reproduce", *arguments, "--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists(), "nothing is written before the arguments are checked"


def test_unknown_target_and_bad_kernel_size_syntax_are_usage_errors(capsys):
    for arguments in (["reproduce", "cifar"], ["reproduce", "mnist", "--kernel-sizes", "3-x"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(arguments)
        assert exit_info.value.code == 2
    assert "'3-x' is not a kernel size" in capsys.readouterr().err
    with pytest.raises(ReproduceError, match="unknown target 'cifar'"):
        reproduce(["cifar"])




@pytest.mark.parametrize(
    "command",
    [
        [shutil.which("sanets") or str(Path(sys.executable).with_name("sanets")), "--help"],
        [sys.executable, "-m", "sanets.cli", "--help"],
    ],
    ids=["console-script", "python-m"],
)
def test_help_lists_every_command(command):
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "usage: sanets" in completed.stdout
    for name in ("demo", "data", "reproduce"):
        assert name in completed.stdout


@pytest.mark.parametrize("subcommand", ["demo", "data", "reproduce"])
def test_every_subcommand_has_help(subcommand, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([subcommand, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: sanets {subcommand}" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: sanets" in capsys.readouterr().out


def test_progress_is_on_a_terminal_only_unless_asked(monkeypatch):
    seen = {}
    monkeypatch.setattr("sanets.experiments.reproduce", lambda *args, **options: seen.update(options) or _Done())
    for flags, expected in (([], None), (["--progress"], True), (["--no-progress"], False)):
        assert cli.main(["reproduce", "physionet", *flags]) == 0
        assert seen["progress"] is expected


class _Done:
    status = "complete"


def test_an_error_is_one_line_on_stderr_with_status_1(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert cli.main(["reproduce", "physionet", "--out", str(not_a_folder)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sanets reproduce: error: ") and "is a file" in err
