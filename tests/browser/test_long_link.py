"""In headless Chromium: a link with more parameters than Streamlit's server accepts.

Streamlit's server ignores the whole query of a link with more than 1,000
parameters; the map then reads its own parameters in the browser, applies
them, says what it did, and rewrites the address bar to the short link.
"""

from __future__ import annotations

import pytest

from geodata.query.filters import RecordFilter, filter_records

from .conftest import ARTIFACTS
from .test_map_browser import sidebar, wait_for_symbols
from .test_shared_url import wait_for_query

pytestmark = pytest.mark.browser


def test_a_link_over_the_parameter_limit_keeps_the_maps_own(page, sample_app, sample_frame):
    junk = "&".join(f"utm{i}=x" for i in range(1_200))
    page.goto(f"{sample_app}/?layers=fund,zone&q=Fund&{junk}", wait_until="domcontentloaded")
    flt = RecordFilter(kinds=frozenset({"fund", "zone"}), search="Fund")
    expected = len(filter_records(sample_frame, flt))
    assert 0 < expected < len(sample_frame)

    want = {"layers": ["fund,zone"], "q": ["Fund"]}
    assert wait_for_query(page, want, timeout_s=60) == want, "the address bar gets the short link"
    assert wait_for_symbols(page, expected) == expected
    sb = sidebar(page)
    assert not sb.get_by_role("checkbox", name="Clusters", exact=True).is_checked()
    assert sb.get_by_role("textbox", name="Search").input_value() == "Fund"
    notice = page.get_by_test_id("stAlert").first
    notice.wait_for(timeout=10_000)
    assert "This link has 1,202 parameters, more than the 1,000 a link may carry" in (
        notice.inner_text())
    assert "(layers, q)" in notice.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "long-link.png"))
