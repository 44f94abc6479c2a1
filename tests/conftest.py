"""Fixtures shared by the tests: where the real data of ../shared/data is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_data() -> Path:
    """The real data: $SANETS_TEST_DATA, or ../shared/data beside the checkout."""
    env = os.environ.get("SANETS_TEST_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real data root; the test is skipped where it is absent."""
    root = shared_data()
    if not (root / "physionet").is_dir():
        pytest.skip(f"real data not available: {root} (set SANETS_TEST_DATA to its location)")
    return root
