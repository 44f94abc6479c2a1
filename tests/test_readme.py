"""The README's usage example runs, and its set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


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
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
