"""In headless Chromium: bring your own data through the real upload widget.

A good CSV becomes the user's own map layer; hostile files each show their
error and the app keeps serving; two browser sessions never see each other's
uploads; and script planted in every text field, in a curated dataset and in
an upload, never runs: not in tooltips, popups, the detail panel, the tables
or the legend, and only http(s) URLs become links.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest
import yaml

from geodata.render.style import USER_DOM_MAX, USER_LAYER_LABEL

from .conftest import ARTIFACTS, ROOT, start_app
from .map_helpers import wait_for
from .test_map_browser import MAP_IFRAME, map_frame, sidebar, wait_for_symbols

pytestmark = pytest.mark.browser

CORPUS = ROOT / "tests" / "data" / "hostile"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
CURATED = 7  # records in tests/data/sample.yaml
ADD_BUTTON = re.compile(r"to the map for this session")

GOOD_CSV = (
    "名称,Name,纬度,经度,year,url\n"
    "天津创新中心,Tianjin Innovation Hub,39.1,117.2,2018,https://example.org/tj\n"
    "武汉光谷实验室,Wuhan Optics Lab,30.5,114.4,2017,\n"
    "成都无人机园,Chengdu Drone Park,30.6,104.0,2016,\n"
    "Bad one,Bad,95,117,2018,\n"
)




def main_text(page) -> str:
    """All text of the page's main area, hidden parts (closed expanders) included."""
    return page.evaluate(
        "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).textContent"
    )


def open_your_data(page, url: str) -> None:
    page.goto(f"{url}/your_data", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stFileUploader"] input[type=file]', state="attached",
                           timeout=60_000)


def go_to(page, title: str) -> None:
    """Switch page in the same session, through the sidebar's navigation."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def upload(page, files) -> None:
    page.set_input_files('[data-testid="stFileUploader"] input[type=file]', files)


def user_checkbox(page):
    """The sidebar's "Your data" checkbox (the navigation has a "Your data" link too)."""
    return sidebar(page).get_by_test_id("stSidebarUserContent").get_by_text(
        "Your data", exact=True)


def user_symbols(page) -> int:
    try:
        return map_frame(page).evaluate(
            "() => document.querySelectorAll('.cmf-user-symbol').length")
    except Exception:
        return -1


def legend_text(page) -> str:
    try:
        return map_frame(page).evaluate(
            "() => (document.querySelector('.cmf-legend') || {}).textContent || ''")
    except Exception:
        return ""


def add_good_csv(page, url: str, tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    open_your_data(page, url)
    upload(page, str(path))
    assert wait_for(lambda: "1 row(s) rejected" in main_text(page)), main_text(page)[-2000:]
    add = page.get_by_role("button", name=ADD_BUTTON)
    assert add.inner_text() == "Add 3 record(s) to the map for this session"
    add.click()
    assert wait_for(lambda: "Added 3 record(s) from sites.csv" in main_text(page))


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("user_data")


@pytest.fixture(scope="module")
def app(user_dir):
    proc, url = start_app(ROOT / "tests" / "data", "streamlit-user-data.log",
                          env={"CMF_ATLAS_USER_DIR": str(user_dir)})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_upload_preview_add_then_map_and_save(page, app, tmp_path, user_dir):
    add_good_csv(page, app, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "your-data-added.png"), full_page=True)

    page.get_by_role("button", name="Save to disk").click()
    saved = user_dir / "sites.yaml"
    assert wait_for(lambda: "Saved sites.csv as sites.yaml in" in main_text(page)), main_text(page)
    assert str(user_dir) not in main_text(page), "the server's folder path is never shown"
    assert len(yaml.safe_load(saved.read_text(encoding="utf-8"))) == 3

    page.get_by_role("link", name="Open the map").or_(
        page.get_by_role("link", name="Show them on the map")).first.click()
    assert wait_for_symbols(page, CURATED) == CURATED
    assert wait_for(lambda: user_symbols(page) == 3), user_symbols(page)
    assert USER_LAYER_LABEL in legend_text(page)
    frame = map_frame(page)
    frame.locator(".cmf-user-symbol").first.hover()
    tip = frame.locator(".leaflet-tooltip")
    tip.wait_for(timeout=10_000)
    assert USER_LAYER_LABEL in tip.inner_text()
    page.screenshot(path=str(ARTIFACTS / "map-with-user-layer.png"))

    # The sidebar's filters apply to the user's layer; its checkbox hides it.
    sb = sidebar(page)
    box = sb.get_by_role("textbox", name="Search")
    box.fill("Wuhan")
    box.press("Enter")
    assert wait_for(lambda: user_symbols(page) == 1), user_symbols(page)
    box.fill("")
    box.press("Enter")
    assert wait_for(lambda: user_symbols(page) == 3)
    user_checkbox(page).click()
    assert wait_for(lambda: user_symbols(page) == 0 and wait_for_symbols(page, CURATED, 5)
                    == CURATED)
    assert USER_LAYER_LABEL not in legend_text(page)


def canvas_symbols(page) -> dict:
    try:
        return map_frame(page).evaluate("() => window.CMF ? CMF.userSymbols() : null") or {}
    except Exception:
        return {}


def test_many_user_records_go_on_one_canvas_and_still_open_popups(page, app, tmp_path):
    # Past USER_DOM_MAX, one canvas draws them (a DOM element each froze the page).
    n = USER_DOM_MAX + 200
    rows = [f"Grid site {i},{30 + (i % 40) * 0.1:.2f},{110 + (i // 40) * 0.1:.2f},2018"
            for i in range(n - 1)]
    rows.append("Lone canvas site,45.0,125.0,2019")  # far from the grid, to click
    path = tmp_path / "grid.csv"
    path.write_text("name,lat,lon,year\n" + "\n".join(rows) + "\n", encoding="utf-8")
    open_your_data(page, app)
    upload(page, str(path))
    add = page.get_by_role("button", name=ADD_BUTTON)
    add.wait_for(timeout=60_000)
    assert add.inner_text() == f"Add {n:,} record(s) to the map for this session"
    add.click()
    page.get_by_role("link", name="Open the map").click()
    assert wait_for(lambda: canvas_symbols(page) == {"shown": n, "canvas": n}), (
        canvas_symbols(page))
    assert user_symbols(page) == 0, "no DOM element per point"

    frame = map_frame(page)
    x, y = frame.evaluate("() => { const p = map_div.latLngToContainerPoint([45.0, 125.0]);"
                          " return [p.x, p.y]; }")
    box = page.locator(MAP_IFRAME).bounding_box()
    popup = frame.locator(".cmf-popup")
    for _ in range(3):
        page.mouse.click(box["x"] + x, box["y"] + y)
        if wait_for(lambda: popup.count() > 0, 5):
            break
    assert "Lone canvas site" in popup.first.inner_text()
    assert USER_LAYER_LABEL in popup.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "map-user-canvas.png"))

    # Filters still apply: a name search leaves one triangle, on the canvas.
    search = sidebar(page).get_by_role("textbox", name="Search")
    search.fill("Lone canvas")
    search.press("Enter")
    assert wait_for(lambda: canvas_symbols(page) == {"shown": 1, "canvas": 0})
    assert wait_for(lambda: user_symbols(page) == 1)


HOSTILE = [
    "gbk.csv",                  # not UTF-8
    "png_renamed.csv",          # an image under a data name
    "zip_slip.zip",             # ../ in a zip
    "lat_nan.csv",              # NaN coordinates
    "nan_coordinates.geojson",  # NaN in GeoJSON
    "no_lat_column.csv",        # a missing column
    "zip_bomb_ratio.zip",       # a zip bomb
    "deep_nesting.geojson",     # JSON nested to blow the parser's stack
]


def test_hostile_uploads_show_their_error_and_the_app_keeps_serving(page, app):
    open_your_data(page, app)
    for name in HOSTILE:
        upload(page, str(CORPUS / name))
        expected = EXPECTED[name]["error"]
        assert wait_for(lambda expected=expected: expected in main_text(page)), (
            name, main_text(page)[-1500:])
        assert page.get_by_role("button", name=ADD_BUTTON).count() == 0, name
        assert page.get_by_test_id("stException").count() == 0, name
    page.screenshot(path=str(ARTIFACTS / "your-data-hostile.png"), full_page=True)
    assert "None yet" in main_text(page), "nothing was added"

    go_to(page, "Map")
    assert wait_for_symbols(page, CURATED) == CURATED, "the app still draws the map"
    assert user_symbols(page) == 0
    assert user_checkbox(page).count() == 0


def test_over_the_cap_is_refused_and_the_cap_is_stated(page, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"name,lat,lon,year\n" + b"Lab,39.1,117.2,2018\n" * 80_000)  # 1.6 MB
    proc, url = start_app(ROOT / "tests" / "data", "streamlit-user-cap.log",
                          env={"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "1"})
    try:
        open_your_data(page, url)
        uploader = page.get_by_test_id("stFileUploader")
        assert "up to 1 MB" in uploader.inner_text()
        upload(page, str(big))
        assert wait_for(lambda: "File must be 1.0MB or smaller" in uploader.text_content())
        time.sleep(2)
        assert "Check the preview" not in main_text(page), "nothing reached the importer"
        assert page.get_by_role("button", name=ADD_BUTTON).count() == 0
        # And a file under the cap still works.
        small = tmp_path / "small.csv"
        small.write_text("name,lat,lon,year\nLab,39.1,117.2,2018\n", encoding="utf-8")
        upload(page, str(small))
        assert wait_for(lambda: page.get_by_role("button", name=ADD_BUTTON).count() == 1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sessions_never_see_each_others_uploads(browser, app, tmp_path):
    one = browser.new_context(viewport={"width": 1500, "height": 1000})
    two = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        a, b = one.new_page(), two.new_page()
        add_good_csv(a, app, tmp_path)
        b.goto(app, wait_until="domcontentloaded")
        assert wait_for_symbols(b, CURATED) == CURATED
        assert user_symbols(b) == 0
        assert USER_LAYER_LABEL not in legend_text(b)
        assert user_checkbox(b).count() == 0
        go_to(b, "Your data")
        assert wait_for(lambda: "None yet" in main_text(b))
        assert "sites.csv" not in main_text(b)

        go_to(a, "Map")
        assert wait_for(lambda: user_symbols(a) == 3)
        # Another session uploading the very same bytes gets its own preview, adds nothing.
        path = tmp_path / "sites.csv"
        upload(b, str(path))
        assert wait_for(lambda: b.get_by_role("button", name=ADD_BUTTON).count() == 1)
        assert "None yet" in main_text(b)
    finally:
        one.close()
        two.close()


# ------------------------------------------------------------------ script injection

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
JS_URL = "javascript:window.__xss=1"
MD_LINK = "[click me](javascript:window.__xss=1)"
SVG = '<svg onload="window.__xss=1"></svg>'
#: Jinja syntax: the map page is assembled with Jinja on the server, where this must stay text.
JINJA = "{{ 7*7 }}{% raw %}"
PAYLOADS = (SCRIPT, IMG, JS_URL, MD_LINK, SVG)
EVIL = " ".join(PAYLOADS)


def _hostile_record(
    rid: str, kind: str, category: str, province: str, lat: float, lon: float, **extra
) -> dict:
    return {
        "id": rid, "kind": kind, "category": category,
        "name_en": f"{SCRIPT} {rid} {JINJA}", "name_zh": IMG, "province": province,
        "city": JS_URL, "lat": lat, "lon": lon,
        "location_precision": "city", "year": 2018, "date_as_published": IMG,
        "region_as_published": MD_LINK, "domains": ["ai"],
        "description": f"{EVIL} — planted in every text field.", "notes": SVG,
        "sources": [
            {"publisher": SCRIPT, "title": IMG, "date": "2018", "url": "https://example.org/ok",
             "via": MD_LINK},
            {"publisher": JS_URL, "title": SVG, "url": "http://example.org/plain"},
        ],
        **extra,
    }


def hostile_dataset(folder: Path) -> None:
    records = [
        _hostile_record("xss-cluster", "cluster", "innovation_center", "Tianjin", 39.1, 117.2),
        _hostile_record("xss-fund", "fund", "industry_fund", "Guangdong", 23.0, 113.1,
                        fund_size_rmb_bn=10, fund_size_as_published=SCRIPT),
        _hostile_record("xss-zone", "zone", "demonstration_zone", "Sichuan", 30.6, 104.0,
                        status="approved"),
    ]
    (folder / "hostile.yaml").write_text(
        yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")


def hostile_csv() -> bytes:
    header = ["name_en", "name_zh", "lat", "lon", "year", "city", "description", "notes",
              "source_publisher", "source_title", "source_url", IMG]
    good = [f"{SCRIPT} user {JINJA}", IMG, "31.2", "121.5", "2018", JS_URL, EVIL, SVG, SCRIPT,
            MD_LINK, "https://example.org/user", SCRIPT]
    js_url = [*good[:10], JS_URL, IMG]
    js_url[0] = "JS URL row"
    quote = [*good[:10], 'https://example.org/" onmouseover="window.__xss=1', IMG]
    quote[0] = "Quote URL row"
    buf = io.StringIO()
    csv.writer(buf).writerows([header, good, js_url, quote])
    return buf.getvalue().encode()


XSS_PROBE = """() => {
    const d = document;
    const bad = [];
    if (window.__xss !== undefined) bad.push('window.__xss is set');
    for (const s of d.scripts) {
        if (s.textContent.trim().startsWith('window.__xss')) bad.push('script from data');
    }
    for (const e of d.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], '
                                       + '[onmouseover]')) {
        bad.push('element from data: ' + e.outerHTML.slice(0, 80));
    }
    for (const a of d.querySelectorAll('a[href]')) {
        if (!/^https?:$/.test(new URL(a.href, location.href).protocol)) {
            bad.push('non-http link: ' + a.getAttribute('href'));
        }
    }
    return bad;
}"""


@pytest.fixture
def hostile_app(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    hostile_dataset(data)
    proc, url = start_app(data, "streamlit-xss.log",
                          env={"CMF_ATLAS_USER_DIR": str(tmp_path / "user")})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def symbol_text(page, selector: str, what: str) -> tuple[str, list[str]]:
    """Hover (``what="tooltip"``) or click (``"popup"``) the first symbol; its text and links.

    A symbol stacked under a badge is reached by spreading the badge first.
    A click also selects the record, and the rerun that follows re-adds the
    record layers, which can swallow a hover or click made at that moment:
    so try again, a few times.
    """
    box = ".leaflet-tooltip" if what == "tooltip" else ".cmf-popup"
    for _ in range(5):
        try:
            frame = map_frame(page)
            frame.evaluate("() => document.querySelectorAll('.leaflet-popup-close-button')"
                           ".forEach(b => b.click())")
            symbol = frame.locator(selector).first
            if symbol.count() == 0 and frame.locator(".cmf-stack").count():
                # Stacked under a badge: spread it first, as a person would.
                frame.locator(".cmf-stack").first.click(force=True, timeout=5_000)
                symbol.wait_for(timeout=4_000)
            if what == "tooltip":
                page.mouse.move(0, 0)
                symbol.hover(force=True, timeout=5_000)
            else:
                symbol.click(force=True, timeout=5_000)
            shown = frame.locator(box).last
            shown.wait_for(timeout=4_000)
            links = shown.locator("a").evaluate_all(
                "as => as.map(a => a.getAttribute('href'))")
            return shown.inner_text(), links
        except Exception:
            time.sleep(1)
    raise AssertionError(f"no {what} for {selector}")


def probe_everywhere(page) -> list[str]:
    bad = []
    for frame in page.frames:
        try:
            bad += [f"{frame.url[:60]}: {b}" for b in frame.evaluate(XSS_PROBE)]
        except Exception as exc:  # a frame being replaced is probed again on the next call
            if "detached" not in str(exc).lower():
                raise
    return bad


def test_planted_script_never_runs(page, hostile_app):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # An upload whose file name, header and every text field carry the payloads.
    open_your_data(page, hostile_app)
    upload(page, {"name": "<img src=x onerror=window.__xss=1>.csv", "mimeType": "text/csv",
                  "buffer": hostile_csv()})
    js_problem = "expected an http(s) URL without spaces, got 'javascript:window.__xss=1'"
    # The full messages are drawn a moment after the rest (a lazily loaded component).
    assert wait_for(lambda: js_problem in main_text(page)), main_text(page)[-2000:]
    text = main_text(page)
    assert "2 row(s) rejected" in text
    assert "got 'https://example.org/\" onmouseover=\"window.__xss=1'" in text
    assert IMG in text, "the hostile header is shown as text"
    page.get_by_role("button", name=ADD_BUTTON).click()
    assert wait_for(lambda: "Added 1 record(s) from <img src=x onerror=window.__xss=1>.csv"
                    in main_text(page))
    page.screenshot(path=str(ARTIFACTS / "xss-your-data.png"), full_page=True)

    page.get_by_role("link", name="Open the map").click()
    assert wait_for_symbols(page, 3) == 3
    assert wait_for(lambda: user_symbols(page) == 1)
    links = []
    for selector in (".cmf-user-symbol", ".cmf-cluster", ".cmf-fund", ".cmf-zone"):
        tip, _ = symbol_text(page, selector, "tooltip")
        assert SCRIPT in tip, tip
        assert JINJA in tip, tip
        assert IMG in tip, tip
        shown, hrefs = symbol_text(page, selector, "popup")
        assert SCRIPT in shown
        assert IMG in shown
        assert JS_URL in shown
        assert MD_LINK in shown
        links += hrefs
    assert set(links) <= {"https://example.org/ok", "http://example.org/plain",
                          "https://example.org/user"}
    assert "https://example.org/user" in links
    assert "https://example.org/ok" in links

    # The last click selected the zone: its detail panel, then the user record's.
    assert wait_for(lambda: page.get_by_role("button", name="Close").count() == 1)
    symbol_text(page, ".cmf-user-symbol", "popup")
    assert wait_for(lambda: USER_LAYER_LABEL + ": a record from a file" in main_text(page))
    detail = main_text(page)
    assert SCRIPT in detail
    assert MD_LINK in detail
    page.screenshot(path=str(ARTIFACTS / "xss-map.png"), full_page=True)
    # Scroll the page (not the map: a wheel over the map would zoom it) to the detail panel.
    page.get_by_role("button", name="Close").scroll_into_view_if_needed()
    time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / "xss-detail.png"), full_page=True)

    time.sleep(1)
    assert probe_everywhere(page) == []
    assert dialogs == []
    assert page.evaluate("() => window.__xss") is None
    assert map_frame(page).evaluate("() => window.__xss") is None
