"""In headless Chromium: the worst YAML uploads, through the real widget, beside another session.

A billion-laughs file, a million aliased records and 50,000 bad records each
get a bounded answer (a message, or a table of the first problems with the
full list as a download), and a second browser session keeps getting answers
from the same server throughout. Screenshots at 1920x1080 and 1366x768.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from geodata.model.limits import PROBLEMS_MAX, PROBLEMS_SHOWN

from .conftest import ARTIFACTS
from .test_map_browser import sidebar, wait_for_symbols
from .test_user_data_browser import (
    CORPUS,
    CURATED,
    app,  # noqa: F401 (the module's server fixture)
    main_text,
    open_your_data,
    upload,
    user_dir,  # noqa: F401
    wait_for,
)

pytestmark = pytest.mark.browser

FUNDS = 3  # fund records in tests/data/sample.yaml


def worst_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, text the answer must show)."""
    record = (CORPUS / "aliased_records.yaml").read_text("utf-8").split("- *r")[0]
    million = folder / "million-aliases.yaml"
    million.write_text(record + "- *r\n" * 1_000_000, encoding="utf-8")
    bad = folder / "fifty-thousand-bad.yaml"
    bad.write_text("".join(f"- {{id: bad-{i}}}\n" for i in range(50_000)), encoding="utf-8")
    return {
        "laughs": (CORPUS / "billion_laughs.yaml", "an alias (*a0) repeats another part"),
        "million": (million, "an alias (*r) repeats another part"),
        "bad": (bad, f"Download all {PROBLEMS_MAX + 1:,} problems (CSV)"),
    }


def test_worst_uploads_are_bounded_and_another_session_keeps_working(
    browser, app, tmp_path  # noqa: F811
):
    files = worst_files(tmp_path)
    other = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    other.goto(f"{app}/", wait_until="domcontentloaded")
    assert wait_for_symbols(other, CURATED, timeout_s=60) == CURATED

    for size in ((1920, 1080), (1366, 768)):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = context.new_page()
        open_your_data(page, app)
        for name, (path, expected) in files.items():
            started = time.monotonic()
            upload(page, str(path))
            # Meanwhile the other session answers: hide and show the clusters.
            clusters = sidebar(other).get_by_text("Clusters", exact=True)
            clusters.click()
            assert wait_for_symbols(other, CURATED - 2, timeout_s=30) == CURATED - 2, name
            clusters.click()
            assert wait_for_symbols(other, CURATED, timeout_s=30) == CURATED, name
            assert wait_for(lambda e=expected, p=page: e in main_text(p), 60), (
                name, main_text(page)[-1000:])
            took = time.monotonic() - started
            print(f"\n{name} at {size}: answered in {took:.1f} s")
            assert took < 60
            assert page.get_by_test_id("stException").count() == 0
        rows = page.get_by_test_id("stDataFrame").first
        assert f"The first {PROBLEMS_SHOWN} of {PROBLEMS_MAX + 1:,} problems" in main_text(page)
        # The count and the download are drawn before the table: wait for it.
        rows.wait_for(state="visible", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"your-data-many-problems-{size[0]}.png"))
        context.close()
    other.context.close()
