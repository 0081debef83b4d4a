"""In headless Chromium: the map draws exactly the filtered records, offline."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from geodata.query.filters import RecordFilter, filter_records

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def map_frame(page):
    """The streamlit-folium iframe's frame (it is replaced when the map changes)."""
    handle = page.wait_for_selector(MAP_IFRAME, timeout=30_000)
    return handle.content_frame()


def wait_for_symbols(page, expected: int, timeout_s: float = 90) -> int:
    """Wait until the map draws ``expected`` record symbols; return the last count."""
    deadline = time.monotonic() + timeout_s
    count = -1
    while time.monotonic() < deadline:
        try:
            frame = map_frame(page)
            if frame is not None and frame.evaluate(
                "() => !!(window.L && document.querySelector('.cmf-legend'))"
            ):
                # Records on one spot are stacked under a badge: count records, not DOM.
                count = frame.evaluate("() => CMF.shownRecords().length")
                if count == expected:
                    return count
        except Exception:  # the iframe was replaced mid-call; look again
            pass
        time.sleep(0.3)
    return count


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def test_a_basemap_that_cannot_be_fetched_is_said_and_the_map_still_works(
        page, sample_app, sample_frame):
    """The basemap is a static file the map fetches (issue 13); if that fails the map
    keeps its records and says what is missing, rather than showing a blank sea."""
    page.route("**/app/static/basemap/**", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(sample_app, wait_until="domcontentloaded")
    expected = len(filter_records(sample_frame, RecordFilter()))
    assert wait_for_symbols(page, expected) == expected
    frame = map_frame(page)
    note = "() => document.querySelector('.cmf-basemap-missing')?.textContent || ''"
    deadline = time.monotonic() + 20
    while "Basemap not loaded" not in frame.evaluate(note) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Basemap not loaded" in frame.evaluate(note)
    assert frame.evaluate(
        "() => document.querySelectorAll('.leaflet-cmf-base-pane path').length") == 0


def test_symbols_match_filters_offline(page, sample_app, sample_frame):
    page.goto(sample_app, wait_until="domcontentloaded")
    expected = len(filter_records(sample_frame, RecordFilter()))
    assert wait_for_symbols(page, expected) == expected

    frame = map_frame(page)
    kinds = dict(zip(sample_frame["id"], sample_frame["kind"], strict=True))
    shown = [kinds[i] for i in frame.evaluate("() => CMF.shownRecords()")]
    assert shown.count("fund") == 3
    assert shown.count("zone") == 2
    provinces = frame.evaluate(
        "() => document.querySelectorAll('.leaflet-cmf-base-pane path').length")
    assert provinces > 0, "the offline basemap should be drawn"
    attribution = frame.evaluate(
        "() => document.querySelector('.leaflet-control-attribution').textContent")
    assert "Natural Earth" in attribution
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-default.png"))

    # Change a filter: hide the funds layer.
    sidebar(page).get_by_text("Funds", exact=True).click()
    expected = len(filter_records(sample_frame, RecordFilter(kinds=frozenset({"cluster", "zone"}))))
    assert wait_for_symbols(page, expected) == expected

    # And search by Chinese name.
    box = sidebar(page).get_by_role("textbox", name="Search")
    box.fill("示范区")
    box.press("Enter")
    expected = len(filter_records(
        sample_frame, RecordFilter(kinds=frozenset({"cluster", "zone"}), search="示范区")))
    assert wait_for_symbols(page, expected) == expected
    page.screenshot(path=str(ARTIFACTS / "map-filtered.png"))

    offsite = [u for u in page.requests
               if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname not in LOCAL_HOSTS]
    assert offsite == [], f"requests left localhost: {offsite}"


def test_popup_shows_sources_as_safe_links(page, sample_app):
    from .map_helpers import click_record

    page.goto(sample_app, wait_until="domcontentloaded")
    assert wait_for_symbols(page, 7) == 7
    frame = map_frame(page)
    click_record(page, frame, "cluster-alpha")
    popup = frame.locator(".cmf-popup")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "Alpha AI Innovation Centre" in text
    assert "阿尔法人工智能创新中心" in text
    assert "Sources" in text
    link = popup.locator("a")
    assert link.get_attribute("href") == "https://example.org/alpha"
    assert link.get_attribute("rel") == "noopener noreferrer"
