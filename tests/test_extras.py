"""A core install (torch, numpy, safetensors, platformdirs) runs SANs; a missing extra names its pip command."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

EXTRAS = ("matplotlib", "pywt", "sklearn", "tqdm", "joblib", "wfdb", "pyedflib", "pooch", "distributed", "dask", "pandas",
          "sporco")

BLOCK = """
import importlib.machinery, sys

class _Missing:
    # Found (so that probes such as torch's find_spec("pandas") pass), but importing it fails as if absent.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {{spec.name!r}}", name=spec.name)

    def exec_module(self, module):
        pass

sys.meta_path.insert(0, _Missing())
"""


def run_without_extras(code: str, blocked: tuple[str, ...] = EXTRAS) -> subprocess.CompletedProcess:
    program = BLOCK.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)


def test_the_core_trains_evaluates_saves_and_loads_without_any_extra(tmp_path, shared):
    completed = run_without_extras(f"""
        import torch, sanets
        from sanets.datasets import load_mnist
        x = torch.randn(12, 1, 64, generator=torch.Generator().manual_seed(0))
        model = sanets.SAN([5], "extrema", seed=0)
        sanets.fit(model, x[:8], x[8:], epochs=2, batch_size=4, seed=0)
        model.save({str(tmp_path / "m.safetensors")!r})
        loaded = sanets.SAN.load({str(tmp_path / "m.safetensors")!r})
        assert torch.equal(loaded(x), model(x))
        print(round(sanets.evaluate(loaded, x).flithos, 6) > 0)
        print(load_mnist({str(shared)!r}, download=False).test.shape)
        print([name for name, module in sys.modules.items() if name.partition(".")[0] in {EXTRAS!r} and module])
    """)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[:3] == ["True", "torch.Size([10000, 1, 28, 28])", "[]"]


@pytest.mark.parametrize(
    "code, extra",
    [
        ("import sanets.plots", "experiments"),
        ("from sanets.experiments.demo import load_ecg; load_ecg()", "experiments"),
        ("from sanets.datasets import load_signal; load_signal('{record}')", "data"),
        ("import torch; from sanets.baselines import ConvolutionalDictionary as C; x = torch.randn(4, 1, 64); C().fit(x, x)",
         "baselines"),
        ("from sanets.experiments import reproduce; reproduce(['physionet'], '{out}', scheduler='tcp://127.0.0.1:1')", "distributed"),
    ],
)
def test_a_missing_extra_names_the_pip_command(shared, tmp_path, code, extra):
    code = code.format(record=shared / "physionet" / "mitdb" / "100.hea", out=tmp_path / "out")
    completed = run_without_extras(code, {"distributed": ("distributed",), "baselines": ("sporco",)}.get(extra, EXTRAS))
    assert completed.returncode != 0
    assert "MissingExtraError" in completed.stderr
    assert f'pip install "sparsely-activated-networks[{extra}]"' in completed.stderr
