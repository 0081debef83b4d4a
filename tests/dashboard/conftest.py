"""The app under AppTest, pointed at the small sample dataset in tests/data/, or in team
mode at a throwaway database holding it."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodata.db import accounts
from geodata.db.transfer import import_datasets

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


@pytest.fixture
def team_store(store, tmp_path, monkeypatch):
    """The sample dataset in the store, an editor and a reviewer, and team mode on."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA_DIR / "sample.yaml", data)
    (data / "links.yaml").write_text("[]\n", encoding="utf-8")
    passwords = {"erin": secrets.token_urlsafe(16), "rhea": secrets.token_urlsafe(16)}
    with store.admin() as conn:
        import_datasets(conn, data)
        accounts.add_user(conn, "erin", "editor", passwords["erin"])
        accounts.add_user(conn, "rhea", "reviewer", passwords["rhea"])
    monkeypatch.setenv("CMF_ATLAS_DB", store.app_dsn())
    monkeypatch.setenv("CMF_ATLAS_USER_DIR", str(tmp_path / "user"))
    store.passwords = passwords
    return store
