"""In headless Chromium: screen a list, review it, and put the placed rows on the map.

The list goes through the real upload widget of the *Screen a list* page; its
placed rows must appear on the map as the user's own layer (green triangles),
and its unplaceable and ambiguous addresses must not. Screenshots at 1366×768
and 1920×1080 are kept in test-artifacts/ to be looked at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .test_user_data_browser import go_to, main_text, upload, user_symbols, wait_for

pytestmark = pytest.mark.browser

LIST_CSV = (
    "单位名称,地址\n"
    "China Electronics Corporation,广东省深圳市南山区\n"
    "Harbin Institute of Technology,Harbin, Heilongjiang\n"
    "中国电子科技集团公司,北京市海淀区\n"
    "Acme Widgets Ltd,朝阳区\n"
    "Golden River Trading Co,Unit 3, Harbour Road\n"
)
PLACED = 3  # the two last addresses are ambiguous and unplaceable


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_screened_list_is_reviewed_and_drawn_on_the_map(browser, sample_app, tmp_path: Path,
                                                        width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{sample_app}/screen", wait_until="domcontentloaded")
        page.wait_for_selector('[data-testid="stFileUploader"] input[type=file]',
                               state="attached", timeout=90_000)
        path = tmp_path / "suppliers.csv"
        path.write_text(LIST_CSV, encoding="utf-8")
        upload(page, str(path))
        run = page.get_by_role("button", name="3. Screen 5 names")
        assert wait_for(lambda: run.count() == 1, 90)
        run.click()
        assert wait_for(lambda: "4. Review" in main_text(page), 120), main_text(page)[-1500:]
        # The ambiguous and the unplaceable address are listed with their reason.
        assert wait_for(lambda: "not placed" in main_text(page), 60)
        # The review table and metrics are drawn once the run settles.
        assert wait_for(lambda: page.locator('[data-testid="stMetricValue"]').count() >= 4, 60)
        assert wait_for(lambda: page.locator('[data-testid="stDataFrame"]').count() >= 1, 60)
        page.wait_for_timeout(1500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"screen-review-{width}x{height}.png"),
                        full_page=True)
        add = page.get_by_role("button", name=f"Add {PLACED} placed rows to the map")
        assert wait_for(lambda: add.count() == 1, 30)
        add.click()
        assert wait_for(lambda: "is on the map with these decisions" in main_text(page), 60)
        go_to(page, "Map")
        assert wait_for(lambda: user_symbols(page) == PLACED, 120), user_symbols(page)
        page.screenshot(path=str(ARTIFACTS / f"screen-on-map-{width}x{height}.png"))
    finally:
        context.close()
