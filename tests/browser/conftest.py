"""Start the dashboard once per module and drive it with Debian's Chromium."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.launch import start_dashboard

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def start_app(
    data_dir: Path, log_name: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """The dashboard on ``data_dir``, on a free port, its log in test-artifacts/.

    ``env`` adds environment variables (e.g. ``CMF_ATLAS_USER_DIR``).
    """
    ARTIFACTS.mkdir(exist_ok=True)
    return start_dashboard({"CMF_ATLAS_DATA": str(data_dir), **(env or {})},
                           ARTIFACTS / log_name)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def sample_app() -> Iterator[str]:
    proc, url = start_app(ROOT / "tests" / "data", "streamlit-sample.log")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def page(browser, request):
    """A fresh page that records every request; screenshot saved on failure."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
