"""Driving the Leaflet map in the streamlit-folium iframe: views, records, clicks.

Assertions use Leaflet's own API (``window.map``, which streamlit-folium sets), so
they measure what a viewer sees whatever the page's code does.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from geodata.model.places import CHINA_VIEW_BOUNDS

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

#: China as the issue defines it: Hainan to Heilongjiang, Xinjiang to the coast.
CHINA = CHINA_VIEW_BOUNDS

VIEW_JS = """(china) => {
  const m = window.map, b = m.getBounds(), s = m.getSize();
  const sw = m.latLngToContainerPoint(china[0]), ne = m.latLngToContainerPoint(china[1]);
  return {zoom: m.getZoom(), lat: m.getCenter().lat, lng: m.getCenter().lng,
          south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast(),
          width: s.x, height: s.y, box_w: ne.x - sw.x, box_h: sw.y - ne.y};
}"""


def query(page) -> dict[str, list[str]]:
    """The address bar's query string now, read in the page.

    Not ``page.url``: Playwright updates it from navigation events, and after a
    ``history.pushState`` on a busy page it can stay stale for seconds or for good.
    """
    return parse_qs(urlparse(page.evaluate("() => location.href")).query)


def map_frame(page):
    """The streamlit-folium iframe's frame (it is replaced when the map reloads)."""
    return page.wait_for_selector(MAP_IFRAME, timeout=30_000).content_frame()


def wait_for(predicate, timeout_s: float = 30, step_s: float = 0.25) -> bool:
    """True once ``predicate()`` is true; an exception (a replaced iframe) counts as not yet."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # the iframe was replaced mid-call; look again
            pass
        time.sleep(step_s)
    return False


def wait_for_map(page, timeout_s: float = 40):
    """The map's frame once Leaflet, the legend and the records are drawn."""
    assert wait_for(lambda: map_frame(page).evaluate(
        "() => !!(window.map && window.CMF && document.querySelector('.cmf-legend'))"),
        timeout_s), "the map did not draw"
    return map_frame(page)


def view(frame, bounds=CHINA) -> dict[str, Any]:
    """Zoom, centre, bounds and size of the map, and ``bounds`` projected to pixels."""
    return frame.evaluate(VIEW_JS, [list(bounds[0]), list(bounds[1])])


def settled_view(frame, bounds=CHINA, timeout_s: float = 10) -> dict[str, Any]:
    """The view once it has stopped changing (fits may animate)."""
    last = view(frame, bounds)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.4)
        now = view(frame, bounds)
        if now == last:
            return now
        last = now
    return last


def shown_ids(frame) -> list[str]:
    """Ids of the curated records drawn now, whether stacked under a badge or not."""
    return frame.evaluate("() => CMF.shownRecords()")


def same_view(a: dict, b: dict, tol: float = 1e-6) -> bool:
    return all(abs(a[k] - b[k]) <= tol for k in ("zoom", "lat", "lng"))


def drag_map(page, dx: int, dy: int) -> None:
    """Drag the map with the mouse from its centre (a user's pan)."""
    box = page.locator(MAP_IFRAME).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x + dx * i / 10, y + dy * i / 10)
    page.mouse.up()


def _center_of(frame, page, js_element: str) -> tuple[float, float] | None:
    """Page coordinates of a visible point of an element found by ``js_element``.

    The centre if nothing covers it there, else the point of a grid over the
    element nearest its centre where the element is on top (what a person clicks
    when another badge or symbol overlaps part of it); ``None`` if none is.
    """
    rect = frame.evaluate(f"""() => {{ const el = {js_element};
        if (!el) {{ return null; }} const r = el.getBoundingClientRect();
        const cx = r.left + r.width / 2, cy = r.top + r.height / 2, pts = [];
        for (let i = 1; i < 8; i++) {{ for (let j = 1; j < 8; j++) {{
            pts.push([r.left + r.width * i / 8, r.top + r.height * j / 8]); }} }}
        pts.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
        for (const [x, y] of pts) {{ if (el.contains(document.elementFromPoint(x, y))) {{
            return [x, y]; }} }}
        return null; }}""")
    if rect is None:
        return None
    box = page.locator(MAP_IFRAME).bounding_box()
    return box["x"] + rect[0], box["y"] + rect[1]


def click_record(page, frame, record_id: str) -> int:
    """Click ``record_id`` as a user would: its symbol, or its badge and then its symbol.

    Returns the number of clicks it took; raises AssertionError if the record has
    no clickable symbol within two clicks.
    """
    target = frame.evaluate("(id) => { const t = CMF.recordTarget(id); "
                            "return t && {stacked: t.stacked}; }", record_id)
    assert target is not None, f"{record_id} is not on the map"
    clicks = 0
    if target["stacked"]:
        xy = _center_of(frame, page, f"CMF.recordTarget({record_id!r}).element")
        assert xy is not None, f"{record_id}: its badge is not drawn or wholly covered"
        page.mouse.click(*xy)
        clicks += 1
        assert wait_for(lambda: frame.evaluate(
            "(id) => { const t = CMF.recordTarget(id); return !t.stacked && !!t.record; }",
            record_id), 5), f"{record_id}: the badge did not spread out"
        time.sleep(0.4)  # a person's second click comes a moment after the first
    xy = _center_of(frame, page, f"CMF.recordTarget({record_id!r}).record")
    assert xy is not None, f"{record_id}: its symbol is not drawn or wholly covered"
    page.mouse.click(*xy)
    return clicks + 1


def open_popup_id(frame) -> str | None:
    """The id of the record whose popup is open (its English name is in the popup)."""
    return frame.evaluate("""() => { let id = null; window.map.eachLayer(l => {
        if (l.isPopupOpen && l.isPopupOpen() && l.feature) { id = l.feature.properties.id; } });
        return id; }""")


def close_popup_and_spider(frame) -> None:
    """Close the popup and fold the spread-out records back under their badge."""
    frame.evaluate("() => { window.map.closePopup(); "
                   "window.map.eachLayer(l => { if (l._unspiderfy) { l._unspiderfy(); } }); }")
    # A closed popup fades out for 0.2 s and still takes clicks meanwhile.
    assert wait_for(lambda: frame.locator(".leaflet-popup").count() == 0, 5)
