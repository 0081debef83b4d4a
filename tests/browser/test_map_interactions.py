"""In headless Chromium: click a symbol to select it, open a link to a record,
and click a shaded province to filter to it."""

from __future__ import annotations

import pytest

from geodata.query.filters import RecordFilter, filter_records

from .conftest import ARTIFACTS
from .map_helpers import wait_for
from .test_map_browser import map_frame, sidebar, wait_for_symbols
from .test_shared_url import query

pytestmark = pytest.mark.browser




def detail_heading(page) -> str:
    headings = page.get_by_test_id("stHeadingWithActionElements").all_inner_texts()
    return " | ".join(headings)


def test_click_selects_record_and_link_carries_it(page, sample_app, sample_frame):
    page.goto(sample_app, wait_until="domcontentloaded")
    assert wait_for_symbols(page, len(sample_frame)) == len(sample_frame)
    from .map_helpers import click_record

    click_record(page, map_frame(page), "zone-approved")
    assert wait_for(lambda: "Approved Zone" in detail_heading(page)), detail_heading(page)
    assert wait_for(lambda: query(page).get("id") == ["zone-approved"]), query(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "detail-panel.png"), full_page=True)


def test_shared_link_to_a_record_opens_its_details(page, sample_app):
    page.goto(f"{sample_app}/?id=fund-small", wait_until="domcontentloaded")
    assert wait_for(lambda: "Small Fund" in detail_heading(page)), detail_heading(page)
    assert wait_for(lambda: page.get_by_text("RMB 2.0 bn").count() >= 1)


def test_clicking_a_shaded_province_filters_to_it(page, sample_app, sample_frame):
    page.goto(sample_app, wait_until="domcontentloaded")
    assert wait_for_symbols(page, len(sample_frame)) == len(sample_frame)
    box = sidebar(page).get_by_role("combobox", name="Province shading")
    box.click()
    box.press_sequentially("Record count")
    box.press("Enter")
    frame = map_frame(page)
    assert wait_for(lambda: frame.locator(".leaflet-cmf-choro-pane path").count() >= 33)
    # Click inside Sichuan, away from any record symbol.
    clicked = frame.evaluate(
        """() => {
            const p = window.map.latLngToContainerPoint([30.0, 102.0]);
            const r = window.map.getContainer().getBoundingClientRect();
            const el = document.elementFromPoint(r.left + p.x, r.top + p.y);
            let hit = null;
            window.map.eachLayer(l => { if (l._path === el) { hit = l; } });
            const name = hit && hit.feature && hit.feature.properties.name_en;
            if (name !== 'Sichuan' || hit.options.pane !== 'cmf-choro') {
                return 'under the point: ' + name;
            }
            el.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + p.x,
                                                      clientY: r.top + p.y}));
            return true;
        }"""
    )
    assert clicked is True, f"Sichuan should be under the point 30N 102E; {clicked}"
    expected = len(filter_records(sample_frame, RecordFilter(provinces=frozenset({"Sichuan"}))))
    assert wait_for_symbols(page, expected) == expected
    assert wait_for(lambda: query(page).get("prov") == ["Sichuan"]), query(page)


def test_filter_changes_swap_layers_without_reloading_the_map(page, sample_app, sample_frame):
    """The as-of-year play and every filter change update the layers in place (no flicker)."""
    page.goto(sample_app, wait_until="domcontentloaded")
    assert wait_for_symbols(page, len(sample_frame)) == len(sample_frame)
    map_frame(page).evaluate("() => { window.__sameMap = true; }")
    sidebar(page).get_by_text("As-of-year view", exact=True).click()
    slider = sidebar(page).get_by_role("slider", name="Established up to (year)")
    slider.wait_for()
    slider.focus()
    for _ in range(2):
        slider.press("ArrowLeft")
    expected = len(filter_records(sample_frame, RecordFilter(
        year_max=int(sample_frame["year"].max()) - 2)))
    assert wait_for_symbols(page, expected) == expected
    assert map_frame(page).evaluate("() => window.__sameMap === true"), "the map was reloaded"
