"""In headless Chromium at a laptop's 1366x768: what only a browser can tell (issue 9).

The CSV download starts with a byte-order mark and is named by what it
holds; a row of the records table selects its record; the bad-link notice
is not under Streamlit's header.
"""

from __future__ import annotations

import time

import pytest

from geodata.io.export import export_filename
from geodata.query.filters import RecordFilter, filter_records

from .conftest import ARTIFACTS
from .test_map_browser import sidebar

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop(browser, request):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    pg = context.new_page()
    yield pg
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"))
    context.close()


def wait_until_idle(page, timeout_s: float = 90) -> None:
    """Wait until the app has finished its run (Streamlit's running indicator is gone)."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline and quiet < 3:
        quiet = 0 if page.query_selector("[data-testid='stStatusWidget']") else quiet + 1
        time.sleep(0.5)


def test_csv_download_has_a_bom_and_says_what_it_holds(laptop, sample_app, sample_frame):
    laptop.goto(sample_app, wait_until="domcontentloaded")
    laptop.get_by_role("button", name="Data (CSV)").wait_for(timeout=60_000)
    for layer in ("Clusters", "Demonstration zones", "Organisations"):
        sidebar(laptop).get_by_text(layer, exact=True).click()
        wait_until_idle(laptop)
    flt = RecordFilter(kinds=frozenset({"fund"}))
    funds = filter_records(sample_frame, flt)
    heading = laptop.get_by_role("heading", name=f"Records shown ({len(funds):,})")
    heading.wait_for(timeout=60_000)

    button = laptop.get_by_role("button", name="Data (CSV)")
    button.scroll_into_view_if_needed()
    with laptop.expect_download(timeout=30_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == export_filename(flt, "csv") == "cmf-atlas-funds.csv"
    data = download.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,kind,")
    assert len(lines) == 1 + len(funds)
    assert funds["name_zh"].iloc[0] in data.decode("utf-8-sig")


def test_a_table_row_selects_its_record(laptop, sample_app, sample_frame):
    laptop.goto(sample_app, wait_until="domcontentloaded")
    grid = laptop.get_by_test_id("stDataFrame").first
    grid.wait_for(timeout=60_000)
    grid.scroll_into_view_if_needed()
    laptop.wait_for_timeout(1500)  # the grid draws its rows on a canvas after it appears
    box = grid.bounding_box()
    assert box is not None
    # The first row's selection box: left edge of the grid, below the 35 px header.
    laptop.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    close = laptop.get_by_role("button", name="Close")
    close.wait_for(timeout=20_000)
    first = sample_frame.iloc[0]
    heading = laptop.get_by_role("heading", name=first["name_en"])
    heading.wait_for(timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    laptop.screenshot(path=str(ARTIFACTS / "issue9-table-row-selects-1366.png"))


def test_bad_link_notice_is_below_streamlits_header(laptop, sample_app):
    laptop.goto(f"{sample_app}/?layers=lasers", wait_until="domcontentloaded")
    first_line = laptop.get_by_text("Part of this link could not be used")
    first_line.wait_for(timeout=30_000)
    header = laptop.get_by_test_id("stHeader").bounding_box()
    line = first_line.bounding_box()
    assert header is not None
    assert line is not None
    assert line["y"] >= header["y"] + header["height"], (line, header)
    ARTIFACTS.mkdir(exist_ok=True)
    laptop.screenshot(path=str(ARTIFACTS / "issue9-bad-link-1366.png"))
