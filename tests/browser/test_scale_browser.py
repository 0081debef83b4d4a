"""100,000 records in Chromium: drawn by the canvas point layer, one clicked and shown.

The data folder (``CMF_ATLAS_DATA``) holds one GeoParquet file of 100,000
generated records (benchmarks/bench_store.py's generator); the compiled store
is written straight into the cache folder, since the records are valid by
construction and validating 100,000 rows (20 s) is the compiler's test, not
this one's. Screenshots at 1920x1080 and 1366x768 go to test-artifacts/.
"""

from __future__ import annotations

import sys
import time

import pytest

from geodata.model.limits import TABLE_PAGE_ROWS
from geodata.store.cache import store_path
from geodata.store.geoparquet import write_store
from tests.browser.conftest import ARTIFACTS, ROOT, start_app
from tests.browser.map_helpers import MAP_IFRAME, query, wait_for

N = 100_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_store import synthetic_frame

    frame = synthetic_frame(N, seed=21)
    folder, cache = tmp_path_factory.mktemp("data100k"), tmp_path_factory.mktemp("cache100k")
    source = write_store(frame, folder / "records.parquet")
    write_store(frame, store_path([source], cache))
    proc, url = start_app(folder, "streamlit-100k.log", {"CMF_ATLAS_CACHE": str(cache)})
    yield url, frame
    proc.terminate()
    proc.wait(timeout=20)


def record_name_shown(page, record) -> bool:
    """Whether the detail panel's heading names ``record`` (its Chinese name under it)."""
    heads = page.locator("h4").all_inner_texts()
    return (any(record["name_en"] in h for h in heads)
            and record["name_zh"] in page.inner_text("body"))


def _points(page):
    """The map frame and its canvas layer's statistics, once the layer exists."""
    frame = page.wait_for_selector(MAP_IFRAME, timeout=120_000).content_frame()
    return frame, frame.evaluate("() => window.CMFPoints ? CMFPoints.stats() : null")


@pytest.mark.parametrize("viewport", [(1920, 1080), (1366, 768)])
def test_100k_records_are_drawn_and_a_click_shows_one(browser, big, viewport):
    url, frame = big
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    try:
        page.goto(url)
        assert wait_for(lambda: (_points(page)[1] or {}).get("n") == N
                        and _points(page)[1]["draws"] > 0, timeout_s=240), \
            "the 100,000 points were not drawn"
        mapf, stats = _points(page)
        assert stats["visible"] == N  # every point is inside the China view
        assert mapf.evaluate("() => document.querySelectorAll('.cmf-symbol').length") == 0
        page.screenshot(path=str(ARTIFACTS / f"map-100k-{viewport[0]}.png"))

        # A point that stands alone under the pointer, clicked where it is drawn; past the
        # table's first page, so its name is on the page only if the detail panel shows it.
        rows = mapf.evaluate("() => CMFPoints.someRows(2000)")
        row = next(r for r in rows if r >= TABLE_PAGE_ROWS)
        assert record_name_shown(page, frame.iloc[row]) is False
        at = mapf.evaluate("(r) => CMFPoints.screenPoint(r)", row)
        box = page.query_selector(MAP_IFRAME).bounding_box()
        page.mouse.move(box["x"] + at["x"], box["y"] + at["y"])
        assert wait_for(lambda: mapf.evaluate(
            "() => !!document.querySelector('.leaflet-tooltip .cmf-tip')"), timeout_s=10)
        page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
        record = frame.iloc[row]
        assert wait_for(lambda: record_name_shown(page, record), timeout_s=60), \
            "the clicked record's details did not show"
        # The link is written at the end of the run, after the rest of a 100k page.
        assert wait_for(lambda: query(page).get("id") == [record["id"]], timeout_s=60)
        assert page.locator(".st-key-close_detail").count() == 1
        time.sleep(0.5)
        page.screenshot(path=str(ARTIFACTS / f"map-100k-click-{viewport[0]}.png"),
                        full_page=True)
    finally:
        context.close()


def _page_choice_text(page) -> str:
    """What the records table's page choice shows (its input's value)."""
    return page.evaluate("""() => {
        const box = Array.from(document.querySelectorAll('[data-testid=stSelectbox]'))
            .find(e => e.innerText.includes('Page of the table'));
        return box ? Array.from(box.querySelectorAll('input')).map(i => i.value).join('') : '';
    }""")


def test_the_page_choice_shows_the_new_total_after_a_filter_change(browser, big):
    """The browser kept showing "Rows 1–500 of 100,000" after a filter left fewer rows."""
    url, frame = big
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(url)
        assert wait_for(lambda: _page_choice_text(page) == f"Rows 1–500 of {N:,}",
                        timeout_s=240), _page_choice_text(page)
        page.locator('[data-testid="stSidebar"] label:has-text("Demonstration zones")').click()
        left = int((frame["kind"] != "zone").sum())
        assert wait_for(lambda: _page_choice_text(page) == f"Rows 1–500 of {left:,}",
                        timeout_s=120), _page_choice_text(page)
    finally:
        context.close()
