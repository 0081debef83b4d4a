"""Shared fixtures: the small sample dataset in tests/data/."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.frame import records_to_frame
from geodata.load import load_records

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def sample_path() -> Path:
    return DATA / "sample.yaml"


@pytest.fixture
def sample_frame(sample_path):
    return records_to_frame(load_records([sample_path]))
