"""Measured effect of two differences from the authors' code that a reproduction cannot derive from its own runs.

Run by hand (not part of the tests)::

    python benchmarks/authors_differences.py --data-dir ../shared/data

1. Decoding. sanets decodes with the adjoint of the encoder's correlation (a
   transposed convolution), so each kernel is pasted as it was matched. The
   authors' code correlated again, pasting a mirrored kernel. Measured on
   Table I's protocol for one PhysioNet record (constant init): the selected
   test phi per activation, both ways.
2. Extrema's minimum distance. The paper sets d = m - border tolerance, which
   is 0 (no suppression) for m <= border tolerance; the authors' code clipped d
   to at least 1. Measured on Table III's protocol on MNIST for m = 1 and 2.

The other differences are measured in every ``sanets reproduce`` report (see
its "Comparison with the paper") or follow from arithmetic (see README).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
import torch.nn.functional as F

import sanets
from sanets import _coding, sweep
from sanets._convolution import same_padding
from sanets.activations import ACTIVATIONS
from sanets.datasets import load_mnist
from sanets.experiments import EXPERIMENTS
from sanets.experiments._report.rows import table_rows
from sanets.experiments._runner import tasks_for
from sanets.experiments._units import Settings, Unit


def mirrored_decoding(codes, kernels, group_size=1):
    """The authors' decoder in place of :func:`sanets._convolution.place_kernels`: each code map correlated ("same")
    with its own kernel, summed over groups of channels."""
    kernels = kernels if isinstance(kernels, torch.Tensor) else torch.stack(list(kernels))
    conv = F.conv1d if kernels.ndim == 2 else F.conv2d
    maps = conv(F.pad(codes, same_padding(kernels.shape[1:])), kernels[:, None], groups=len(kernels))
    return maps.unflatten(1, (-1, group_size)).sum(2)


@contextlib.contextmanager
def decoder(function):
    """Every decoder of sanets (a SAN's and a sweep's) replaced by ``function`` inside the block."""
    saved = _coding.place_kernels, sweep.place_kernels
    _coding.place_kernels = sweep.place_kernels = function
    try:
        yield
    finally:
        _coding.place_kernels, sweep.place_kernels = saved


def table_one(database: str, data_dir: str) -> dict[str, dict[str, float]]:
    """Table I's row for ``database`` (constant init): per activation, the selected m and its test scores."""
    units = [Unit("physionet", database, "constant", a, m) for a in ACTIVATIONS for m in range(1, 250)]
    results = {}
    for task in tasks_for(units, Settings(), data_dir):
        results.update(EXPERIMENTS["physionet"].run(task))
    return {row.unit.activation: row.values for row in table_rows(EXPERIMENTS["physionet"], results, "constant")}


def check_decoder_swap() -> None:
    """Refuse to run if swapping the decoder no longer reaches sanets' decoders (the swap broke once when they
    moved): an asymmetric kernel must decode differently both ways, in a SAN and in a sweep."""
    x = torch.linspace(-1, 1, 40).view(1, 1, 40) ** 3
    model = sanets.SAN([5], "identity", seed=0)
    outputs = []
    for swap in (contextlib.nullcontext(), decoder(mirrored_decoding)):
        with swap:
            outputs.append((model(x), sweep.reconstruct_many([model], x)[0]))
    for ours, theirs in zip(*outputs):
        if torch.allclose(ours, theirs):
            raise SystemExit("benchmarks/authors_differences.py: the decoder swap has no effect; update decoder()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database", default="mitdb")
    args = parser.parse_args()

    start = time.perf_counter()
    check_decoder_swap()
    ours = table_one(args.database, args.data_dir)
    with decoder(mirrored_decoding):
        theirs = table_one(args.database, args.data_dir)
    print(f"1. Decoding, Table I on {args.database} (constant init): test phi (m), adjoint (ours) vs mirrored (authors')")
    for activation in ACTIVATIONS:
        a, b = ours[activation], theirs[activation]
        print(f"   {activation:<22} {a['flithos']:.3f} ({a['kernel_size']:.0f})   {b['flithos']:.3f} ({b['kernel_size']:.0f})")

    mnist = load_mnist(data_dir=args.data_dir, download=False)
    print("2. Extrema distance, Table III on MNIST (constant init): test CR^-1, L~, phi with d = max(m - 2, 0) (ours) and d >= 1 (authors')")
    for m in (1, 2):
        scores = []
        for distance in (None, 1):
            model = sanets.SAN([m, m], "extrema", dims=2, init="constant", border_tolerance=2,
                               sparsity=None if distance is None else [distance, distance])
            sanets.fit(model, mnist.train, mnist.validation, epochs=5, batch_size=64, seed=0)
            scores.append(sanets.evaluate(model, mnist.test))
        print(f"   m={m}: " + "   ".join(f"{s.inverse_compression_ratio:.3f} {s.reconstruction_loss:.3f} {s.flithos:.3f}" for s in scores))
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
