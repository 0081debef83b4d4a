"""In headless Chromium on the curated datasets: organisations, designated marks,
the selected record's link lines, following a link, and the Network view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import ARTIFACTS, ROOT, start_app
from .test_map_browser import map_frame, sidebar
from .test_map_interactions import detail_heading, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def curated_app() -> Iterator[str]:
    proc, url = start_app(ROOT / "datasets", "streamlit-curated.log")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _lines_expected(record_id: str) -> int:
    """How many link lines the curated data draws for a selected record (both ends placed).

    Computed from the data, so adding links or records does not break the test.
    """
    from geodata.model.relations import link_lines, load_atlas
    from geodata.store.load import default_dataset_paths

    frame = load_atlas(default_dataset_paths(ROOT / "datasets")).frame
    return len(link_lines(frame, selected=record_id)["lines"])


def _count(page, selector: str) -> int:
    try:
        return map_frame(page).evaluate(f"() => document.querySelectorAll('{selector}').length")
    except Exception:  # the iframe is being replaced by a rerun
        return -1


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_selected_record_with_its_links_drawn(page, curated_app, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{curated_app}/?id=org-ams", wait_until="domcontentloaded")
    assert wait_for(lambda: "Academy of Military Science" in detail_heading(page), 40)
    # AMS: parent of NIIDT and CARDC, partner in the Foshan pilot projects (at least).
    expected = _lines_expected("org-ams")
    assert expected >= 3
    assert wait_for(lambda: _count(page, ".cmf-link-selected") == expected, 40)
    # The ring that marks where the selected record's lines start.
    assert _count(page, ".cmf-link-origin") == 1
    assert map_frame(page).locator(".cmf-links-legend").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"issue11-links-{width}x{height}.png"))


def test_following_a_link_selects_the_other_end(page, curated_app):
    page.goto(f"{curated_app}/?id=cluster-tju-calt-human-machine-hybrid-intelligence-lab",
              wait_until="domcontentloaded")
    assert wait_for(lambda: "CALT" in detail_heading(page), 40)
    page.get_by_role("button", name="Has partner: China Academy of Launch Vehicle Technology",
                     exact=False).first.click()
    assert wait_for(lambda: "China Academy of Launch Vehicle Technology" in detail_heading(page))
    # CALT's own links: parent CASC, partner in the lab (at least).
    expected = _lines_expected("org-calt")
    assert expected >= 2
    assert wait_for(lambda: _count(page, ".cmf-link-selected") == expected, 40)


def test_network_draws_links_among_the_records_shown(page, curated_app):
    page.goto(curated_app, wait_until="domcontentloaded")
    # Records show as symbols or as stack badges (records on one spot).
    assert wait_for(lambda: _count(page, ".cmf-symbol, .cmf-stack") > 30, 40)
    assert _count(page, ".cmf-link") == 0
    sidebar(page).get_by_text("Network: draw every link").click()
    assert wait_for(lambda: _count(page, ".cmf-link") >= 10, 40)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "issue11-network.png"))
