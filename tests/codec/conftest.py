"""Fixtures of the codec tests: format 2's spike writer, as it was, to make files older sanets wrote."""

from __future__ import annotations

import numpy as np
import pytest

from sanets.codec import _spikes as S
from sanets.codec._entropy import Writer, fitted_scale_code, probability_code, scale_of


def _write_format_2(writer: Writer, counts, starts, kernels, levels, kernel_count: int) -> None:
    """Format 2's writer, as it was: gaps within blocks, one kernel share each, signs at 1/2."""
    scale = fitted_scale_code(counts)
    writer.scales(scale)
    writer.geometric(counts, scale_of(scale))
    first = np.zeros(len(starts), bool)
    first[np.r_[0, np.cumsum(counts)[:-1]][counts > 0]] = True
    gaps = np.where(first, starts, np.diff(starts, prepend=0))
    gap_scales = np.array([fitted_scale_code(gaps[first]), fitted_scale_code(gaps[~first])], dtype=np.int32)
    writer.scales(gap_scales)
    writer.geometric(gaps, scale_of(gap_scales)[(~first).astype(int)])
    shares = probability_code((np.bincount(kernels, minlength=kernel_count) + 0.5) / (len(kernels) + 1))
    writer.probabilities(shares)
    writer.categorical(kernels, S._normalised(shares))
    magnitudes = np.abs(levels) - 1
    scales = np.array([fitted_scale_code(magnitudes[kernels == k]) for k in range(kernel_count)], dtype=np.int32)
    writer.scales(scales)
    writer.geometric(magnitudes, scale_of(scales)[kernels])
    writer.bernoulli(levels < 0, 0.5)


@pytest.fixture(scope="session")
def write_format_2_spikes():
    return _write_format_2
