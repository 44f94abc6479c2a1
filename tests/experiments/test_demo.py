"""``sanets demo`` end to end on the embedded ECG and digits, and the command's help."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from sanets import cli
from sanets.activations import ACTIVATIONS
from sanets.experiments import demo
from sanets.sweep import Sweep

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NUMBER = r"(\d+\.\d\d)"
ROW = re.compile(rf"^\s*({'|'.join(map(re.escape, ACTIVATIONS))})\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$")
HALF_CENT = 0.005 + 1e-9  # what rounding to two decimals may move a value by


class DemoRun:
    def __init__(self, status: int, stdout: str, stderr: str, out_dir: Path, threads_before: int, threads_after: int):
        self.status, self.stdout, self.stderr, self.out_dir = status, stdout, stderr, out_dir
        self.threads_before, self.threads_after = threads_before, threads_after

    def rows(self, title: str) -> list[tuple[str, int, float, float, float]]:
        """The table rows printed after the section starting with ``title``."""
        section = self.stdout.split(f"\n{title}: ", 1)[1].split("\n\n", 1)[0]
        return [
            (match[1], int(match[2]), float(match[3]), float(match[4]), float(match[5]))
            for match in map(ROW.match, section.splitlines())
            if match
        ]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    # One demo for the whole module (it takes ~15 s); capsys is per test, so capture by hand.
    out_dir = tmp_path_factory.mktemp("demo") / "not" / "yet" / "there"
    stdout, stderr = io.StringIO(), io.StringIO()
    threads_before = torch.get_num_threads()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(["demo", "--out", str(out_dir)])
    return DemoRun(status, stdout.getvalue(), stderr.getvalue(), out_dir, threads_before, torch.get_num_threads())


def test_demo_exits_cleanly_and_restores_threads(demo_run):
    assert demo_run.status == 0, demo_run.stderr
    assert demo_run.stderr == ""
    assert demo_run.threads_after == demo_run.threads_before


def test_demo_says_which_data_it_used_and_where_figures_went(demo_run):
    assert "pywt.data.ecg()" in demo_run.stdout
    assert "sklearn.datasets.load_digits()" in demo_run.stdout
    assert f"Figures in {demo_run.out_dir}:" in demo_run.stdout


@pytest.mark.parametrize("title", ["ECG", "Digits"])
def test_demo_table_lists_every_activation_with_consistent_scores(demo_run, title):
    rows = demo_run.rows(title)
    assert [row[0] for row in rows] == list(ACTIVATIONS)
    for activation, m, cr, loss, phi in rows:
        assert m in getattr(demo, title.upper()).sweep.kernel_sizes
        assert cr > 0 and loss >= 0
        # phi is the mean over examples of sqrt(CR^-1^2 + L~^2) (Eq. 7): by the triangle
        # inequality at least the norm of the means, and at most their sum.
        assert math.hypot(cr, loss) - 2 * HALF_CENT <= phi <= cr + loss + 3 * HALF_CENT, activation


def test_demo_sparse_activations_compress_more_than_identity(demo_run):
    for title in ("ECG", "Digits"):
        scores = {row[0]: row[2] for row in demo_run.rows(title)}
        assert max(scores[name] for name in ("topk-absolutes", "extrema-pool-indices", "extrema")) < scores["identity"]


def test_demo_ecg_identity_compression_matches_the_protocol(demo_run):
    # Identity keeps every sample of the similarity map (none is exactly 0 on a real
    # standardised ECG): CR^-1 = (W + 2 * n) / n = 2 + m / n with one kernel of m weights.
    window = demo.load_ecg().test.shape[-1]
    _, m, cr, _, _ = demo_run.rows("ECG")[0]
    assert cr == pytest.approx(2 + m / window, abs=HALF_CENT)


def test_demo_digits_identity_compression_matches_the_protocol(demo_run):
    # With two m x m kernels, W = 2 m^2. The digits have blank pixels, so the similarity
    # is non-zero exactly where the m x m window ("same" padding) touches ink:
    # nnz per kernel = ink pixels dilated by the window; CR^-1 = (W + 3 * 2 * nnz) / 64.
    _, m, cr, _, _ = demo_run.rows("Digits")[0]
    test = demo.load_digits(seed=0).test
    ink = (test != 0).float()
    padded = F.pad(ink, [(m - 1) // 2, m // 2, (m - 1) // 2, m // 2])
    touched = F.max_pool2d(padded, kernel_size=m, stride=1)
    nonzero_per_kernel = touched.flatten(1).sum(1)
    expected = ((2 * m**2 + 3 * 2 * nonzero_per_kernel) / ink[0].numel()).mean().item()
    assert cr == pytest.approx(expected, abs=HALF_CENT)


def test_demo_writes_valid_pngs(demo_run):
    written = sorted(path.name for path in demo_run.out_dir.iterdir())
    expected = [f"ecg-{name}.png" for name in ("kernels", "reconstructions", "flithos-vs-m", "tradeoff", "activations")]
    expected += [f"digits-{name}.png" for name in ("kernels", "reconstructions", "flithos-vs-m", "tradeoff")]
    assert written == sorted(expected)
    for name in written:
        path = demo_run.out_dir / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        with Image.open(path) as image:
            image.load()
            assert image.format == "PNG" and image.width > 0 and image.height > 0, name
            assert len(np.unique(np.asarray(image.convert("L")))) > 2, f"{name} is blank"


def test_demo_rejects_an_output_path_that_is_a_file(tmp_path, capsys):
    occupied = tmp_path / "figures.png"
    occupied.write_text("not a folder")
    assert cli.main(["demo", "--out", str(occupied)]) == 1
    captured = capsys.readouterr()
    assert str(occupied) in captured.err
    assert "not a folder" in captured.err
    assert occupied.read_text() == "not a folder"


def test_demo_is_deterministic_under_the_seed():
    tiny = demo.Demo("tiny", "Tiny", Sweep((4, 8), num_kernels=1, dims=1, border_tolerance=3, epochs=2, batch_size=2))
    split = demo.load_ecg()
    _, first = demo.fit_one(tiny, split, seed=3)
    _, second = demo.fit_one(tiny, split, seed=3)
    assert first == second
    assert [row.activation for row in first] == list(ACTIVATIONS)


def test_format_table_aligns_columns():
    rows = [
        demo.DemoRow("ECG", "relu", 24, 0.5, 0.875, 1.0),
        demo.DemoRow("ECG", "extrema-pool-indices", 8, 12.345, 0.0, 12.345),
    ]
    header, *lines = demo.format_table(rows)
    assert len({len(line) for line in [header, *lines]}) == 1
    assert lines[0].split() == ["relu", "24", "0.50", "0.88", "1.00"]
    assert lines[1].split() == ["extrema-pool-indices", "8", "12.35", "0.00", "12.35"]
