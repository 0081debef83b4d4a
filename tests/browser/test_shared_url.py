"""In headless Chromium: a shared link reopens the same map, and the map writes the link."""

from __future__ import annotations

import time

import pytest

from geodata.query.filters import FundSizeRange, RecordFilter, filter_records

from .conftest import ARTIFACTS
from .map_helpers import query
from .test_map_browser import sidebar, wait_for_symbols

pytestmark = pytest.mark.browser


def wait_for_query(page, expected: dict[str, list[str]], timeout_s: float = 20) -> dict:
    """Wait until the address bar's query is ``expected``; return the last one seen."""
    deadline = time.monotonic() + timeout_s
    got = query(page)
    while got != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        got = query(page)
    return got


def test_shared_link_reopens_the_same_map(page, sample_app, sample_frame):
    page.goto(f"{sample_app}/?layers=fund,zone&fund=1-100&q=Fund", wait_until="domcontentloaded")
    flt = RecordFilter(kinds=frozenset({"fund", "zone"}),
                       fund_size=FundSizeRange(min_bn=1, max_bn=100), search="Fund")
    expected = len(filter_records(sample_frame, flt))
    assert 0 < expected < len(sample_frame), "the link should select a strict subset"
    assert wait_for_symbols(page, expected) == expected

    sb = sidebar(page)
    assert not sb.get_by_role("checkbox", name="Clusters", exact=True).is_checked()
    assert sb.get_by_role("checkbox", name="Funds", exact=True).is_checked()
    assert sb.get_by_role("checkbox", name="Demonstration zones", exact=True).is_checked()
    assert sb.get_by_role("textbox", name="Search").input_value() == "Fund"
    fund_slider = sb.get_by_test_id("stSlider").filter(has_text="Fund size")
    assert fund_slider.get_by_test_id("stSliderThumbValue").all_inner_texts() == [
        "1 bn", "100 bn"]
    assert page.get_by_test_id("stAlert").count() == 0, "a good link shows no notice"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "shared-link.png"))

    # The link follows the widgets: hide the zones.
    sb.get_by_text("Demonstration zones", exact=True).click()
    want = {"layers": ["fund"], "fund": ["1-100"], "q": ["Fund"]}
    assert wait_for_query(page, want) == want
    flt = RecordFilter(kinds=frozenset({"fund"}),
                       fund_size=FundSizeRange(min_bn=1, max_bn=100), search="Fund")
    expected = len(filter_records(sample_frame, flt))
    assert wait_for_symbols(page, expected) == expected


def test_garbage_link_warns_and_shows_the_default_map(page, sample_app, sample_frame):
    page.goto(f"{sample_app}/?years=abc&domains=lasers&id=nope&zoom=nan&colour=red",
              wait_until="domcontentloaded")
    expected = len(filter_records(sample_frame, RecordFilter()))
    assert wait_for_symbols(page, expected) == expected

    alerts = page.get_by_test_id("stAlert")
    alerts.first.wait_for(timeout=10_000)
    text = "\n".join(alerts.all_inner_texts())
    for named in ("years='abc'", "'lasers'", "'nope'", "zoom='nan'", "'colour'"):
        assert named in text
    assert alerts.first.is_visible()
    assert wait_for_query(page, {}) == {}, "the bad parameters leave the address bar"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "shared-link-garbage.png"))
