"""The README's examples run, its set-up commands are the ones CI runs, and the docs' examples run too."""

import re
import shlex
from pathlib import Path

import pytest

from sanets.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
GUIDE = sorted((ROOT / "docs" / "user_guide").glob("*.rst"))


def console_commands(text: str) -> list[list[str]]:
    """Each ``$ ...`` line of the README's console blocks, split as the shell would."""
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)
    return [shlex.split(line[2:]) for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_usage_example_runs(tmp_path, monkeypatch, capsys):
    (example,) = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert re.fullmatch(r"best epoch \d+: test phi \d\.\d\d\n", capsys.readouterr().out)
    assert (tmp_path / "ecg-san.safetensors").is_file()


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README)
    assert len(commands) == 2, "README has exactly two set-up commands"
    demo, tests = commands
    assert demo.endswith("sanets demo") and "pytest" in tests
    assert tests in CI


def test_ci_builds_the_docs_as_the_readme_says():
    (build,) = [" ".join(words) for words in console_commands(README) if words[:3] == ["python3", "-m", "sphinx"]]
    assert "-W" in build.split()
    assert build in CI


def test_readme_commands_parse():
    sanets_commands = [words[1:] for words in console_commands(README) if words[0] == "sanets"]
    assert {words[0] for words in sanets_commands} >= {"encode", "decode", "inspect", "reproduce"}
    for words in sanets_commands:
        build_parser().parse_args(words)  # argparse exits on an unknown option or command


@pytest.mark.slow  # a whole 30-minute record of two leads, encoded, decoded to CSV and inspected
def test_readme_codec_commands_run(shared, tmp_path, monkeypatch, capsys):
    """The compression example, on the shared record it names: encode, decode and inspect succeed in turn."""
    monkeypatch.chdir(tmp_path)
    for words in console_commands(README):
        if words[0] == "sanets" and words[1] in ("encode", "decode", "inspect"):
            words = [word.replace("../shared/data", str(shared)) for word in words]
            assert main(words[1:]) == 0, capsys.readouterr().err
    decoded = (tmp_path / "100-decoded.csv").read_text().splitlines()
    assert len(decoded) == 650000 + 1  # a header, then every sample of the 30-minute record
    assert "100.san" in capsys.readouterr().out


@pytest.mark.parametrize("page", GUIDE, ids=[page.stem for page in GUIDE])
def test_docs_python_examples_run(page, tmp_path, monkeypatch):
    """Every ``.. code:: python`` block of the user guide runs, in order, in a fresh folder."""
    blocks = re.findall(r"^\.\. code(?:-block)?:: python\n\n((?:(?:   .*)?\n)+)", page.read_text(encoding="utf-8"),
                        flags=re.MULTILINE)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        code = "\n".join(line[3:] for line in block.splitlines())
        exec(compile(code, str(page), "exec"), namespace)


def test_api_reference_lists_every_public_name():
    """Each module the API reference documents has every name of its ``__all__`` listed there (or re-exported)."""
    import importlib
    import inspect

    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed: dict[str, set[str]] = {}
    for module, body in re.findall(r"^\.\. currentmodule:: (\S+)\n(.*?)(?=^\.\. currentmodule::|\Z)", api,
                                   flags=re.MULTILINE | re.DOTALL):
        listed[module] = set(re.findall(r"^   (\w+)$", body, flags=re.MULTILINE))
    assert "sanets.codec" in listed and "sanets.activations" in listed
    documented = {id(getattr(importlib.import_module(module), name)) for module, names in listed.items() for name in names}
    for module, names in listed.items():
        imported = importlib.import_module(module)
        missing = [name for name in getattr(imported, "__all__", names)
                   if name != "__version__" and not inspect.ismodule(getattr(imported, name))
                   and name not in names and id(getattr(imported, name)) not in documented]
        assert not missing, f"docs/api.rst does not list {missing} of {module}"
