"""The app under AppTest, pointed at the small sample dataset in tests/data/."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def app(monkeypatch) -> AppTest:
    """The app after its first run on tests/data, checked to have raised nothing."""
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at
